"""Method ``fin`` on format 2: FIN per request, on the capacity the earlier ones left.

The multi-application setting of the FIN journal version (IEEE/ACM ToN 2025): each
user is solved by FIN (:func:`~splitbench.graphs.fin.run_fin`, its parameters
``gamma``, ``rounding``, ... unchanged), here one after the other on the residual
network. Algorithm, for the requests in demand order
(:func:`~splitbench.methods.residual.demand_order`: the largest demand first, ties in
file order):

1. FIN on the request's own instance (:meth:`MultiInstance.single`); its placement
   is kept when it fits what the earlier requests left
   (:meth:`~splitbench.methods.residual.Usage.violations`).
2. Otherwise FIN again, at most ``retries`` times, on a *pruned* instance: the same
   request with fewer allowed nodes per block and fewer arcs (FIN honours
   ``allowed_nodes`` and runs on any network, :mod:`splitbench.graphs.fin`). Pruned
   are (a) every node that cannot take a block on its own, for lack of residual
   compute (rate x the block's ops) or memory (the block's weights, unless the same
   DNN's are there already); (b) every arc without the residual bandwidth for the
   smallest tensor the request ever sends; (c) what the last FIN placement overloaded:
   on a node over its compute or memory, its blocks there deepest first (block 1 is
   often pinned to the device) until what they take covers the excess, and every
   overloaded arc. Each retry prunes more (or the attempts
   stop), and the first pruned placement that fits is kept.
3. If none fits, the request fails: ``none`` with the reason (FIN's, or the last
   overload). With ``fallback="residual"`` the request instead gets the exact
   cheapest placement on the residual network
   (:func:`~splitbench.methods.residual.place_on_residual`, label setting, not FIN;
   ``info["fallback_used"]`` lists them).

Guarantee: every answer meets every limit; each request's placement meets its own
deadline (FIN's guarantee) and fits what the earlier ones left. Status
``feasible``, with ``bound`` the rate-weighted sum of FIN's lower bounds on each
request alone (step 1's rounded-down pass on the unpruned instance, when every
request has one): the coupled optimum costs at least each request's optimum alone.
A failure is ``none``, not ``infeasible`` (the earlier requests may have taken the
room), even when FIN proves a request infeasible on its own (the reason says so).
Requests under the expected exit policy are declined.

Time: the runner's clock covers every FIN run (each gets the time left); the build
phase is empty.

Examples
--------
>>> from splitbench.answer import RunOptions
>>> from splitbench.families import generate
>>> inst = generate("fin-multi", {"users": 12, "dnns": "b-alexnet"})  # the edge binds
>>> result = run_fin_multi(inst, RunOptions())
>>> result.status.value, result.info["pruned"]  # the users FIN had to re-run
('feasible', ['u12-b-alexnet'])
>>> result.placement["u1-b-alexnet"].blocks  # FIN's own placement, kept
('md1', 'md1', 'es', 'es', 'es')
>>> result.placement["u12-b-alexnet"].blocks  # the edge is full: pruned, then FIN again
('md12', 'md12', 'cs', 'cs', 'cs')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from splitbench.answer import Clock, MethodResult, RunOptions, Status, Termination
from splitbench.graphs.fin import PARAMS as FIN_PARAMS
from splitbench.graphs.fin import run_fin
from splitbench.instance.model import Instance, Link, Network, Objective
from splitbench.instance.multi import MultiInstance
from splitbench.methods.residual import Usage, demand_order, place_on_residual
from splitbench.methods.sequential import (
    claimed_objective,
    expected_policy_reason,
    stop_at,
)
from splitbench.params import Param, parse_params
from splitbench.placement import MultiPlacement, Placement
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = ["MULTI_PARAMS", "PARAMS", "run_fin_multi"]

MULTI_PARAMS = {
    "retries": Param(
        int, 3, "FIN re-runs per request on an instance pruned by the residual capacity"
    ),
    "fallback": Param(
        str,
        "none",
        "a request FIN cannot fit: fail (none) or its exact cheapest placement on the "
        "residual network (residual, label setting)",
        ("none", "residual"),
    ),
}
"""The parameters of ``fin`` that only format 2 uses."""

PARAMS = {**FIN_PARAMS, **MULTI_PARAMS}
"""Every parameter of ``fin`` on format 2: FIN's own and :data:`MULTI_PARAMS`."""

_SLACK = 1 + FEASIBILITY_RTOL


