"""Method ``layered-sp``: one shortest path over the layered graph of Jung & Lee.

Every source-to-sink path of the layered graph
(:mod:`splitbench.graphs.layered`) is one placement with its routes, and the sum of
its arc ``cost`` is the evaluator's objective ([JL] S. Jung, H.-W. Lee, arXiv
2111.07006; the layered model of Zhang et al., INFOCOM 2018). So one shortest path
on ``cost`` is the optimum of the problem without a deadline and without memory
limits, for both objectives and both exit policies (allowed nodes, tier order and
the accuracy floor are arc deletions and rank copies of the graph).

When the request has a deadline or memory limits the shortest path is still a
*relaxation* optimum:

1. if it meets every limit, it is optimal (status ``optimal``);
2. if it misses the deadline, the cheapest path that is fastest among the
   cheapest (a lexicographic search) is tried: ties are common with zero-energy
   links, and if it meets every limit it is optimal;
3. if even the fastest path misses the deadline, no placement meets it
   (``infeasible``); under the select policy with the latency objective the
   cheapest path *is* the fastest, so a deadline never makes the method decline;
4. otherwise the limits bind and one path cannot answer: the method declines
   (``skipped``) and names the methods that can (``label-setting`` exactly;
   ``fin`` and ``larac`` approximately). ``info["relaxation_bound"]`` keeps the
   cheapest path's cost, a valid lower bound.

The search is scipy's compiled Dijkstra over a CSR matrix built once with the
graph (:class:`splitbench.graphs._paths.PathSearch`); explicit zero weights are
arcs there, so zero-cost arcs need no correction. :func:`networkx_shortest_path`
does the same over the networkx view, for inspection and teaching.

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.instance import example_instance
>>> from splitbench.methods import solve
>>> inst = example_instance()
>>> fastest = replace(inst, request=replace(inst.request, objective="latency"))
>>> sol = solve(fastest, "layered-sp")
>>> sol.status.value, sol.placement.blocks, round(sol.objective * 1e3, 4)
('optimal', ('md', 'cs', 'cs', 'cs', 'cs'), 2.2156)
>>> solve(inst, "layered-sp").reason  # doctest: +ELLIPSIS
'the cheapest path takes 0.006... s, beyond the deadline 0.005 s...'
"""

from __future__ import annotations

import itertools
import math
from functools import partial
from typing import Any

from splitbench.answer import MethodResult, RunOptions, Status, Termination
from splitbench.graphs._paths import (
    Path,
    PathSearch,
    deadline_met,
    graph_facts,
    memory_violations,
)
from splitbench.graphs.layered import LayeredGraph, build_layered_graph
from splitbench.instance.model import Instance
from splitbench.placement import Placement

__all__ = ["layered_networkx", "networkx_shortest_path", "run_layered_sp", "solve_layered"]

_BETTER_METHODS = "use label-setting (exact), or fin or larac (feasible answers)"


def _limits(graph: LayeredGraph, path: Path) -> list[str]:
    """Why ``path`` is not a feasible placement (empty when it is)."""
    out = memory_violations(graph, path.arcs)
    if not deadline_met(graph, path.time_s):
        out.insert(
            0,
            f"takes {path.time_s:.6g} s, beyond the deadline "
            f"{graph.instance.request.deadline_s:g} s",
        )
    return out


def run_layered_sp(instance: Instance, options: RunOptions) -> MethodResult:
    """Solve ``instance`` by one shortest path over its layered graph (method ``layered-sp``).

    Parameters
    ----------
    instance : Instance
        The instance.
    options : RunOptions
        Unused (the method has no parameters).

    Returns
    -------
    MethodResult
        ``optimal`` when the cheapest path meets the deadline and the memory
        limits (its cost is then also the ``bound``); ``infeasible`` when no path
        exists or even the fastest one misses the deadline; ``skipped`` with the
        reason when a binding deadline or memory limit makes one path insufficient.
        ``info`` holds the graph size and, when declining, ``relaxation_bound``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> res = run_layered_sp(example_instance(), RunOptions())
    >>> res.termination.value, res.facts.graph_vertices, res.info["relaxation_bound"] > 0
    ('skipped', 46, True)
    """
    graph = build_layered_graph(instance)
    search = PathSearch(graph)
    options.clock.mark_built()
    return solve_layered(graph, search)


