"""Routes over a network: their cost, the cheapest one, and every simple one.

A route is a tuple of node ids; a route that stays on one node is ``(node,)`` and
costs nothing. Costs follow MODEL.md section 2: moving ``s`` bytes over arc (u, v)
takes ``8 s / B_uv + p_uv`` seconds and ``8 s e_uv`` joules.

Examples
--------
>>> from splitbench.instance import example_instance, Objective
>>> net = example_instance().network
>>> route_cost(net, ("md", "es", "cs"), 1000.0)
RouteCost(time_s=1.6e-08, energy_j=0.0009328, missing_arc=None)
>>> cheapest_route(net, "md", "cs", 1000.0, Objective.ENERGY)
('md', 'cs')
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from splitbench.instance.model import Arc, Network, Objective

__all__ = [
    "RouteCost",
    "RouteTree",
    "arc_weight",
    "cheapest_route",
    "route_cost",
    "route_tree",
    "simple_routes",
]


class RouteCost(NamedTuple):
    """Time and energy of a route; ``missing_arc`` names the first hop that is no arc
    (then both costs are infinite)."""

    time_s: float
    energy_j: float
    missing_arc: tuple[str, str] | None


def route_cost(network: Network, route: Sequence[str], n_bytes: float) -> RouteCost:
    """Time and energy of moving ``n_bytes`` along ``route``."""
    time_s = 0.0
    energy_j = 0.0
    arcs = network.arc_map
    for u, v in itertools.pairwise(route):
        arc = arcs.get((u, v))
        if arc is None:
            return RouteCost(math.inf, math.inf, (u, v))
        time_s += arc.time_s(n_bytes)
        energy_j += arc.energy_j(n_bytes)
    return RouteCost(time_s, energy_j, None)


def arc_weight(arc: Arc, n_bytes: float, objective: Objective) -> float:
    """The cost of moving ``n_bytes`` over ``arc`` in the units of ``objective``."""
    if objective is Objective.LATENCY:
        return arc.time_s(n_bytes)
    return arc.energy_j(n_bytes)


def cheapest_route(
    network: Network, source: str, target: str, n_bytes: float, objective: Objective
) -> tuple[str, ...] | None:
    """The route from ``source`` to ``target`` minimising ``objective`` for ``n_bytes``
    (Dijkstra; ties broken by fewer hops, then by node order). None when unreachable."""
    order = network.node_index
    best: dict[str, tuple[float, int]] = {source: (0.0, 0)}
    parent: dict[str, str] = {}
    heap: list[tuple[float, int, int, str]] = [(0.0, 0, order[source], source)]
    done: set[str] = set()
    while heap:
        cost, hops, _, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        if node == target:
            break
        for arc in network.successors[node]:
            candidate = (cost + arc_weight(arc, n_bytes, objective), hops + 1)
            if arc.target not in done and candidate < best.get(arc.target, (math.inf, 0)):
                best[arc.target] = candidate
                parent[arc.target] = node
                heapq.heappush(heap, (*candidate, order[arc.target], arc.target))
    if target not in done:
        return None
    path = [target]
    while path[-1] != source:
        path.append(parent[path[-1]])
    return tuple(reversed(path))


def simple_routes(
    network: Network, source: str, target: str, limit: int | None = None
) -> Iterator[tuple[str, ...]]:
    """Every simple route from ``source`` to ``target`` (``(source,)`` when they are equal).

    Stops after ``limit`` routes when given. Depth-first, in node order, so the
    enumeration is deterministic.
    """
    if source == target:
        yield (source,)
        return
    count = 0
    path = [source]
    on_path = {source}
    stack: list[Iterator[Arc]] = [iter(network.successors[source])]
    while stack:
        arc = next(stack[-1], None)
        if arc is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        if arc.target in on_path:
            continue
        if arc.target == target:
            yield (*path, target)
            count += 1
            if limit is not None and count >= limit:
                return
            continue
        path.append(arc.target)
        on_path.add(arc.target)
        stack.append(iter(network.successors[arc.target]))


@dataclass(frozen=True)
class RouteTree:
    """The cheapest routes from one node to every node, for one tensor size.

    Attributes
    ----------
    network : Network
        The network.
    source : str
        Where the routes start.
    cost : ndarray
        The cheapest cost to each node, in node order (``inf``: unreachable).
    parent : ndarray
        The node before each node on its cheapest route (-1 at the source and for
        unreachable nodes).
    """

    network: Network
    source: str
    cost: npt.NDArray[np.float64]
    parent: npt.NDArray[np.int32]

    def cost_to(self, target: str) -> float:
        """The cheapest cost to ``target``."""
        return float(self.cost[self.network.node_index[target]])

    def route_to(self, target: str) -> tuple[str, ...] | None:
        """The cheapest route to ``target`` (None when unreachable)."""
        nodes = self.network.nodes
        at = self.network.node_index[target]
        if not math.isfinite(self.cost[at]):
            return None
        path = [at]
        while nodes[path[-1]].id != self.source:
            path.append(int(self.parent[path[-1]]))
        return tuple(nodes[i].id for i in reversed(path))


def route_tree(network: Network, source: str, n_bytes: float, objective: Objective) -> RouteTree:
    """The cheapest routes from ``source`` to every node for ``n_bytes`` (one compiled
    Dijkstra over the network, for large networks where one search per target is slow).

    Ties may be broken otherwise than by :func:`cheapest_route`; the costs are equal.

    Examples
    --------
    >>> from splitbench.instance import example_instance, Objective
    >>> tree = route_tree(example_instance().network, "md", 1000.0, Objective.ENERGY)
    >>> tree.route_to("cs"), round(tree.cost_to("cs") * 1e6, 1)
    (('md', 'cs'), 340.8)
    """
    arrays = network.arc_arrays
    n = len(network.nodes)
    if objective is Objective.LATENCY:
        weights = 8.0 * n_bytes / arrays.bandwidth_bps + arrays.delay_s
    else:
        weights = 8.0 * n_bytes * arrays.energy_per_bit_j
    # explicit zeros stay arcs in csgraph's sparse input (links are never parallel)
    matrix = sp.csr_matrix((weights, (arrays.tails, arrays.heads)), shape=(n, n))
    index = network.node_index
    cost, parent = dijkstra(matrix, directed=True, indices=index[source], return_predecessors=True)
    return RouteTree(network, source, np.asarray(cost, dtype=np.float64), parent.astype(np.int32))
