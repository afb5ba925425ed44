"""Real network topologies from the topohub package (SNDlib, Internet Topology Zoo, ...).

:func:`topohub_network` loads a topology with ``topohub.get(key)`` and
``networkx.node_link_graph(data, edges="edges")`` (the edge key is passed explicitly
because networkx changed its default), refuses one that loads with zero links, and
turns it into a :class:`~splitbench.instance.Network`. topohub files carry node
names, positions ``(lon, lat)`` and link lengths ``dist`` in km, but no capacities or
compute; those are derived by the documented rules of :class:`RealTopologyRules`:

delay
    ``delay_s = dist / rules.signal_speed_km_per_s`` (200,000 km/s, light in fibre).
    When a link has no ``dist`` it is the great-circle (haversine) distance between
    the endpoints' positions, on a sphere of radius 6371.0088 km (the mean Earth radius).
bandwidth
    ``"uniform"`` (default): every link gets ``rules.bandwidth_bps`` (10 Gb/s).
    ``"degree"``: ``rules.bandwidth_bps * min(deg(u), deg(v)) / d_min``, with d_min
    the smallest node degree of the topology: the thinnest links get the base rate
    and links between hubs multiples of it.
energy
    Every topology link costs ``rules.energy_per_bit_j`` (3 nJ/bit, a wired hop).
compute
    The ``rules.n_clouds`` nodes of highest degree (ties: file order) become
    ``"cloud"`` datacentres; the others are ``"edge"`` servers (``"router"`` with
    ``ops_per_s = 0`` when ``rules.edge_nodes_compute`` is False). Attributes are drawn
    uniformly from ``rules.cloud`` / ``rules.edge`` (the tiered defaults).
devices
    ``rules.n_devices`` nodes ``device0..`` (attributes from ``rules.device``) each
    attach by one wireless link (ranges ``rules.device_link``: 0.05-1 Gb/s, 1-10 ms,
    20-70 nJ/bit) to an access node: the ones passed as ``access_nodes``, or else
    drawn uniformly without replacement (with replacement once exhausted) from the
    non-cloud nodes (from all nodes if every node is a cloud).

Node ids are the sanitised node names (runs of characters other than letters,
digits, ``.``, ``_`` and ``-`` become ``_``); if a name is missing, empty or not
unique, every node is called ``n<id>`` with its topohub id instead. Parallel links
are merged and self-loops dropped. Same name, seed and rules give the same network.

Examples
--------
>>> from splitbench.topology.real import topohub_network
>>> net = topohub_network("polska", seed=0)
>>> len(net.nodes), len(net.links)  # 12 cities and 18 links, plus device0 and its uplink
(13, 19)
>>> round(net.arc_map[("Gdansk", "Warsaw")].delay_s * 1e3, 4)  # 273.93 km of fibre
1.3697
"""

from __future__ import annotations

import importlib.resources
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import networkx as nx
import numpy as np

from splitbench.errors import InstanceError, UnknownNameError, UsageError
from splitbench.instance.model import Link, Network, Node
from splitbench.topology._common import check_count, make_rng
from splitbench.topology.tiered import (
    CLOUD_TIER,
    DEVICE_EDGE_LINK,
    DEVICE_TIER,
    EDGE_TIER,
    LinkSpec,
    TierSpec,
    draw_links,
    draw_nodes,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "TOPOHUB_ALIASES",
    "BandwidthRule",
    "RealTopologyRules",
    "haversine_km",
    "list_real_topologies",
    "topohub_network",
]

