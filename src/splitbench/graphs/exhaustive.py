"""The exhaustive oracle: every exit, every node assignment, every simple route.

For each admissible exit and each assignment of the deployed blocks to their
candidate nodes, every hand-over may take any simple route between its end nodes.
Routes enter the cost only through their (time, energy) pair, so a route dominated
in both by another route between the same nodes for the same tensor is never
needed: per hand-over only the Pareto-minimal routes are combined. Every candidate
combination is then scored by :func:`splitbench.evaluate.evaluate` itself, so the
oracle shares no cost code with the methods it checks. It is exact for both
objectives, both exit policies, with or without a deadline, memory, tier order and
allowed nodes.

Above ``max_candidates`` evaluated candidates (or ``max_routes`` simple routes
between one pair of nodes) it declines with status ``skipped`` and says why,
rather than return an answer it cannot prove.

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.methods import RunOptions
>>> result = run_exhaustive(example_instance(), RunOptions(params={"max_candidates": 10,
...                                                                 "max_routes": 10}))
>>> result.status.value, result.reason
('skipped', 'more than 10 candidates (exit after block 5 alone has 81 node assignments)')
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

from splitbench.evaluate import Placement, evaluate
from splitbench.instance.model import ExitPolicy, Instance
from splitbench.methods import RunOptions
from splitbench.routes import route_cost, simple_routes
from splitbench.solution import MethodResult, Status

__all__ = ["pareto_routes", "run_exhaustive"]


class _DeclinedError(Exception):
    """The instance is beyond the oracle's limits."""


def pareto_routes(
    instance: Instance, source: str, target: str, n_bytes: float, max_routes: int
) -> tuple[tuple[str, ...], ...]:
    """The simple routes from ``source`` to ``target`` that no other simple route
    beats in both time and energy for ``n_bytes`` (one per distinct cost pair).

    Raises ``_DeclinedError`` when there are more than ``max_routes`` simple routes.
    """
    routes = list(simple_routes(instance.network, source, target, limit=max_routes + 1))
    if len(routes) > max_routes:
        raise _DeclinedError(f"more than {max_routes} simple routes from {source} to {target}")
    costs = [route_cost(instance.network, r, n_bytes)[:2] for r in routes]
    keep: list[tuple[str, ...]] = []
    seen: set[tuple[float, float]] = set()
    for route, cost in zip(routes, costs, strict=True):
        dominated = any(
            other[0] <= cost[0] and other[1] <= cost[1] and other != cost for other in costs
        )
        if not dominated and cost not in seen:
            seen.add(cost)
            keep.append(route)
    return tuple(keep)


class _RouteTable:
    """Pareto route sets, computed once per (source, target, bytes)."""

    def __init__(self, instance: Instance, max_routes: int) -> None:
        self.instance = instance
        self.max_routes = max_routes
        self.cache: dict[tuple[str, str, float], tuple[tuple[str, ...], ...]] = {}

    def get(self, source: str, target: str, n_bytes: float) -> tuple[tuple[str, ...], ...]:
        key = (source, target, n_bytes)
        if key not in self.cache:
            self.cache[key] = pareto_routes(self.instance, source, target, n_bytes, self.max_routes)
        return self.cache[key]


def _exit_blocks(instance: Instance) -> list[int]:
    if instance.request.exit_policy is ExitPolicy.EXPECTED:
        return [instance.dnn.n_blocks]
    return [ex.after_block for ex in instance.admissible_exits()]


def _candidates(
    instance: Instance, table: _RouteTable, exit_block: int, nodes: Sequence[str]
) -> Iterator[Placement]:
    dnn = instance.dnn
    req = instance.request
    ends = [req.source, *nodes]
    options: list[Sequence[tuple[str, ...] | None]] = [
        table.get(ends[k], ends[k + 1], dnn.handover_bytes(k)) for k in range(exit_block)
    ]
    if req.destination is None:
        options.append((None,))
    else:
        options.append(table.get(nodes[-1], req.destination, dnn.exit_at(exit_block).output_bytes))
    for routes in itertools.product(*options):
        yield Placement(blocks=tuple(nodes), exit=exit_block, routes=tuple(routes))


def run_exhaustive(instance: Instance, options: RunOptions) -> MethodResult:
    """Find a proven optimum by enumeration (method ``exhaustive``).

    Parameters
    ----------
    instance : Instance
        The instance.
    options : RunOptions
        ``params["max_candidates"]`` and ``params["max_routes"]`` bound the work.

    Returns
    -------
    MethodResult
        ``optimal`` with the best feasible placement, ``infeasible`` when no
        candidate is feasible, or ``skipped`` with the reason when the instance is
        beyond the limits.
    """
    max_candidates = int(options.params.get("max_candidates", 200_000))
    max_routes = int(options.params.get("max_routes", 5_000))
    exits = _exit_blocks(instance)
    for exit_block in exits:
        count = math.prod(len(instance.candidate_nodes(l)) for l in range(1, exit_block + 1))
        if count > max_candidates:
            return MethodResult(
                status=Status.SKIPPED,
                reason=f"more than {max_candidates} candidates (exit after block "
                f"{exit_block} alone has {count} node assignments)",
            )
    table = _RouteTable(instance, max_routes)
    best: Placement | None = None
    best_value = math.inf
    evaluated = 0
    try:
        for exit_block in exits:
            per_block = [instance.candidate_nodes(l) for l in range(1, exit_block + 1)]
            for nodes in itertools.product(*per_block):
                for placement in _candidates(instance, table, exit_block, nodes):
                    evaluated += 1
                    if evaluated > max_candidates:
                        raise _DeclinedError(f"more than {max_candidates} candidates")
                    result = evaluate(instance, placement)
                    if result.feasible and result.objective < best_value:
                        best, best_value = placement, result.objective
    except _DeclinedError as declined:
        return MethodResult(status=Status.SKIPPED, reason=str(declined))
    info = {"candidates": evaluated}
    if best is None:
        return MethodResult(status=Status.INFEASIBLE, bound=math.inf, info=info)
    return MethodResult(
        status=Status.OPTIMAL,
        placement=best,
        claimed_objective=best_value,
        bound=best_value,
        info=info,
    )
