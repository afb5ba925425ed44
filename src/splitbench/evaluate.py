"""The one evaluator: latency, energy, accuracy, objective, violations.

Every method's answer is recomputed here (MODEL.md section 2); a method's own
claimed objective is never trusted. A :class:`Placement` names the node of each
deployed block, the chosen exit (by the index of the block it follows) and one
route per hand-over: hand-over 0 carries the input from the source to block 1,
hand-over k carries block k's output, and the last one carries the result to the
destination (``None`` when the request has no destination).

Select policy (one operating exit e after block l_e)::

    latency  = sum_{l<=l_e} c_l + branch time of e + sum_{k=0..l_e} t(R_k, s_k)
    energy   = sum_{l<=l_e} g_l + branch energy of e + sum_{k=0..l_e} h(R_k, s_k)
    accuracy = a_e

Expected policy (all blocks deployed, every exit active, q_l the share of samples
reaching block l, pi_e the share leaving at exit e)::

    E[latency] = sum_l q_l (c_l + t(R_{l-1})) + sum_e q_{l_e} branch_e + sum_e pi_e t(return_e)
    full-depth = sum_l (c_l + t(R_{l-1})) + sum_e branch_e + t(R_L)   (what the deadline binds)
    accuracy   = sum_e pi_e a_e

The return route of an early exit is the placement's own when it carries
``exit_routes`` (format 2 needs them: their bandwidth is shared); each given one must
run from the exit's block node to the destination over existing arcs, as a simple
path. Without one, the evaluator takes the cheapest route (for the objective's own
cost) from the block's node to the destination. The final exit's is hand-over L.
Exit routes under the select policy, without a destination, or for a block with no
early exit are violations.

Examples
--------
>>> from splitbench.instance import example_instance
>>> inst = example_instance()
>>> device_only = Placement(blocks=("md",) * 5, exit=5, routes=(("md",),) * 5 + (None,))
>>> ev = evaluate(inst, device_only)
>>> round(ev.latency_s * 1e3, 3), round(ev.energy_j, 4), ev.feasible
(6.564, 0.0394, False)
>>> ev.violations
('latency 0.006564 s exceeds the deadline 0.005 s',)
>>> split = Placement(("md", "es", "cs", "cs", "cs"), 5,
...                   (("md",), ("md", "es"), ("es", "cs"), ("cs",), ("cs",), None))
>>> round(evaluate(inst, split).energy_j, 3)
0.199
>>> from dataclasses import replace
>>> evaluate(inst, replace(split, exit_routes=((1, ("md",)),))).violations
('exit routes are given under the select policy (only the result route runs)',)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from splitbench.errors import PlacementError
from splitbench.instance.model import ExitPolicy, Instance, Objective
from splitbench.placement import Placement
from splitbench.routes import RouteCost, cheapest_route, route_cost
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = ["Evaluation", "Placement", "evaluate", "result_route"]


@dataclass(frozen=True)
class Evaluation:
    """What the evaluator computed for one placement.

    Attributes
    ----------
    objective : float
        The value minimised: ``latency_s`` or ``energy_j`` as the request says.
    latency_s, energy_j : float
        Select policy: the latency and energy. Expected policy: their expectations.
    deadline_latency_s : float
        The latency the deadline binds (select: ``latency_s``; expected: full depth).
    accuracy : float or None
        The exit's accuracy (select) or the expected accuracy; None when unknown.
    feasible : bool
        True when ``violations`` is empty.
    violations : tuple of str
        One readable sentence per broken rule.
    """

    objective: float
    latency_s: float
    energy_j: float
    deadline_latency_s: float
    accuracy: float | None
    feasible: bool
    violations: tuple[str, ...]


def _check_structure(instance: Instance, placement: Placement) -> None:
    dnn = instance.dnn
    exit_blocks = [ex.after_block for ex in dnn.exits]
    if placement.exit not in exit_blocks:
        raise PlacementError(
            f"placement exit {placement.exit} is not an exit (exits follow blocks {exit_blocks})"
        )
    if instance.request.exit_policy is ExitPolicy.EXPECTED and placement.exit != dnn.n_blocks:
        raise PlacementError(
            f"under the expected policy the placement's exit must be the final one "
            f"({dnn.n_blocks}), got {placement.exit}"
        )
    if len(placement.blocks) != placement.exit:
        raise PlacementError(
            f"placement lists {len(placement.blocks)} block nodes; exit {placement.exit} "
            f"deploys {placement.exit}"
        )
    if len(placement.routes) != placement.exit + 1:
        raise PlacementError(
            f"placement lists {len(placement.routes)} routes; exit {placement.exit} "
            f"needs {placement.exit + 1} (hand-overs 0..{placement.exit})"
        )
    has_destination = instance.request.destination is not None
    if (placement.routes[-1] is None) == has_destination:
        raise PlacementError(
            "the last route (the result) must be "
            + ("a node path to the destination" if has_destination else "null: no destination")
        )
    known = instance.network.node_index
    for k, route in enumerate(placement.routes):
        if route is None and k != placement.exit:
            raise PlacementError(f"route {k} is null; only the result route may be")
    named = [(f"route {k}", r) for k, r in enumerate(placement.routes) if r is not None]
    named += [(f"the exit route after block {l}", r) for l, r in placement.exit_routes]
    for name, route in named:
        if not route:
            raise PlacementError(f"{name} is empty; a route that stays is [node]")
        for node in route:
            if node not in known:
                raise PlacementError(f"{name} names unknown node {node!r}")
    for l, node in enumerate(placement.blocks, start=1):
        if node not in known:
            raise PlacementError(f"block {l} is placed on unknown node {node!r}")


def _node_violations(instance: Instance, placement: Placement) -> list[str]:
    net = instance.network
    req = instance.request
    out: list[str] = []
    used: dict[str, float] = {}
    previous_rank: int | None = None
    for l, node_id in enumerate(placement.blocks, start=1):
        node = net.node(node_id)
        if not node.can_compute:
            out.append(f"block {l} is on {node_id}, which cannot compute")
        allowed = req.allowed_for(l)
        if allowed is not None and node_id not in allowed:
            out.append(f"block {l} is on {node_id}, not among its allowed nodes {sorted(allowed)}")
        if req.tier_order is not None:
            rank = req.tier_rank(node.tier)
            if rank is None:
                out.append(
                    f"block {l} is on {node_id}, whose tier {node.tier!r} is not in tier_order"
                )
            elif previous_rank is not None and rank < previous_rank:
                out.append(f"block {l} on {node_id} ({node.tier}) moves down the tier order")
            previous_rank = rank if rank is not None else previous_rank
        used[node_id] = used.get(node_id, 0.0) + instance.dnn.block(l).memory_bytes
    for node_id, need in used.items():
        capacity = net.node(node_id).memory_bytes
        if capacity is not None and need > capacity * (1 + FEASIBILITY_RTOL):
            out.append(f"blocks on {node_id} need {need:g} bytes of memory; it has {capacity:g}")
    return out


def _misplaced_exit_routes(instance: Instance, placement: Placement) -> list[str]:
    """Exit routes the request cannot use: select policy, no destination, no early exit."""
    if not placement.exit_routes:
        return []
    if instance.request.exit_policy is ExitPolicy.SELECT:
        return ["exit routes are given under the select policy (only the result route runs)"]
    if instance.request.destination is None:
        return ["exit routes are given, but the request has no destination"]
    early = {ex.after_block for ex in instance.dnn.exits[:-1]}
    out: list[str] = []
    seen: set[int] = set()
    for l, _ in placement.exit_routes:
        if l not in early:
            out.append(
                f"the exit route after block {l} is for no early exit (early exits "
                f"follow blocks {sorted(early)})"
            )
        elif l in seen:
            out.append(f"the exit route after block {l} is given twice")
        seen.add(l)
    return out


def _compute(instance: Instance, node_id: str, ops: float) -> tuple[float, float]:
    node = instance.network.node(node_id)
    if ops == 0:
        return 0.0, 0.0
    if not node.can_compute:
        return math.inf, math.inf
    seconds = ops / node.ops_per_s
    return seconds, seconds * node.power_w


def _checked_cost(
    instance: Instance,
    route: tuple[str, ...],
    ends: tuple[str | None, str | None],
    n_bytes: float,
    names: tuple[str, str],
    violations: list[str],
) -> RouteCost:
    """The cost of ``route``, recording wrong ends and missing arcs under ``names``
    (how the ends and the arcs sentences call the route)."""
    start, end = ends
    if route[0] != start or route[-1] != end:
        violations.append(
            f"{names[0]} runs {route[0]} -> {route[-1]}; it must run {start} -> {end}"
        )
    cost = route_cost(instance.network, route, n_bytes)
    if cost.missing_arc is not None:
        u, v = cost.missing_arc
        violations.append(f"{names[1]} uses {u} -> {v}, which is not a link")
    return cost


def _route_terms(
    instance: Instance, placement: Placement, violations: list[str]
) -> list[tuple[float, float]]:
    """(time, energy) of every hand-over route, checking its ends and arcs."""
    dnn = instance.dnn
    ends = [instance.request.source, *placement.blocks, instance.request.destination]
    terms: list[tuple[float, float]] = []
    for k, route in enumerate(placement.routes):
        if route is None:
            terms.append((0.0, 0.0))
            continue
        what = "the result" if k == placement.exit else f"hand-over {k}"
        size = (
            dnn.exit_at(placement.exit).output_bytes
            if k == placement.exit
            else (dnn.handover_bytes(k))
        )
        names = (f"route {k} ({what})", f"route {k}")
        cost = _checked_cost(instance, route, (ends[k], ends[k + 1]), size, names, violations)
        terms.append((cost.time_s, cost.energy_j))
    return terms


def result_route(
    instance: Instance, placement: Placement, after_block: int
) -> tuple[str, ...] | None:
    """The route the result of the exit after ``after_block`` takes to the destination.

    The placement's last route for its own exit; under the expected policy, for an
    early exit, the placement's exit route when it has one, else the cheapest route
    for the objective's own cost. None when there is no destination, when that exit
    does not run (select policy) or when the destination cannot be reached.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> inst = example_instance()
    >>> result_route(inst, Placement(("md",), 1, (("md",), None)), 1) is None
    True
    """
    destination = instance.request.destination
    if after_block == placement.exit:
        return placement.routes[-1]
    if destination is None or instance.request.exit_policy is ExitPolicy.SELECT:
        return None
    given = placement.exit_route(after_block)
    if given is not None:
        return given
    return cheapest_route(
        instance.network,
        placement.blocks[after_block - 1],
        destination,
        instance.dnn.exit_at(after_block).output_bytes,
        instance.request.objective,
    )


def _early_result(
    instance: Instance, placement: Placement, after_block: int, violations: list[str]
) -> tuple[float, float]:
    """(time, energy) of the result of the early exit after ``after_block`` (expected
    policy, with a destination), checking a given exit route."""
    destination = instance.request.destination
    back = result_route(instance, placement, after_block)
    if back is None:
        violations.append(
            f"the result of the exit after block {after_block} "
            f"cannot reach the destination {destination}"
        )
        return math.inf, math.inf
    size = instance.dnn.exit_at(after_block).output_bytes
    if placement.exit_route(after_block) is None:  # the evaluator's own choice
        cost = route_cost(instance.network, back, size)
        return cost.time_s, cost.energy_j
    name = f"the exit route after block {after_block}"
    start = placement.blocks[after_block - 1]
    cost = _checked_cost(instance, back, (start, destination), size, (name, name), violations)
    if len(set(back)) < len(back):
        violations.append(f"{name} visits a node twice; it must be a simple path")
    return cost.time_s, cost.energy_j


def _select(
    instance: Instance, placement: Placement, routes: Sequence[tuple[float, float]]
) -> tuple[float, float, float, float | None]:
    dnn = instance.dnn
    latency = sum(r[0] for r in routes)
    energy = sum(r[1] for r in routes)
    for l, node_id in enumerate(placement.blocks, start=1):
        t, e = _compute(instance, node_id, dnn.block(l).ops)
        latency += t
        energy += e
    ex = dnn.exit_at(placement.exit)
    t, e = _compute(instance, placement.blocks[-1], ex.ops)
    return latency + t, energy + e, latency + t, ex.accuracy


def _weighted(share: float, value: float) -> float:
    """``share * value``, with a zero share costing nothing even when the value is
    infinite (a broken route no sample takes is a violation, not a NaN cost)."""
    return 0.0 if share == 0 else share * value


def _expected(
    instance: Instance,
    placement: Placement,
    routes: Sequence[tuple[float, float]],
    violations: list[str],
) -> tuple[float, float, float, float | None]:
    dnn = instance.dnn
    q = dnn.reach_shares()
    pi = dnn.exit_shares()
    exp_t = exp_e = full_t = 0.0
    for l, node_id in enumerate(placement.blocks, start=1):
        t, e = _compute(instance, node_id, dnn.block(l).ops)
        rt, re = routes[l - 1]
        exp_t += _weighted(q[l - 1], t + rt)
        exp_e += _weighted(q[l - 1], e + re)
        full_t += t + rt
    for ex, share in zip(dnn.exits, pi, strict=True):
        node_id = placement.blocks[ex.after_block - 1]
        t, e = _compute(instance, node_id, ex.ops)
        exp_t += _weighted(q[ex.after_block - 1], t)
        exp_e += _weighted(q[ex.after_block - 1], e)
        full_t += t
        if ex is dnn.final_exit:
            rt, re = routes[-1]
            full_t += rt
        elif instance.request.destination is None:
            rt = re = 0.0
        else:
            rt, re = _early_result(instance, placement, ex.after_block, violations)
        exp_t += _weighted(share, rt)
        exp_e += _weighted(share, re)
    accuracies = [ex.accuracy for ex in dnn.exits]
    accuracy = (
        None
        if any(a is None for a in accuracies)
        else sum(p * (a or 0.0) for p, a in zip(pi, accuracies, strict=True))
    )
    return exp_t, exp_e, full_t, accuracy


def evaluate(instance: Instance, placement: Placement) -> Evaluation:
    """Compute the cost, accuracy and feasibility of ``placement`` on ``instance``.

    Raises
    ------
    PlacementError
        When the placement is malformed (wrong lengths, unknown node ids or exit);
        broken rules of a well-formed placement are reported as violations instead.
    """
    _check_structure(instance, placement)
    req = instance.request
    violations = _node_violations(instance, placement)
    violations += _misplaced_exit_routes(instance, placement)
    routes = _route_terms(instance, placement, violations)
    if req.exit_policy is ExitPolicy.SELECT:
        latency, energy, bound_latency, accuracy = _select(instance, placement, routes)
    else:
        latency, energy, bound_latency, accuracy = _expected(
            instance, placement, routes, violations
        )
    if req.min_accuracy is not None and (
        accuracy is None or accuracy < req.min_accuracy * (1 - FEASIBILITY_RTOL)
    ):
        violations.append(f"accuracy {accuracy:g} is below min_accuracy {req.min_accuracy:g}")
    if req.deadline_s is not None and not bound_latency <= req.deadline_s * (1 + FEASIBILITY_RTOL):
        label = "latency" if req.exit_policy is ExitPolicy.SELECT else "full-depth latency"
        violations.append(
            f"{label} {bound_latency:.4g} s exceeds the deadline {req.deadline_s:g} s"
        )
    objective = latency if req.objective is Objective.LATENCY else energy
    return Evaluation(
        objective=objective,
        latency_s=latency,
        energy_j=energy,
        deadline_latency_s=bound_latency,
        accuracy=accuracy,
        feasible=not violations,
        violations=tuple(violations),
    )
