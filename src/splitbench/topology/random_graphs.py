"""Random networks: random geometric, Waxman and uniform random graphs.

All three builders place ``n_nodes`` nodes uniformly at random in a square of side
``spec.side_m`` metres (1000 km by default: a regional network), draw the links by
their own rule, and then share the same finishing steps, documented here once.

Tiers
    The node counts per tier follow the shares ``spec.device_share``, ``edge_share``,
    ``cloud_share`` and ``router_share`` (default 0.5, 0.3, 0.2, 0: no routers),
    rounded by largest remainder (ties go to the earlier tier in that order); when the
    device share is positive there is at least one device. Nodes get the tiers in
    blocks (devices first, then edges, clouds, routers) in the order their positions
    were drawn, which is a uniformly random assignment since positions are i.i.d.
    Ids are ``device0..``, ``edge0..``, ``cloud0..``, ``router0..``. Devices, edges and
    clouds draw ``ops_per_s``, ``power_w`` and ``memory_bytes`` uniformly from the
    :class:`~splitbench.topology.tiered.TierSpec` of their tier (defaults as in
    :mod:`splitbench.topology.tiered`); routers have ``ops_per_s = 0`` (they forward,
    they cannot compute), ``power_w = 0`` and unlimited memory.

Connectivity
    Whatever the graph rule leaves disconnected is joined by bridging links, Prim
    style: starting from the component of the first node, the shortest link (in the
    square) from the joined part to any other component is added, that component
    joins, and so on. This adds exactly (components - 1) links, each the shortest
    possible, and is deterministic given the positions.

Links (undirected)
    ``delay_s`` = length in metres / 2e8 m/s (light in fibre). A link with a device
    at either end is a wireless access link: its bandwidth falls linearly with
    length from the top of ``spec.access_bandwidth_bps`` (length 0) to the bottom
    (the square's diagonal) and its energy per bit is drawn from
    ``spec.access_energy_per_bit_j`` (tens of nJ). Any other link is wired: bandwidth
    from ``spec.core_bandwidth_bps`` and energy per bit from
    ``spec.core_energy_per_bit_j`` (a few nJ), both drawn uniformly, independent of
    length (fibre capacity does not depend on it).

Examples
--------
>>> from splitbench.topology.random_graphs import waxman_network
>>> net = waxman_network(12, seed=3)
>>> len(net.nodes), net.reachable_from("device0") == frozenset(n.id for n in net.nodes)
(12, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from splitbench.errors import UsageError
from splitbench.instance.model import Link, Network, Node
from splitbench.topology._common import (
    SIGNAL_SPEED_M_PER_S,
    Range,
    check_count,
    check_range,
    draw,
    make_rng,
)
from splitbench.topology.tiered import CLOUD_TIER, DEVICE_TIER, EDGE_TIER, TierSpec, draw_nodes

__all__ = [
    "RANDOM_TIERS",
    "RandomNetworkSpec",
    "random_geometric_network",
    "random_network",
    "waxman_network",
]

RANDOM_TIERS: tuple[str, ...] = ("device", "edge", "cloud", "router")
"""The tiers of a random network, in the order their nodes are listed."""

_Pairs = NDArray[np.int64]
"""Links as an (m, 2) array of node indices with ``i < j`` in each row."""


@dataclass(frozen=True, slots=True)
class RandomNetworkSpec:
    """Tier shares and attribute ranges of the random-network builders.

    Parameters
    ----------
    device_share, edge_share, cloud_share, router_share : float
        Relative shares of nodes per tier (normalised by their sum).
    device, edge, cloud : TierSpec
        Node attribute ranges per computing tier.
    access_bandwidth_bps : (float, float)
        Bandwidth of links touching a device, at the square's diagonal and at length 0.
    access_energy_per_bit_j : (float, float)
        Energy per bit of links touching a device.
    core_bandwidth_bps, core_energy_per_bit_j : (float, float)
        Bandwidth and energy per bit of the other links.
    side_m : float
        Side of the square in metres (sets the propagation delays).

    Examples
    --------
    >>> RandomNetworkSpec(device_share=0.4, router_share=0.1).tier_counts(10)
    {'device': 4, 'edge': 3, 'cloud': 2, 'router': 1}
    """

    device_share: float = 0.5
    edge_share: float = 0.3
    cloud_share: float = 0.2
    router_share: float = 0.0
    device: TierSpec = DEVICE_TIER
    edge: TierSpec = EDGE_TIER
    cloud: TierSpec = CLOUD_TIER
    access_bandwidth_bps: Range = (5e7, 1e9)
    access_energy_per_bit_j: Range = (2e-8, 7e-8)
    core_bandwidth_bps: Range = (1e9, 1e10)
    core_energy_per_bit_j: Range = (1e-9, 5e-9)
    side_m: float = 1e6

    def __post_init__(self) -> None:
        for tier, share in zip(RANDOM_TIERS, self._shares(), strict=True):
            if not math.isfinite(share) or share < 0:
                raise UsageError(f"{tier}_share must be >= 0 and finite, got {share!r}")
        if sum(self._shares()[:3]) <= 0:
            raise UsageError("device_share + edge_share + cloud_share must be > 0")
        check_range("access_bandwidth_bps", self.access_bandwidth_bps, positive=True)
        check_range("access_energy_per_bit_j", self.access_energy_per_bit_j)
        check_range("core_bandwidth_bps", self.core_bandwidth_bps, positive=True)
        check_range("core_energy_per_bit_j", self.core_energy_per_bit_j)
        if not math.isfinite(self.side_m) or self.side_m <= 0:
            raise UsageError(f"side_m must be > 0 and finite, got {self.side_m!r}")

    def _shares(self) -> tuple[float, float, float, float]:
        return (self.device_share, self.edge_share, self.cloud_share, self.router_share)

    def tier_counts(self, n_nodes: int) -> dict[str, int]:
        """Nodes per tier: largest remainder, at least one device if its share is > 0."""
        shares = self._shares()
        quotas = [n_nodes * share / sum(shares) for share in shares]
        counts = [math.floor(q) for q in quotas]
        by_remainder = sorted(range(4), key=lambda t: (counts[t] - quotas[t], t))
        for t in by_remainder[: n_nodes - sum(counts)]:
            counts[t] += 1
        if n_nodes > 0 and self.device_share > 0 and counts[0] == 0:
            counts[max(range(4), key=lambda t: (counts[t], -t))] -= 1
            counts[0] = 1
        return dict(zip(RANDOM_TIERS, counts, strict=True))

    def tier(self, name: str) -> TierSpec:
        """The :class:`TierSpec` of computing tier ``name``."""
        specs = {"device": self.device, "edge": self.edge, "cloud": self.cloud}
        return specs[name]


def _bridges(pos: NDArray[np.float64], pairs: _Pairs) -> _Pairs:
    """Shortest links joining every component to the first node's (Prim over components)."""
    n = len(pos)
    adjacency = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    n_components, labels = connected_components(adjacency, directed=False)
    if n_components <= 1:
        return np.empty((0, 2), dtype=np.int64)
    best = np.full(n, np.inf)
    nearest = np.zeros(n, dtype=np.int64)
    joined = labels == labels[0]

    def absorb(members: NDArray[np.bool_]) -> None:
        idx = np.flatnonzero(members)
        step = max(1, 4_000_000 // n)
        for start in range(0, len(idx), step):
            chunk = idx[start : start + step]
            dist = np.linalg.norm(pos[chunk, None, :] - pos[None, :, :], axis=2)
            closest = np.argmin(dist, axis=0)
            shortest = dist[closest, np.arange(n)]
            better = shortest < best
            best[better] = shortest[better]
            nearest[better] = chunk[closest[better]]

    absorb(joined)
    added = []
    for _ in range(n_components - 1):
        j = int(np.argmin(np.where(joined, np.inf, best)))
        added.append(sorted((int(nearest[j]), j)))
        new = labels == labels[j]
        joined |= new
        absorb(new)
    return np.array(added, dtype=np.int64)


def _finish(
    rng: np.random.Generator, pos: NDArray[np.float64], pairs: _Pairs, spec: RandomNetworkSpec
) -> Network:
    """Tiers, node attributes, bridging links and link attributes (module docstring)."""
    counts = spec.tier_counts(len(pos))
    tiers: list[str] = []
    ids: list[str] = []
    nodes: list[Node] = []
    for tier in RANDOM_TIERS:
        tier_ids = [f"{tier}{i}" for i in range(counts[tier])]
        tiers += [tier] * counts[tier]
        ids += tier_ids
        if tier == "router":
            nodes += [Node(node_id, tier, 0.0, 0.0, None) for node_id in tier_ids]
        else:
            nodes += draw_nodes(rng, tier, spec.tier(tier), tier_ids)

    pairs = np.concatenate([pairs.reshape(-1, 2), _bridges(pos, pairs.reshape(-1, 2))])
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    m = len(pairs)
    length = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
    is_device = np.array([tier == "device" for tier in tiers], dtype=bool)
    access = is_device[pairs[:, 0]] | is_device[pairs[:, 1]]
    lo, hi = spec.access_bandwidth_bps
    access_bw = hi - (hi - lo) * np.minimum(1.0, length / math.sqrt(2.0))
    bandwidth = np.where(access, access_bw, draw(rng, spec.core_bandwidth_bps, m))
    energy = np.where(
        access,
        draw(rng, spec.access_energy_per_bit_j, m),
        draw(rng, spec.core_energy_per_bit_j, m),
    )
    delay = length * spec.side_m / SIGNAL_SPEED_M_PER_S
    links = tuple(
        Link(ids[i], ids[j], float(bandwidth[k]), float(delay[k]), float(energy[k]))
        for k, (i, j) in enumerate(pairs.tolist())
    )
    return Network(nodes=tuple(nodes), links=links)


def _positions(rng: np.random.Generator, n_nodes: int) -> NDArray[np.float64]:
    return rng.random((n_nodes, 2))


def _all_pairs(pos: NDArray[np.float64]) -> tuple[_Pairs, NDArray[np.float64]]:
    """Every pair ``i < j`` (row-major) and its length in the unit square."""
    i, j = np.triu_indices(len(pos), k=1)
    pairs = np.stack([i, j], axis=1).astype(np.int64)
    return pairs, np.linalg.norm(pos[i] - pos[j], axis=1)


def random_geometric_network(
    n_nodes: int,
    *,
    radius: float | None = None,
    seed: int,
    spec: RandomNetworkSpec | None = None,
) -> Network:
    """Build a random geometric network: nodes closer than ``radius`` are linked.

    Parameters
    ----------
    n_nodes : int
        Number of nodes (>= 1).
    radius : float or None
        Link radius in units of the square's side. None uses
        ``sqrt(2 ln(n) / (pi n))``, twice the area of the connectivity threshold
        ``sqrt(ln(n) / (pi n))`` of random geometric graphs, so bridging is rarely needed.
    seed : int
        Seed of the local random generator.
    spec : RandomNetworkSpec or None
        Tier shares and attribute ranges (defaults in the module docstring).

    Returns
    -------
    Network
        A connected network (bridged as the module docstring describes).

    Examples
    --------
    >>> net = random_geometric_network(20, seed=1)
    >>> sorted(net.tiers), len(net.nodes)
    (['cloud', 'device', 'edge'], 20)
    >>> net == random_geometric_network(20, seed=1)
    True
    >>> tree = random_geometric_network(5, radius=0.0, seed=2)
    >>> len(tree.links)  # no pair within radius 0: four bridging links
    4
    """
    spec = spec if spec is not None else RandomNetworkSpec()
    n = check_count("n_nodes", n_nodes, minimum=1)
    if radius is None:
        radius = math.sqrt(2.0 * math.log(n) / (math.pi * n))
    if not math.isfinite(radius) or radius < 0:
        raise UsageError(f"radius must be >= 0 and finite, got {radius!r}")
    rng = make_rng(seed)
    pos = _positions(rng, n)
    pairs, length = _all_pairs(pos)
    return _finish(rng, pos, pairs[length <= radius], spec)


def waxman_network(
    n_nodes: int,
    *,
    alpha: float = 0.2,
    beta: float = 0.4,
    seed: int,
    spec: RandomNetworkSpec | None = None,
) -> Network:
    """Build a Waxman network: nodes ``u, v`` are linked with probability
    ``beta * exp(-d(u, v) / (alpha * L))``, L the largest distance between two nodes.

    Parameters
    ----------
    n_nodes : int
        Number of nodes (>= 1).
    alpha : float
        Distance scale (> 0): larger values give relatively more long links.
    beta : float
        Link probability at distance 0, in (0, 1]: larger values give more links.
        The expected degree grows linearly with ``n_nodes``.
    seed : int
        Seed of the local random generator.
    spec : RandomNetworkSpec or None
        Tier shares and attribute ranges (defaults in the module docstring).

    Returns
    -------
    Network
        A connected network (bridged as the module docstring describes).

    Examples
    --------
    >>> net = waxman_network(30, alpha=0.3, beta=0.5, seed=4)
    >>> len(net.nodes), len(net.links) >= 29
    (30, True)
    """
    spec = spec if spec is not None else RandomNetworkSpec()
    n = check_count("n_nodes", n_nodes, minimum=1)
    if not math.isfinite(alpha) or alpha <= 0:
        raise UsageError(f"alpha must be > 0 and finite, got {alpha!r}")
    if not 0 < beta <= 1:
        raise UsageError(f"beta must be in (0, 1], got {beta!r}")
    rng = make_rng(seed)
    pos = _positions(rng, n)
    pairs, length = _all_pairs(pos)
    longest = float(length.max()) if len(length) else 1.0
    probability = beta * np.exp(-length / (alpha * max(longest, 1e-12)))
    return _finish(rng, pos, pairs[rng.random(len(pairs)) < probability], spec)


def _random_tree(rng: np.random.Generator, n: int) -> _Pairs:
    """A random recursive tree over a random node order (connected by construction)."""
    order = rng.permutation(n)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    parent = order[rng.integers(0, np.arange(1, n))]
    child = order[1:]
    return np.sort(np.stack([parent, child], axis=1), axis=1).astype(np.int64)


def _extra_pairs(rng: np.random.Generator, n: int, existing: _Pairs, need: int) -> _Pairs:
    """``need`` pairs drawn uniformly among those not in ``existing``."""
    keys = existing[:, 0] * n + existing[:, 1]
    total = n * (n - 1) // 2
    if need <= 0:
        return np.empty((0, 2), dtype=np.int64)
    if 2 * (need + len(keys)) > total:
        # Dense: enumerate the free pairs and sample without replacement.
        i, j = np.triu_indices(n, k=1)
        free = (i * n + j)[~np.isin(i * n + j, keys)]
        chosen = rng.choice(free, size=need, replace=False)
    else:
        # Sparse: rejection sampling keeps memory linear in the number of links.
        picked: list[NDArray[np.int64]] = []
        taken = keys
        while need > 0:
            draws = rng.integers(0, n, size=(2 * need + 16, 2))
            draws = draws[draws[:, 0] != draws[:, 1]]
            cand = draws.min(axis=1) * n + draws.max(axis=1)
            _, first = np.unique(cand, return_index=True)
            cand = cand[np.sort(first)]
            cand = cand[~np.isin(cand, taken)][:need]
            picked.append(cand)
            taken = np.concatenate([taken, cand])
            need -= len(cand)
        chosen = np.concatenate(picked)
    return np.stack([chosen // n, chosen % n], axis=1).astype(np.int64)


def random_network(
    n_nodes: int,
    density: float,
    seed: int,
    *,
    spec: RandomNetworkSpec | None = None,
) -> Network:
    """Build a uniform random connected network with a given arc density.

    ``density`` is the arc density ``|A| / (|N| (|N| - 1))``: the share of ordered
    node pairs joined by an arc. Links are undirected (two arcs each), so the network
    gets ``round(density * n (n - 1) / 2)`` links, at least ``n - 1`` (a tree: any
    density below ``2 / n`` gives one) and the average out-degree is about
    ``density * (n - 1)``. The network starts from a random recursive tree (each
    node, in a random order, links to a uniformly chosen earlier one), so it is
    connected by construction, then adds links uniformly among the free pairs.
    Positions in the square only set lengths (delays, access bandwidths).

    Parameters
    ----------
    n_nodes : int
        Number of nodes (>= 1).
    density : float
        Target arc density in [0, 1].
    seed : int
        Seed of the local random generator.
    spec : RandomNetworkSpec or None
        Tier shares and attribute ranges (defaults in the module docstring).

    Returns
    -------
    Network
        Exactly ``max(n - 1, round(density * n (n - 1) / 2))`` links.

    Examples
    --------
    >>> net = random_network(10, 0.5, seed=0)
    >>> len(net.nodes), len(net.links), len(net.arcs)
    (10, 22, 44)
    >>> len(random_network(10, 0.0, seed=0).links)  # a spanning tree
    9
    >>> len(random_network(10, 1.0, seed=0).links)  # complete
    45
    """
    spec = spec if spec is not None else RandomNetworkSpec()
    n = check_count("n_nodes", n_nodes, minimum=1)
    if not 0 <= density <= 1:
        raise UsageError(f"density (arc density) must be in [0, 1], got {density!r}")
    rng = make_rng(seed)
    pos = _positions(rng, n)
    tree = _random_tree(rng, n)
    target = max(n - 1, round(density * n * (n - 1) / 2))
    extra = _extra_pairs(rng, n, tree, target - len(tree))
    return _finish(rng, pos, np.concatenate([tree, extra]), spec)
