"""Method ``label-setting``: exact Pareto labels over the layered graph.

A *label* at a vertex v of the layered graph (:mod:`splitbench.graphs.layered`) is
one partial path from the source: its cost (the objective so far), its time (the
latency the deadline binds, so far) and, for every node whose memory could bind
(:meth:`~splitbench.graphs.layered.LayeredGraph.memory_limits`), the memory its
blocks use there. Label A *dominates* label B at the same vertex when A is no worse
in every component: every completion of B is then also a completion of A, no
cheaper, no slower and using no more memory, so B can be dropped. This is the
classic multi-criteria label-setting algorithm (Martins 1984) for the resource
constrained shortest path (energy with a deadline is one; it is weakly NP-hard,
MODEL.md section 4), here in A* order:

- h_c(v), h_t(v): the least cost and the least time from v to the sink (two
  reverse Dijkstra runs); labels are settled in increasing f = cost + h_c(v),
  which is consistent, so the first label settled at the sink is optimal, and a
  label settled at v is dominated exactly when an earlier settled label at v is
  no slower and uses no more memory (earlier labels are never costlier);
- a label is never created when time + h_t(v) exceeds the deadline, when a memory
  budget is exceeded, or when f reaches an incumbent's cost (the fastest path, if it
  fits in memory);
- without a deadline, time is not a criterion and the search is A* Dijkstra; when
  the cheapest path (lexicographically fastest among the cheapest) meets every
  limit, it is returned at once.

Exact for both objectives and exit policies, with deadline, memory, tier order and
allowed nodes. The number of labels can grow exponentially with the number of
blocks in the worst case; above ``max_labels`` created labels the method stops
(termination ``other_limit``) and reports the least f settled so far as ``info["lower_bound"]``;
past the time limit it stops with ``time_limit``.

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.methods import solve
>>> sol = solve(example_instance(), "label-setting")
>>> sol.status.value, sol.placement.blocks, round(sol.objective, 4)
('optimal', ('md', 'md', 'md', 'cs', 'cs'), 0.0856)
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from splitbench.answer import MethodResult, RunOptions, Status, Termination
from splitbench.graphs._paths import (
    Path,
    PathSearch,
    Resource,
    deadline_met,
    graph_facts,
    memory_resources,
    resource_violations,
)
from splitbench.graphs.layered import LayeredGraph, build_layered_graph
from splitbench.instance.model import Instance
from splitbench.params import Param, parse_params
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = ["PARAMS", "BestPath", "best_path", "run_label_setting"]

IntArray = npt.NDArray[np.int64]

PARAMS = {"max_labels": Param(int, 2_000_000, "stop above this many labels")}
"""The parameters of method ``label-setting``."""


class _LabelLimitError(Exception):
    """The search created more labels than allowed, or ran out of time."""

    def __init__(self, lower_bound: float, timed_out: bool) -> None:
        super().__init__(lower_bound)
        self.lower_bound = lower_bound
        self.timed_out = timed_out


def _arc_slots(
    graph: LayeredGraph, resources: Sequence[Resource], order: IntArray
) -> list[tuple[tuple[int, float], ...]]:
    """For every arc in CSR order: the (budget slot, amount) pairs it uses."""
    per_arc: list[list[tuple[int, float]]] = [[] for _ in range(graph.n_arcs)]
    for slot, res in enumerate(resources):
        for arc, amount in zip(res.arcs.tolist(), res.amounts.tolist(), strict=True):
            if amount > 0:
                per_arc[arc].append((slot, amount))
    return [tuple(per_arc[a]) for a in order.tolist()]


def _search(
    search: PathSearch,
    resources: Sequence[Resource],
    h_cost: list[float],
    h_time: list[float],
    incumbent: float,
    max_labels: int,
    stop_at: float,
    info: dict[str, Any],
) -> list[int] | None:
    """A* label setting; the arcs of the optimal path (None: nothing beats
    ``incumbent``, or no feasible path when it is infinite)."""
    graph = search.graph
    deadline = graph.instance.request.deadline_s
    limit = math.inf if deadline is None else deadline * (1 + FEASIBILITY_RTOL)
    capacity = [res.capacity * (1 + FEASIBILITY_RTOL) for res in resources]
    order = search.order
    start = search.indptr.tolist()
    heads = graph.head[order].tolist()
    costs = graph.cost[order].tolist()
    times = (graph.time_s[order] if deadline is not None else np.zeros(order.size)).tolist()
    slots = _arc_slots(graph, resources, order)
    arc_ids = order.tolist()
    sink = graph.sink

    lab_cost = [0.0]
    lab_time = [0.0]
    lab_vertex = [graph.source]
    lab_arc = [-1]
    lab_parent = [-1]
    lab_mem: list[tuple[float, ...]] = [(0.0,) * len(resources)]
    settled_time = [math.inf] * graph.n_vertices
    settled: list[list[tuple[float, tuple[float, ...]]]] = [[] for _ in range(graph.n_vertices)]
    use_memory = bool(resources)

    def dominated(v: int, t: float, mem: tuple[float, ...]) -> bool:
        if not use_memory:
            return t >= settled_time[v]
        return any(
            pt <= t and all(a <= b for a, b in zip(pm, mem, strict=True)) for pt, pm in settled[v]
        )

    heap: list[tuple[float, float, int]] = [(h_cost[graph.source], 0.0, 0)]
    n_settled = 0
    found = -1
    f = 0.0
    while heap:
        f, t, lab = heapq.heappop(heap)
        v = lab_vertex[lab]
        mem = lab_mem[lab]
        if dominated(v, t, mem):
            continue
        n_settled += 1
        if use_memory:
            settled[v].append((t, mem))
        settled_time[v] = min(settled_time[v], t)
        if v == sink:
            found = lab
            break
        c = lab_cost[lab]
        for i in range(start[v], start[v + 1]):
            w = heads[i]
            nt = t + times[i]
            if nt + h_time[w] > limit:
                continue
            nc = c + costs[i]
            nf = nc + h_cost[w]
            if nf >= incumbent:
                continue
            new_mem = mem
            if slots[i]:
                listed = list(mem)
                over = False
                for slot, amount in slots[i]:
                    listed[slot] += amount
                    over = over or listed[slot] > capacity[slot]
                if over:
                    continue
                new_mem = tuple(listed)
            if dominated(w, nt, new_mem):
                continue
            lab_cost.append(nc)
            lab_time.append(nt)
            lab_vertex.append(w)
            lab_arc.append(arc_ids[i])
            lab_parent.append(lab)
            lab_mem.append(new_mem)
            heapq.heappush(heap, (nf, nt, len(lab_cost) - 1))
            if len(lab_cost) > max_labels or (
                len(lab_cost) % 4096 == 0 and time.perf_counter() > stop_at
            ):
                info.update(labels=len(lab_cost), labels_settled=n_settled)
                raise _LabelLimitError(f, len(lab_cost) <= max_labels)
    info.update(labels=len(lab_cost), labels_settled=n_settled, memory_resources=len(resources))
    if found < 0:
        return None
    path_arcs: list[int] = []
    while lab_parent[found] >= 0:
        path_arcs.append(lab_arc[found])
        found = lab_parent[found]
    return path_arcs[::-1]


@dataclass(frozen=True)
class BestPath:
    """The answer of :func:`best_path`.

    Attributes
    ----------
    path : Path or None
        The cheapest path within the deadline and every budget; None when there is
        none (``stopped`` None: proven) or the search stopped first.
    lower_bound : float
        A lower bound on the cheapest such path's cost (its cost when found; inf
        when proven that none exists).
    stopped : str or None
        ``"labels"`` (more than ``max_labels``) or ``"time"`` when the search
        stopped before it finished; then ``path`` may hold the fastest path that
        fits (an incumbent, not proven cheapest).
    reason : str or None
        Why there is no path, when proven.
    """

    path: Path | None
    lower_bound: float
    stopped: str | None = None
    reason: str | None = None


def best_path(
    graph: LayeredGraph,
    resources: Sequence[Resource] | None = None,
    *,
    max_labels: int = PARAMS["max_labels"].default,
    stop_at: float = math.inf,
    info: dict[str, Any] | None = None,
) -> BestPath:
    """The cheapest source-to-sink path of ``graph`` (its ``cost``) within the
    request's deadline (its ``time_s``) and every budget of ``resources``.

    An arc whose cost is inf is absent. ``resources`` defaults to the memory of the
    request's nodes (:func:`~splitbench.graphs._paths.memory_resources`); other
    budgets (a node's remaining compute, a link's remaining bandwidth) are arc sums
    along the path in the same way.

    Parameters
    ----------
    graph : LayeredGraph
        The layered graph, possibly with changed arc costs (``dataclasses.replace``).
    resources : sequence of Resource, optional
        The budgets.
    max_labels : int
        Stop above this many labels.
    stop_at : float
        ``time.perf_counter()`` value at which to stop.
    info : dict, optional
        Receives the label counts.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from splitbench.instance import example_instance
    >>> graph = build_layered_graph(example_instance())
    >>> answer = best_path(graph)
    >>> graph.placement_from_arcs(answer.path.arcs).blocks, round(answer.lower_bound, 4)
    (('md', 'md', 'md', 'cs', 'cs'), 0.0856)
    >>> # forbid every compute arc on cs: the answer moves
    >>> no_cs = np.where(graph.memory_node == 2, np.inf, graph.cost)
    >>> graph.placement_from_arcs(best_path(replace(graph, cost=no_cs)).path.arcs).blocks
    ('md', 'md', 'md', 'es', 'es')
    """
    info = {} if info is None else info
    info.setdefault("labels", 0)
    budgets = memory_resources(graph) if resources is None else list(resources)
    search = PathSearch(graph)
    if graph.infeasible_reason is not None:
        return BestPath(None, math.inf, reason=graph.infeasible_reason)
    finite_time = np.where(np.isfinite(graph.cost), graph.time_s, np.inf)
    h_cost, _ = search.distances(graph.cost, reverse=True)
    h_time, _ = search.distances(finite_time, reverse=True)
    if not np.isfinite(h_cost[graph.source]):
        return BestPath(None, math.inf, reason="the layered graph has no source-to-sink path")
    if not deadline_met(graph, float(h_time[graph.source])):
        return BestPath(
            None,
            math.inf,
            reason=f"even the fastest placement takes {h_time[graph.source]:.6g} s, "
            f"beyond the deadline {graph.instance.request.deadline_s:g} s",
        )

    def fits(path: Path | None) -> bool:
        return (
            path is not None
            and deadline_met(graph, path.time_s)
            and not resource_violations(budgets, path.arcs)
        )

    cheapest = search.lexicographic_path(graph.cost, finite_time)
    if fits(cheapest):
        info["fast_path"] = True
        assert cheapest is not None
        return BestPath(cheapest, cheapest.cost)
    fastest = search.lexicographic_path(finite_time, graph.cost)
    kept = fastest if fits(fastest) else None
    incumbent = kept.cost if kept is not None else math.inf
    try:
        arcs = _search(
            search, budgets, h_cost.tolist(), h_time.tolist(), incumbent, max_labels, stop_at, info
        )
    except _LabelLimitError as stop:
        return BestPath(kept, stop.lower_bound, stopped="time" if stop.timed_out else "labels")
    if arcs is None and kept is not None:
        return BestPath(kept, kept.cost)
    if arcs is None:
        limits = "memory limits" if resources is None else "limits"
        return BestPath(None, math.inf, reason=f"no placement meets the deadline and the {limits}")
    path = search.make_path(np.asarray(arcs, dtype=np.int64))
    return BestPath(path, path.cost)


def run_label_setting(instance: Instance, options: RunOptions) -> MethodResult:
    """Find a proven optimum by Pareto label setting (method ``label-setting``).

    Parameters
    ----------
    instance : Instance
        The instance.
    options : RunOptions
        ``params["max_labels"]``: decline above this many created labels;
        ``time_limit_s``: stop with ``time_limit`` (keeping the fastest path as the
        incumbent when it fits, and the least f settled as the bound).

    Returns
    -------
    MethodResult
        ``optimal`` (with ``bound`` equal to its objective), ``infeasible`` when no
        placement meets the limits, or no answer with termination ``other_limit``
        above ``max_labels``. ``info`` counts the labels created and settled.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> res = run_label_setting(example_instance(), RunOptions(params={"max_labels": 100}))
    >>> res.status.value, res.info["labels"] <= 100
    ('optimal', True)
    """
    max_labels = parse_params("method 'label-setting'", PARAMS, options.params)["max_labels"]
    clock = options.clock
    graph = build_layered_graph(instance)
    clock.mark_built()
    info: dict[str, Any] = {"labels": 0}
    result = partial(MethodResult, info=info, facts=graph_facts(graph))
    remaining = clock.remaining_s()
    stop_at = math.inf if remaining is None else time.perf_counter() + remaining
    answer = best_path(graph, max_labels=max_labels, stop_at=stop_at, info=info)
    if answer.stopped is not None:
        info["lower_bound"] = answer.lower_bound
    if answer.stopped == "time":
        kept = answer.path
        return result(
            Status.FEASIBLE if kept is not None else Status.NONE,
            Termination.TIME_LIMIT,
            placement=None if kept is None else graph.placement_from_arcs(kept.arcs),
            claimed_objective=None if kept is None else kept.cost,
            bound=answer.lower_bound,
            reason="time limit reached during the label search",
        )
    if answer.stopped == "labels":
        return result(
            Status.NONE,
            Termination.OTHER_LIMIT,
            reason=f"more than {max_labels} labels (raise "
            "max_labels, or use fin or larac for a feasible answer)",
        )
    if answer.path is None:
        return result(Status.INFEASIBLE, bound=math.inf, reason=answer.reason)
    return result(
        Status.OPTIMAL,
        placement=graph.placement_from_arcs(answer.path.arcs),
        claimed_objective=answer.path.cost,
        bound=answer.path.cost,
    )
