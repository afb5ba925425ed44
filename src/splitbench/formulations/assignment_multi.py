"""The coupled assignment MILP of many requests (format 2), with route choice.

Each request gets the variables of the single-request assignment model
(:mod:`splitbench.formulations.assignment`: ``x``, ``y``, ``z``, ``w``) for its DNN
and fields, but its transfers are not fixed to the cheapest route: under link load a
costlier route may be the one that fits. Every transfer that leaves a node (the
input from the source into block 1's node, hand-over k between different nodes,
the result from the exit's node to the destination) chooses one of the *simple*
routes between its two nodes; a walk would load a superset of arcs at no lower cost,
so simple routes lose nothing. The requests are coupled by the load and memory rows
of MULTI.md ("Cost of a solution"), as in
:mod:`splitbench.formulations.routing_multi`, and the objective is scaled the same
way, so both models have the same optimum. Requests are numbered i = 0, 1, ... in
file order and every per-request block carries ``[i]``.

Sets
    R: the requests, rate lambda_r; per request r (MODEL.md notation of the single
    model): blocks l = 1..L'_r, candidate nodes C_l, exits e after block l_e, pairs
    P_k (allowed) and F_k (forbidden) of consecutive candidates. Per transfer t (an
    ``x[1, n]`` with n != source, a ``z[k, n, m]`` with n != m, a ``w[e, n]`` with n
    != destination): Pi_t, the simple routes between its two nodes (at most
    ``max_routes``, cheapest first), each route pi with cost c_pi (objective) and
    time t_pi for the tensor it moves (s_0, s_k or e's result, of 8 s_t bits).
    N: nodes (speed S_n, memory M_n); E: arcs (bandwidth B_a); U ``max_utilization``.
Variables
    ``x[i]``, ``y[i]``, ``z[i]``, ``w[i]``: the single model's, in {0, 1};
    ``p[i][t, pi]`` in {0, 1}: transfer t of request r uses route pi;
    ``y[n, d, l]`` in {0, 1} (the block named ``y``): the weights of block l of DNN d
    are on node n.
Objective
    energy: minimise sum_r lambda_r E_r (W); latency: minimise
    sum_r (lambda_r / sum_s lambda_s) D_r (s), with E_r (D_r) the sum of the compute
    costs of ``x`` and ``w`` and the route costs c_pi of ``p``.
Constraints
    the single model's, per request, without its fixed-route costs:
    (A1_deploy[i]) sum_n x[l, n] = sum_{e: l_e >= l} y[e]; (A2_exit[i]) sum_e y[e] = 1;
    (A3_accuracy[i]) sum_e a_e y[e] >= A, with a minimum accuracy;
    (A4_pair_lower[i]), (A5_pair_tail[i]), (A6_pair_head[i]) z = x[k, n] x[k+1, m]
    (McCormick) for (n, m) in P_k; (A7_forbidden_pair[i]) x[k, n] + x[k+1, m] <= 1
    for (n, m) in F_k; (A8_exit_node[i]) sum_n w[e, n] = y[e]; (A9_exit_link[i])
    w[e, n] <= x[l_e, n]; (A10_deadline[i]) compute and branch times plus
    sum t_pi p[t, pi] <= T; (A11_memory[i]) sum_l mu_l x[l, n] <= M_n;
    (A12_route[i]) for every transfer t with its owner o_t (``x[1, n]``, ``z``, ``w``):
        sum_{pi in Pi_t} p[t, pi] = o_t
    (C1_compute) for every computing node n:
        sum_r lambda_r (sum_l o_l x[l, n] + sum_e o_e w[e, n]) <= U S_n
    (C2_link) for every network arc a:
        sum_r lambda_r sum_{t, pi: a in pi} 8 s_t p[t, pi] <= U B_a
    (C3_weights) x[l, n] of request r (of DNN d) <= y[n, d, l] and (C4_memory)
        sum_{d, l} mu_{d,l} y[n, d, l] <= M_n, where two or more requests may place
        weights on a node whose memory they could exceed (as in ``routing_multi``).

(A10), (A11), (C1), (C2) and (C4) are divided by their right-hand side; a resource
whose coefficients cannot add up to its capacity gets no row. Size: the single
model's O(L |N|^2) per request, times the number of routes per pair.

Exactness: under the select exit policy every combination of per-request
placements and simple routes is a column vector of this model with the evaluator's
cost and loads, so the model is the instance's when no node pair that a transfer
may join has more than ``max_routes`` simple routes (``exact``,
:func:`assignment_multi_is_exact`). Otherwise those pairs keep their
``max_routes`` cheapest routes (a cheapest one always among them, so no fewer
routes than the single model's fixed ones): it is a restriction, ``exact = False``, its answers
are feasible but not proven optimal, its infeasibility proves nothing, and
:attr:`AssignmentMultiFormulation.restriction` names the truncated pairs. The
expected policy is refused.

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.instance import MultiInstance, example_instance
>>> one = MultiInstance.from_single(example_instance(), rate_per_s=150.0)
>>> two = replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))
>>> form = build_assignment_multi(two)
>>> form.exact, [name for name in form.milp.var_blocks if name.endswith("[0]")]
(True, ['x[0]', 'y[0]', 'z[0]', 'w[0]', 'p[0]'])
>>> # links only go up: md -> cs has two simple routes (direct, via es), md -> es and
>>> # es -> cs one; block 1 is pinned to the source md: 3 routes for hand-over 1, 4 for
>>> # each of hand-overs 2-4
>>> len(form.milp.var_blocks["p[0]"])
15
>>> sorted(name for name in form.milp.row_blocks if name.startswith("C"))
['C1_compute']
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from splitbench.errors import UsageError
from splitbench.formulations._assignment_multi_rows import (
    RequestColumns,
    RequestTables,
    RoutePool,
    add_request_rows,
    request_tables,
    transfer_pairs,
    transfers,
)
from splitbench.formulations._multi_rows import (
    ArcLoads,
    FlowPart,
    add_capacity_rows,
    add_memory_rows,
)
from splitbench.instance.model import ExitPolicy, Instance, Objective
from splitbench.instance.multi import MultiInstance
from splitbench.milp import MILP, LazyLabels, MILPBuilder, ModelSizes
from splitbench.placement import MultiPlacement, Placement

__all__ = [
    "DEFAULT_MAX_ROUTES",
    "AssignmentMultiFormulation",
    "assignment_multi_is_exact",
    "build_assignment_multi",
    "route_variables",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_MAX_ROUTES = 64
"""Simple routes kept per node pair (and tensor size) by default."""


@dataclass(frozen=True, eq=False)
class AssignmentMultiFormulation(ModelSizes):
    """A built coupled assignment model: its MILP and how a solution becomes a
    :class:`~splitbench.placement.MultiPlacement`.

    Attributes
    ----------
    name : str
        ``"assignment-multi"``.
    milp : MILP
        The model (its LP relaxation when built with ``relax``).
    request_ids : tuple of str
        The requests, in file order.
    requests : tuple of RequestColumns
        Per request: its tables (costs, loads, routes) and columns.
    exact : bool
        Whether the MILP's optimum is the instance's (no node pair truncated).
    note : str or None
        Why the instance is infeasible whatever the solver, when known in advance.
    max_routes : int
        The most routes kept per node pair and tensor size.
    truncated_pairs : tuple of (str, str)
        The node pairs with more simple routes than ``max_routes``.
    """

    name: str
    milp: MILP
    request_ids: tuple[str, ...]
    requests: tuple[RequestColumns, ...]
    exact: bool
    note: str | None = None
    max_routes: int = DEFAULT_MAX_ROUTES
    truncated_pairs: tuple[tuple[str, str], ...] = ()

    @property
    def restriction(self) -> str | None:
        """What the model leaves out when it is not exact (None when it is exact)."""
        if self.exact:
            return None
        shown = [f"{u}->{v}" for u, v in self.truncated_pairs[:3]]
        if len(self.truncated_pairs) > 3:
            shown.append(f"{len(self.truncated_pairs) - 3} more")
        return (
            f"only the {self.max_routes} cheapest simple routes of "
            f"{len(self.truncated_pairs)} node pairs ({', '.join(shown)})"
        )

    @property
    def n_route_vars(self) -> int:
        """Number of route-choice variables ``p`` over all requests."""
        return sum(c.p.size for c in self.requests)

    def decode(self, values: npt.ArrayLike) -> MultiPlacement:
        """The placements, with every route, of an integral solution ``values``.

        Raises
        ------
        ValueError
            When ``values`` is not a placement of every request (no single exit, a
            block on no node or on two, a transfer without its route).
        """
        x = np.asarray(values, dtype=float)
        return MultiPlacement(tuple((c.rid, _decode_request(c, x)) for c in self.requests))


def _decode_request(c: RequestColumns, values: FloatArray) -> Placement:
    t, req = c.tables, c.single.request
    net = c.single.network
    names = [node.id for node in net.nodes]
    chosen = np.flatnonzero(values[c.y] > 0.5)
    if chosen.size != 1:
        raise ValueError(f"request {c.rid!r}: {chosen.size} operating exits in the solution")
    last = int(t.exit_block[chosen[0]])
    on = values[c.x] > 0.5
    blocks: list[int] = []
    for l in range(1, last + 1):
        hits = t.x_node[on & (t.x_block == l)]
        if hits.size != 1:
            raise ValueError(f"request {c.rid!r}: block {l} is placed on {hits.size} nodes")
        blocks.append(int(hits[0]))
    picked = {
        tuple(t.r_labels[j][:-1]): t.routes[j].nodes for j in np.flatnonzero(values[c.p] > 0.5)
    }

    def route(step: tuple[Hashable, ...], u: int, v: int) -> tuple[str, ...]:
        found = (names[u],) if u == v else picked.get(step)
        if found is None or (found[0], found[-1]) != (names[u], names[v]):
            raise ValueError(f"request {c.rid!r}: no route chosen from {names[u]} to {names[v]}")
        return found

    ends = [net.node_index[req.source], *blocks]
    path: list[tuple[str, ...] | None] = [route((k,), ends[k], ends[k + 1]) for k in range(last)]
    if req.destination is None:
        path.append(None)
    else:
        path.append(route(("result", last), blocks[-1], net.node_index[req.destination]))
    return Placement(tuple(names[n] for n in blocks), last, tuple(path))


def assignment_multi_is_exact(
    instance: MultiInstance, max_routes: int = DEFAULT_MAX_ROUTES
) -> bool:
    """Whether :func:`build_assignment_multi` with ``max_routes`` is the instance's model:
    no node pair a transfer may join has more simple routes (counted, not built).

    False when a request has the expected exit policy (the model refuses it).

    Examples
    --------
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> multi = MultiInstance.from_single(example_instance())
    >>> assignment_multi_is_exact(multi), assignment_multi_is_exact(multi, max_routes=1)
    (True, False)
    """
    if any(r.request.exit_policy is ExitPolicy.EXPECTED for r in instance.requests):
        return False
    pool = RoutePool(instance.network, instance.objective, max_routes)
    for _, single in instance.singles():
        for u, v in sorted(transfer_pairs(single)):
            if pool.count(u, v) > max_routes:
                return False
    return True


def route_variables(instance: MultiInstance, max_routes: int = DEFAULT_MAX_ROUTES) -> int:
    """How many route variables :func:`build_assignment_multi` would make (counted,
    not built: simple routes per transfer, at most ``max_routes`` each).

    Examples
    --------
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> multi = MultiInstance.from_single(example_instance())
    >>> route_variables(multi), build_assignment_multi(multi).n_route_vars
    (15, 15)
    """
    pool = RoutePool(instance.network, instance.objective, max_routes)
    return sum(
        min(pool.count(u, v), max_routes)
        for _, single in instance.singles()
        for u, v in transfers(single)
    )


def build_assignment_multi(
    instance: MultiInstance, *, relax: bool = False, max_routes: int = DEFAULT_MAX_ROUTES
) -> AssignmentMultiFormulation:
    """Build the coupled assignment MILP of ``instance`` (see the module docstring).

    Parameters
    ----------
    instance : MultiInstance
        The requests and their shared network; every request under the select exit
        policy.
    relax : bool
        Build the LP relaxation instead (every column continuous).
    max_routes : int
        The most simple routes kept per node pair and tensor size (cheapest first);
        a pair with more makes the model a restriction (``exact = False``).

    Returns
    -------
    AssignmentMultiFormulation
        Blocks ``x[i]``, ``y[i]``, ``z[i]``, ``w[i]`` (labels as in the single
        model) and ``p[i]`` (labels ``(hand-over k, route)``, the result's
        ``("result", exit block, route)``) per request.

    Raises
    ------
    UsageError
        When a request has the expected exit policy, or ``max_routes < 1``.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> one = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
    >>> form = build_assignment_multi(one)
    >>> # the single model's 40 variables and 86 rows, plus 15 routes and 11 (A12) rows
    >>> form.sizes(), form.n_route_vars, len(form.milp.row_blocks["A12_route[0]"])
    ({'n_vars': 55, 'n_binaries': 55, 'n_rows': 97, 'n_nonzeros': 259}, 15, 11)
    >>> build_assignment_multi(one, max_routes=1).restriction
    'only the 1 cheapest simple routes of 1 node pairs (md->cs)'
    >>> request = replace(one.requests[0].request, exit_policy="expected")
    >>> build_assignment_multi(replace(one, requests=(replace(one.requests[0], request=request),)))
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: request 'r1': the coupled assignment model does not yet \
take the expected exit policy (only select)
    """
    for req in instance.requests:
        if req.request.exit_policy is ExitPolicy.EXPECTED:
            raise UsageError(
                f"request {req.id!r}: the coupled assignment model does not yet take the "
                f"expected exit policy (only select)"
            )
    energy = instance.objective is Objective.ENERGY
    pool = RoutePool(instance.network, instance.objective, max_routes)
    builder = MILPBuilder(f"assignment-multi:{instance.name}")
    parts: list[RequestColumns] = []
    notes: list[str] = []
    for i, (req, single) in enumerate(instance.singles()):
        scale = req.rate_per_s if energy else req.rate_per_s / instance.total_rate
        tables = request_tables(single, pool)
        columns = _add_request_vars(builder, f"[{i}]", req.id, single, tables, scale)
        add_request_rows(builder, f"[{i}]", columns)
        parts.append(columns)
        if not any(tables.admissible):
            notes.append(
                f"request {req.id!r}: no exit reaches min_accuracy {req.request.min_accuracy:g}"
            )
    _add_coupling(builder, instance, parts)
    milp = builder.build()
    names = [node.id for node in instance.network.nodes]
    return AssignmentMultiFormulation(
        name="assignment-multi",
        milp=milp.relax() if relax else milp,
        request_ids=instance.request_ids,
        requests=tuple(parts),
        exact=not pool.truncated,
        note="; ".join(notes) or None,
        max_routes=max_routes,
        truncated_pairs=tuple((names[u], names[v]) for u, v in sorted(pool.truncated)),
    )


def _add_request_vars(
    b: MILPBuilder,
    tag: str,
    rid: str,
    single: Instance,
    t: RequestTables,
    scale: float,
) -> RequestColumns:
    """The columns of one request, costs times ``scale``."""
    names = [node.id for node in single.network.nodes]
    x = b.add_vars(
        f"x{tag}",
        list(zip(t.x_block.tolist(), [names[n] for n in t.x_node], strict=True)),
        cost=scale * t.x_cost,
        upper=t.x_ok.astype(float),
        integer=True,
        meaning="x[l, n] = 1 when block l runs on node n",
    )
    y = b.add_vars(
        f"y{tag}",
        t.exit_block.tolist(),
        upper=np.array(t.admissible, dtype=float),
        integer=True,
        meaning="y[e] = 1 when e is the operating exit",
    )
    ok = t.p_ok
    zk, zn, zm = t.p_k[ok], t.p_tail[ok], t.p_head[ok]
    z = b.add_vars(
        f"z{tag}",
        LazyLabels(zk.size, lambda i: (int(zk[i]), names[zn[i]], names[zm[i]])),
        upper=1.0,
        integer=True,
        meaning="z[k, n, m] = x[k, n] x[k+1, m]: block k on n, block k+1 on m",
    )
    w = b.add_vars(
        f"w{tag}",
        list(zip(t.exit_block[t.w_exit].tolist(), [names[n] for n in t.w_node], strict=True)),
        cost=scale * t.w_cost,
        upper=t.w_ok.astype(float),
        integer=True,
        meaning="w[e, n] = y[e] x[l_e, n]: exit e operates on node n",
    )
    p = b.add_vars(
        f"p{tag}",
        t.r_labels,
        cost=scale * np.array([r.cost for r in t.routes], dtype=float),
        upper=1.0,
        integer=True,
        meaning="p[t, pi] = 1 when transfer t uses simple route pi",
    )
    return RequestColumns(rid, single, t, x, y, z, w, p)


def _add_coupling(
    builder: MILPBuilder, instance: MultiInstance, parts: Sequence[RequestColumns]
) -> None:
    """Rows (C1)-(C4) over the requests' columns ``parts``."""
    net = instance.network
    u = instance.max_utilization
    rate = {c.rid: instance.request(c.rid).rate_per_s for c in parts}
    node = np.concatenate(
        [np.zeros(0, np.int64)]
        + [c.tables.x_node for c in parts]
        + [c.tables.w_node for c in parts]
    )
    cols = np.concatenate([np.zeros(0, np.int64)] + [c.x for c in parts] + [c.w for c in parts])
    ops = np.concatenate(
        [np.zeros(0)]
        + [rate[c.rid] * c.tables.x_ops for c in parts]
        + [rate[c.rid] * c.tables.w_ops for c in parts]
    )
    used = ops > 0
    add_capacity_rows(
        builder,
        "C1_compute",
        node[used],
        cols[used],
        ops[used],
        u * np.array([n.ops_per_s for n in net.nodes]),
        [n.id for n in net.nodes],
        "sum_r rate_r x ops r runs on node n <= U x ops_per_s(n)",
    )
    arcs = np.concatenate([np.zeros(0, np.int64)] + [c.tables.r_arcs for c in parts])
    route_cols = np.concatenate(
        [np.zeros(0, np.int64)] + [c.p[c.tables.r_arc_route] for c in parts]
    )
    load = np.concatenate(
        [np.zeros(0)] + [rate[c.rid] * c.tables.r_bits[c.tables.r_arc_route] for c in parts]
    )
    moved = load > 0
    add_capacity_rows(
        builder,
        "C2_link",
        arcs[moved],
        route_cols[moved],
        load[moved],
        u * np.array([a.bandwidth_bps for a in net.arcs]),
        [(a.source, a.target) for a in net.arcs],
        "sum_r rate_r x bits r sends over arc (u, v) <= U x bandwidth_bps(u, v)",
    )
    block_memory = {
        d.name: np.array([0.0, *(b.memory_bytes for b in d.blocks)]) for d in instance.dnns
    }
    flows = []
    for c in parts:
        t = c.tables
        loads = ArcLoads(
            node=t.x_node,
            block=t.x_block,
            ops=t.x_ops,
            net_arc=np.full(t.x_node.size, -1, dtype=np.int64),
            bits=np.zeros(t.x_node.size),
        )
        flows.append(FlowPart(c.x, loads, rate[c.rid], c.single.dnn.name, c.rid))
    add_memory_rows(builder, net, block_memory, flows)
