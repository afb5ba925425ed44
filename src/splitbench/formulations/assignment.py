"""The assignment formulation: block-to-node binaries with McCormick pair variables.

The classic form of the DNN-splitting literature (e.g. ADDNN): decide which node
runs each block, linearise the transfer between consecutive blocks with pair
variables, and move every tensor along a route fixed in advance, the route that
minimises the objective's own transfer cost for that tensor
(:func:`splitbench.routes.cheapest_route`): hand-over 0 from the request's source,
hand-over k between the nodes of blocks k and k+1, and the result from the exit's
node to the destination.

Sets and data
    blocks l = 1..L' (L' = the deepest exit that meets ``min_accuracy``; L under the
    expected policy); C_l the candidate nodes of block l (computing, allowed,
    tier listed); exits e after block l_e; P_k the node pairs (n, m) in C_k x C_{k+1}
    joined by a route and not moving down ``tier_order``; F_k the other pairs.
    Per fixed route: cost r^k_{nm} (objective) and time t^k_{nm}.
Variables
    ``x[l, n]`` in {0, 1}: block l runs on node n in C_l.
    ``y[e]`` in {0, 1}: e is the operating exit (select policy: every exit;
    expected policy: one variable, the final exit, as every exit is active).
    ``z[k, n, m]`` in {0, 1}, (n, m) in P_k: block k on n and block k+1 on m.
    ``w[e, n]`` in {0, 1} (select policy only): exit e operates, with block l_e on n.
Objective (select policy)
    minimise  sum_{l,n} (g_{ln} + [l = 1] r^0_{sn}) x[l,n] + sum_{k,n,m} r^k_{nm} z[k,n,m]
              + sum_{e,n} (branch_{en} + r^e_{n,dest}) w[e,n]
    with g the compute cost of the objective. Expected policy: the same terms
    weighted by the reach share q_l of the block (q_{k+1} for hand-over k); an exit's
    branch (q-weighted) and its return route (pi_e-weighted) go on x[l_e, n].
Constraints
    (A1_deploy)  sum_n x[l,n] = sum_{e: l_e >= l} y[e]       for l = 1..L'
    (A2_exit)  sum_e y[e] = 1
    (A3_accuracy)  sum_e a_e y[e] >= A  (expected policy: a = the expected accuracy)
    (A4_pair_lower)  z[k,n,m] >= x[k,n] + x[k+1,m] - 1      for (n, m) in P_k
    (A5_pair_tail)  z[k,n,m] <= x[k,n]
    (A6_pair_head)  z[k,n,m] <= x[k+1,m]
    (A7_forbidden_pair)  x[k,n] + x[k+1,m] <= 1              for (n, m) in F_k
    (A8_exit_node)  sum_n w[e,n] = y[e]                       (select policy)
    (A9_exit_link)  w[e,n] <= x[l_e,n]                        (select policy)
    (A10_deadline)  the latency (full depth under the expected policy), the sum of
                    the same terms with times instead of costs, <= T
    (A11_memory)  sum_l mu_l x[l,n] <= M_n   for nodes whose memory could bind

(A10) and (A11) are stored divided by T and by M_n (when M_n > 0), so that the
solvers' absolute feasibility tolerances act as relative ones.

Exits below ``min_accuracy``, a first block the source cannot reach and a node that
cannot reach the destination get their variables fixed to 0 (bounds), so solver
tolerances can never admit what the evaluator rejects. Size O(L |N|^2).

Exactness: for the latency objective every fixed route is a fastest route, so the
restriction loses nothing. For energy it loses nothing without a deadline, and with
one when each fixed cheapest-energy route is also a fastest route
(:func:`assignment_is_exact`); otherwise the model is a fixed-routing restriction,
``exact = False``, and its optimum may exceed the instance's. Its LP relaxation is
weak: fractional x let z drop to 0.

Examples
--------
>>> from splitbench.instance import example_instance
>>> form = build_assignment(example_instance())
>>> form.exact, list(form.milp.var_blocks)
(True, ['x', 'y', 'z', 'w'])
>>> form.milp.var_blocks["x"].labels[:3]
((1, 'md'), (2, 'md'), (2, 'es'))
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np
import numpy.typing as npt

from splitbench.formulations._assignment_costs import (
    AssignmentCosts,
    assignment_costs,
    candidates,
    operating_exits,
)
from splitbench.formulations._fixed_routes import FixedRoutes
from splitbench.instance.model import ExitPolicy, Instance, Objective
from splitbench.milp import Formulation, LazyLabels, MILPBuilder
from splitbench.placement import Placement

__all__ = ["assignment_is_exact", "build_assignment"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def assignment_is_exact(instance: Instance) -> bool:
    """Whether the assignment MILP's optimum is the instance's optimum.

    True for the latency objective, and for energy without a deadline. With a
    deadline, energy is exact when, for every pair of candidate nodes and every
    hand-over tensor size (input, block outputs, the results whose route the
    deadline binds), the fixed cheapest-energy route is also a fastest route;
    otherwise the fixed routes are a restriction.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> assignment_is_exact(example_instance())  # FIN tiers: routes are unique
    True
    """
    req = instance.request
    if req.objective is Objective.LATENCY or req.deadline_s is None:
        return True
    dnn = instance.dnn
    routes = FixedRoutes(instance)
    cand = candidates(instance, dnn.n_blocks)
    source = np.array([instance.network.node_index[req.source]], dtype=np.int64)
    checks = [(dnn.input_bytes, source, cand[1])]
    checks += [(dnn.handover_bytes(k), cand[k], cand[k + 1]) for k in range(1, dnn.n_blocks)]
    if req.destination is not None:
        dest = np.array([instance.network.node_index[req.destination]], dtype=np.int64)
        exits, ok, _ = operating_exits(instance)
        checks += [
            (ex.output_bytes, cand[ex.after_block], dest)
            for ex, good in zip(exits, ok, strict=True)
            if good
        ]
    return all(routes.energy_routes_are_fastest(size, src, dst) for size, src, dst in checks)


def _two_term_rows(
    b: MILPBuilder,
    name: str,
    first: IntArray,
    second: IntArray,
    signs: tuple[float, float],
    upper: float,
    labels: Sequence[Hashable],
    meaning: str,
) -> None:
    """Rows ``signs[0] * first[i] + signs[1] * second[i] <= upper``, one per i."""
    seq = np.arange(first.size)
    b.add_rows(
        name,
        first.size,
        rows=np.concatenate([seq, seq]),
        cols=np.concatenate([first, second]),
        vals=np.concatenate([np.full(first.size, signs[0]), np.full(first.size, signs[1])]),
        upper=upper,
        labels=labels,
        meaning=meaning,
    )


def build_assignment(instance: Instance) -> Formulation:
    """Build the assignment MILP of ``instance`` (see the module docstring).

    Parameters
    ----------
    instance : Instance
        The instance.

    Returns
    -------
    Formulation
        Variable blocks ``x`` (labels ``(block, node)``), ``y`` (exit block),
        ``z`` (``(hand-over k, node of k, node of k+1)``) and, under the select
        policy, ``w`` (``(exit block, node)``); ``exact`` from
        :func:`assignment_is_exact`.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> build_assignment(example_instance()).sizes()
    {'n_vars': 40, 'n_binaries': 40, 'n_rows': 86, 'n_nonzeros': 229}
    """
    net = instance.network
    req = instance.request
    names = [node.id for node in net.nodes]
    t = assignment_costs(instance)
    b = MILPBuilder(f"assignment:{instance.name}")
    x = b.add_vars(
        "x",
        list(zip(t.x_block.tolist(), [names[n] for n in t.x_node], strict=True)),
        cost=t.x_cost,
        upper=t.x_ok.astype(float),
        integer=True,
        meaning="x[l, n] = 1 when block l runs on node n",
    )
    x_of = np.full((t.depth + 2, len(names)), -1, dtype=np.int64)
    x_of[t.x_block, t.x_node] = x
    y = b.add_vars(
        "y",
        [ex.after_block for ex in t.exits],
        upper=np.array(t.admissible, dtype=float),
        integer=True,
        meaning="y[e] = 1 when e is the operating exit",
    )
    exit_block = np.array([ex.after_block for ex in t.exits], dtype=np.int64)
    ok = t.p_ok
    zk, zn, zm = t.p_k[ok], t.p_tail[ok], t.p_head[ok]
    z = b.add_vars(
        "z",
        LazyLabels(zk.size, lambda i: (int(zk[i]), names[zn[i]], names[zm[i]])),
        cost=t.p_cost[ok],
        upper=1.0,
        integer=True,
        meaning="z[k, n, m] = x[k, n] x[k+1, m]: block k on n, block k+1 on m",
    )
    select = req.exit_policy is ExitPolicy.SELECT
    w = np.zeros(0, dtype=np.int64)
    if select:
        w = b.add_vars(
            "w",
            list(zip(exit_block[t.w_exit].tolist(), [names[n] for n in t.w_node], strict=True)),
            cost=t.w_cost,
            upper=t.w_ok.astype(float),
            integer=True,
            meaning="w[e, n] = y[e] x[l_e, n]: exit e operates on node n",
        )
    _add_rows(instance, b, t, x, y, z, w, x_of, exit_block)
    objective = req.objective
    routes = FixedRoutes(instance)
    dnn = instance.dnn
    source = net.node_index[req.source]

    def decode(values: FloatArray) -> Placement:
        chosen = np.flatnonzero(values[y] > 0.5)
        if chosen.size != 1:
            raise ValueError(f"{chosen.size} operating exits in the solution")
        last = int(exit_block[chosen[0]]) if select else dnn.n_blocks
        on = values[x] > 0.5
        blocks = []
        for l in range(1, last + 1):
            hits = t.x_node[on & (t.x_block == l)]
            if hits.size != 1:
                raise ValueError(f"block {l} is placed on {hits.size} nodes")
            blocks.append(int(hits[0]))
        ends = [source, *blocks]
        path: list[tuple[str, ...] | None] = [
            routes.route(ends[k], ends[k + 1], dnn.handover_bytes(k), objective)
            for k in range(last)
        ]
        size = dnn.exit_at(last).output_bytes
        path.append(
            None
            if req.destination is None
            else routes.route(blocks[-1], net.node_index[req.destination], size, objective)
        )
        return Placement(tuple(names[n] for n in blocks), last, tuple(path))

    note = None
    if not any(t.admissible):
        what = "no exit reaches" if select else "the expected accuracy is below"
        note = f"{what} min_accuracy {req.min_accuracy:g}"
    return Formulation(
        name="assignment",
        milp=b.build(),
        decoder=decode,
        exact=assignment_is_exact(instance),
        note=note,
    )


def _add_rows(
    instance: Instance,
    b: MILPBuilder,
    t: AssignmentCosts,
    x: IntArray,
    y: IntArray,
    z: IntArray,
    w: IntArray,
    x_of: IntArray,
    exit_block: IntArray,
) -> None:
    """Rows (A1)-(A11) of the module docstring."""
    req = instance.request
    names = [node.id for node in instance.network.nodes]
    depth = t.depth
    y_rows, y_cols = np.nonzero(exit_block[None, :] >= np.arange(1, depth + 1)[:, None])
    b.add_rows(
        "A1_deploy",
        depth,
        rows=np.concatenate([t.x_block - 1, y_rows]),
        cols=np.concatenate([x, y[y_cols]]),
        vals=np.concatenate([np.ones(x.size), -np.ones(y_rows.size)]),
        lower=0.0,
        upper=0.0,
        labels=list(range(1, depth + 1)),
        meaning="block l is deployed exactly when the operating exit is at or after it",
    )
    b.add_rows(
        "A2_exit",
        1,
        rows=np.zeros(y.size),
        cols=y,
        vals=1.0,
        lower=1.0,
        upper=1.0,
        labels=["exit"],
        meaning="one operating exit",
    )
    if req.min_accuracy is not None:
        acc = np.array([a if a is not None else 0.0 for a in t.accuracy])
        b.add_rows(
            "A3_accuracy",
            1,
            rows=np.zeros(y.size),
            cols=y,
            vals=acc,
            lower=req.min_accuracy,
            labels=["accuracy"],
            meaning="accuracy of the operating exit >= min_accuracy",
        )
    ok = t.p_ok
    tail = x_of[t.p_k[ok], t.p_tail[ok]]
    head = x_of[t.p_k[ok] + 1, t.p_head[ok]]
    seq = np.arange(z.size)
    b.add_rows(
        "A4_pair_lower",
        z.size,
        rows=np.concatenate([seq, seq, seq]),
        cols=np.concatenate([tail, head, z]),
        vals=np.concatenate([np.ones(z.size), np.ones(z.size), -np.ones(z.size)]),
        upper=1.0,
        labels=b.var_labels("z"),
        meaning="z >= x[k, n] + x[k+1, m] - 1 (McCormick)",
    )
    _two_term_rows(
        b, "A5_pair_tail", z, tail, (1.0, -1.0), 0.0, b.var_labels("z"), "z <= x[k, n] (McCormick)"
    )
    _two_term_rows(
        b,
        "A6_pair_head",
        z,
        head,
        (1.0, -1.0),
        0.0,
        b.var_labels("z"),
        "z <= x[k+1, m] (McCormick)",
    )
    fk, fn, fm = t.p_k[~ok], t.p_tail[~ok], t.p_head[~ok]
    _two_term_rows(
        b,
        "A7_forbidden_pair",
        x_of[fk, fn],
        x_of[fk + 1, fm],
        (1.0, 1.0),
        1.0,
        LazyLabels(fk.size, lambda i: (int(fk[i]), names[fn[i]], names[fm[i]])),
        "no pair without a route or moving down the tier order",
    )
    if req.exit_policy is ExitPolicy.SELECT:
        n_e = y.size
        b.add_rows(
            "A8_exit_node",
            n_e,
            rows=np.concatenate([t.w_exit, np.arange(n_e)]),
            cols=np.concatenate([w, y]),
            vals=np.concatenate([np.ones(w.size), -np.ones(n_e)]),
            lower=0.0,
            upper=0.0,
            labels=exit_block.tolist(),
            meaning="the operating exit runs on one node",
        )
        _two_term_rows(
            b,
            "A9_exit_link",
            w,
            x_of[exit_block[t.w_exit], t.w_node],
            (1.0, -1.0),
            0.0,
            b.var_labels("w"),
            "exit e runs on the node of block l_e",
        )
    if req.deadline_s is not None:
        cols = np.concatenate([x, z, w])
        vals = np.concatenate([t.x_time, t.p_time[ok], t.w_time])
        keep = vals != 0
        b.add_rows(
            "A10_deadline",
            1,
            rows=np.zeros(int(keep.sum())),
            cols=cols[keep],
            vals=vals[keep] / req.deadline_s,
            upper=1.0,
            labels=["deadline"],
            meaning="latency (full depth under the expected policy) <= T",
        )
    mem = np.array([instance.dnn.block(l).memory_bytes for l in t.x_block.tolist()])
    caps = np.array(
        [math.inf if n.memory_bytes is None else n.memory_bytes for n in instance.network.nodes]
    )
    binding = np.flatnonzero(np.bincount(t.x_node, weights=mem, minlength=len(names)) > caps)
    if binding.size:
        row_of = np.full(len(names), -1)
        row_of[binding] = np.arange(binding.size)
        use = (row_of[t.x_node] >= 0) & (mem > 0)
        scale = np.where(caps[binding] > 0, caps[binding], 1.0)
        rows = row_of[t.x_node[use]]
        b.add_rows(
            "A11_memory",
            binding.size,
            rows=rows,
            cols=x[use],
            vals=mem[use] / scale[rows],
            upper=caps[binding] / scale,
            labels=[names[n] for n in binding],
            meaning="memory of the blocks on node n <= M_n",
        )
