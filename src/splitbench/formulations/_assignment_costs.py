"""Cost and time tables of the assignment formulation (not public API).

For every variable of :mod:`splitbench.formulations.assignment`, its share of the
objective and of the latency the deadline binds, and whether it may be 1 at all
(a first block the source cannot reach, a node that cannot reach the destination,
a pair without a route or moving down the tier order). All tables are built with
numpy per block, never per entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from splitbench.formulations._fixed_routes import FixedRoutes
from splitbench.instance.model import Exit, ExitPolicy, Instance, Objective
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = ["AssignmentCosts", "assignment_costs", "candidates", "operating_exits"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def candidates(instance: Instance, n_blocks: int) -> list[IntArray]:
    """Candidate node indices per block 1..n_blocks; entry 0 is unused."""
    index = instance.network.node_index
    return [np.zeros(0, dtype=np.int64)] + [
        np.array([index[n] for n in instance.candidate_nodes(l)], dtype=np.int64)
        for l in range(1, n_blocks + 1)
    ]


def operating_exits(instance: Instance) -> tuple[list[Exit], list[bool], list[float | None]]:
    """The exits that get a ``y``, whether each is admissible, and its accuracy
    (under the expected policy: the final exit, with the expected accuracy)."""
    dnn = instance.dnn
    a_min = instance.request.min_accuracy
    if instance.request.exit_policy is ExitPolicy.EXPECTED:
        accuracies = [ex.accuracy for ex in dnn.exits]
        acc = None
        if all(a is not None for a in accuracies):
            acc = sum(p * (a or 0.0) for p, a in zip(dnn.exit_shares(), accuracies, strict=True))
        ok = a_min is None or (acc is not None and acc >= a_min * (1 - FEASIBILITY_RTOL))
        return [dnn.final_exit], [ok], [acc]
    admissible = {id(ex) for ex in instance.admissible_exits()}
    return (
        list(dnn.exits),
        [id(ex) in admissible for ex in dnn.exits],
        [ex.accuracy for ex in dnn.exits],
    )


def _cat(parts: Sequence[npt.NDArray[Any]], dtype: type) -> npt.NDArray[Any]:
    return np.concatenate([np.zeros(0, dtype=dtype), *parts])


def _finite(values: FloatArray) -> tuple[FloatArray, BoolArray]:
    """``values`` with inf replaced by 0, and the mask of finite entries."""
    ok = np.isfinite(values)
    return np.where(ok, values, 0.0), ok


@dataclass(frozen=True, eq=False)
class AssignmentCosts:
    """Per-variable data; arrays of one block run in parallel.

    ``x_*``: one entry per (block, candidate node); ``p_*``: one per node pair of
    consecutive blocks (``p_ok`` False for forbidden pairs); ``w_*``: one per
    (admissible exit, node of its block), select policy only.
    """

    depth: int
    exits: list[Exit]
    admissible: list[bool]
    accuracy: list[float | None]
    x_block: IntArray
    x_node: IntArray
    x_cost: FloatArray
    x_time: FloatArray
    x_ok: BoolArray
    p_k: IntArray
    p_tail: IntArray
    p_head: IntArray
    p_cost: FloatArray
    p_time: FloatArray
    p_ok: BoolArray
    w_exit: IntArray
    w_node: IntArray
    w_cost: FloatArray
    w_time: FloatArray
    w_ok: BoolArray


class _Context:
    def __init__(self, instance: Instance) -> None:
        net = instance.network
        req = instance.request
        self.instance = instance
        self.select = req.exit_policy is ExitPolicy.SELECT
        self.energy = req.objective is Objective.ENERGY
        self.timed = req.deadline_s is not None
        self.speed = np.array([node.ops_per_s for node in net.nodes])
        self.power = np.array([node.power_w for node in net.nodes])
        self.routes = FixedRoutes(instance)
        self.source = np.array([net.node_index[req.source]], dtype=np.int64)
        self.dest = (
            np.array([net.node_index[req.destination]], dtype=np.int64)
            if req.destination is not None
            else None
        )

    def compute(self, ops: float, nodes: IntArray) -> tuple[FloatArray, FloatArray]:
        """(objective cost, time) of ``ops`` operations on each node."""
        seconds = ops / self.speed[nodes] if ops else np.zeros(nodes.size)
        return (seconds * self.power[nodes] if self.energy else seconds.copy()), seconds


def _x_tables(c: _Context, cand: list[IntArray], depth: int) -> list[list[FloatArray]]:
    dnn = c.instance.dnn
    q = (1.0,) * dnn.n_blocks if c.select else dnn.reach_shares()
    shares = dnn.exit_shares()
    early = {ex.after_block: share for ex, share in zip(dnn.exits[:-1], shares, strict=False)}
    out: list[list[FloatArray]] = [[], [], []]
    for l in range(1, depth + 1):
        nodes = cand[l]
        g, time = c.compute(dnn.block(l).ops, nodes)
        cost = q[l - 1] * g
        ok = np.ones(nodes.size, dtype=bool)
        if l == 1:
            c0, t0 = c.routes.table(dnn.input_bytes, c.source, nodes, need_time=c.timed)
            cost, time, ok = cost + c0[0], time + t0[0], ok & np.isfinite(c0[0])
        for ex in dnn.exits if not c.select else ():
            if ex.after_block != l:
                continue
            branch_cost, branch_time = c.compute(ex.ops, nodes)
            cost, time = cost + q[l - 1] * branch_cost, time + branch_time
            final = ex is dnn.final_exit
            if c.dest is not None:
                need = c.timed and final
                rc, rt = c.routes.table(ex.output_bytes, nodes, c.dest, need_time=need)
                cost = cost + early.get(l, shares[-1]) * rc[:, 0]
                ok &= np.isfinite(rc[:, 0])
                time = time + rt[:, 0] if final else time
        for part, value in zip(out, (cost, time, ok.astype(float)), strict=True):
            part.append(value)
    return out


def assignment_costs(instance: Instance) -> AssignmentCosts:
    """The cost, time and admissibility of every assignment variable."""
    c = _Context(instance)
    dnn = instance.dnn
    req = instance.request
    exits, admissible, accuracy = operating_exits(instance)
    good = [ex.after_block for ex, ok in zip(exits, admissible, strict=True) if ok]
    depth = max(good, default=0) if c.select else dnn.n_blocks
    cand = candidates(instance, depth)
    x_cost, x_time, x_ok = (_cat(part, float) for part in _x_tables(c, cand, depth))
    x_cost, finite = _finite(x_cost)
    q = (1.0,) * dnn.n_blocks if c.select else dnn.reach_shares()
    rank = np.array(
        [-1 if (r := req.tier_rank(n.tier)) is None else r for n in instance.network.nodes],
        dtype=np.int64,
    )
    pairs: list[list[npt.NDArray[Any]]] = [[] for _ in range(6)]
    for k in range(1, depth):
        rc, rt = c.routes.table(dnn.handover_bytes(k), cand[k], cand[k + 1], need_time=c.timed)
        tail, head = np.meshgrid(cand[k], cand[k + 1], indexing="ij")
        ok = np.isfinite(rc) & (rank[head] >= rank[tail] if req.tier_order else True)
        for part, value in zip(
            pairs, (np.full(rc.size, k), tail, head, q[k] * rc, rt, ok), strict=True
        ):
            part.append(np.ravel(value))
    p_cost, _ = _finite(_cat(pairs[3], float))
    p_time, _ = _finite(_cat(pairs[4], float))
    w: list[list[npt.NDArray[Any]]] = [[] for _ in range(4)]
    for e, (ex, ok_exit) in enumerate(zip(exits, admissible, strict=True)):
        if not (c.select and ok_exit):
            continue
        nodes = cand[ex.after_block]
        cost, time = c.compute(ex.ops, nodes)
        if c.dest is not None:
            rc, rt = c.routes.table(ex.output_bytes, nodes, c.dest, need_time=c.timed)
            cost, time = cost + rc[:, 0], time + rt[:, 0]
        for part, value in zip(w, (np.full(nodes.size, e), nodes, cost, time), strict=True):
            part.append(value)
    w_cost, w_ok = _finite(_cat(w[2], float))
    return AssignmentCosts(
        depth=depth,
        exits=exits,
        admissible=admissible,
        accuracy=accuracy,
        x_block=np.repeat(np.arange(1, depth + 1), [cand[l].size for l in range(1, depth + 1)]),
        x_node=_cat(cand[1:], np.int64),
        x_cost=x_cost,
        x_time=_finite(x_time)[0],
        x_ok=(x_ok > 0) & finite,
        p_k=_cat(pairs[0], np.int64),
        p_tail=_cat(pairs[1], np.int64),
        p_head=_cat(pairs[2], np.int64),
        p_cost=p_cost,
        p_time=p_time,
        p_ok=_cat(pairs[5], bool).astype(bool),
        w_exit=_cat(w[0], np.int64),
        w_node=_cat(w[1], np.int64),
        w_cost=w_cost,
        w_time=_finite(_cat(w[3], float))[0],
        w_ok=w_ok,
    )
