"""One request at a time on the capacity the others leave: the residual network.

The heuristics for many requests (format 2) place requests one by one. What the
placed ones use is a :class:`Usage`: the compute each node runs (ops/s), the bits
each arc carries (bits/s) and the block weights each node holds. The next request
then sees *residual* budgets: ``U x ops_per_s - used`` on every node,
``U x bandwidth_bps - used`` on every arc, and the node's memory less the weights
it holds, where a block whose weights are already there (the same DNN) costs
nothing. Along a path of the request's layered graph each budget is a sum over its
arcs (:mod:`splitbench.graphs.loads`), so the cheapest placement that fits is a
resource-constrained shortest path, solved exactly by label setting
(:func:`~splitbench.graphs.label_setting.best_path`): no MILP.

:func:`place_on_residual` places one request; :func:`place_in_order` places them all
in a given order, keeping any preferred placement (a relaxation's, FIN's) that
still fits and re-placing the others on the residual network. Either answer meets
every limit when it is given; a request that fits nowhere ends the attempt, with
the reason.

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.instance import MultiInstance, example_instance
>>> one = MultiInstance.from_single(example_instance(), rate_per_s=150.0)
>>> two = replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))
>>> placed = place_in_order(two, two.request_ids)
>>> [p.blocks for _, p in placed.placement.requests]  # md is full: the second moves
[('md', 'md', 'md', 'cs', 'cs'), ('md', 'md', 'es', 'es', 'es')]
>>> from splitbench.evaluate_multi import evaluate_multi
>>> evaluate_multi(two, placed.placement).feasible
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import request_loads
from splitbench.graphs._paths import Resource
from splitbench.graphs.label_setting import PARAMS as LABEL_PARAMS
from splitbench.graphs.label_setting import best_path
from splitbench.graphs.layered import LayeredGraph, build_layered_graph
from splitbench.graphs.loads import load_budgets
from splitbench.instance.multi import MultiInstance
from splitbench.placement import MultiPlacement, Placement
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = [
    "Placed",
    "Usage",
    "demand_order",
    "place_in_order",
    "place_on_residual",
    "residual_resources",
]

FloatArray = npt.NDArray[np.float64]


@dataclass
class Usage:
    """What the requests placed so far use of the shared resources.

    Attributes
    ----------
    instance : MultiInstance
        The instance.
    ops : ndarray of float
        Compute load of every network node (ops/s), in ``network.nodes`` order.
    bits : ndarray of float
        Load of every network arc (bits/s), in ``network.arcs`` order.
    held : set of (int, str, int)
        The weights on the nodes: (node index, DNN name, block).
    placed : dict of str to Placement
        The placed requests, in the order they were placed.
    """

    instance: MultiInstance
    ops: FloatArray
    bits: FloatArray
    held: set[tuple[int, str, int]] = field(default_factory=set)
    placed: dict[str, Placement] = field(default_factory=dict)

    @classmethod
    def empty(cls, instance: MultiInstance) -> Usage:
        """Nothing placed yet."""
        net = instance.network
        return cls(instance, np.zeros(len(net.nodes)), np.zeros(len(net.arcs)))

    def copy(self) -> Usage:
        """An independent copy."""
        return Usage(
            self.instance, self.ops.copy(), self.bits.copy(), set(self.held), dict(self.placed)
        )

    def memory(self) -> FloatArray:
        """Bytes of weights held on every node."""
        out = np.zeros(len(self.instance.network.nodes))
        for n, name, block in self.held:
            out[n] += self.instance.dnn(name).block(block).memory_bytes
        return out

    def add(self, request_id: str, placement: Placement) -> None:
        """Commit request ``request_id``'s placement."""
        self.ops, self.bits, self.held = self._with(request_id, placement)
        self.placed[request_id] = placement

    def _with(
        self, request_id: str, placement: Placement
    ) -> tuple[FloatArray, FloatArray, set[tuple[int, str, int]]]:
        inst = self.instance
        req = inst.request(request_id)
        ops, bits = request_loads(inst.single(request_id), placement)
        node_index = inst.network.node_index
        arc_index = {(a.source, a.target): i for i, a in enumerate(inst.network.arcs)}
        new_ops = self.ops.copy()
        new_bits = self.bits.copy()
        for node_id, value in ops.items():
            new_ops[node_index[node_id]] += req.rate_per_s * value
        for arc, value in bits.items():
            new_bits[arc_index[arc]] += req.rate_per_s * value
        held = set(self.held)
        held.update(
            (node_index[node_id], req.dnn, l) for l, node_id in enumerate(placement.blocks, 1)
        )
        return new_ops, new_bits, held

    def violations(self, request_id: str, placement: Placement) -> list[str]:
        """What committing ``placement`` for ``request_id`` would break: the
        request's own limits (the single evaluator) and the shared ones."""
        inst = self.instance
        own = evaluate(inst.single(request_id), placement)
        out = [f"request {request_id}: {v}" for v in own.violations]
        ops, bits, held = self._with(request_id, placement)
        net, u = inst.network, inst.max_utilization
        slack = 1 + FEASIBILITY_RTOL
        for n, node in enumerate(net.nodes):
            if node.ops_per_s > 0 and ops[n] > u * node.ops_per_s * slack:
                out.append(f"node {node.id}: compute load {ops[n] / node.ops_per_s:.4g}")
        for e, arc in enumerate(net.arcs):
            if bits[e] > u * arc.bandwidth_bps * slack:
                out.append(
                    f"arc {arc.source}->{arc.target}: link load {bits[e] / arc.bandwidth_bps:.4g}"
                )
        memory = Usage(inst, ops, bits, held).memory()
        for n, node in enumerate(net.nodes):
            if node.memory_bytes is not None and memory[n] > node.memory_bytes * slack:
                out.append(f"node {node.id}: memory {memory[n]:.4g} of {node.memory_bytes:.4g}")
        return out


