"""Method ``fin``: the Feasible Inference Graph and one minimum-cost pass over it.

[FIN] C. Singhal, Y. Wu, F. Malandrino, M. Levorato, C. F. Chiasserini,
"Resource-aware Deployment of Dynamic DNNs over Multi-tiered Interconnected
Systems", IEEE INFOCOM 2024 (arXiv 2404.08060), in the reconstruction of MODEL.md
section 4, for any network (not only three tiers) and both exit policies:

1. *option graph*: the layered graph (:mod:`splitbench.graphs.layered`), which
   already honours allowed nodes, tier order and links, without the compute arcs
   of a block too large for its node's memory on its own;
2. *latency embedding*: with deadline T, every vertex v is replicated over the
   levels 0..gamma and a *unit* of time d (an arc, or a block step: the
   ``rounding``) goes from (u, k) to (v, k + ceil(gamma d / T)), kept only if that
   level is at most gamma. Rounding *up* means a path's level bounds its time,
   k T / gamma >= d(P): every answer meets the deadline, whatever the rounding;
3. *requirements*: exit arcs only for admissible exits (already so in the layered
   graph); copies that cannot reach the sink within gamma levels are pruned, and
   so are copies dominated by a lower copy of the same vertex that is no costlier
   (both lossless); optionally lambda-thinning (below).

Then one minimum-cost pass over the leveled graph, block by block
(:class:`splitbench.graphs._leveled.LeveledGraph`, vectorised over the levels), and
the cheapest sink copy is the answer. Status ``feasible`` (FIN proves nothing
about optimality); without a deadline FIN is one exact shortest path.

Measured figures below come from ``pytest -m slow -s -p no:cacheprovider
tests/graphs/test_fin_rounding.py`` (one process, 2-core machine, threads 1).

Rounding (``rounding``)
    ``arc``: every arc of the layered graph (each hop of a transfer, each compute)
    is rounded up on its own, so a transfer of h hops costs at least h levels.
    ``step`` (default): a *block step*, the transfer of the tensor into block k plus
    block k's compute, is summed exactly and rounded up once, and so is the result's
    transfer to the destination (:mod:`splitbench.graphs._steps`: step arcs along a
    few candidate routes per node pair, ``info["fin_routes"]``: the fastest route
    when transfer cost is proportional to time, the Pareto set on networks of up to
    16 nodes, else the supported routes). With a complete set (``fastest``,
    ``pareto``) step rounding keeps every path arc rounding keeps: a ceiling of a sum
    is at most the sum of the ceilings. Measured without the fallback, at gamma 3,
    10, 20, 30 and 100 on the 87 FIN sweep points and 30 tiered instances: step beats
    arc at 13 (instance, gamma) pairs and loses at none; at gamma 10 on B-AlexNet it
    is cheaper at 7 of 29 points (89.9 mJ instead of 139.5 at 5 ms / 80 %) and
    answers at 4 ms where arc answers nothing (at 3 ms neither does: its five steps
    need gamma >= 20). It costs about 1 ms more per run there (the step graph).

Rounding guarantee
    ceil(x) < x + 1 for each of the m rounded units of positive time on a path, so
    a path with d(P) <= T (1 - m / gamma) has a level below gamma and is in the
    leveled graph. With m_max the most units a path can have (``arc``:
    ``info["fin_max_path_arcs"]``, (|N| - 1) hops per hand-over and for the result
    plus one compute arc per block; ``step``: ``info["fin_max_path_steps"]``, one per
    block and one for the result), FIN's answer costs at most the optimum for the
    deadline T - m_max T / gamma (``info["fin_rounding_bound_s"]`` = m_max T / gamma,
    vacuous when it reaches T; with ``supported`` or ``capped`` routes, the optimum
    over those routes). As gamma grows, FIN returns the optimum.

Fallback (``max_gamma``)
    When the leveled graph has no path within the deadline but the fastest placement
    (one Dijkstra on time, the cheapest among the fastest) meets it, the pass is
    repeated with gamma doubled until a path appears, then once more to refine it
    (the cheaper answer is kept), while gamma stays at most ``max_gamma`` (default
    6400) and within ``max_copies``. Every pass is a leveled graph of its own, so
    the guarantee holds at ``info["fin_gamma_used"]``, the gamma of the answer
    (``info["fin_gammas"]``: every gamma tried). The fastest placement, of s_f units
    and time d_f, is in the leveled graph once gamma >= s_f / (1 - d_f / T)
    (``info["fin_gamma_needed"]``), so the doubling ends there at the latest. When
    no pass finds a path (a deadline equal to the fastest latency leaves no slack for
    any rounding, or a cap stops the doubling) the answer is the fastest placement
    itself (``info["fin_answer"]``). ``max_gamma = gamma``: no fallback at all.
    Measured at gamma 100 on 40 medium random chains and 40 tiered instances (10-40
    blocks, 10-60 nodes, energy, a deadline drawn between the fastest and the
    cheapest placement's latency; tiered: the 40 binding ones among 540 draws, all
    VGG-16 and ResNet-50, since elsewhere the cheapest placement is the fastest):
    FIN as it was (arc, no fallback) answered 39/40 and 24/40; with the defaults
    40/40 and 40/40 (gamma used up to 200 and 6400), mean gap 13.6 % and 6.5 %.
    The fallback makes the answer non-monotone in gamma: on 20 x 20 chains gamma 10
    (no path, then 20, 40) gives 1.7 % mean gap, gamma 30 (a path at once) 24 %.

Memory budget (``max_copies``)
    A pass holds vertices x (gamma + 1) vertex copies, about 20 bytes each (a cost,
    a predecessor, padding; measured 19-22), plus at most about 130 MB of working
    arrays (:data:`splitbench.graphs._leveled.CHUNK_ELEMENTS`). ``max_copies``
    (default 20,000,000: about 400 MB) is checked before any pass: above it FIN
    declines (``skipped``) and says which gamma fits; the doubling stops at it too.
    The step graph counts against it at :data:`STEP_ARC_COPIES` copies per step arc
    (measured 150 bytes); a step graph that would not fit is not built and FIN
    rounds arcs instead (``info["fin_rounding_used"]``, ``info["fin_step_declined"]``).
    The time limit is checked before every block of every pass and of the step
    graph's build: past it FIN returns ``time_limit`` with the best answer so far.

Lower bound (``bound``)
    A pass with shifts rounded *down* (against T (1 + 1e-9), the evaluator's
    tolerance) over a relaxation is a proven lower bound on the optimum (``bound``),
    at the gamma of the answer: under ``step``, one arc per (state, compute arc)
    with the least cost and the least time of any route between its nodes (each
    from its own route: a relaxation even when the candidate routes are not
    complete); under ``arc``, the layered graph's arcs. ``info["bound_time_s"]``.

lambda-thinning (``lambda`` >= 1; -1 or 0: off)
    At each layer boundary the Pareto copies of a vertex are scanned from the
    cheapest (highest level) down, and a copy is kept only if it lies more than
    lambda levels below the last kept one; so every dropped copy has a cheaper kept
    copy at most lambda levels slower. It only removes paths of the leveled graph,
    so an answer is still feasible, but it can lose the optimum and even every path:
    then the pass is repeated without thinning (``info["lambda_fallback"]``).
    Measured (``tests/graphs/test_fin_table.py``): at gamma 100, lambda 1, 3 and 10
    changed no answer on the FIN sweeps, tiered instances and 20 x 20 chains. It
    saves no time (the pass is vectorised over all levels), and its scan over the
    levels costs 1-10 ms more per run there.

Memory
    Stage 1 removes only single blocks that do not fit; memory shared by several
    blocks is checked on the answer: the sink copies are tried cheapest first and
    the first path that fits in memory is returned; if none does, ``none`` with the
    reason (label setting carries memory exactly).

Time (9c)
    The runner's clock covers the whole run; ``info["fin_times_s"]`` splits it
    (96-100 % of the runner's time): ``graph`` (layered graph, option graph, fastest
    placement), ``steps`` (step graph), ``pass`` (the first leveled pass),
    ``retries`` and ``bound``. At gamma 100 FIN is slower than the exact
    ``label-setting`` on 5 of the 6 random chains measured (best of 3, side by side,
    two runs): on 20 x 20, 27-33 ms (step) and 21-55 ms (arc) against 3-12 ms, 2.7-9.5
    and 4.8-8.4 times; on 50 x 50, 286-303 ms (step: graph 4, step graph 140-146,
    pass 106-116, bound 33-34) and 461-554 ms (arc: pass 251-321, bound 191-242)
    against 65-96 ms, 3.2-4.7 and 5.3-8.3 times. It is faster only where the labels
    explode (50 x 50 seed 1: 293 ms against 612-632 ms, for a 17.6 % gap). Step's pass
    is 2.3-4.5 and its bound 3.6-7 times faster than arc's, but its step graph costs
    as much as its pass; ``bound=false`` saves 2-37 ms (step) and 8-240 ms (arc). At
    100 x 100
    label-setting stopped at its 2,000,000 labels after 7.3 s; there the step graph
    exceeds the default budget (arc rounding instead), gamma 100 has no path, and
    FIN answers at gamma 400 after 15 s (passes at 200 and 400: 10.2 s, bound 4.7 s).

Without a deadline there is nothing to replicate: FIN is one minimum-cost shortest
path, exact (status ``optimal``, bound = cost) when it fits in memory.

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.methods import solve
>>> sol = solve(example_instance(), "fin", params={"gamma": 30})
>>> sol.status.value, sol.placement.blocks, round(sol.objective, 4), round(sol.bound, 4)
('feasible', ('md', 'md', 'md', 'cs', 'cs'), 0.0856, 0.0641)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from splitbench.answer import MethodResult, RunOptions, Status, Termination
from splitbench.graphs._leveled import BYTES_PER_COPY, FinPasses, PassStoppedError
from splitbench.graphs._paths import PathSearch, deadline_met, graph_facts, memory_violations
from splitbench.graphs._steps import build_steps
from splitbench.graphs.layered import ArcKind, LayeredGraph, build_layered_graph
from splitbench.instance.model import Instance
from splitbench.params import Param, parse_params
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = ["PARAMS", "STEP_ARC_COPIES", "fin_max_path_arcs", "fin_max_path_steps", "run_fin"]

PARAMS = {
    "gamma": Param(int, 10, "latency levels (more: closer to the optimum, slower)"),
    "lambda": Param(int, -1, "proximity pruning width in levels (-1: no pruning)"),
    "rounding": Param(
        str, "step", "round once per block step (step) or every arc (arc)", ("step", "arc")
    ),
    "max_gamma": Param(
        int, 6400, "with no path within the deadline, double gamma up to this (gamma: never)"
    ),
    "max_copies": Param(
        int, 20_000_000, f"most vertex copies a pass may hold (about {BYTES_PER_COPY} bytes each)"
    ),
    "bound": Param(bool, True, "run the rounded-down pass for a lower bound"),
}
"""The parameters of method ``fin``."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

