"""The interconnect catalog: data/interconnects.toml loaded into SI units, looked up by GPU or name.

Each accelerator of data/gpus.toml (Apple's chips aside) has one `Interconnect`: the link a GPU
pushes into its fast fabric (bytes/s per direction), how many chips share that fabric (the
domain), and the fixed cost of a small all-reduce. `Network` rows are the scale-out fabrics
(InfiniBand and friends) used past the domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from roofline_lab import _checks
from roofline_lab._lookup import Catalog, did_you_mean, normalize
from roofline_lab.hardware import Accelerator, get_gpu

GIGA = 1e9
MICRO = 1e-6

TOPOLOGIES = ("switch", "mesh", "torus", "bridge", "pcie")


@dataclass(frozen=True)
class Network:
    """A scale-out network: bytes/s per GPU per direction and a measured small all-reduce time."""

    key: str
    name: str
    link_bandwidth: float  # bytes/s per GPU per direction
    allreduce_latency_s: float
    latency_source: str
    sources: tuple[str, ...]
    note: str = ""
    aliases: tuple[str, ...] = ()
    unverified: tuple[str, ...] = field(default=())

    def bandwidth(self, n_gpus: int) -> float:
        """Bytes/s per GPU per direction a collective over n_gpus gets (the NIC's, whatever n)."""
        return self.link_bandwidth

    def latency_s(self, n_gpus: int) -> float:
        """Fixed seconds of one small collective over n_gpus (0 for a single GPU)."""
        return 0.0 if n_gpus <= 1 else self.allreduce_latency_s


@dataclass(frozen=True)
class Interconnect:
    """One accelerator's fast fabric (NVLink, Infinity Fabric, ICI, PCIe), in SI units."""

    key: str  # the accelerator key in data/gpus.toml
    name: str
    topology: str
    link_bandwidth: float  # bytes/s per GPU per direction into the fabric
    domain_size: int
    allreduce_latency_s: float
    hop_latency_s: float
    pcie_bandwidth: float
    network: str  # default scale-out network key, "" if none
    latency_source: str
    sources: tuple[str, ...]
    peer_bandwidth: float = 0.0  # mesh only: bytes/s per direction to ONE peer
    note: str = ""
    unverified: tuple[str, ...] = field(default=())

    def bandwidth(self, n_gpus: int) -> float:
        """Bytes/s per GPU per direction that a collective over n_gpus of this domain can use.

        A switch, bridge, torus axis or PCIe link gives the same to any group; a direct mesh
        (MI300X, Gaudi) only has one link per peer, so n GPUs use n - 1 of them:
        MI300X 2-way 64 GB/s, 8-way 448 GB/s.
        """
        n = _checks.number("n_gpus", n_gpus, integer=True)
        if self.topology == "mesh" and self.peer_bandwidth:
            return min(self.link_bandwidth, self.peer_bandwidth * max(n - 1, 1))
        return self.link_bandwidth

    def latency_s(self, n_gpus: int) -> float:
        """Fixed seconds of one small all-reduce over n_gpus: the measured figure (+ n hops on a torus)."""
        n = _checks.number("n_gpus", n_gpus, integer=True)
        return 0.0 if n <= 1 else self.allreduce_latency_s + self.hop_latency_s * n


def _network(key: str, row: dict[str, Any]) -> Network:
    return Network(
        key=key,
        name=row["name"],
        link_bandwidth=row["link_gb_per_s"] * GIGA,
        allreduce_latency_s=row["allreduce_latency_us"] * MICRO,
        latency_source=row["latency_source"],
        sources=tuple(row["sources"]),
        note=row.get("note", ""),
        aliases=tuple(row.get("aliases", ())),
        unverified=tuple(row.get("unverified", ())),
    )


def _interconnect(key: str, row: dict[str, Any]) -> Interconnect:
    if row["topology"] not in TOPOLOGIES:
        raise ValueError(f"interconnects.toml [{key}]: topology {row['topology']!r} is not one of {TOPOLOGIES}")
    return Interconnect(
        key=key,
        name=row["name"],
        topology=row["topology"],
        link_bandwidth=row["link_gb_per_s"] * GIGA,
        domain_size=int(row["domain_size"]),
        allreduce_latency_s=row["allreduce_latency_us"] * MICRO,
        hop_latency_s=row.get("hop_latency_us", 0) * MICRO,
        pcie_bandwidth=row["pcie_gb_per_s"] * GIGA,
        network=row.get("network", ""),
        latency_source=row["latency_source"],
        sources=tuple(row["sources"]),
        peer_bandwidth=row.get("peer_gb_per_s", 0) * GIGA,
        note=row.get("note", ""),
        unverified=tuple(row.get("unverified", ())),
    )


@cache
def _interconnects() -> Catalog[Interconnect]:
    return Catalog("interconnect", "interconnects.toml", "interconnect", _interconnect)


@cache
def _networks() -> Catalog[Network]:
    return Catalog("network", "interconnects.toml", "network", _network)


def interconnect_names() -> list[str]:
    """Accelerator keys that have an interconnect row, in file order."""
    return list(_interconnects().items)


def network_names() -> list[str]:
    """Scale-out network keys, in file order ('infiniband-hdr' first)."""
    return list(_networks().items)


def get_interconnect(gpu: str | Accelerator) -> Interconnect:
    """The fast fabric of an accelerator, looked up by the GPU's key, alias or name (any case).

    get_interconnect('H100') -> NVLink 4 via NVSwitch, 450 GB/s per direction, 8 GPUs.
    Unknown GPUs raise the GPU catalog's "did you mean"; a known GPU without a fabric row
    (Apple's chips) raises a ValueError naming the ones that have one.
    """
    accelerator = get_gpu(gpu)
    items = _interconnects().items
    if accelerator.key not in items:
        raise ValueError(
            f"{accelerator.name} ({accelerator.key!r}) has no interconnect in data/interconnects.toml, "
            f"so it runs on one chip only (tp=1){did_you_mean(accelerator.key, items)}; "
            f"chips with one: {', '.join(items)}"
        )
    return items[accelerator.key]


def get_network(name: str | Network) -> Network:
    """A scale-out network by key or alias, any case: get_network('ndr') -> InfiniBand NDR."""
    if isinstance(name, Network):
        return name
    if isinstance(name, str) and normalize(name) in {normalize(k) for k in _interconnects().items}:
        raise ValueError(
            f"network {name!r} is an accelerator, not a scale-out network; known networks: {', '.join(network_names())}"
        )
    return _networks().get(name)