def residual_resources(usage: Usage, request_id: str, graph: LayeredGraph) -> list[Resource]:
    """The budgets request ``request_id`` sees on the residual network, as sums over
    the arcs of its layered graph ``graph`` (:func:`~splitbench.graphs.loads.load_budgets`):
    every node's compute and memory and every arc's bandwidth that its arcs could
    exceed; a block whose weights the node holds already needs no memory."""
    inst = usage.instance
    req = inst.request(request_id)
    net, u = inst.network, inst.max_utilization
    ops_left = u * np.array([node.ops_per_s for node in net.nodes]) - usage.ops
    bits_left = u * np.array([arc.bandwidth_bps for arc in net.arcs]) - usage.bits
    capacity = np.array([np.inf if n.memory_bytes is None else n.memory_bytes for n in net.nodes])
    need = graph.memory_bytes.copy()
    for arc in np.flatnonzero(graph.memory_node >= 0):
        if (int(graph.memory_node[arc]), req.dnn, int(graph.layer[arc])) in usage.held:
            need[arc] = 0.0
    return load_budgets(graph, req.rate_per_s, ops_left, bits_left, capacity - usage.memory(), need)


def place_on_residual(
    usage: Usage,
    request_id: str,
    *,
    cost: FloatArray | None = None,
    graph: LayeredGraph | None = None,
    max_labels: int = LABEL_PARAMS["max_labels"].default,
    stop_at: float = math.inf,
) -> tuple[Placement | None, str | None]:
    """The cheapest placement of request ``request_id`` that fits the residual
    network of ``usage`` (its own deadline and accuracy included).

    Parameters
    ----------
    usage : Usage
        What is placed already (not changed).
    request_id : str
        The request.
    cost : ndarray, optional
        Arc costs to minimise instead of the request's objective (one per arc of its
        layered graph; inf removes an arc).
    graph : LayeredGraph, optional
        Its layered graph, when built already.
    max_labels, stop_at
        Limits of the label search (:func:`~splitbench.graphs.label_setting.best_path`).

    Returns
    -------
    tuple
        The placement, or None with the reason (no placement fits; or the search
        stopped at its limits without one).
    """
    found, reason, _ = _on_residual(usage, request_id, cost, graph, max_labels, stop_at)
    return found, reason


