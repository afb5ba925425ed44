"""Method ``sequential``: the requests one by one, each on the capacity the others left.

Algorithm (format 2, MULTI.md). The requests are taken in a fixed order (param
``order``): ``demand`` (default, :func:`~splitbench.methods.residual.demand_order`:
the largest demand first, the rate times the ops up to the cheapest admissible exit,
ties in file order) or ``file``. Each request gets the cheapest placement, for the
instance's objective, that fits the *residual* network: the compute, bandwidth and
memory the earlier requests left, its own deadline, accuracy and memory included
(:func:`~splitbench.methods.residual.place_in_order`: an exact resource-constrained
shortest path over its layered graph by label setting, no MILP). Its loads are then
committed and the next request is placed.

Guarantee: every answer meets every limit (each placement fits what the earlier ones
left, so all of them together fit the network); status ``feasible``, with no
optimality claim and no bound. When a request fits nowhere the method stops with
``none`` and the reason naming that request, never ``infeasible``: an earlier
request may have taken the room it needed, and another order may succeed. With one
request (format 1, :func:`run_sequential`) the answer is the exact optimum (label
setting on an empty network), still reported ``feasible``: the runner upgrades
nothing. Requests under the expected exit policy are declined (the residual budgets
are the select policy's loads).

Time: the build phase is empty (each layered graph is built when its request is
placed); the label searches stop at the clock's time limit (termination
``time_limit``) or above ``max_labels`` labels (``other_limit``).

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.answer import RunOptions
>>> from splitbench.instance import MultiInstance, example_instance
>>> one = MultiInstance.from_single(example_instance(), rate_per_s=150.0)
>>> two = replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))
>>> result = run_sequential_multi(two, RunOptions())
>>> result.status.value, [result.placement[rid].blocks[:3] for rid in ("r1", "r2")]
('feasible', [('md', 'md', 'md'), ('md', 'md', 'es')])
>>> round(result.claimed_objective, 2)  # W: here the optimum too (routing-milp)
26.33
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

from splitbench.answer import Clock, MethodResult, RunOptions, Status, Termination
from splitbench.evaluate import evaluate
from splitbench.graphs.label_setting import PARAMS as LABEL_PARAMS
from splitbench.instance.model import ExitPolicy, Instance, Objective
from splitbench.instance.multi import MultiInstance
from splitbench.methods.residual import demand_order, place_in_order
from splitbench.params import Param, parse_params
from splitbench.placement import MultiPlacement

__all__ = [
    "ORDERS",
    "PARAMS",
    "as_multi",
    "claimed_objective",
    "expected_policy_reason",
    "run_sequential",
    "run_sequential_multi",
    "single_result",
    "stop_at",
]

ORDERS = ("demand", "file")
"""The values of param ``order``."""

PARAMS = {
    "order": Param(
        str,
        "demand",
        "placement order: demand (largest demand first, ties in file order) or file",
        ORDERS,
    ),
    "max_labels": LABEL_PARAMS["max_labels"],
}
"""The parameters of method ``sequential``."""


def stop_at(clock: Clock) -> float:
    """The ``time.perf_counter()`` value at which ``clock``'s time limit passes (inf
    without one)."""
    remaining = clock.remaining_s()
    return math.inf if remaining is None else time.perf_counter() + remaining


def expected_policy_reason(instance: MultiInstance) -> str | None:
    """Why a residual-capacity heuristic declines ``instance`` (a request under the
    expected exit policy, whose loads and early-exit routes it does not model), or None.

    Examples
    --------
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> expected_policy_reason(MultiInstance.from_single(example_instance())) is None
    True
    """
    for req in instance.requests:
        if req.request.exit_policy is ExitPolicy.EXPECTED:
            return (
                f"request {req.id!r} has the expected exit policy: the residual-capacity "
                f"heuristics take the select policy only"
            )
    return None


def as_multi(instance: Instance) -> MultiInstance:
    """A format-1 instance as one request of format 2, at a rate (a power of two, at
    most 1 per second) at which no load can reach a capacity: format 1 has no load
    limits, so the shared limits must not bind.

    A placement runs at most every block and exit branch on one node and sends every
    hand-over and result at most once over one arc (routes are simple paths), so those
    totals bound its loads.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> as_multi(example_instance()).requests[0].rate_per_s
    1.0
    """
    dnn, net = instance.dnn, instance.network
    ops = sum(b.ops for b in dnn.blocks) + sum(ex.ops for ex in dnn.exits)
    bits = 8.0 * (
        sum(dnn.handover_bytes(k) for k in range(dnn.n_blocks))
        + sum(ex.output_bytes for ex in dnn.exits)
    )
    rate = 1.0
    if ops > 0:
        rate = min([rate, *(n.ops_per_s / ops for n in net.nodes if n.ops_per_s > 0)])
    if bits > 0:
        rate = min([rate, *(a.bandwidth_bps / bits for a in net.arcs)])
    rate = 2.0 ** math.floor(math.log2(rate)) if rate > 0 else 2.0**-60
    return MultiInstance.from_single(instance, rate_per_s=rate)


def claimed_objective(instance: MultiInstance, placement: MultiPlacement) -> float:
    """The objective of ``placement`` (MULTI.md): each request's own figure, weighted by
    its rate (energy: the sum, W; latency: the rate-weighted mean, s)."""
    values = [
        (instance.request(rid).rate_per_s, evaluate(instance.single(rid), p).objective)
        for rid, p in placement.requests
    ]
    total = math.fsum(rate * value for rate, value in values)
    return total if instance.objective is Objective.ENERGY else total / instance.total_rate


def single_result(instance: Instance, multi: MultiInstance, result: MethodResult) -> MethodResult:
    """A format-2 result on ``multi`` (= :func:`as_multi` of ``instance``) as the
    format-1 result on ``instance``: the one Placement, its own objective, and under
    energy the bounds divided by the rate (an exact power of two)."""
    placement = result.placement
    single = placement.requests[0][1] if isinstance(placement, MultiPlacement) else None
    claimed = evaluate(instance, single).objective if single is not None else None
    bound, facts = result.bound, result.facts
    rate = multi.requests[0].rate_per_s
    if multi.objective is Objective.ENERGY:
        bound = None if bound is None else bound / rate
        if facts.lp_bound is not None:
            facts = replace(facts, lp_bound=facts.lp_bound / rate)
    return MethodResult(
        result.status,
        result.termination,
        placement=single,
        claimed_objective=claimed,
        bound=bound,
        reason=result.reason,
        solver_time_s=result.solver_time_s,
        facts=facts,
        info={**result.info, "rate_per_s": rate},
    )


def run_sequential_multi(instance: MultiInstance, options: RunOptions) -> MethodResult:
    """Method ``sequential`` on a format-2 instance (see the module docstring).

    Parameters
    ----------
    instance : MultiInstance
        The requests and their shared network (select exit policy).
    options : RunOptions
        :data:`PARAMS`: ``order`` (``demand`` or ``file``) and ``max_labels`` (the
        label searches' limit); the clock's time limit is honoured.

    Returns
    -------
    MethodResult
        ``feasible`` with every request's placement (``info["order"]``: the order
        used); ``none`` with the reason when a request fits nowhere, the time limit
        passes or a label search stops; ``skipped`` under the expected policy.

    Examples
    --------
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> multi = MultiInstance.from_single(example_instance(), rate_per_s=600.0)
    >>> result = run_sequential_multi(multi, RunOptions())  # block 1 alone needs 13.6 Tops/s
    >>> result.status.value, result.reason  # doctest: +ELLIPSIS
    ('none', 'request r1: no placement fits the residual capacity (...) ...')
    """
    params = parse_params("method 'sequential'", PARAMS, options.params)
    clock = options.clock
    clock.mark_built()
    declined = expected_policy_reason(instance)
    if declined is not None:
        return MethodResult.skipped(declined)
    order = demand_order(instance) if params["order"] == "demand" else list(instance.request_ids)
    placed = place_in_order(
        instance, order, max_labels=params["max_labels"], stop_at=stop_at(clock)
    )
    done = len(placed.kept) + len(placed.moved)
    info: dict[str, Any] = {"order": order, "placed": done}
    if placed.placement is None:
        reason = placed.reason or "a request did not fit"
        if clock.expired():
            termination = Termination.TIME_LIMIT
        elif placed.stopped:
            termination = Termination.OTHER_LIMIT
        else:
            termination = Termination.COMPLETED
            reason += f" (placed {done} of {len(order)} requests in {params['order']} order; " + (
                "it was the first: it does not fit even the empty network)"
                if done == 0
                else "another order may fit: a greedy failure proves nothing)"
            )
        return MethodResult(Status.NONE, termination, reason=reason, info=info)
    return MethodResult(
        Status.FEASIBLE,
        placement=placed.placement,
        claimed_objective=claimed_objective(instance, placed.placement),
        info=info,
    )


def run_sequential(instance: Instance, options: RunOptions) -> MethodResult:
    """Method ``sequential`` on a format-1 instance: its one request alone, the exact
    cheapest placement (label setting), reported ``feasible``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> result = run_sequential(example_instance(), RunOptions())
    >>> result.status.value, result.placement.blocks, round(result.claimed_objective, 4)
    ('feasible', ('md', 'md', 'md', 'cs', 'cs'), 0.0856)
    """
    multi = as_multi(instance)
    return single_result(instance, multi, run_sequential_multi(multi, options))