def solve_layered(graph: LayeredGraph, search: PathSearch | None = None) -> MethodResult:
    """The ``layered-sp`` answer on a prebuilt graph (no timings; ``search`` is
    built from ``graph`` when not given).

    Examples
    --------
    >>> from dataclasses import replace
    >>> from splitbench.instance import example_instance
    >>> inst = example_instance()
    >>> graph = build_layered_graph(replace(inst, request=replace(inst.request, deadline_s=None)))
    >>> res = solve_layered(graph)
    >>> res.status.value, res.placement.blocks, res.info["dijkstra_calls"]
    ('optimal', ('md', 'md', 'md', 'md', 'md'), 1)
    """
    search = search if search is not None else PathSearch(graph)
    info: dict[str, Any] = {"dijkstra_calls": 1}
    result = partial(MethodResult, info=info, facts=graph_facts(graph))
    if graph.infeasible_reason is not None:
        return result(Status.INFEASIBLE, bound=math.inf, reason=graph.infeasible_reason)
    path = search.shortest_path(search.cost_matrix)
    if path is None:
        return result(
            Status.INFEASIBLE,
            bound=math.inf,
            reason="the layered graph has no source-to-sink path",
        )
    info["relaxation_bound"] = path.cost
    broken = _limits(graph, path)
    if broken and not deadline_met(graph, path.time_s):
        tied = search.lexicographic_path(graph.cost, graph.time_s)
        info["dijkstra_calls"] = 4
        if tied is not None and not _limits(graph, tied):
            path, broken = tied, []
        else:
            fastest = search.shortest_path(graph.time_s)
            info["dijkstra_calls"] = 5
            if fastest is None or not deadline_met(graph, fastest.time_s):
                fast = math.inf if fastest is None else fastest.time_s
                return result(
                    Status.INFEASIBLE,
                    bound=math.inf,
                    reason=f"even the fastest placement takes {fast:.6g} s, "
                    f"beyond the deadline {graph.instance.request.deadline_s:g} s",
                )
    if broken:
        return result(
            Status.NONE,
            Termination.SKIPPED,
            reason=f"the cheapest path {'; '.join(broken)}: the limits bind, so "
            f"one shortest path is not the answer; {_BETTER_METHODS}",
        )
    info["path_time_s"] = path.time_s
    return result(
        Status.OPTIMAL,
        placement=graph.placement_from_arcs(path.arcs),
        claimed_objective=path.cost,
        bound=path.cost,
    )


def layered_networkx(instance: Instance) -> Any:
    """The layered graph of ``instance`` as a ``networkx.DiGraph``, for inspection.

    Vertices are ``(node, layer, tier rank)``, ``("result", exit block, node)`` and
    ``"sink"``; every edge carries ``arc`` (its id), ``cost``, ``time_s``, ``kind``
    and ``memory_bytes``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> view = layered_networkx(example_instance())
    >>> view.number_of_nodes(), view.number_of_edges()
    (46, 64)
    >>> view.edges[("md", 0, 0), ("cs", 0, 0)]["kind"]
    'transmit'
    """
    return build_layered_graph(instance).to_networkx()


def networkx_shortest_path(instance: Instance, weight: str = "cost") -> Placement | None:
    """The placement of a shortest path on ``weight`` found by networkx (slow; for
    teaching and as an independent check of the compiled search).

    It ignores the deadline and memory limits: it is the relaxation that
    :func:`run_layered_sp` solves. Returns None when no path exists.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> networkx_shortest_path(example_instance()).blocks
    ('md', 'md', 'md', 'md', 'md')
    >>> networkx_shortest_path(example_instance(), weight="time_s").blocks
    ('md', 'cs', 'cs', 'cs', 'cs')
    """
    import networkx as nx

    graph = build_layered_graph(instance)
    view = graph.to_networkx()
    source, sink = graph.vertex_label(graph.source), graph.vertex_label(graph.sink)
    try:
        vertices = nx.dijkstra_path(view, source, sink, weight=weight)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return None
    arcs = [view.edges[u, v]["arc"] for u, v in itertools.pairwise(vertices)]
    return graph.placement_from_arcs(arcs)
