"""The baselines: device-only, cloud-only and the best single split.

Each baseline builds its placements by a fixed rule and keeps the best one the
evaluator (:func:`splitbench.evaluate.evaluate`) finds feasible. When its rule
yields nothing feasible it still returns the rule's cheapest placement, which the
runner reports ``invalid`` with the violations (a failure of the baseline, not a
proof about the instance); status ``none`` only when the rule yields no placement.
Under the ``select`` policy the candidates run over every admissible exit; under
``expected`` every block is deployed.

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

The FIN paper's MCP baseline is :mod:`splitbench.methods.mcp`.

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.methods import solve
>>> device_only = solve(example_instance(), "device-only")
>>> device_only.status.value, device_only.violations
('invalid', ('latency 0.006564 s exceeds the deadline 0.005 s',))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from splitbench.answer import MethodResult, RunOptions, Status
from splitbench.evaluate import Evaluation, evaluate
from splitbench.instance.model import ExitPolicy, Instance, Objective
from splitbench.placement import Placement
from splitbench.routes import RouteTree, route_tree

__all__ = [
    "fastest_node",
    "router",
    "run_cloud_only",
    "run_device_only",
    "run_single_split",
    "tier_ladder",
    "with_routes",
]


Route = Callable[[str, str, float], tuple[str, ...] | None]


def _exit_blocks(instance: Instance) -> list[int]:
    if instance.request.exit_policy is ExitPolicy.EXPECTED:
        return [instance.dnn.n_blocks]
    return [ex.after_block for ex in instance.admissible_exits()]


def router(instance: Instance, objective: Objective) -> Route:
    """``route(a, b, size)``: the cheapest route for ``objective``, one compiled search
    per (start, size) however many targets are asked (fast on large networks)."""
    net = instance.network
    trees: dict[tuple[str, float], RouteTree] = {}

    def route(a: str, b: str, size: float) -> tuple[str, ...] | None:
        if a == b:
            return (a,)
        if (a, size) not in trees:
            trees[(a, size)] = route_tree(net, a, size, objective)
        return trees[(a, size)].route_to(b)

    return route


def with_routes(
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
    info: dict[str, Any] | None = None,
    why: str = "",
) -> MethodResult:
    """The cheapest feasible candidate; when the rule yields none, its cheapest
    candidate anyway (the evaluator reports it ``invalid`` with the violations);
    ``none`` only when the rule yields no placement at all."""
    best: tuple[Placement, Evaluation] | None = None
    best_broken: tuple[Placement, Evaluation] | None = None
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
        elif best_broken is None or ev.objective < best_broken[1].objective:
            best_broken = (placement, ev)
    extra = dict(info or {})
    extra["candidates"] = count
    if best is None and best_broken is not None:
        return MethodResult(
            Status.FEASIBLE,
            placement=best_broken[0],
            claimed_objective=best_broken[1].objective,
            info=extra,
            reason=f"no placement by this rule meets every limit: {best_broken[1].violations[0]}",
        )
    if best is None:
        return MethodResult(
            Status.NONE,
            info=extra,
            reason=f"no placement by this rule: {first_problem or 'no candidate'}",
        )
    return MethodResult(
        Status.FEASIBLE,
        placement=best[0],
        claimed_objective=best[1].objective,
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
    source = instance.request.source
    route = router(instance, instance.request.objective)
    return _best(
        instance,
        (with_routes(instance, [source] * e, e, route) for e in _exit_blocks(instance)),
    )


def run_cloud_only(instance: Instance, options: RunOptions) -> MethodResult:
    """Every block on the fastest reachable node (method ``cloud-only``).

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> run_cloud_only(example_instance(), RunOptions()).reason  # doctest: +ELLIPSIS
    "no placement by this rule meets every limit: block 1 is on cs, not among ..."
    """
    del options
    target = fastest_node(instance)
    if target is None:
        return _best(instance, (), why="no computing node is reachable")
    route = router(instance, instance.request.objective)
    return _best(
        instance,
        (with_routes(instance, [target] * e, e, route) for e in _exit_blocks(instance)),
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
    target = fastest_node(instance)
    if target is None:
        return _best(instance, (), why="no computing node is reachable")
    source = instance.request.source
    route = router(instance, Objective.LATENCY)
    candidates = (
        with_routes(instance, [source] * split + [target] * (e - split), e, route)
        for e in _exit_blocks(instance)
        for split in range(e + 1)
    )
    return _best(instance, candidates, {"node": target})


def tier_ladder(instance: Instance) -> list[str]:
    """The tiers of the computing nodes, lowest first: ``tier_order`` when given,
    otherwise by increasing top speed (``ops_per_s``).

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> tier_ladder(example_instance())
    ['device', 'edge', 'cloud']
    """
    computing = instance.network.computing_nodes
    order = instance.request.tier_order
    if order is not None:
        return [tier for tier in order if any(n.tier == tier for n in computing)]
    top: dict[str, float] = {}
    for node in computing:
        top[node.tier] = max(top.get(node.tier, 0.0), node.ops_per_s)
    return sorted(top, key=lambda tier: (top[tier], tier))
