"""roofline_lab.server: the Jupyter server extension that turns Nagle's algorithm off on kernel websockets."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path
from types import SimpleNamespace

from roofline_lab import server

ROOT = Path(__file__).resolve().parents[1]


class _Handler:
    """A stand-in for the server's kernel websocket handler: records set_nodelay calls."""

    def __init__(self, open_: bool = True) -> None:
        self.ws_connection = object() if open_ else None
        self.nodelay: list[bool] = []

    def set_nodelay(self, value: bool) -> None:
        self.nodelay.append(value)


class _Connection:
    """A stand-in for ZMQChannelsWebsocketConnection: connect() returns what it saw."""

    def __init__(self, websocket_handler: _Handler) -> None:
        self.websocket_handler = websocket_handler

    def connect(self) -> list[bool]:
        return list(self.websocket_handler.nodelay)


def test_the_wrapped_connection_turns_nagle_off_before_it_connects():
    wrapped = server.no_delay(_Connection)
    assert issubclass(wrapped, _Connection) and wrapped is not _Connection
    handler = _Handler()
    assert wrapped(handler).connect() == [True]  # set before the base class connects
    assert _Connection(_Handler()).connect() == []  # the base class is left as it was
    assert server.no_delay(wrapped) is wrapped  # wrapping twice changes nothing


def test_a_handler_without_an_open_websocket_is_left_alone():
    handler = _Handler(open_=False)
    assert server.no_delay(_Connection)(handler).connect() == []


def test_loading_the_extension_swaps_the_servers_connection_class(caplog):
    settings = {server.SETTING: _Connection}
    app = SimpleNamespace(web_app=SimpleNamespace(settings=settings), log=logging.getLogger("test-server"))
    with caplog.at_level(logging.INFO, logger="test-server"):
        server._load_jupyter_server_extension(app)
    assert settings[server.SETTING].sends_without_delay and issubclass(settings[server.SETTING], _Connection)
    assert server.LOADED in caplog.text
    assert server._jupyter_server_extension_points() == [{"module": "roofline_lab.server"}]


def test_a_plain_install_enables_the_extension_in_the_environments_jupyter_config():
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    (sources,) = [v for k, v in data_files.items() if k == "etc/jupyter/jupyter_server_config.d"]
    config = json.loads((ROOT / sources[0]).read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"roofline_lab.server": True}}}
    assert server.SERVER_FLAG == "--ServerApp.jpserver_extensions=roofline_lab.server=True"


def test_voila_gets_the_wrapped_default_class_by_the_name_its_flag_gives():
    from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
    from traitlets.utils.importstring import import_item

    option, name = server.VOILA_FLAG.split("=", 1)
    assert option == "--Voila.kernel_websocket_connection_class"
    wrapped = import_item(name)
    assert issubclass(wrapped, ZMQChannelsWebsocketConnection) and wrapped.sends_without_delay
    assert import_item(name) is wrapped  # built once
