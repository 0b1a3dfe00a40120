"""A Jupyter server extension: kernel messages reach the page as soon as the kernel sends them.

Jupyter's server writes each kernel message to the browser's websocket as one small TCP
write and leaves Nagle's algorithm on. Nagle holds a small write back until the previous
one is acknowledged, and the browser may delay that acknowledgement (Linux: 40 ms) when it
has nothing to send. One slider move sends five messages in a burst (kernel busy, the
slider's echo, the readout, the figure, kernel idle), so the readout and the figure waited
in the server for up to 40 ms after the kernel had sent them: key press -> readout took a
median of 44-48 ms in tests/test_browser_explorer.py, 23-28 ms with Nagle off.

This extension turns Nagle off (TCP_NODELAY) on every kernel websocket. The README's lab
command enables it with SERVER_FLAG; a plain install (`pip install .`: Binder, a JupyterHub)
enables it in every Jupyter server of the environment through
etc/jupyter/jupyter_server_config.d/roofline_lab.json (an editable install does not write
that file). It wraps the connection class the server is configured with, so a server that
uses another class (a kernel gateway's, say) keeps it. The README's lecturer command gives
Voila, which loads no server extensions, the wrapped class by name (VOILA_FLAG).
"""

from __future__ import annotations

from typing import Any

#: The server setting that names the class behind each kernel websocket.
SETTING = "kernel_websocket_connection_class"
#: The command-line flag that enables this extension in `jupyter lab` (README, tests/conftest.py).
SERVER_FLAG = "--ServerApp.jpserver_extensions=roofline_lab.server=True"
#: What the server logs when the extension is loaded.
LOADED = "kernel websockets send without delay"
#: Voila (the lecturer page) loads no server extensions; it takes the class by name instead.
VOILA_FLAG = "--Voila.kernel_websocket_connection_class=roofline_lab.server.NoDelayZMQChannelsWebsocketConnection"


def no_delay(connection_class: type) -> type:
    """A subclass of a kernel websocket connection class that turns Nagle's algorithm off
    on its websocket before connecting (the class itself when it already does)."""
    if getattr(connection_class, "sends_without_delay", False):
        return connection_class

    def connect(self: Any) -> Any:
        handler = getattr(self, "websocket_handler", None)
        if handler is not None and getattr(handler, "ws_connection", None) is not None:
            handler.set_nodelay(True)
        return connection_class.connect(self)

    return type(f"NoDelay{connection_class.__name__}", (connection_class,),
                {"connect": connect, "sends_without_delay": True, "__module__": __name__,
                 "__doc__": f"{connection_class.__name__} with TCP_NODELAY on its websocket."})


def __getattr__(name: str) -> Any:
    """NoDelayZMQChannelsWebsocketConnection: jupyter_server's default class, wrapped (built on
    first use, so importing this module does not import the server)."""
    if name == "NoDelayZMQChannelsWebsocketConnection":
        from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

        globals()[name] = wrapped = no_delay(ZMQChannelsWebsocketConnection)  # one class, built once
        return wrapped
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "roofline_lab.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    settings = serverapp.web_app.settings
    connection_class = settings.get(SETTING)
    if connection_class is None:
        serverapp.log.warning("roofline_lab.server: no %s in the server's settings; left as it is", SETTING)
        return
    settings[SETTING] = no_delay(connection_class)
    serverapp.log.info("roofline_lab.server: %s (TCP_NODELAY on %s)", LOADED, connection_class.__name__)


__all__ = ["LOADED", "SERVER_FLAG", "SETTING", "VOILA_FLAG", "no_delay"]
