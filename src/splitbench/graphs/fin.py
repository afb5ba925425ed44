"""Method ``fin``: the Feasible Inference Graph and one minimum-cost pass over it.

[FIN] C. Singhal, Y. Wu, F. Malandrino, M. Levorato, C. F. Chiasserini,
"Resource-aware Deployment of Dynamic DNNs over Multi-tiered Interconnected
Systems", IEEE INFOCOM 2024 (arXiv 2404.08060), in the reconstruction of MODEL.md
section 4, for any network (not only three tiers) and both exit policies:

1. *option graph*: the layered graph (:mod:`splitbench.graphs.layered`), which
   already honours allowed nodes, tier order and links, without the compute arcs
   of a block too large for its node's memory on its own;
2. *latency embedding*: with deadline T, every vertex v is replicated over the
   levels 0..gamma and an arc of time d goes from (u, k) to (v, k + ceil(gamma d /
   T)), kept only if that level is at most gamma. Rounding *up* means a path's
   level bounds its time, k T / gamma >= d(P): every answer meets the deadline;
3. *requirements*: exit arcs only for admissible exits (already so in the layered
   graph); copies that cannot reach the sink within gamma levels are pruned, and
   so are copies dominated by a lower copy of the same vertex that is no costlier
   (both lossless); optionally lambda-thinning (below).

Then one minimum-cost pass over the leveled graph, block by block
(:class:`splitbench.graphs._leveled.LeveledGraph`, vectorised over the levels), and
the cheapest sink copy is the answer. Status ``feasible`` (FIN proves nothing
about optimality).

Rounding guarantee
    ceil(x) < x + 1 for each of the m arcs of positive time on a path, so a path
    with d(P) <= T (1 - m / gamma) has a level below gamma and is in the leveled
    graph. With m_max the most positive-time arcs any path can have (``info
    ["fin_max_path_arcs"]``: (|N| - 1) hops per hand-over and for the result, one
    compute arc per block), FIN's answer costs at most the optimum for the
    deadline T - m_max T / gamma (``info["fin_rounding_bound_s"]`` = m_max T / gamma;
    vacuous when it reaches T). As gamma grows, FIN returns the optimum.

Lower bound
    The same pass with shifts rounded *down* is a relaxation (every feasible path
    keeps a level <= gamma), so its cheapest sink copy is a proven lower bound on
    the optimum (``bound``); when it has no path, no placement meets the deadline
    and the status is ``infeasible``. It costs a second pass
    (``info["bound_time_s"]``, part of ``solve_time_s``).

lambda-thinning (``lambda`` >= 1; -1 or 0: off)
    At each layer boundary the Pareto copies of a vertex are scanned from the
    cheapest (highest level) down, and a copy is kept only if it lies more than
    lambda levels below the last kept one; so every dropped copy has a cheaper kept
    copy at most lambda levels slower, and at most ceil((gamma + 1) / (lambda + 1))
    copies per vertex survive. It only removes paths of the leveled graph, so an
    answer is still feasible, but it can lose the optimum and even every path: then
    the pass is repeated without thinning (``info["lambda_fallback"]``), so thinning
    never turns an instance FIN can answer into one it cannot. Measured
    (``tests/graphs/test_fin_table.py``): at gamma 100, lambda 1, 3 and 10 changed no
    answer on the FIN sweeps, tiered instances and 20 x 20 chains; lambda 1000 (one
    copy per vertex) worsened 6 of 309 random small instances. It saves no time
    here, since the pass is vectorised over all levels anyway.

Memory
    Stage 1 removes only single blocks that do not fit; memory shared by several
    blocks is checked on the answer: the sink copies are tried cheapest first and
    the first path that fits in memory is returned; if none does, ``none``
    with the reason (label setting carries memory exactly).

Without a deadline there is nothing to replicate: FIN is one minimum-cost shortest
path (``info["fin_mode"]`` says so).

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
from functools import partial
from typing import Any

import numpy as np

from splitbench.answer import MethodResult, RunOptions, Status
from splitbench.graphs._leveled import LeveledGraph
from splitbench.graphs._paths import PathSearch, graph_facts, memory_violations
from splitbench.graphs.layered import ArcKind, LayeredGraph, build_layered_graph
from splitbench.instance.model import Instance
from splitbench.params import Param, parse_params
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = ["PARAMS", "fin_max_path_arcs", "run_fin"]

PARAMS = {
    "gamma": Param(int, 10, "latency levels (more: closer to the optimum, slower)"),
    "lambda": Param(int, -1, "proximity pruning width in levels (-1: no pruning)"),
}
"""The parameters of method ``fin``."""


def fin_max_path_arcs(graph: LayeredGraph) -> int:
    """An upper bound on the positive-time arcs of any path of ``graph``: (|N| - 1)
    hops for each hand-over and for the result, and one compute arc per block.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> from splitbench.graphs.layered import build_layered_graph
    >>> fin_max_path_arcs(build_layered_graph(example_instance()))  # 5 x 2 hops + 5 blocks
    15
    """
    inst = graph.instance
    hops = len(inst.network.nodes) - 1
    deepest = int(graph.layer[graph.kind == ArcKind.COMPUTE_EXIT].max(initial=0))
    result = hops if inst.request.destination is not None else 0
    return deepest * (hops + 1) + result


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


def _leveled(
    graph: LayeredGraph, search: PathSearch, keep: Any, gamma: int, up: bool
) -> LeveledGraph:
    deadline = graph.instance.request.deadline_s
    assert deadline is not None
    scaled = gamma * graph.time_s / deadline
    levels = np.ceil(scaled) if up else np.floor(scaled * (1 - 1e-12))
    shift = np.where(keep, levels, -1).astype(np.int64)
    weights = np.where(shift >= 0, shift, np.inf).astype(np.float64)
    remaining, _ = search.distances(weights, reverse=True)
    return LeveledGraph(graph, shift, gamma, remaining)


def run_fin(instance: Instance, options: RunOptions) -> MethodResult:
    """Solve ``instance`` with FIN (method ``fin``).

    Parameters
    ----------
    instance : Instance
        The instance.
    options : RunOptions
        ``params["gamma"]`` (latency levels, >= 1) and ``params["lambda"]``
        (thinning width in levels; -1 or 0: no thinning).

    Returns
    -------
    MethodResult
        ``feasible`` with the answer and ``bound`` (the rounded-down pass);
        ``infeasible`` when no placement meets the deadline; ``none`` when
        rounding loses every path (raise gamma) or no path found fits in memory.
        ``info`` has the leveled graph size, ``fin_max_path_arcs``,
        ``fin_rounding_bound_s`` and ``fin_guarantee``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> res = run_fin(example_instance(), RunOptions(params={"gamma": 10, "lambda": -1}))
    >>> res.status.value, res.info["fin_copies"], round(res.info["fin_rounding_bound_s"], 4)
    ('feasible', 506, 0.0075)

    Every arc of positive time costs at least one level, so a small gamma can leave
    no path at all (B-AlexNet needs at least five compute arcs):

    >>> res = run_fin(example_instance(), RunOptions(params={"gamma": 3, "lambda": -1}))
    >>> res.status.value, res.reason
    ('none', 'rounding to gamma = 3 levels leaves no path within the deadline: raise gamma')
    """
    params = parse_params("method 'fin'", PARAMS, options.params)
    gamma, thinning = params["gamma"], max(0, params["lambda"])
    if gamma < 1:
        return MethodResult.skipped(f"gamma must be >= 1, got {gamma}")
    clock = options.clock
    graph = build_layered_graph(instance)
    search = PathSearch(graph)
    keep = _fits(graph)
    deadline = instance.request.deadline_s
    upper = _leveled(graph, search, keep, gamma, up=True) if deadline is not None else None
    clock.mark_built()
    info: dict[str, Any] = {"gamma": gamma, "lambda": thinning}
    result = partial(MethodResult, info=info, facts=graph_facts(graph))

    if graph.infeasible_reason is not None:
        return result(Status.INFEASIBLE, bound=math.inf, reason=graph.infeasible_reason)
    if upper is None:
        info["fin_mode"] = "no deadline: one minimum-cost shortest path, no latency levels"
        path = search.shortest_path(np.where(keep, graph.cost, np.inf))
        if path is None:
            return result(
                Status.INFEASIBLE,
                bound=math.inf,
                reason="the option graph has no source-to-sink path",
            )
        broken = memory_violations(graph, path.arcs)
        if broken:
            return result(
                Status.NONE,
                reason=f"the cheapest path breaks memory ({broken[0]}); use label-setting",
            )
        return result(
            Status.FEASIBLE,
            placement=graph.placement_from_arcs(path.arcs),
            claimed_objective=path.cost,
            bound=path.cost,
        )

    assert deadline is not None
    m_max = fin_max_path_arcs(graph)
    info.update(
        fin_copies=graph.n_vertices * (gamma + 1),
        fin_max_path_arcs=m_max,
        fin_rounding_bound_s=m_max * deadline / gamma,
        fin_guarantee=(
            f"cost <= the optimum for deadline {deadline:g} - {m_max} x {deadline:g} / {gamma}"
            f" = {deadline * (1 - m_max / gamma):.6g} s"
            if m_max < gamma
            else f"none: a path may have {m_max} >= gamma positive-time arcs"
        ),
    )
    best, pred = upper.run(thinning)
    if thinning and not np.isfinite(best[graph.sink]).any():
        info["lambda_fallback"] = True
        best, pred = upper.run(0)
    arcs, broken = None, []
    for level in np.argsort(best[graph.sink], kind="stable"):
        if not np.isfinite(best[graph.sink, level]):
            break
        candidate = upper.backtrack(pred, int(level))
        broken = memory_violations(graph, candidate)
        if not broken:
            arcs = candidate
            info["fin_level"] = int(level)
            break
    bound_start = time.perf_counter()
    lower_best, _ = _leveled(graph, search, keep, gamma, up=False).run(0)
    bound = float(lower_best[graph.sink].min())
    info["bound_time_s"] = time.perf_counter() - bound_start
    if not math.isfinite(bound):
        return result(
            Status.INFEASIBLE,
            bound=math.inf,
            reason=f"no placement meets the deadline {deadline:g} s",
        )
    if arcs is None:
        why = (
            f"no path found fits in memory ({broken[0]}); use label-setting"
            if broken
            else f"rounding to gamma = {gamma} levels leaves no path within the deadline: "
            "raise gamma"
        )
        return result(Status.NONE, reason=why, bound=bound)
    path = search.make_path(arcs)
    info["path_time_s"] = path.time_s
    return result(
        Status.FEASIBLE,
        placement=graph.placement_from_arcs(arcs),
        claimed_objective=path.cost,
        bound=min(bound, path.cost),
    )