STEP_ARC_COPIES = 8
"""What one step arc counts against ``max_copies`` (about 160 bytes: measured 150)."""


def fin_max_path_arcs(graph: LayeredGraph) -> int:
    """An upper bound on the positive-time arcs of any path of ``graph``: (|N| - 1)
    hops for each hand-over and for the result, and one compute arc per block.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> fin_max_path_arcs(build_layered_graph(example_instance()))  # 5 x 2 hops + 5 blocks
    15
    """
    inst = graph.instance
    hops = len(inst.network.nodes) - 1
    result = hops if inst.request.destination is not None else 0
    return _deepest(graph) * (hops + 1) + result


def fin_max_path_steps(graph: LayeredGraph) -> int:
    """The most block steps of any path of ``graph``: one per block, one for the result.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> fin_max_path_steps(build_layered_graph(example_instance()))  # 5 blocks, no destination
    5
    """
    return _deepest(graph) + (graph.instance.request.destination is not None)


def _deepest(graph: LayeredGraph) -> int:
    return int(graph.layer[graph.kind == ArcKind.COMPUTE_EXIT].max(initial=0))


def _fits(graph: LayeredGraph) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Stage 1: arcs kept by the option graph (a block alone must fit its node)."""
    capacity = np.array(
        [
            n.memory_bytes if n.memory_bytes is not None else np.inf
            for n in graph.instance.network.nodes
        ]
    )
    node = graph.memory_node
    limit = np.where(node >= 0, capacity[np.maximum(node, 0)], np.inf)
    return np.asarray(graph.memory_bytes <= limit * (1 + FEASIBILITY_RTOL))


def _guarantee(m_max: int, deadline: float, gamma: int, unit: str, routes: str | None) -> str:
    if m_max >= gamma:
        return f"none: a path may have {m_max} >= gamma positive-time {unit}s"
    among = f", among the {routes} routes" if routes in ("supported", "capped") else ""
    return (
        f"cost <= the optimum for deadline {deadline:g} - {m_max} x {deadline:g} / {gamma}"
        f" = {deadline * (1 - m_max / gamma):.6g} s{among}"
    )


def run_fin(instance: Instance, options: RunOptions) -> MethodResult:
    """Solve ``instance`` with FIN (method ``fin``).

    Parameters
    ----------
    instance : Instance
        The instance.
    options : RunOptions
        :data:`PARAMS`: ``gamma`` (latency levels, >= 1), ``lambda`` (thinning
        width; -1 or 0: none), ``rounding`` (``step`` or ``arc``), ``max_gamma``
        (the fallback's cap), ``max_copies`` (the memory budget) and ``bound``.

    Returns
    -------
    MethodResult
        ``feasible`` with the answer and ``bound`` (the rounded-down pass);
        ``optimal`` without a deadline; ``infeasible`` when no placement meets the
        deadline; ``none`` when rounding loses every path up to ``max_gamma`` or no
        path found fits in memory; ``skipped`` when gamma needs more than
        ``max_copies``; ``time_limit`` with the best answer so far. ``info`` has
        the gammas tried, the leveled graph size, the guarantee and the phase times.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> res = run_fin(example_instance(), RunOptions(params={"gamma": 10}))
    >>> res.status.value, res.info["fin_copies"], round(res.info["fin_rounding_bound_s"], 4)
    ('feasible', 506, 0.0025)

    Every unit of positive time costs at least one level, so a small gamma can leave
    no path (B-AlexNet needs five block steps); FIN then doubles gamma until a path
    appears (12), and once more to refine it (24, no cheaper here):

    >>> res = run_fin(example_instance(), RunOptions(params={"gamma": 3}))
    >>> res.status.value, res.info["fin_gammas"], res.info["fin_gamma_used"]
    ('feasible', [3, 6, 12, 24], 12)
    >>> res = run_fin(example_instance(), RunOptions(params={"gamma": 3, "max_gamma": 3}))
    >>> res.status.value, res.reason  # doctest: +ELLIPSIS
    ('none', 'rounding to gamma = 3 levels leaves no path within the deadline: raise gamma ...')
    >>> run_fin(example_instance(), RunOptions(params={"gamma": 10**9})).reason
    'gamma = 1000000000 needs 46 x 1000000001 vertex copies (about 920 GB), above max_copies = 20000000: lower gamma to at most 434781, or raise max_copies'
    """  # noqa: E501
    params = parse_params("method 'fin'", PARAMS, options.params)
    gamma, thinning, rounding = params["gamma"], max(0, params["lambda"]), params["rounding"]
    max_copies, max_gamma = params["max_copies"], max(params["gamma"], params["max_gamma"])
    if gamma < 1:
        return MethodResult.skipped(f"gamma must be >= 1, got {gamma}")
    if max_copies < 1:
        return MethodResult.skipped(f"max_copies must be >= 1, got {max_copies}")
    clock = options.clock
    start = time.perf_counter()
    graph = build_layered_graph(instance)
    keep = _fits(graph)
    info: dict[str, Any] = {"gamma": gamma, "lambda": thinning, "rounding": rounding}
    times: dict[str, float] = {}
    result = partial(MethodResult, info=info, facts=graph_facts(graph))
    deadline = instance.request.deadline_s
    if graph.infeasible_reason is not None or deadline is None:
        clock.mark_built()
        if graph.infeasible_reason is not None:
            return result(Status.INFEASIBLE, bound=math.inf, reason=graph.infeasible_reason)
        return _no_deadline(graph, keep, result, info)
    n_vertices = graph.n_vertices
    if n_vertices * (gamma + 1) > max_copies:
        clock.mark_built()
        most = max_copies // n_vertices - 1
        advice = f"lower gamma to at most {most}, or " if most >= 1 else ""
        return MethodResult.skipped(
            f"gamma = {gamma} needs {n_vertices} x {gamma + 1} vertex copies (about "
            f"{n_vertices * (gamma + 1) * BYTES_PER_COPY / 1e9:.3g} GB), above max_copies = "
            f"{max_copies}: {advice}raise max_copies",
            info=info,
            facts=graph_facts(graph),
        )
    search = PathSearch(graph)
    fastest = search.lexicographic_path(np.where(keep, graph.time_s, np.inf), graph.cost)
    if fastest is None or not deadline_met(graph, fastest.time_s):
        clock.mark_built()
        why = (
            "the option graph has no source-to-sink path"
            if fastest is None
            else f"no placement meets the deadline {deadline:g} s (the fastest takes "
            f"{fastest.time_s:.6g} s)"
        )
        return result(Status.INFEASIBLE, bound=math.inf, reason=why)
    times["graph"] = time.perf_counter() - start
    start = time.perf_counter()
    steps = None
    if rounding == "step":
        try:
            steps = build_steps(graph, keep, max_copies // STEP_ARC_COPIES, clock.expired)
        except PassStoppedError:
            clock.mark_built()
            return result(
                Status.NONE,
                Termination.TIME_LIMIT,
                reason="the time limit passed while building the step graph",
            )
        if steps is None:
            info["fin_step_declined"] = (
                f"the step graph would exceed max_copies = {max_copies} at "
                f"{STEP_ARC_COPIES} copies per step arc: arc rounding instead"
            )
        else:
            info.update(fin_routes=steps.routes, fin_step_arcs=steps.n_arcs)
    times["steps"] = time.perf_counter() - start
    fin = FinPasses(graph, search, keep, steps)
    clock.mark_built()
    used = "step" if steps is not None else "arc"
    m_arcs, m_steps = fin_max_path_arcs(graph), fin_max_path_steps(graph)
    m_max = m_steps if steps is not None else m_arcs
    units = (
        int(np.isin(graph.kind[fastest.arcs], [ArcKind.COMPUTE, ArcKind.COMPUTE_EXIT]).sum())
        + (instance.request.destination is not None)
        if steps is not None
        else int((graph.time_s[fastest.arcs] > 0).sum())
    )
    slack = 1 - fastest.time_s / deadline
    needed = math.ceil(units / slack) if slack > 0 else None
    info.update(
        fin_rounding_used=used,
        fin_max_path_arcs=m_arcs,
        fin_max_path_steps=m_steps,
        fin_gamma_needed=needed,
    )
    tried: list[int] = []
    arcs: IntArray | None = None
    broken: list[str] = []
    stopped, g, found_at, refining = False, gamma, gamma, False
    while True:
        pass_start = time.perf_counter()
        try:
            if clock.expired():
                raise PassStoppedError
            candidate, broken = fin.answer(g, thinning, info, clock.expired)
        except PassStoppedError:
            stopped, candidate = True, None
        times["retries" if tried else "pass"] = (
            times.get("retries" if tried else "pass", 0.0) + time.perf_counter() - pass_start
        )
        tried.append(g)
        if candidate is not None and (
            arcs is None or graph.cost[candidate].sum() < graph.cost[arcs].sum()
        ):
            arcs, found_at = candidate, g
        if stopped or (arcs is None and broken) or refining or (arcs is not None and g == gamma):
            break
        if arcs is not None:
            refining = True  # a retry found a path: one more doubling refines it
        elif needed is None or g >= needed:
            break
        if 2 * g > max_gamma or n_vertices * (2 * g + 1) > max_copies:
            cap = "max_gamma" if 2 * g > max_gamma else "max_copies"
            info["fin_fallback_stopped"] = f"gamma {2 * g} would exceed {cap}"
            break
        g *= 2
    g = found_at if arcs is not None else g
    info.update(
        fin_gammas=tried,
        fin_gamma_used=g,
        fin_copies=n_vertices * (g + 1),
        fin_rounding_bound_s=m_max * deadline / g,
        fin_guarantee=_guarantee(m_max, deadline, g, used, info.get("fin_routes")),
        fin_times_s=times,
    )
    bound = None
    if params["bound"] and not stopped:
        bound_start = time.perf_counter()
        try:
            lower, _ = fin.leveled(g, up=False).run(0, track=False, stop=clock.expired)
            bound = float(lower.min()) if np.isfinite(lower).any() else None  # never inf
        except PassStoppedError:
            stopped = True
        times["bound"] = info["bound_time_s"] = time.perf_counter() - bound_start
    termination = Termination.TIME_LIMIT if stopped else Termination.COMPLETED
    note = "the time limit passed during the lower-bound pass" if stopped else None
    if arcs is None and not stopped and not broken and max_gamma > gamma:
        broken = memory_violations(graph, fastest.arcs)
        if not broken:
            arcs = fastest.arcs
            note = info["fin_answer"] = (
                f"no leveled path up to gamma = {g}: the fastest placement (the cheapest of them)"
            )
            info.update(
                fin_gamma_used=None, fin_rounding_bound_s=None, fin_guarantee=f"none: {note}"
            )
    if arcs is None:
        if stopped:
            why = "the time limit passed before FIN found a path"
        elif broken:
            why = f"no path found fits in memory ({broken[0]}); use label-setting"
        else:
            why = f"rounding to gamma = {g} levels leaves no path within the deadline: " + (
                "raise max_copies"
                if "max_copies" in info.get("fin_fallback_stopped", "")
                else "raise gamma or max_gamma"
                + (f" (the fastest placement fits from gamma {needed})" if needed else "")
            )
        return result(Status.NONE, termination, reason=why, bound=bound)
    path = search.make_path(arcs)
    info["path_time_s"] = path.time_s
    return result(
        Status.FEASIBLE,
        termination,
        placement=graph.placement_from_arcs(arcs),
        claimed_objective=path.cost,
        bound=None if bound is None else min(bound, path.cost),
        reason=note,
    )


def _no_deadline(
    graph: LayeredGraph, keep: Any, result: Callable[..., MethodResult], info: dict[str, Any]
) -> MethodResult:
    """Without a deadline: one minimum-cost shortest path, exact when it fits in memory."""
    info["fin_mode"] = "no deadline: one minimum-cost shortest path, no latency levels"
    path = PathSearch(graph).shortest_path(np.where(keep, graph.cost, np.inf))
    if path is None:
        return result(
            Status.INFEASIBLE, bound=math.inf, reason="the option graph has no source-to-sink path"
        )
    broken = memory_violations(graph, path.arcs)
    if broken:
        return result(
            Status.NONE, reason=f"the cheapest path breaks memory ({broken[0]}); use label-setting"
        )
    return result(
        Status.OPTIMAL,
        placement=graph.placement_from_arcs(path.arcs),
        claimed_objective=path.cost,
        bound=path.cost,
    )