@dataclass
class _Pruned:
    """What a request may no longer use: (block, node id) pairs and arcs (u, v)."""

    blocks: set[tuple[int, str]] = field(default_factory=set)
    arcs: set[tuple[str, str]] = field(default_factory=set)

    def size(self) -> int:
        return len(self.blocks) + len(self.arcs)

    def instance(self, single: Instance) -> Instance:
        """``single`` without the pruned nodes (per block) and arcs."""
        if not self.size():
            return single
        allowed = dict(single.request.allowed_nodes)
        for l in sorted({l for l, _ in self.blocks}):
            allowed[l] = tuple(n for n in single.candidate_nodes(l) if (l, n) not in self.blocks)
        links: list[Link] = []
        for link in single.network.links:
            ways = [(link.source, link.target)]
            ways += [] if link.directed else [(link.target, link.source)]
            kept = [way for way in ways if way not in self.arcs]
            if len(kept) == len(ways):
                links.append(link)
            else:
                links.extend(replace(link, source=u, target=v, directed=True) for u, v in kept)
        request = replace(single.request, allowed_nodes=tuple(allowed.items()))
        return replace(single, network=Network(single.network.nodes, tuple(links)), request=request)


def _residual_pruning(usage: Usage, rid: str, pruned: _Pruned) -> None:
    """Add (a) and (b) of the module docstring to ``pruned``."""
    inst = usage.instance
    single = inst.single(rid)
    req, dnn, u = inst.request(rid), single.dnn, inst.max_utilization
    index = inst.network.node_index
    memory = usage.memory()
    for l, block in enumerate(dnn.blocks, start=1):
        for node_id in single.candidate_nodes(l):
            n = index[node_id]
            node = inst.network.nodes[n]
            no_compute = req.rate_per_s * block.ops > u * node.ops_per_s * _SLACK - usage.ops[n]
            no_memory = (
                node.memory_bytes is not None
                and (n, dnn.name, l) not in usage.held
                and block.memory_bytes > node.memory_bytes * _SLACK - memory[n]
            )
            if no_compute or no_memory:
                pruned.blocks.add((l, node_id))
    sizes = [dnn.handover_bytes(k) for k in range(dnn.n_blocks)]
    sizes += [ex.output_bytes for ex in single.admissible_exits() or dnn.exits]
    smallest = 8.0 * req.rate_per_s * min(sizes)
    for e, arc in enumerate(inst.network.arcs):
        if smallest > u * arc.bandwidth_bps * _SLACK - usage.bits[e]:
            pruned.arcs.add((arc.source, arc.target))


def _overload_pruning(usage: Usage, rid: str, placement: Placement, pruned: _Pruned) -> None:
    """Add (c) of the module docstring: what ``placement`` overloads."""
    inst = usage.instance
    req = inst.request(rid)
    dnn, u = inst.dnn(req.dnn), inst.max_utilization
    trial = usage.copy()
    trial.add(rid, placement)
    memory = trial.memory()

    def peel(blocks: list[int], excess: float, amount: Callable[[int], float], node: str) -> None:
        for l in sorted(blocks, reverse=True):  # the deepest first: block 1 is often pinned
            if excess <= 0:
                return
            pruned.blocks.add((l, node))
            excess -= amount(l)

    def ops(l: int) -> float:
        branch = dnn.exit_at(l).ops if l == placement.exit else 0.0
        return req.rate_per_s * (dnn.block(l).ops + branch)

    def weights(l: int) -> float:
        return dnn.block(l).memory_bytes

    for n, node in enumerate(inst.network.nodes):
        here = [l for l, node_id in enumerate(placement.blocks, 1) if node_id == node.id]
        if node.ops_per_s > 0 and trial.ops[n] > u * node.ops_per_s * _SLACK:
            peel(here, trial.ops[n] - u * node.ops_per_s, ops, node.id)
        if node.memory_bytes is not None and memory[n] > node.memory_bytes * _SLACK:
            new = [l for l in here if (n, dnn.name, l) not in usage.held]
            peel(new, memory[n] - node.memory_bytes, weights, node.id)
    for e, arc in enumerate(inst.network.arcs):
        if trial.bits[e] > u * arc.bandwidth_bps * _SLACK:
            pruned.arcs.add((arc.source, arc.target))


@dataclass
class _Outcome:
    """One request's FIN attempts."""

    placement: Placement | None = None
    reason: str | None = None
    runs: int = 0
    bound: float | None = None
    timed_out: bool = False


