"""Tiered device-edge-cloud networks.

:func:`tiered_network` builds the hierarchy most split-computing papers evaluate on:
end devices with a wireless uplink to nearby edge servers, edge servers on a metro
network, and cloud datacentres behind a wired backhaul. Every attribute is drawn
uniformly from a documented range (:class:`TierSpec` per tier, :class:`LinkSpec` per
tier pair, both gathered in a :class:`TieredSpec`), with one local
:class:`numpy.random.Generator` made from ``seed``: the same seed and parameters give
the identical :class:`~splitbench.instance.Network`.

Wiring rule (all links undirected, i.e. one arc in each direction):

1. device ``i`` attaches to ``k`` edge servers, ``k`` drawn uniformly from
   ``spec.device_uplinks`` (default 1 or 2) and capped by the number of edges: first
   ``edge{i mod E}`` (round robin, so the edges share the devices evenly), then
   ``k - 1`` further edges drawn without replacement;
2. every edge server links to every cloud;
3. the edge servers form a ring (``spec.edge_wiring = "ring"``; two edges get one
   link, three a triangle) or a full mesh (``"mesh"``);
4. the clouds form a full mesh when ``spec.cloud_cloud`` is set (default);
5. every device also links directly to every cloud when ``spec.device_cloud`` is set
   (default: no direct link).

With at least one edge server the result is connected by construction; the builder
checks connectivity anyway and refuses (``UsageError``) counts that cannot be wired
into one network, e.g. devices and clouds without edges and without direct links.

Default ranges (a representative modern deployment; for comparison, the FIN
scenario's device, edge and cloud have 11, 153.4 and 312 TOPS at 6, 140 and 400 W):

=============  ==============  ===========  =================
tier           ops_per_s       power_w      memory_bytes
=============  ==============  ===========  =================
device         1e12 - 1e13     2 - 10       2e9 - 8e9
edge           2e13 - 1.5e14   50 - 250     1.6e10 - 6.4e10
cloud          1.5e14 - 4e14   300 - 600    unlimited
=============  ==============  ===========  =================

=============  ================  ==============  ==================
link           bandwidth_bps     delay_s         energy_per_bit_j
=============  ================  ==============  ==================
device-edge    5e7 - 1e9         1e-3 - 1e-2     2e-8 - 7e-8
device-cloud   2e7 - 2e8         2e-2 - 6e-2     3e-8 - 8e-8   (off by default)
edge-edge      1e9 - 1e10        5e-4 - 5e-3     1e-9 - 5e-9
edge-cloud     1e9 - 1e10        5e-3 - 3e-2     1e-9 - 5e-9
cloud-cloud    1e10 - 1e11       1e-2 - 5e-2     1e-9 - 3e-9
=============  ================  ==============  ==================

Wireless links (touching a device) cost tens of nJ per bit (FIN: 30 nJ at the device
plus 37 nJ at the edge), wired ones a few nJ.

Examples
--------
>>> from splitbench.topology.tiered import tiered_network
>>> net = tiered_network({"device": 2, "edge": 3, "cloud": 1}, seed=7)
>>> [node.id for node in net.nodes]
['device0', 'device1', 'edge0', 'edge1', 'edge2', 'cloud0']
>>> net == tiered_network({"device": 2, "edge": 3, "cloud": 1}, seed=7)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import numpy as np

from splitbench.errors import UsageError
from splitbench.instance.model import Link, Network, Node
from splitbench.topology._common import Range, check_count, check_range, draw, make_rng

__all__ = [
    "CLOUD_CLOUD_LINK",
    "CLOUD_TIER",
    "DEFAULT_COUNTS",
    "DEVICE_CLOUD_LINK",
    "DEVICE_EDGE_LINK",
    "DEVICE_TIER",
    "EDGE_CLOUD_LINK",
    "EDGE_EDGE_LINK",
    "EDGE_TIER",
    "TIERS",
    "EdgeWiring",
    "LinkSpec",
    "TierSpec",
    "TieredSpec",
    "tiered_network",
]

TIERS: tuple[str, ...] = ("device", "edge", "cloud")
"""The tier names of a tiered network, bottom up."""

DEFAULT_COUNTS: Mapping[str, int] = MappingProxyType({"device": 1, "edge": 2, "cloud": 1})
"""Nodes per tier when :func:`tiered_network` is called without ``counts``."""


@dataclass(frozen=True, slots=True)
class TierSpec:
    """Ranges ``(lo, hi)`` from which the nodes of one tier draw their attributes.

    Parameters
    ----------
    ops_per_s : (float, float)
        Compute speed in operations per second (``lo > 0``).
    power_w : (float, float)
        Power while computing, in watts.
    memory_bytes : (float, float) or None
        Memory for blocks; None gives unlimited memory.

    Examples
    --------
    >>> TierSpec(ops_per_s=(1e12, 2e12), power_w=(5.0, 5.0)).memory_bytes is None
    True
    """

    ops_per_s: Range
    power_w: Range
    memory_bytes: Range | None = None

    def __post_init__(self) -> None:
        check_range("ops_per_s", self.ops_per_s, positive=True)
        check_range("power_w", self.power_w)
        if self.memory_bytes is not None:
            check_range("memory_bytes", self.memory_bytes)


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """Ranges ``(lo, hi)`` from which the links between two tiers draw their attributes.

    Parameters
    ----------
    bandwidth_bps : (float, float)
        Bandwidth in bits per second (``lo > 0``).
    delay_s : (float, float)
        Propagation delay in seconds.
    energy_per_bit_j : (float, float)
        Transmission energy in joules per bit.

    Examples
    --------
    >>> LinkSpec((1e9, 1e10), (0.0, 0.0), (1e-9, 1e-9)).delay_s
    (0.0, 0.0)
    """

    bandwidth_bps: Range
    delay_s: Range
    energy_per_bit_j: Range

    def __post_init__(self) -> None:
        check_range("bandwidth_bps", self.bandwidth_bps, positive=True)
        check_range("delay_s", self.delay_s)
        check_range("energy_per_bit_j", self.energy_per_bit_j)


DEVICE_TIER = TierSpec(ops_per_s=(1e12, 1e13), power_w=(2.0, 10.0), memory_bytes=(2e9, 8e9))
"""Default device: 1-10 TOPS at 2-10 W with 2-8 GB (phones, Jetson-class boards)."""

EDGE_TIER = TierSpec(ops_per_s=(2e13, 1.5e14), power_w=(50.0, 250.0), memory_bytes=(1.6e10, 6.4e10))
"""Default edge server: 20-150 TOPS at 50-250 W with 16-64 GB (one or two accelerators)."""

CLOUD_TIER = TierSpec(ops_per_s=(1.5e14, 4e14), power_w=(300.0, 600.0))
"""Default cloud node: 150-400 TOPS at 300-600 W, unlimited memory (datacentre GPU)."""


DEVICE_EDGE_LINK = LinkSpec((5e7, 1e9), (1e-3, 1e-2), (2e-8, 7e-8))
"""Default wireless uplink: 0.05-1 Gb/s, 1-10 ms, 20-70 nJ/bit (Wi-Fi / 5G)."""

DEVICE_CLOUD_LINK = LinkSpec((2e7, 2e8), (2e-2, 6e-2), (3e-8, 8e-8))
"""Ranges for a direct device-cloud link (cellular WAN); off unless ``spec.device_cloud`` is set."""

EDGE_EDGE_LINK = LinkSpec((1e9, 1e10), (5e-4, 5e-3), (1e-9, 5e-9))
"""Default metro link between edge servers: 1-10 Gb/s, 0.5-5 ms, 1-5 nJ/bit."""

EDGE_CLOUD_LINK = LinkSpec((1e9, 1e10), (5e-3, 3e-2), (1e-9, 5e-9))
"""Default backhaul from edge to cloud: 1-10 Gb/s, 5-30 ms, 1-5 nJ/bit."""

CLOUD_CLOUD_LINK = LinkSpec((1e10, 1e11), (1e-2, 5e-2), (1e-9, 3e-9))
"""Default inter-datacentre link: 10-100 Gb/s, 10-50 ms, 1-3 nJ/bit."""


class EdgeWiring(StrEnum):
    """How the edge servers are linked to each other."""

    RING = "ring"
    MESH = "mesh"


@dataclass(frozen=True, slots=True)
class TieredSpec:
    """Attribute ranges and wiring options of :func:`tiered_network`.

    Parameters
    ----------
    device, edge, cloud : TierSpec
        Node attribute ranges per tier (defaults in the module docstring).
    device_edge, edge_edge, edge_cloud : LinkSpec
        Link attribute ranges per tier pair.
    cloud_cloud : LinkSpec or None
        Links of the full mesh between clouds; None leaves clouds unlinked to each other.
    device_cloud : LinkSpec or None
        Direct link from every device to every cloud; None (default) gives none,
        :data:`DEVICE_CLOUD_LINK` gives a cellular WAN link.
    edge_wiring : EdgeWiring or str
        ``"ring"`` (default) or ``"mesh"``.
    device_uplinks : (int, int)
        Range of the number of edges each device attaches to (inclusive).

    Examples
    --------
    >>> spec = TieredSpec(edge_wiring="mesh", device_uplinks=(1, 1))
    >>> spec.edge_wiring is EdgeWiring.MESH
    True
    """

    device: TierSpec = DEVICE_TIER
    edge: TierSpec = EDGE_TIER
    cloud: TierSpec = CLOUD_TIER
    device_edge: LinkSpec = DEVICE_EDGE_LINK
    edge_edge: LinkSpec = EDGE_EDGE_LINK
    edge_cloud: LinkSpec = EDGE_CLOUD_LINK
    cloud_cloud: LinkSpec | None = CLOUD_CLOUD_LINK
    device_cloud: LinkSpec | None = None
    edge_wiring: EdgeWiring = EdgeWiring.RING
    device_uplinks: tuple[int, int] = (1, 2)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "edge_wiring", EdgeWiring(self.edge_wiring))
        except ValueError:
            known = ", ".join(w.value for w in EdgeWiring)
            raise UsageError(
                f"edge_wiring must be one of {known}, got {self.edge_wiring!r}"
            ) from None
        lo = check_count("device_uplinks[0]", self.device_uplinks[0], minimum=1)
        hi = check_count("device_uplinks[1]", self.device_uplinks[1], minimum=lo)
        object.__setattr__(self, "device_uplinks", (lo, hi))

    def tier(self, name: str) -> TierSpec:
        """The :class:`TierSpec` of tier ``name`` (one of :data:`TIERS`)."""
        specs = {"device": self.device, "edge": self.edge, "cloud": self.cloud}
        return specs[name]


def draw_nodes(rng: np.random.Generator, tier: str, spec: TierSpec, ids: list[str]) -> list[Node]:
    """Nodes ``ids`` of one tier with attributes drawn from ``spec`` (speed, power, memory)."""
    n = len(ids)
    ops = draw(rng, spec.ops_per_s, n)
    power = draw(rng, spec.power_w, n)
    memory = None if spec.memory_bytes is None else draw(rng, spec.memory_bytes, n)
    return [
        Node(
            id=node_id,
            tier=tier,
            ops_per_s=float(ops[i]),
            power_w=float(power[i]),
            memory_bytes=None if memory is None else float(memory[i]),
        )
        for i, node_id in enumerate(ids)
    ]


def draw_links(
    rng: np.random.Generator, pairs: list[tuple[str, str]], spec: LinkSpec
) -> list[Link]:
    """Undirected links over ``pairs`` with attributes drawn from ``spec``."""
    n = len(pairs)
    bandwidth = draw(rng, spec.bandwidth_bps, n)
    delay = draw(rng, spec.delay_s, n)
    energy = draw(rng, spec.energy_per_bit_j, n)
    return [
        Link(u, v, float(bandwidth[i]), float(delay[i]), float(energy[i]))
        for i, (u, v) in enumerate(pairs)
    ]


def _check_counts(counts: Mapping[str, int]) -> dict[str, int]:
    unknown = sorted(set(counts) - set(TIERS))
    if unknown:
        raise UsageError(f"counts: unknown tier {unknown[0]!r}; the tiers are {', '.join(TIERS)}")
    out = {tier: check_count(f"counts[{tier!r}]", counts.get(tier, 0)) for tier in TIERS}
    if sum(out.values()) == 0:
        raise UsageError("counts: the network needs at least one node")
    return out


def _edge_pairs(edges: list[str], wiring: EdgeWiring) -> list[tuple[str, str]]:
    if wiring is EdgeWiring.MESH or len(edges) <= 3:
        # A ring of up to three nodes is the full mesh.
        return [(a, b) for i, a in enumerate(edges) for b in edges[i + 1 :]]
    return [(edges[i], edges[(i + 1) % len(edges)]) for i in range(len(edges))]


def _check_connected(nodes: list[str], pairs: list[tuple[str, str]]) -> None:
    parent = {node: node for node in nodes}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for u, v in pairs:
        parent[root(u)] = root(v)
    roots = {root(node) for node in nodes}
    if len(roots) > 1:
        raise UsageError(
            "counts: these tiers cannot be wired into one connected network "
            "(add an edge node, or set spec.device_cloud / spec.cloud_cloud)"
        )


def tiered_network(
    counts: Mapping[str, int] = DEFAULT_COUNTS,
    *,
    seed: int,
    spec: TieredSpec | None = None,
) -> Network:
    """Build a device-edge-cloud network with attributes drawn from ``spec``.

    Parameters
    ----------
    counts : mapping of str to int, default ``{"device": 1, "edge": 2, "cloud": 1}``
        Number of nodes per tier; missing tiers have none.
    seed : int
        Seed of the local random generator; the same seed gives the same network.
    spec : TieredSpec or None
        Attribute ranges and wiring options; None uses the defaults of the module
        docstring.

    Returns
    -------
    Network
        Nodes ``device0..``, ``edge0..``, ``cloud0..`` (in that order) and undirected
        links wired as the module docstring describes: device-edge links first, then
        device-cloud, edge-edge, edge-cloud and cloud-cloud links.

    Raises
    ------
    UsageError
        For an unknown tier, a negative count, no nodes at all, or counts that cannot
        be wired into a connected network.

    Examples
    --------
    >>> net = tiered_network(seed=0)
    >>> [node.id for node in net.nodes]
    ['device0', 'edge0', 'edge1', 'cloud0']
    >>> sorted((link.source, link.target) for link in net.links if link.source == "edge0")
    [('edge0', 'cloud0'), ('edge0', 'edge1')]
    >>> 1e12 <= net.node("device0").ops_per_s <= 1e13
    True
    >>> mesh = tiered_network({"device": 4, "edge": 4, "cloud": 2}, seed=1,
    ...                       spec=TieredSpec(edge_wiring="mesh"))
    >>> sum(link.source.startswith("edge") and link.target.startswith("edge")
    ...     for link in mesh.links)
    6
    """
    spec = spec if spec is not None else TieredSpec()
    n = _check_counts(counts)
    rng = make_rng(seed)
    ids = {tier: [f"{tier}{i}" for i in range(n[tier])] for tier in TIERS}
    nodes = [node for tier in TIERS for node in draw_nodes(rng, tier, spec.tier(tier), ids[tier])]

    devices, edges, clouds = ids["device"], ids["edge"], ids["cloud"]
    device_edge: list[tuple[str, str]] = []
    if edges:
        lo, hi = spec.device_uplinks
        for i, device in enumerate(devices):
            k = min(int(rng.integers(lo, hi + 1)), len(edges))
            first = i % len(edges)
            others = [j for j in range(len(edges)) if j != first]
            extra = [int(j) for j in rng.choice(others, size=k - 1, replace=False)]
            for j in sorted([first, *extra]):
                device_edge.append((device, edges[j]))
    device_cloud = (
        [(d, c) for d in devices for c in clouds] if spec.device_cloud is not None else []
    )
    edge_edge = _edge_pairs(edges, spec.edge_wiring)
    edge_cloud = [(e, c) for e in edges for c in clouds]
    cloud_cloud = (
        [(a, b) for i, a in enumerate(clouds) for b in clouds[i + 1 :]]
        if spec.cloud_cloud is not None
        else []
    )
    _check_connected(
        [node.id for node in nodes],
        device_edge + device_cloud + edge_edge + edge_cloud + cloud_cloud,
    )

    links = draw_links(rng, device_edge, spec.device_edge)
    if spec.device_cloud is not None:
        links += draw_links(rng, device_cloud, spec.device_cloud)
    links += draw_links(rng, edge_edge, spec.edge_edge)
    links += draw_links(rng, edge_cloud, spec.edge_cloud)
    if spec.cloud_cloud is not None:
        links += draw_links(rng, cloud_cloud, spec.cloud_cloud)
    return Network(nodes=tuple(nodes), links=tuple(links))
