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
>>> from splitbench.answer import RunOptions
>>> result = run_exhaustive(example_instance(), RunOptions(params={"max_candidates": 10,
...                                                                 "max_routes": 10}))
>>> result.termination.value, result.reason
('skipped', 'more than 10 candidates (exit after block 5: more node assignments than that)')
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

from splitbench.answer import MethodResult, RunOptions, Status, Termination
from splitbench.evaluate import evaluate
from splitbench.instance.model import ExitPolicy, Instance
from splitbench.params import Param, parse_params
from splitbench.placement import Placement
from splitbench.routes import route_cost, simple_routes

__all__ = ["PARAMS", "pareto_routes", "run_exhaustive"]

PARAMS = {
    "max_candidates": Param(int, 200_000, "decline above this many evaluated candidates"),
    "max_routes": Param(int, 5_000, "decline when a node pair has more simple routes than this"),
}
"""The parameters of method ``exhaustive``."""


class _OutOfTimeError(Exception):
    """The time limit passed during the enumeration."""


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
    params = parse_params("method 'exhaustive'", PARAMS, options.params)
    max_candidates, max_routes = params["max_candidates"], params["max_routes"]
    exits = _exit_blocks(instance)
    for exit_block in exits:
        count = 1
        for block in range(1, exit_block + 1):
            count *= len(instance.candidate_nodes(block))
            if count > max_candidates:
                return MethodResult.skipped(
                    f"more than {max_candidates} candidates (exit after block {exit_block}: "
                    f"more node assignments than that)"
                )
    clock = options.clock
    table = _RouteTable(instance, max_routes)
    clock.mark_built()
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
                    if evaluated % 1024 == 0 and clock.expired():
                        raise _OutOfTimeError
                    result = evaluate(instance, placement)
                    if result.feasible and result.objective < best_value:
                        best, best_value = placement, result.objective
    except _DeclinedError as declined:
        return MethodResult.skipped(str(declined))
    except _OutOfTimeError:
        return MethodResult(
            Status.FEASIBLE if best is not None else Status.NONE,
            Termination.TIME_LIMIT,
            placement=best,
            claimed_objective=best_value if best is not None else None,
            reason=f"time limit reached after {evaluated} candidates",
            info={"candidates": evaluated},
        )
    info = {"candidates": evaluated}
    if best is None:
        return MethodResult(Status.INFEASIBLE, bound=math.inf, info=info)
    return MethodResult(
        Status.OPTIMAL,
        placement=best,
        claimed_objective=best_value,
        bound=best_value,
        info=info,
    )
