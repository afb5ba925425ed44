"""The evaluator of format 2: many requests sharing one network (MULTI.md).

Each request is first judged alone: :func:`~splitbench.evaluate.evaluate` on its
format-1 view (:meth:`~splitbench.instance.multi.MultiInstance.single`) gives its
latency D_r, energy E_r, accuracy and own violations. What couples the requests is
then checked here, with rates lambda_r (inferences per second) and the share U
(``max_utilization``) of every capacity they may use:

- compute load of node n: sum_r lambda_r x the ops r runs on n per inference
  (select: the blocks up to the operating exit and that exit's branch, weight 1;
  expected: block l weighted by q_l, the branch of every exit by the share reaching
  it), at most U x ops_per_s;
- link load of arc (u, v), each direction of a link its own arc: sum_r lambda_r x
  the bits r sends over it per inference (select: every route, result included,
  weight 1; expected: the hand-over into block k+1 weighted by q_{k+1}, the result
  of exit e by pi_e, early results along the placement's ``exit_routes``), at most
  U x bandwidth_bps; a route that crosses an arc twice loads it twice;
- memory of node n: every distinct (DNN name, block index) placed on n by at least
  one request counts its ``memory_bytes`` once (shared weights), at most the node's.

Objective: energy, sum_r lambda_r E_r (W); latency, sum_r lambda_r D_r / sum_r
lambda_r (s). Limits are compared with the relative slack
:data:`~splitbench.tolerances.FEASIBILITY_RTOL`, as the single evaluator does.

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.instance import MultiInstance, example_instance
>>> multi = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
>>> split = Placement(("md", "es", "cs", "cs", "cs"), 5,
...                   (("md",), ("md", "es"), ("es", "cs"), ("cs",), ("cs",), None))
>>> ev = evaluate_multi(multi, MultiPlacement((("r1", split),)))
>>> round(ev.objective, 2), ev.feasible  # 20 inferences/s x 0.199 J, in W
(3.98, True)
>>> round(ev.node_utilization["md"], 4)  # 20/s x 22.62e9 ops over 11e12 ops/s
0.0411
>>> busy = evaluate_multi(replace(multi, max_utilization=0.04), MultiPlacement((("r1", split),)))
>>> busy.violations
('node md: compute load 0.04113 of capacity (limit 0.04)',)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from splitbench.errors import PlacementError
from splitbench.evaluate import Evaluation, evaluate, result_route
from splitbench.instance.model import ExitPolicy, Instance, Network, Objective
from splitbench.instance.multi import MultiInstance
from splitbench.placement import MultiPlacement, Placement
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = ["MultiEvaluation", "MultiPlacement", "evaluate_multi", "request_loads"]


@dataclass(frozen=True)
class MultiEvaluation:
    """What the evaluator computed for a placement of every request.

    Attributes
    ----------
    requests : tuple of (str, Evaluation)
        The single evaluator's verdict on each request alone, in file order.
    objective : float
        Energy: sum of rate x energy (W). Latency: the rate-weighted mean latency (s).
        Infinite when some request has no finite figure.
    feasible : bool
        True when ``violations`` is empty: every request feasible alone, and every
        compute, link and memory limit met.
    violations : tuple of str
        The requests' own (``request ID: ...``), then the coupled ones, by node or arc.
    node_utilization : Mapping of str to float
        Every computing node's compute load over its ops_per_s (not divided by U).
    arc_utilization : Mapping of (str, str) to float
        The load in bit/s over the bandwidth of every arc some route uses.
    memory_bytes : Mapping of str to float
        The weights every node holds, weights shared by requests counted once.
    """

    requests: tuple[tuple[str, Evaluation], ...]
    objective: float
    feasible: bool
    violations: tuple[str, ...]
    node_utilization: Mapping[str, float]
    arc_utilization: Mapping[tuple[str, str], float]
    memory_bytes: Mapping[str, float]

    @property
    def max_node_utilization(self) -> float | None:
        """The highest node utilisation (None without computing nodes)."""
        return max(self.node_utilization.values(), default=None)

    @property
    def max_arc_utilization(self) -> float | None:
        """The highest arc utilisation (None when no route uses an arc)."""
        return max(self.arc_utilization.values(), default=None)

    def evaluation(self, request_id: str) -> Evaluation:
        """The single evaluator's verdict on request ``request_id`` (KeyError if none)."""
        for rid, ev in self.requests:
            if rid == request_id:
                return ev
        raise KeyError(request_id)


