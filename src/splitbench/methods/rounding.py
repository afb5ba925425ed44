"""Method ``lp-rounding``: the coupled routing LP, rounded to paths and repaired.

Algorithm (format 2, MULTI.md), three steps:

1. *Relax.* The LP relaxation of the coupled routing model
   (:func:`~splitbench.formulations.routing_multi.build_routing_multi` with
   ``relax=True``: one flow per request, or per class of interchangeable requests
   without a deadline, coupled by the compute, link and memory rows) on
   ``options.solver`` (default ``highs``) in the time left.
2. *Round.* Each commodity's fractional flow is decomposed into source-to-sink paths
   of its layered graph (:func:`flow_paths`: repeatedly the *widest* path of the
   remaining flow, the one whose smallest arc flow is largest, less that flow; what is
   left at the end are cycles, dropped). A one-request commodity takes its heaviest
   path. A commodity of k units hands out k paths (:func:`apportion`): every path
   carrying w units gets floor(w) requests, and the remaining ones go to the largest
   remainders w - floor(w), so a path may be repeated; the heaviest go to the first
   requests in file order. A request's *share* is the flow its path carries per
   request given it, at most 1 (1: its LP flow is integral on that path).
3. *Repair.* :func:`~splitbench.methods.residual.place_in_order` places the requests
   by decreasing share (the most integral first, ties in demand order:
   :func:`~splitbench.methods.residual.demand_order`), keeping each rounded path that
   still fits what the earlier ones left (its own deadline, accuracy and memory
   included) and re-placing the others at the least cost on the residual network
   (exact label setting).

Guarantee: every answer meets every limit (the repair commits only placements that
fit); status ``feasible`` with ``bound`` the LP optimum, a certified lower bound on
the instance's optimum (the coupled model is exact), recorded as ``facts.lp_bound``
with ``facts.lp_integral``. When the answer meets the bound (an integral LP optimum
makes every rounded path fit) it is proven optimal and the method says ``optimal``,
as LARAC does (within :data:`~splitbench.tolerances.OPTIMALITY_RTOL`). ``none``
with the LP bound when the repair fails (a request fits nowhere), ``infeasible``
when the LP relaxation is (then the instance is infeasible: the relaxation contains
every solution).
Requests under the expected exit policy are declined (the coupled model takes the
select policy only).

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.answer import RunOptions
>>> from splitbench.instance import MultiInstance, example_instance
>>> one = MultiInstance.from_single(example_instance(), rate_per_s=150.0)
>>> two = replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))
>>> result = run_lp_rounding_multi(two, RunOptions())
>>> result.status.value, result.facts.formulation, result.facts.lp_integral
('feasible', 'routing-multi', False)
>>> # the LP bound and the answer (W); the optimum is 26.33 (routing-milp)
>>> round(result.bound, 2), round(result.claimed_objective, 2)
(24.38, 26.97)
>>> result.info["kept"], round(result.info["shares"]["r2"], 2)  # r2's LP flow is split
(['r1', 'r2'], 0.66)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from splitbench.answer import MethodResult, RunOptions, Status, Termination
from splitbench.errors import UsageError
from splitbench.formulations.routing_multi import MultiFormulation, build_routing_multi
from splitbench.graphs.label_setting import PARAMS as LABEL_PARAMS
from splitbench.graphs.layered import LayeredGraph
from splitbench.instance.model import Instance
from splitbench.instance.multi import MultiInstance
from splitbench.methods.milp import DEFAULT_SOLVER, _facts, _integral, _out_of_time
from splitbench.methods.residual import demand_order, place_in_order
from splitbench.methods.sequential import (
    as_multi,
    claimed_objective,
    expected_policy_reason,
    single_result,
    stop_at,
)
from splitbench.params import parse_params
from splitbench.placement import Placement
from splitbench.solvers import solve_milp
from splitbench.tolerances import OPTIMALITY_RTOL

__all__ = [
    "FLOW_TOL",
    "PARAMS",
    "apportion",
    "flow_paths",
    "round_flows",
    "run_lp_rounding",
    "run_lp_rounding_multi",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FLOW_TOL = 1e-9
"""Flow at or below this on an arc counts as none (solver noise)."""

PARAMS = {"max_labels": LABEL_PARAMS["max_labels"]}
"""The parameters of method ``lp-rounding`` (besides the solver's): the repair's label limit."""


def _widest_path(
    graph: LayeredGraph, flow: FloatArray, leaving: dict[int, list[int]]
) -> tuple[list[int], float] | None:
    """The source-to-sink path whose smallest arc flow is largest (Dijkstra on the
    bottleneck), with that flow; None when the flow no longer reaches the sink."""
    width = {graph.source: math.inf}
    through: dict[int, int] = {}
    done: set[int] = set()
    heap: list[tuple[float, int]] = [(-math.inf, graph.source)]
    while heap:
        negative, vertex = heapq.heappop(heap)
        if vertex in done:
            continue
        done.add(vertex)
        if vertex == graph.sink:
            break
        for arc in leaving.get(vertex, ()):
            if flow[arc] <= FLOW_TOL:
                continue
            head = int(graph.head[arc])
            w = min(-negative, float(flow[arc]))
            if head not in done and w > width.get(head, 0.0):
                width[head], through[head] = w, arc
                heapq.heappush(heap, (-w, head))
    if graph.sink not in done:
        return None
    walk: list[int] = []
    vertex = graph.sink
    while vertex != graph.source:
        arc = through[vertex]
        walk.append(arc)
        vertex = int(graph.tail[arc])
    return walk[::-1], width[graph.sink]


def flow_paths(graph: LayeredGraph, values: npt.ArrayLike) -> list[tuple[IntArray, float]]:
    """Decompose a (fractional) source-to-sink flow on ``graph`` into paths, heaviest
    first: repeatedly the widest path of the remaining flow, less its bottleneck.

    Every step empties at least one arc, so there are at most as many paths as arcs
    carrying flow; flow left in cycles is dropped.

    Parameters
    ----------
    graph : LayeredGraph
        The layered graph.
    values : array_like
        The flow on every arc, in arc order.

    Returns
    -------
    list of (ndarray of int, float)
        Each path's arcs (source to sink) and the flow it carries, by decreasing flow.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from splitbench.graphs.label_setting import best_path
    >>> from splitbench.graphs.layered import build_layered_graph
    >>> from splitbench.instance import example_instance
    >>> g = build_layered_graph(example_instance())
    >>> cheapest = best_path(g).path.arcs  # md, md, md, cs, cs
    >>> no_cs = best_path(replace(g, cost=np.where(g.memory_node == 2, np.inf, g.cost))).path.arcs
    >>> flow = np.zeros(g.n_arcs)
    >>> flow[cheapest] += 0.75
    >>> flow[no_cs] += 0.25  # md, md, md, es, es: blocks 1-3 shared
    >>> [(g.placement_from_arcs(p).blocks[3:], w) for p, w in flow_paths(g, flow)]
    [(('cs', 'cs'), 0.75), (('es', 'es'), 0.25)]
    """
    flow = np.clip(np.asarray(values, dtype=float), 0.0, None).copy()
    leaving: dict[int, list[int]] = {}
    for arc in np.flatnonzero(flow > FLOW_TOL):
        leaving.setdefault(int(graph.tail[arc]), []).append(int(arc))
    out: list[tuple[IntArray, float]] = []
    for _ in range(sum(len(a) for a in leaving.values())):
        found = _widest_path(graph, flow, leaving)
        if found is None:
            break
        walk, width = found
        flow[walk] -= width
        out.append((np.array(walk, dtype=np.int64), width))
    out.sort(key=lambda piece: -piece[1])
    return out


def apportion(weights: Sequence[float], units: int) -> list[int]:
    """How many of ``units`` requests each path gets, its flow being ``weights``
    (decreasing): floor(w) each, the rest by the largest remainders, the heaviest path
    again once every path has one more.

    Examples
    --------
    >>> apportion([1.6, 0.9, 0.5], 3)  # floors 1, 0, 0; remainders 0.6, 0.9, 0.5
    [2, 1, 0]
    >>> apportion([2.0, 0.5, 0.5], 3), apportion([0.3], 2), apportion([], 2)
    ([2, 1, 0], [2], [])
    """
    if not weights:
        return []
    counts = [math.floor(w + 1e-7) for w in weights]
    for i in reversed(range(len(counts))):  # solver noise above the units: trim the lightest
        while sum(counts) > units and counts[i] > 0:
            counts[i] -= 1
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(weights[i] - counts[i]), i))
    left = units - sum(counts)
    for i in by_remainder[:left]:
        counts[i] += 1
    counts[0] += max(0, left - len(weights))
    return counts


def round_flows(
    form: MultiFormulation, values: npt.ArrayLike
) -> tuple[dict[str, Placement], dict[str, float]]:
    """Each request's rounded path of the LP solution ``values`` (see the module
    docstring), as a placement, and its share of the LP flow (1: integral)."""
    rounded: dict[str, Placement] = {}
    shares: dict[str, float] = {}
    x = np.asarray(values, dtype=float)
    for commodity in form.commodities:
        pieces = flow_paths(commodity.graph, x[commodity.block.slice])
        counts = apportion([w for _, w in pieces], commodity.units)
        given = [
            (arcs, w / n) for (arcs, w), n in zip(pieces, counts, strict=True) for _ in range(n)
        ]
        for rid, (arcs, share) in zip(commodity.request_ids, given, strict=False):
            rounded[rid] = commodity.graph.placement_from_arcs(arcs)
            shares[rid] = min(1.0, share)
    return rounded, shares


def run_lp_rounding_multi(instance: MultiInstance, options: RunOptions) -> MethodResult:
    """Method ``lp-rounding`` on a format-2 instance (see the module docstring).

    Parameters
    ----------
    instance : MultiInstance
        The requests and their shared network (select exit policy).
    options : RunOptions
        ``options.solver`` (default ``highs``) solves the LP; :data:`PARAMS`:
        ``max_labels`` of the repair's label searches; the clock's time limit.

    Returns
    -------
    MethodResult
        ``feasible`` with the LP bound; ``none`` with the bound when the repair
        fails; ``infeasible`` when the LP is; ``none`` (``time_limit``) when the
        time runs out; ``skipped`` under the expected policy. ``info["order"]``:
        the repair order; ``info["kept"]``: the requests whose rounded path fitted;
        ``info["shares"]``: each request's share of its LP flow.
    """
    params = parse_params("method 'lp-rounding'", PARAMS, options.params)
    declined = expected_policy_reason(instance)
    if declined is not None:
        return MethodResult.skipped(declined)
    try:
        form = build_routing_multi(instance, relax=True)
    except UsageError as err:
        return MethodResult.skipped(str(err))
    clock = options.clock
    clock.mark_built()
    remaining = clock.remaining_s()
    if remaining is not None and remaining <= 0.0:
        return _out_of_time(form)
    settings = replace(options.settings, time_limit_s=remaining)
    lp = solve_milp(form.milp, options.solver or DEFAULT_SOLVER, settings)
    clock.add_build_time(lp.translate_time_s or 0.0)
    info: dict[str, Any] = {"solver_message": lp.message}

    def answer(status: Status, termination: Termination, **fields: Any) -> MethodResult:
        return MethodResult(
            status, termination, solver_time_s=lp.solver_time_s, info=info, **fields
        )

    if lp.status is Status.INFEASIBLE:
        return answer(
            Status.INFEASIBLE,
            lp.termination,
            reason=form.note or f"the LP relaxation is infeasible ({lp.message})",
            facts=_facts(form, lp),
        )
    if lp.status is not Status.OPTIMAL or lp.values is None or lp.objective is None:
        return answer(
            Status.NONE,
            lp.termination,
            reason=f"the LP relaxation was not solved: {lp.message}",
            facts=_facts(form, lp),
        )
    bound = lp.objective
    facts = _facts(form, lp, lp_bound=bound, lp_integral=_integral(lp.values))
    rounded, shares = round_flows(form, lp.values)
    position = {rid: i for i, rid in enumerate(demand_order(instance))}
    order = sorted(instance.request_ids, key=lambda rid: (-shares.get(rid, 0.0), position[rid]))
    placed = place_in_order(
        instance, order, rounded, max_labels=params["max_labels"], stop_at=stop_at(clock)
    )
    info.update(order=order, kept=list(placed.kept), shares=shares)
    if placed.placement is None:
        termination = Termination.COMPLETED
        if clock.expired():
            termination = Termination.TIME_LIMIT
        elif placed.stopped:
            termination = Termination.OTHER_LIMIT
        return answer(
            Status.NONE,
            termination,
            bound=bound,
            reason=f"the repair failed: {placed.reason}",
            facts=facts,
        )
    objective = claimed_objective(instance, placed.placement)
    # the LP bound proves the rounded answer optimal when they meet (as LARAC's does)
    proven = (objective - bound) / max(abs(objective), 1e-9) <= OPTIMALITY_RTOL
    return answer(
        Status.OPTIMAL if proven else Status.FEASIBLE,
        Termination.COMPLETED,
        placement=placed.placement,
        claimed_objective=objective,
        bound=bound,
        facts=facts,
    )


def run_lp_rounding(instance: Instance, options: RunOptions) -> MethodResult:
    """Method ``lp-rounding`` on a format-1 instance: its one request as format 2
    (:func:`~splitbench.methods.sequential.as_multi`); the bound is the single routing
    LP's optimum.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> result = run_lp_rounding(example_instance(), RunOptions())
    >>> result.status.value, result.placement.blocks, round(result.bound, 4)
    ('feasible', ('md', 'md', 'md', 'cs', 'cs'), 0.0612)
    """
    multi = as_multi(instance)
    return single_result(instance, multi, run_lp_rounding_multi(multi, options))
