"""Baselines (MODEL.md section 5): device-only, cloud-only, single split and MCP.

Each baseline builds its placements by a fixed rule and keeps the best one the
evaluator (:func:`splitbench.evaluate.evaluate`) finds feasible; it returns status
``feasible`` with it, or ``no_solution`` with the reason (the violations of its
best candidate) when its rule yields nothing feasible: a failure of the baseline,
not a proof about the instance. Under the ``select`` policy the candidates run
over every admissible exit; under ``expected`` every block is deployed.

``device-only``
    Every deployed block on the request's source; the result (if any) goes to the
    destination by the route cheapest for the objective. The exit minimising the
    objective among the feasible ones is chosen.
``cloud-only``
    Every deployed block on the fastest computing node reachable from the source
    (largest ``ops_per_s``, ties by node order); hand-over 0 and the result take the
    cheapest route for the objective; best feasible exit.
``single-split``
    (Neurosurgeon, JointDNN style) blocks 1..s on the source and the rest on the
    fastest node, for every split s (0: all on the fastest node; the exit block:
    all on the source) and every admissible exit; tensors move along the
    minimum-latency route; the best feasible candidate wins.
``mcp``
    The FIN paper's "state-of-the-art cost minimisation" baseline as its authors
    evaluate it (probable origin: H_MCOP, Korkmaz & Krunz, INFOCOM 2001). The tiers
    form a ladder: ``tier_order`` when given, otherwise the tiers of the computing
    nodes by increasing top speed (so any network works). The walk starts on the
    source; for each block it considers the candidate nodes on the current tier and
    on the next tier up that has any (only admissible nodes: allowed, reachable).
    Its score for the step is the max-norm of the normalised constraint weights,
    max(0.5 x cumulative latency / T, A / a_exit) with a_exit the deepest exit
    reached so far; when the score exceeds 0.85 or that exit cannot meet A it takes
    the lowest-latency option (transfer along the minimum-latency route, then
    compute); otherwise it takes the least-cost option, and the cost it minimises
    is latency too (it ignores energy), so in effect it is latency-greedy. The walk
    stops when the cumulative latency passes the deadline; the exit is the deepest
    admissible one reached within it (under ``expected``: the final one). On the
    B-AlexNet scenario it places md, es, cs, cs, cs with the final exit, 0.199 J,
    whatever the targets. The scores are in ``info["mcp_scores"]``.

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.methods import solve
>>> sol = solve(example_instance(), "mcp")
>>> sol.placement.blocks, sol.placement.exit, round(sol.objective, 3)
(('md', 'es', 'cs', 'cs', 'cs'), 5, 0.199)
>>> solve(example_instance(), "device-only").reason  # doctest: +ELLIPSIS
'no feasible placement by this rule: latency 0.006564 s exceeds the deadline 0.005 s'
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from splitbench.evaluate import Evaluation, Placement, evaluate
from splitbench.instance.model import ExitPolicy, Instance, Objective
from splitbench.methods import RunOptions
from splitbench.routes import cheapest_route, route_cost
from splitbench.solution import MethodResult, Status

__all__ = ["run_cloud_only", "run_device_only", "run_mcp", "run_single_split"]

Route = Callable[[str, str, float], tuple[str, ...] | None]

MCP_THRESHOLD = 0.85
"""Score above which MCP takes the lowest-latency option (the authors' value)."""


def _exit_blocks(instance: Instance) -> list[int]:
    if instance.request.exit_policy is ExitPolicy.EXPECTED:
        return [instance.dnn.n_blocks]
    return [ex.after_block for ex in instance.admissible_exits()]


def _router(instance: Instance, objective: Objective) -> Route:
    net = instance.network
    cache: dict[tuple[str, str, float], tuple[str, ...] | None] = {}

    def route(a: str, b: str, size: float) -> tuple[str, ...] | None:
        if (a, b, size) not in cache:
            cache[(a, b, size)] = cheapest_route(net, a, b, size, objective)
        return cache[(a, b, size)]

    return route


def _placement(
    instance: Instance, nodes: Sequence[str], exit_block: int, route: Route
) -> Placement | None:
    """The placement of ``nodes`` with routes by ``route`` (None when one is missing)."""
    dnn = instance.dnn
    req = instance.request
    ends = [req.source, *nodes]
    routes: list[tuple[str, ...] | None] = []
    for k in range(exit_block):
        hop = route(ends[k], ends[k + 1], dnn.handover_bytes(k))
        if hop is None:
            return None
        routes.append(hop)
    if req.destination is None:
        routes.append(None)
    else:
        back = route(nodes[-1], req.destination, dnn.exit_at(exit_block).output_bytes)
        if back is None:
            return None
        routes.append(back)
    return Placement(blocks=tuple(nodes), exit=exit_block, routes=tuple(routes))


def _best(
    instance: Instance,
    candidates: Iterable[Placement | None],
    start: float,
    info: dict[str, Any] | None = None,
    why: str = "",
) -> MethodResult:
    """Evaluate every candidate; the cheapest feasible one, or ``no_solution``."""
    best: tuple[Placement, Evaluation] | None = None
    first_problem = why
    count = 0
    for placement in candidates:
        if placement is None:
            first_problem = first_problem or "a tensor cannot reach its node"
            continue
        count += 1
        ev = evaluate(instance, placement)
        if ev.feasible:
            if best is None or ev.objective < best[1].objective:
                best = (placement, ev)
        elif not first_problem:
            first_problem = ev.violations[0]
    extra = dict(info or {})
    extra["candidates"] = count
    elapsed = time.perf_counter() - start
    if best is None:
        return MethodResult(
            status=Status.NO_SOLUTION,
            solve_time_s=elapsed,
            build_time_s=0.0,
            info=extra,
            reason=f"no feasible placement by this rule: {first_problem or 'no candidate'}",
        )
    return MethodResult(
        status=Status.FEASIBLE,
        placement=best[0],
        claimed_objective=best[1].objective,
        solve_time_s=elapsed,
        build_time_s=0.0,
        info=extra,
    )


def fastest_node(instance: Instance) -> str | None:
    """The computing node with the most ``ops_per_s`` reachable from the source.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> fastest_node(example_instance())
    'cs'
    """
    net = instance.network
    reach = net.reachable_from(instance.request.source)
    nodes = [n for n in net.computing_nodes if n.id in reach]
    if not nodes:
        return None
    return max(nodes, key=lambda n: n.ops_per_s).id  # max keeps the first of ties


def run_device_only(instance: Instance, options: RunOptions) -> MethodResult:
    """Every block on the source (method ``device-only``); see the module docstring.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from splitbench.instance import example_instance
    >>> inst = example_instance()
    >>> loose = replace(inst, request=replace(inst.request, deadline_s=0.01))
    >>> res = run_device_only(loose, RunOptions())
    >>> res.status.value, res.placement.blocks
    ('feasible', ('md', 'md', 'md', 'md', 'md'))
    """
    del options
    start = time.perf_counter()
    source = instance.request.source
    route = _router(instance, instance.request.objective)
    return _best(
        instance,
        (_placement(instance, [source] * e, e, route) for e in _exit_blocks(instance)),
        start,
    )


def run_cloud_only(instance: Instance, options: RunOptions) -> MethodResult:
    """Every block on the fastest reachable node (method ``cloud-only``).

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> run_cloud_only(example_instance(), RunOptions()).reason
    "no feasible placement by this rule: block 1 is on cs, not among its allowed nodes ['md']"
    """
    del options
    start = time.perf_counter()
    target = fastest_node(instance)
    if target is None:
        return _best(instance, (), start, why="no computing node is reachable")
    route = _router(instance, instance.request.objective)
    return _best(
        instance,
        (_placement(instance, [target] * e, e, route) for e in _exit_blocks(instance)),
        start,
        {"node": target},
    )


def run_single_split(instance: Instance, options: RunOptions) -> MethodResult:
    """Best single split between the source and the fastest node (method ``single-split``).

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> res = run_single_split(example_instance(), RunOptions())
    >>> res.placement.blocks, res.info["candidates"]
    (('md', 'md', 'md', 'cs', 'cs'), 6)
    """
    del options
    start = time.perf_counter()
    target = fastest_node(instance)
    if target is None:
        return _best(instance, (), start, why="no computing node is reachable")
    source = instance.request.source
    route = _router(instance, Objective.LATENCY)
    candidates = (
        _placement(instance, [source] * split + [target] * (e - split), e, route)
        for e in _exit_blocks(instance)
        for split in range(e + 1)
    )
    return _best(instance, candidates, start, {"node": target})


def _ladder(instance: Instance) -> list[str]:
    """The tiers MCP climbs, lowest first."""
    computing = instance.network.computing_nodes
    order = instance.request.tier_order
    if order is not None:
        return [tier for tier in order if any(n.tier == tier for n in computing)]
    top: dict[str, float] = {}
    for node in computing:
        top[node.tier] = max(top.get(node.tier, 0.0), node.ops_per_s)
    return sorted(top, key=lambda tier: (top[tier], tier))


def run_mcp(instance: Instance, options: RunOptions) -> MethodResult:
    """The FIN paper's latency-greedy MCP baseline (method ``mcp``); see the module
    docstring.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> res = run_mcp(example_instance(), RunOptions())
    >>> res.info["mcp_tiers"], [s and round(s, 2) for s in res.info["mcp_scores"]]
    (['device', 'edge', 'cloud'], [None, 1.42, 1.42, 1.02, 1.02])
    """
    del options
    start = time.perf_counter()
    net, dnn, req = instance.network, instance.dnn, instance.request
    ladder = _ladder(instance)
    route = _router(instance, Objective.LATENCY)
    source_tier = net.node(req.source).tier
    position = ladder.index(source_tier) if source_tier in ladder else -1
    deadline = req.deadline_s if req.deadline_s is not None else math.inf
    a_min = req.min_accuracy or 0.0
    current, cumulative = req.source, 0.0
    nodes: list[str] = []
    scores: list[float | None] = []  # None: no exit reached yet
    reached: list[int] = []
    accuracy = 0.0
    for l in range(1, dnn.n_blocks + 1):
        latency_weight = 0.5 * cumulative / deadline if math.isfinite(deadline) else 0.0
        scores.append(max(latency_weight, a_min / accuracy) if accuracy > 0 else None)
        allowed = set(instance.candidate_nodes(l))
        options_here: list[tuple[float, int, int, str]] = []
        for step in range(position, len(ladder)):
            if step < 0:
                continue
            for index, node in enumerate(net.nodes):
                if node.tier != ladder[step] or node.id not in allowed:
                    continue
                hop = route(current, node.id, dnn.handover_bytes(l - 1))
                if hop is not None:
                    latency = route_cost(net, hop, dnn.handover_bytes(l - 1)).time_s + (
                        dnn.block(l).ops / node.ops_per_s
                    )
                    options_here.append((latency, step, index, node.id))
            if step > position and options_here:
                break  # the current tier and the next tier up that has candidates
        if not options_here:
            break
        latency, position, _, current = min(options_here)  # lowest latency, lower tier
        cumulative += latency
        nodes.append(current)
        if cumulative > deadline * (1 + 1e-9):
            break
        for ex in dnn.exits:
            if ex.after_block == l:
                accuracy = ex.accuracy or 0.0
                if ex.accuracy is None or ex.accuracy >= a_min:
                    reached.append(l)
    info: dict[str, Any] = {"mcp_tiers": ladder, "mcp_scores": scores}
    if req.exit_policy is ExitPolicy.EXPECTED:
        reached = [dnn.n_blocks] if len(nodes) == dnn.n_blocks else []
    if not reached:
        return _best(
            instance, (), start, info, why="the walk reaches no admissible exit within the deadline"
        )
    exit_block = reached[-1]
    return _best(
        instance, [_placement(instance, nodes[:exit_block], exit_block, route)], start, info
    )
