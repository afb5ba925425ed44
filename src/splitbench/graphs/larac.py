"""Method ``larac``: Lagrangian relaxation of the deadline (LARAC, Juttner et al. 2001).

Energy with a deadline is a restricted shortest path over the layered graph
(:mod:`splitbench.graphs.layered`): minimise c(P) subject to d(P) <= T, with c the
arc ``cost`` and d the arc ``time_s``. Relaxing the deadline with a multiplier
mu >= 0 gives, for every mu, a lower bound on the optimum

    L(mu) = min_P [c(P) + mu d(P)] - mu T <= c(P*)

computed by one shortest path on the weights c + mu d. LARAC (A. Juttner,
B. Szviatovszki, I. Mecs, Z. Rajko, "Lagrange Relaxation Based Method for the QoS
Routing Problem", IEEE INFOCOM 2001) finds the best mu by keeping two paths: p_c,
cheap but too slow, and p_d, fast enough; the next multiplier makes them equally
good, mu = (c(p_c) - c(p_d)) / (d(p_d) - d(p_c)), and the shortest path r for
c + mu d either ties with them (then mu maximises L and the search stops) or
replaces p_d (if it meets the deadline) or p_c (if not). The answer is the cheapest
path found that meets the deadline; the bound is the largest L(mu) seen, so
``bound <= optimum <= answer`` and the gap is certified without a MILP. Status
``optimal`` when answer and bound meet within a relative 1e-9, else ``feasible``.

The first p_c is the fastest of the cheapest paths and the first p_d the cheapest
of the fastest (lexicographic searches), so ties in one criterion never cost the
other. If even p_d misses the deadline, no placement meets it (``infeasible``).

Memory is not relaxed: the shortest paths ignore it (so every L(mu) is still a
valid bound) and the answer is the cheapest deadline-feasible path found that also
fits in memory; when none does, the method declines (``skipped``; the bound stays
in ``info["lower_bound"]``) and label setting is the method to use.

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.methods import solve
>>> sol = solve(example_instance(), "larac")
>>> sol.status.value, sol.placement.blocks, round(sol.objective, 4), round(sol.bound, 4)
('feasible', ('md', 'md', 'es', 'es', 'es'), 0.0899, 0.0612)
"""

from __future__ import annotations

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
from splitbench.graphs.layered import build_layered_graph
from splitbench.instance.model import Instance
from splitbench.params import Param, parse_params
from splitbench.tolerances import OPTIMALITY_RTOL

__all__ = ["PARAMS", "run_larac"]

PARAMS = {"max_iterations": Param(int, 100, "Lagrange multiplier updates at most")}
"""The parameters of method ``larac``."""


def run_larac(instance: Instance, options: RunOptions) -> MethodResult:
    """Solve ``instance`` by LARAC (method ``larac``).

    Parameters
    ----------
    instance : Instance
        The instance.
    options : RunOptions
        ``params["max_iterations"]``: multiplier updates at most.

    Returns
    -------
    MethodResult
        The cheapest deadline-feasible path found with ``bound`` the best
        Lagrangian bound: ``optimal`` when they meet, ``feasible`` otherwise;
        ``infeasible`` when even the fastest placement misses the deadline;
        ``skipped`` when no path found fits in memory. ``info`` has the
        ``iterations``, the final ``multiplier`` and the ``lower_bound``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> res = run_larac(example_instance(), RunOptions(params={"max_iterations": 10}))
    >>> res.status.value, res.info["iterations"], res.info["multiplier"] > 0
    ('feasible', 3, True)
    """
    max_iterations = parse_params("method 'larac'", PARAMS, options.params)["max_iterations"]
    clock = options.clock
    graph = build_layered_graph(instance)
    search = PathSearch(graph)
    clock.mark_built()
    deadline = instance.request.deadline_s
    info: dict[str, Any] = {"iterations": 0, "multiplier": 0.0}
    result = partial(MethodResult, info=info, facts=graph_facts(graph))
    termination = Termination.COMPLETED

    if graph.infeasible_reason is not None:
        return result(Status.INFEASIBLE, bound=math.inf, reason=graph.infeasible_reason)
    cheap = search.lexicographic_path(graph.cost, graph.time_s)
    if cheap is None:
        return result(
            Status.INFEASIBLE, bound=math.inf, reason="the layered graph has no source-to-sink path"
        )
    bound = cheap.cost
    found: list[Path] = []
    if deadline_met(graph, cheap.time_s):
        found.append(cheap)
    else:
        assert deadline is not None
        fast = search.lexicographic_path(graph.time_s, graph.cost)
        if fast is None or not deadline_met(graph, fast.time_s):
            return result(
                Status.INFEASIBLE,
                bound=math.inf,
                reason=f"even the fastest placement takes "
                f"{math.inf if fast is None else fast.time_s:.6g} s, beyond the "
                f"deadline {deadline:g} s",
            )
        found.append(fast)
        while True:
            if info["iterations"] >= max_iterations:
                termination = Termination.OTHER_LIMIT
                break
            if clock.expired():
                termination = Termination.TIME_LIMIT
                break
            mu = (cheap.cost - fast.cost) / (fast.time_s - cheap.time_s)
            info["iterations"] += 1
            info["multiplier"] = mu
            lagrangian = search.shortest_path(graph.cost + mu * graph.time_s)
            assert lagrangian is not None  # the graph has a path
            value = lagrangian.cost + mu * lagrangian.time_s
            bound = max(bound, value - mu * deadline)
            level = cheap.cost + mu * cheap.time_s
            if value >= level - 1e-12 * abs(level):
                break
            if deadline_met(graph, lagrangian.time_s):
                fast = lagrangian
                found.append(fast)
            else:
                cheap = lagrangian
    info["lower_bound"] = bound
    fitting = [p for p in found if not memory_violations(graph, p.arcs)]
    if not fitting:
        broken = memory_violations(graph, found[-1].arcs)
        return result(
            Status.NONE,
            Termination.SKIPPED,
            reason=f"memory binds ({broken[0]}); LARAC relaxes "
            "only the deadline: use label-setting",
        )
    best = min(fitting, key=lambda p: p.cost)
    bound = min(bound, best.cost)  # bound <= optimum <= answer, also after rounding
    gap = (best.cost - bound) / max(abs(best.cost), 1e-300)
    info["gap"] = gap
    status = Status.OPTIMAL if gap <= OPTIMALITY_RTOL else Status.FEASIBLE
    return result(
        status,
        termination if status is not Status.OPTIMAL else Termination.COMPLETED,
        placement=graph.placement_from_arcs(best.arcs),
        claimed_objective=best.cost,
        bound=bound,
    )
