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
from typing import NamedTuple

from splitbench.instance.model import Arc, Network, Objective

__all__ = ["RouteCost", "arc_weight", "cheapest_route", "route_cost", "simple_routes"]


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