def _check_ids(instance: MultiInstance, placement: MultiPlacement) -> None:
    """Raise :class:`PlacementError` unless the placement has each request id once."""
    want, got = instance.request_ids, placement.ids
    problems = []
    missing = [rid for rid in want if rid not in got]
    extra = [rid for rid in dict.fromkeys(got) if rid not in want]
    repeated = [rid for rid in dict.fromkeys(got) if got.count(rid) > 1]
    if missing:
        problems.append(f"missing {missing}")
    if extra:
        problems.append(f"not in the instance {extra}")
    if repeated:
        problems.append(f"given twice {repeated}")
    if problems:
        raise PlacementError(
            "placement requests differ from the instance's: " + "; ".join(problems)
        )


def _add_route(
    bits: dict[tuple[str, str], float],
    network: Network,
    route: Iterable[str] | None,
    amount: float,
) -> None:
    """Add ``amount`` bits to every arc of ``route`` (once per crossing); hops that are
    no arc carry nothing (the single evaluator reports them)."""
    if route is None:
        return
    for hop in itertools.pairwise(route):
        if hop in network.arc_map:
            bits[hop] = bits.get(hop, 0.0) + amount


def request_loads(
    instance: Instance, placement: Placement
) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """The ops per node and the bits per arc of one inference of a request.

    Expected values under the expected policy (block l weighted by q_l, each exit's
    branch by the share reaching its block, its result by pi_e); the deployed
    blocks, the operating exit and every route once under the select policy.

    Parameters
    ----------
    instance : Instance
        One request alone (a format-1 view).
    placement : Placement
        Its placement, structurally valid (:func:`~splitbench.evaluate.evaluate` raises
        otherwise).

    Returns
    -------
    tuple of dict
        Ops by node id (routers included), bits by arc ``(u, v)``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> ops, bits = request_loads(example_instance(), Placement(("md",), 1, (("md",), None)))
    >>> round(ops["md"] / 1e9, 2), bits
    (22.62, {})
    """
    dnn = instance.dnn
    network = instance.network
    if instance.request.exit_policy is ExitPolicy.EXPECTED:
        reach = dnn.reach_shares()
        running = dict(zip(dnn.exits, dnn.exit_shares(), strict=True))
    else:
        reach = (1.0,) * dnn.n_blocks
        running = {dnn.exit_at(placement.exit): 1.0}
    ops: dict[str, float] = {}
    bits: dict[tuple[str, str], float] = {}
    for l, node_id in enumerate(placement.blocks, start=1):
        ops[node_id] = ops.get(node_id, 0.0) + reach[l - 1] * dnn.block(l).ops
        handover = 8.0 * dnn.handover_bytes(l - 1)
        _add_route(bits, network, placement.routes[l - 1], reach[l - 1] * handover)
    for ex, share in running.items():
        node_id = placement.blocks[ex.after_block - 1]
        ops[node_id] = ops.get(node_id, 0.0) + reach[ex.after_block - 1] * ex.ops
        back = result_route(instance, placement, ex.after_block)
        _add_route(bits, network, back, share * 8.0 * ex.output_bytes)
    return ops, bits


def _missing_exit_routes(instance: Instance, placement: Placement) -> list[int]:
    """The early exits whose result route the placement should give but does not."""
    req = instance.request
    if req.exit_policy is ExitPolicy.SELECT or req.destination is None:
        return []
    return [
        ex.after_block
        for ex in instance.dnn.exits[:-1]
        if placement.exit_route(ex.after_block) is None
    ]


def _objective(instance: MultiInstance, values: list[float]) -> float:
    """The rate-weighted sum (energy) or mean (latency) of the requests' objectives."""
    rates = [req.rate_per_s for req in instance.requests]
    if not all(math.isfinite(v) for v in values):
        return math.inf
    if instance.objective is Objective.ENERGY:
        return math.fsum(r * v for r, v in zip(rates, values, strict=True))
    total = math.fsum(rates)
    return math.fsum(r / total * v for r, v in zip(rates, values, strict=True))