TOPOHUB_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "abilene": "sndlib/abilene",
        "geant": "sndlib/geant",
        "germany50": "sndlib/germany50",
        "polska": "sndlib/polska",
    }
)
"""Short names accepted by :func:`topohub_network`, and the topohub keys they stand for."""

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), used by :func:`haversine_km`."""

_KEY_PATTERN = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class BandwidthRule(StrEnum):
    """How link bandwidths are derived (see the module docstring)."""

    UNIFORM = "uniform"
    DEGREE = "degree"


@dataclass(frozen=True, slots=True)
class RealTopologyRules:
    """The rules that turn a capacity-less topohub topology into a :class:`Network`.

    Parameters
    ----------
    signal_speed_km_per_s : float
        Propagation speed for ``delay_s = dist / speed`` (default 200,000 km/s).
    bandwidth_rule : BandwidthRule or str
        ``"uniform"`` (default) or ``"degree"``.
    bandwidth_bps : float
        Base bandwidth of topology links (default 10 Gb/s).
    energy_per_bit_j : float
        Energy per bit of topology links (default 3 nJ).
    n_clouds : int
        How many highest-degree nodes become clouds (default 1).
    edge_nodes_compute : bool
        Whether the other topology nodes compute as edges (default) or only route.
    cloud, edge, device : TierSpec
        Node attribute ranges (defaults of :mod:`splitbench.topology.tiered`).
    n_devices : int
        Devices attached to access nodes (default 1).
    device_link : LinkSpec
        Ranges of the devices' wireless uplinks.

    Examples
    --------
    >>> RealTopologyRules(bandwidth_rule="degree", n_clouds=2).bandwidth_rule
    <BandwidthRule.DEGREE: 'degree'>
    """

    signal_speed_km_per_s: float = 200_000.0
    bandwidth_rule: BandwidthRule = BandwidthRule.UNIFORM
    bandwidth_bps: float = 1e10
    energy_per_bit_j: float = 3e-9
    n_clouds: int = 1
    edge_nodes_compute: bool = True
    cloud: TierSpec = CLOUD_TIER
    edge: TierSpec = EDGE_TIER
    device: TierSpec = DEVICE_TIER
    n_devices: int = 1
    device_link: LinkSpec = DEVICE_EDGE_LINK

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "bandwidth_rule", BandwidthRule(self.bandwidth_rule))
        except ValueError:
            known = ", ".join(rule.value for rule in BandwidthRule)
            raise UsageError(
                f"bandwidth_rule must be one of {known}, got {self.bandwidth_rule!r}"
            ) from None
        for name in ("signal_speed_km_per_s", "bandwidth_bps"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise UsageError(f"{name} must be > 0 and finite, got {value!r}")
        if not math.isfinite(self.energy_per_bit_j) or self.energy_per_bit_j < 0:
            raise UsageError(f"energy_per_bit_j must be >= 0, got {self.energy_per_bit_j!r}")
        check_count("n_clouds", self.n_clouds)
        check_count("n_devices", self.n_devices)


def haversine_km(a: Sequence[float], b: Sequence[float]) -> float:
    """Great-circle distance in km between two ``(lon, lat)`` positions in degrees.

    Examples
    --------
    >>> round(haversine_km((18.6, 54.2), (21.0, 52.2)), 1)  # Gdansk - Warsaw in topohub
    273.8
    """
    lon1, lat1, lon2, lat2 = (math.radians(float(x)) for x in (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _topohub_keys() -> list[str]:
    root = importlib.resources.files("topohub") / "data"
    keys: list[str] = []
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                stack.append((entry, f"{prefix}{entry.name}/"))
            elif entry.name.endswith(".json"):
                keys.append(prefix + entry.name.removesuffix(".json"))
    return sorted(keys)


def list_real_topologies(*, all_keys: bool = False) -> tuple[str, ...]:
    """Names :func:`topohub_network` accepts.

    Parameters
    ----------
    all_keys : bool
        Also list every topology key in the installed topohub package (several
        hundred, e.g. ``"sndlib/nobel-eu"``, ``"topozoo/Abilene"``, ``"gabriel/25/0"``).

    Returns
    -------
    tuple of str
        The aliases of :data:`TOPOHUB_ALIASES`, then (with ``all_keys``) the keys.

    Examples
    --------
    >>> list_real_topologies()
    ('abilene', 'geant', 'germany50', 'polska')
    >>> "topozoo/Abilene" in list_real_topologies(all_keys=True)
    True
    """
    aliases = tuple(sorted(TOPOHUB_ALIASES))
    return aliases + tuple(_topohub_keys()) if all_keys else aliases


def _unknown(name: str) -> UnknownNameError:
    return UnknownNameError(
        f"unknown topohub topology {name!r}: use an alias "
        f"({', '.join(sorted(TOPOHUB_ALIASES))}) or a topohub key such as "
        "'sndlib/nobel-eu', 'topozoo/Abilene', 'gabriel/25/0' "
        "(list_real_topologies(all_keys=True) lists them all)"
    )


def _load(name: str) -> tuple[str, Any]:
    """The topohub key for ``name`` and its graph (undirected or directed, simple)."""
    key = TOPOHUB_ALIASES.get(name.lower(), name)
    if not _KEY_PATTERN.fullmatch(key) or ".." in key.split("/"):
        raise _unknown(name)
    import topohub

    try:
        data = topohub.get(key)
    except KeyError:
        raise _unknown(name) from None
    graph = nx.node_link_graph(data, edges="edges")
    simple = nx.DiGraph(graph) if graph.is_directed() else nx.Graph(graph)
    simple.remove_edges_from(list(nx.selfloop_edges(simple)))
    if simple.number_of_nodes() == 0 or simple.number_of_edges() == 0:
        raise InstanceError(
            "topology",
            f"topohub topology {key!r} loaded with {simple.number_of_nodes()} nodes and "
            "0 links; choose another topology",
        )
    connected = nx.is_weakly_connected if simple.is_directed() else nx.is_connected
    if not connected(simple):
        raise InstanceError("topology", f"topohub topology {key!r} is not connected")
    return key, simple


def _node_ids(graph: Any) -> dict[Any, str]:
    """Sanitised names, or ``n<id>`` for every node when names are missing or collide."""
    names = {
        node: _UNSAFE.sub("_", str(attrs.get("name") or "")).strip("_")
        for node, attrs in graph.nodes(data=True)
    }
    if all(names.values()) and len(set(names.values())) == len(names):
        return names
    return {node: f"n{node}" for node in graph.nodes}


def _length_km(key: str, graph: Any, u: Any, v: Any) -> float:
    dist = graph.edges[u, v].get("dist")
    if dist is not None:
        return float(dist)
    try:
        return haversine_km(graph.nodes[u]["pos"], graph.nodes[v]["pos"])
    except (KeyError, IndexError, TypeError):
        raise InstanceError(
            "topology",
            f"topohub topology {key!r}: link {u!r}-{v!r} has neither 'dist' nor endpoint "
            "positions, so its delay cannot be derived",
        ) from None


def topohub_network(
    name: str,
    *,
    seed: int = 0,
    rules: RealTopologyRules | None = None,
    access_nodes: Sequence[str] | None = None,
) -> Network:
    """Build a network from a real topology of the topohub package.

    Parameters
    ----------
    name : str
        An alias (``abilene``, ``geant``, ``polska``, ``germany50``: the SNDlib
        versions) or any topohub key (``"sndlib/nobel-eu"``, ``"topozoo/Abilene"``).
    seed : int
        Seed of the local random generator (node attributes, access nodes, uplinks).
    rules : RealTopologyRules or None
        Derivation rules; None uses the defaults of the module docstring.
    access_nodes : sequence of str or None
        Node ids (sanitised names) where ``device0, device1, ...`` attach, one per
        device; None draws them as the module docstring describes.

    Returns
    -------
    Network
        The topology's nodes in file order (undirected links, in networkx edge order),
        then the devices and their uplinks.

    Raises
    ------
    UnknownNameError
        If ``name`` is neither an alias nor a topohub key; the message lists aliases.
    InstanceError
        With field ``topology``, if the topology loads with zero links, is not
        connected, or has a link whose length cannot be derived.
    UsageError
        For more clouds than nodes or bad ``access_nodes``.

    Examples
    --------
    >>> net = topohub_network("abilene", seed=1)
    >>> len(net.nodes), len(net.links), sorted(net.tiers)
    (13, 16, ['cloud', 'device', 'edge'])
    >>> [node.id for node in net.nodes if node.tier == "cloud"]
    ['ATLAng']
    >>> uplink = topohub_network("abilene", access_nodes=["NYCMng"]).links[-1]
    >>> uplink.source, uplink.target
    ('device0', 'NYCMng')
    """
    rules = rules if rules is not None else RealTopologyRules()
    key, graph = _load(name)
    ids = _node_ids(graph)
    order = list(graph.nodes)
    if rules.n_clouds > len(order):
        raise UsageError(
            f"n_clouds = {rules.n_clouds} but topology {key!r} has only {len(order)} nodes"
        )
    degree = dict(graph.degree)
    ranked = sorted(range(len(order)), key=lambda i: (-degree[order[i]], i))
    clouds = {order[i] for i in ranked[: rules.n_clouds]}

    rng = make_rng(seed)
    by_tier: dict[str, list[str]] = {"cloud": [], "edge": []}
    for node in order:
        by_tier["cloud" if node in clouds else "edge"].append(ids[node])
    drawn = {n.id: n for n in draw_nodes(rng, "cloud", rules.cloud, by_tier["cloud"])}
    if rules.edge_nodes_compute:
        drawn.update((n.id, n) for n in draw_nodes(rng, "edge", rules.edge, by_tier["edge"]))
    else:
        drawn.update((i, Node(i, "router", 0.0, 0.0, None)) for i in by_tier["edge"])
    nodes = [drawn[ids[node]] for node in order]

    d_min = min(degree.values())
    links: list[Link] = []
    for u, v in graph.edges:
        bandwidth = rules.bandwidth_bps
        if rules.bandwidth_rule is BandwidthRule.DEGREE:
            bandwidth *= min(degree[u], degree[v]) / d_min
        delay = _length_km(key, graph, u, v) / rules.signal_speed_km_per_s
        links.append(
            Link(ids[u], ids[v], bandwidth, delay, rules.energy_per_bit_j, graph.is_directed())
        )

    taken = set(ids.values())
    devices: list[str] = []
    for i in range(rules.n_devices):
        device = f"device{i}"
        while device in taken:
            device += "_"
        taken.add(device)
        devices.append(device)
    nodes += draw_nodes(rng, "device", rules.device, devices)
    access = _access(rng, key, access_nodes, devices, by_tier["edge"] or by_tier["cloud"], taken)
    links += draw_links(rng, list(zip(devices, access, strict=True)), rules.device_link)
    return Network(nodes=tuple(nodes), links=tuple(links))


def _access(
    rng: np.random.Generator,
    key: str,
    given: Sequence[str] | None,
    devices: list[str],
    candidates: list[str],
    known: set[str],
) -> list[str]:
    """The access node of each device: ``given`` (checked) or drawn from ``candidates``."""
    if given is not None:
        chosen = [given] if isinstance(given, str) else list(given)
        if len(chosen) != len(devices):
            raise UsageError(f"access_nodes lists {len(chosen)} nodes for {len(devices)} devices")
        for node in chosen:
            if node not in known or node in devices:
                raise UsageError(f"access_nodes: {node!r} is not a node of topology {key!r}")
        return chosen
    picks: list[str] = []
    while len(picks) < len(devices):
        size = min(len(candidates), len(devices) - len(picks))
        picks += [candidates[int(j)] for j in rng.choice(len(candidates), size, replace=False)]
    return picks