def _place_with_fin(
    usage: Usage, rid: str, fin_params: Mapping[str, Any], retries: int, clock: Clock
) -> _Outcome:
    """Steps 1 and 2 of the module docstring for request ``rid``."""
    single = usage.instance.single(rid)
    pruned = _Pruned()
    out = _Outcome()
    while True:
        child = Clock(clock.remaining_s())
        result = run_fin(pruned.instance(single), RunOptions(params=fin_params, clock=child))
        out.runs += 1
        out.timed_out |= result.termination is Termination.TIME_LIMIT
        if out.runs == 1:
            out.bound = result.bound
        placement = result.placement
        if not isinstance(placement, Placement):
            what = "alone" if out.runs == 1 else f"on the pruned network (run {out.runs})"
            out.reason = f"request {rid}: FIN finds no placement {what}: {result.reason}"
            if out.runs == 1 and result.status is Status.INFEASIBLE:
                out.reason += " (the request is infeasible even alone)"
            return out
        broken = usage.violations(rid, placement)
        if not broken:
            out.placement = placement
            return out
        out.reason = f"request {rid}: FIN's placement does not fit ({'; '.join(broken)})"
        before = pruned.size()
        _residual_pruning(usage, rid, pruned)
        _overload_pruning(usage, rid, placement, pruned)
        if out.runs > retries or pruned.size() == before or clock.expired():
            out.reason += f" after {out.runs} FIN run(s)"
            return out


def run_fin_multi(instance: MultiInstance, options: RunOptions) -> MethodResult:
    """Method ``fin`` on a format-2 instance (see the module docstring).

    Parameters
    ----------
    instance : MultiInstance
        The requests and their shared network (select exit policy).
    options : RunOptions
        :data:`PARAMS`: FIN's (``gamma``, ``rounding``, ...; see
        :data:`splitbench.graphs.fin.PARAMS`), ``retries`` and ``fallback``; keys
        missing take their defaults. The clock's time limit covers every FIN run.

    Returns
    -------
    MethodResult
        ``feasible`` with every placement and the bound; ``none`` with the reason
        naming the request FIN could not fit (or at the time limit); ``skipped`` under
        the expected policy. ``info``: ``order``, ``fin_runs`` (per request),
        ``pruned`` (the requests whose first FIN placement did not fit) and
        ``fallback_used``.
    """
    params = parse_params("method 'fin'", PARAMS, options.params)
    fin_params = {key: params[key] for key in FIN_PARAMS}
    clock = options.clock
    clock.mark_built()
    declined = expected_policy_reason(instance)
    if declined is not None:
        return MethodResult.skipped(declined)
    order = demand_order(instance)
    usage = Usage.empty(instance)
    runs: dict[str, int] = {}
    pruned: list[str] = []
    fallback: list[str] = []
    info: dict[str, Any] = {"order": order, "fin_runs": runs, "pruned": pruned}
    info["fallback_used"] = fallback
    bounds: list[float | None] = []
    timed_out = False
    for rid in order:
        if clock.expired():
            reason = f"the time limit passed after {len(usage.placed)} of {len(order)} requests"
            return MethodResult(Status.NONE, Termination.TIME_LIMIT, reason=reason, info=info)
        outcome = _place_with_fin(usage, rid, fin_params, params["retries"], clock)
        runs[rid] = outcome.runs
        timed_out |= outcome.timed_out
        rate = instance.request(rid).rate_per_s
        share = rate if instance.objective is Objective.ENERGY else rate / instance.total_rate
        bounds.append(None if outcome.bound is None else share * outcome.bound)
        placement = outcome.placement
        if outcome.runs > 1 and placement is not None:
            pruned.append(rid)
        if placement is None and params["fallback"] == "residual" and not clock.expired():
            placement, _ = place_on_residual(usage, rid, stop_at=stop_at(clock))
            if placement is not None:
                fallback.append(rid)
        if placement is None:
            termination = Termination.TIME_LIMIT if clock.expired() else Termination.COMPLETED
            return MethodResult(Status.NONE, termination, reason=outcome.reason, info=info)
        usage.add(rid, placement)
    answer = MultiPlacement(tuple((rid, usage.placed[rid]) for rid in instance.request_ids))
    bound = None
    if all(b is not None and math.isfinite(b) for b in bounds):
        bound = math.fsum(b for b in bounds if b is not None)
    return MethodResult(
        Status.FEASIBLE,
        Termination.TIME_LIMIT if timed_out else Termination.COMPLETED,
        placement=answer,
        claimed_objective=claimed_objective(instance, answer),
        bound=bound,
        reason="a FIN run stopped at the time limit" if timed_out else None,
        info=info,
    )