def _on_residual(
    usage: Usage,
    request_id: str,
    cost: FloatArray | None,
    graph: LayeredGraph | None,
    max_labels: int,
    stop_at: float,
) -> tuple[Placement | None, str | None, bool]:
    """:func:`place_on_residual`, and whether the label search stopped at a limit."""
    base = graph if graph is not None else build_layered_graph(usage.instance.single(request_id))
    searched = base if cost is None else replace(base, cost=np.asarray(cost, dtype=float))
    resources = residual_resources(usage, request_id, base)
    answer = best_path(searched, resources, max_labels=max_labels, stop_at=stop_at)
    if answer.path is None:
        if answer.stopped is not None:
            why = f"request {request_id}: the label search stopped ({answer.stopped})"
            return None, why, True
        why = f"request {request_id}: no placement fits the residual capacity ({answer.reason})"
        return None, why, False
    return base.placement_from_arcs(answer.path.arcs), None, False


@dataclass(frozen=True)
class Placed:
    """The answer of :func:`place_in_order`.

    Attributes
    ----------
    placement : MultiPlacement or None
        Every request's placement (file order), None when one did not fit.
    kept : tuple of str
        Requests whose preferred placement was kept.
    moved : tuple of str
        Requests placed on the residual network.
    reason : str or None
        Why the attempt failed.
    stopped : bool
        Whether it failed because a label search stopped at its limit (``max_labels``
        or the time), not because a request fits nowhere.
    """

    placement: MultiPlacement | None
    kept: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()
    reason: str | None = None
    stopped: bool = False


def place_in_order(
    instance: MultiInstance,
    order: Iterable[str],
    preferred: Mapping[str, Placement] | None = None,
    *,
    cost: Mapping[str, FloatArray] | None = None,
    max_labels: int = LABEL_PARAMS["max_labels"].default,
    stop_at: float = math.inf,
) -> Placed:
    """Place the requests one by one in ``order``: keep a request's ``preferred``
    placement when it still fits, otherwise place it on the residual network
    (:func:`place_on_residual`, with its arc ``cost`` if given).

    Returns a :class:`Placed`; its placement, when there is one, meets every limit.
    """
    usage = Usage.empty(instance)
    kept: list[str] = []
    moved: list[str] = []
    preferred = preferred or {}
    for rid in order:
        if time.perf_counter() > stop_at:
            why = "time limit reached while placing"
            return Placed(None, tuple(kept), tuple(moved), why, stopped=True)
        choice = preferred.get(rid)
        if choice is not None and not usage.violations(rid, choice):
            usage.add(rid, choice)
            kept.append(rid)
            continue
        arcs_cost = cost.get(rid) if cost is not None else None
        found, reason, stopped = _on_residual(usage, rid, arcs_cost, None, max_labels, stop_at)
        if found is None:
            return Placed(None, tuple(kept), tuple(moved), reason, stopped=stopped)
        usage.add(rid, found)
        moved.append(rid)
    placement = MultiPlacement(tuple((rid, usage.placed[rid]) for rid in instance.request_ids))
    return Placed(placement, tuple(kept), tuple(moved))


def demand_order(instance: MultiInstance, ids: Sequence[str] | None = None) -> list[str]:
    """The requests by decreasing demand, ties in file order: the rate times the
    ops of the DNN's blocks up to its cheapest admissible exit, over the network's
    total compute (the largest consumers are placed first, while room is left)."""
    ids = list(instance.request_ids if ids is None else ids)
    total = sum(node.ops_per_s for node in instance.network.nodes) or 1.0

    def demand(rid: str) -> float:
        single = instance.single(rid)
        req = instance.request(rid)
        exits = single.admissible_exits() or single.dnn.exits
        depth = min(ex.after_block for ex in exits)
        dnn = single.dnn
        return req.rate_per_s * sum(b.ops for b in dnn.blocks[:depth]) / total

    position = {rid: i for i, rid in enumerate(ids)}
    return sorted(ids, key=lambda rid: (-demand(rid), position[rid]))