def _over(value: float, limit: float) -> bool:
    return value > limit * (1 + FEASIBILITY_RTOL)


def _shared_limits(
    instance: MultiInstance,
    ops_rate: Mapping[str, float],
    bit_rate: Mapping[tuple[str, str], float],
    held: Mapping[str, set[tuple[str, int]]],
    violations: list[str],
) -> tuple[dict[str, float], dict[tuple[str, str], float], dict[str, float]]:
    """Node and arc utilisation and node memory, recording every limit broken."""
    network = instance.network
    limit = instance.max_utilization
    nodes = {n.id: ops_rate.get(n.id, 0.0) / n.ops_per_s for n in network.computing_nodes}
    for node_id, share in nodes.items():
        if _over(share, limit):
            violations.append(
                f"node {node_id}: compute load {share:.4g} of capacity (limit {limit:g})"
            )
    arcs = {
        (a.source, a.target): bit_rate[a.source, a.target] / a.bandwidth_bps
        for a in network.arcs
        if (a.source, a.target) in bit_rate
    }
    for (u, v), share in arcs.items():
        if _over(share, limit):
            violations.append(f"arc {u}->{v}: link load {share:.4g} of capacity (limit {limit:g})")
    memory = {
        node_id: math.fsum(instance.dnn(name).block(l).memory_bytes for name, l in sorted(keys))
        for node_id, keys in held.items()
    }
    for node_id, need in memory.items():
        capacity = network.node(node_id).memory_bytes
        if capacity is not None and _over(need, capacity):
            violations.append(f"node {node_id}: memory {need:.4g} of {capacity:.4g} bytes")
    return nodes, arcs, memory


def evaluate_multi(instance: MultiInstance, placement: MultiPlacement) -> MultiEvaluation:
    """Compute every request's figures, the shared loads and the feasibility.

    Parameters
    ----------
    instance : MultiInstance
        The requests and their network.
    placement : MultiPlacement
        One :class:`~splitbench.placement.Placement` per request id.

    Returns
    -------
    MultiEvaluation
        Per-request verdicts, the objective, the loads and every violation.

    Raises
    ------
    PlacementError
        When the placement's request ids differ from the instance's (missing, extra
        or repeated), or one request's placement is malformed (naming the request).
    """
    _check_ids(instance, placement)
    verdicts: list[tuple[str, Evaluation]] = []
    violations: list[str] = []
    ops_rate: dict[str, float] = {}
    bit_rate: dict[tuple[str, str], float] = {}
    held: dict[str, set[tuple[str, int]]] = {node.id: set() for node in instance.network.nodes}
    for req, single in instance.singles():
        own = placement[req.id]
        try:
            ev = evaluate(single, own)
        except PlacementError as err:
            raise PlacementError(f"request {req.id}: {err}") from None
        verdicts.append((req.id, ev))
        violations += [f"request {req.id}: {v}" for v in ev.violations]
        missing = _missing_exit_routes(single, own)
        if missing:
            blocks = ", ".join(map(str, missing))
            violations.append(
                f"request {req.id}: exit_routes missing for exits after blocks {blocks}"
            )
        ops, bits = request_loads(single, own)
        for node_id, value in ops.items():
            ops_rate[node_id] = ops_rate.get(node_id, 0.0) + req.rate_per_s * value
        for arc, value in bits.items():
            bit_rate[arc] = bit_rate.get(arc, 0.0) + req.rate_per_s * value
        for l, node_id in enumerate(own.blocks, start=1):
            held[node_id].add((req.dnn, l))

    nodes, arcs, memory = _shared_limits(instance, ops_rate, bit_rate, held, violations)
    return MultiEvaluation(
        requests=tuple(verdicts),
        objective=_objective(instance, [ev.objective for _, ev in verdicts]),
        feasible=not violations,
        violations=tuple(violations),
        node_utilization=MappingProxyType(nodes),
        arc_utilization=MappingProxyType(arcs),
        memory_bytes=MappingProxyType(memory),
    )
