"""The coupled routing MILP of many requests (format 2): a multi-commodity flow.

Each request gets the single-request routing model
(:mod:`splitbench.formulations.routing`) on its own layered graph, its arc costs
scaled into the instance's objective; the requests are coupled by the load and
memory rows of MULTI.md ("Cost of a solution"). Requests are numbered i = 0, 1, ...
in file order and a flow's blocks carry the number of its first request, ``[i]``.

*Interchangeable* requests (the same DNN, rate and request fields) make the model
symmetric: any solution stays one when their placements are swapped, and branch and
bound explores every copy. By default (``symmetry="aggregate"``) a class of k such
requests without a deadline becomes one commodity, a flow of k units on their common
layered graph, that decoding splits into k paths; a deadline binds each path alone,
which a sum of paths cannot express, so classes with a deadline stay one flow per
request. ``symmetry="order"`` instead orders every class by (S1) and ``"none"``
leaves the symmetry alone.

Sets
    R: the requests, with rates lambda_r; a commodity c carries k_c of them (1, or
    an aggregated class) on its layered graph (V_c, A_c). N: the network's nodes,
    with speed S_n and memory M_n; E: its arcs, with bandwidth B_e; U the instance's
    ``max_utilization``. Per arc a: ``ops_a``, the operations it runs on its node
    (a compute arc: its block's, plus the exit branch's on a compute-and-exit arc),
    and ``bits_a``, the bits it moves over its network arc (8 times the tensor or the
    exit's result).
Variables
    ``f[i][a]`` in {0, .., k_c}: how many of commodity c's paths use arc a (binary
    for one request); ``y[n, d, l]`` in {0, 1}: the weights of block l of DNN d are
    on node n.
Objective
    energy: minimise sum_r lambda_r E_r (W); latency: minimise
    sum_r (lambda_r / sum_s lambda_s) D_r (s), E_r and D_r the cost of r's path:
    each arc's cost times lambda_r (or lambda_r / sum lambda) per unit of flow.
Constraints
    (R1_conservation[i]): commodity c sends k_c units from its source to its sink;
    (R2_deadline[i]), (R3_memory[i]): the single-request rows of a one-request
    commodity (its deadline, its own memory; an aggregated one has no deadline and
    its memory is held by (C3) and (C4));
    (C1_compute) for every computing node n:
        sum_c lambda_c sum_{a in A_c on n} ops_a f[c][a] <= U S_n
    (C2_link) for every network arc e:
        sum_c lambda_c sum_{a in A_c over e} bits_a f[c][a] <= U B_e
    (C3_weights) for every node n with a (C4) row, block l of DNN d, commodity c of d:
        sum_{compute arcs a of block l on n in A_c} f[c][a] <= k_c y[n, d, l]
    (C4_memory) for every node n with a finite memory that the distinct blocks
    placeable on it could exceed, when two or more requests may place blocks there:
        sum_{d, l} mu_{d,l} y[n, d, l] <= M_n   (weights shared by requests of d)
    (S1_order) with ``symmetry="order"``, for consecutive requests r, r' of a class:
        key(r) <= key(r')

(C1), (C2) and (C4) are divided by their right-hand side (when > 0), as the single
model's (R2) and (R3); a resource whose coefficients times the flows' bounds cannot
exceed its capacity gets no row. The key of (S1) is sum_a w_a f[r][a] with
``w = (n + 1) (|N| + 1)^(D - l)`` on the compute arcs of block l <= D on node n (D as
deep as keeps keys below 1024): it orders a class lexicographically by the nodes of
its first blocks. Handing a class's placements out in key order turns any solution
into one meeting (S1) at the same cost, so (S1) keeps an optimum.

Exact under the select exit policy: every combination of per-request paths is a
solution with the evaluator's cost and loads, and a flow of k units splits into k
such paths (cycles only add load and cost). The expected policy is not taken yet (its
loads are q- and pi-weighted and its early exits' result routes are part of the
placement): the builder refuses it.

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.instance import MultiInstance, example_instance
>>> one = MultiInstance.from_single(example_instance(), rate_per_s=150.0)
>>> multi = replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))
>>> form = build_routing_multi(multi)  # a deadline: one flow per request
>>> form.request_ids, len(form.commodities), form.n_binaries == 2 * 64
(('r1', 'r2'), 2, True)
>>> # block 1 is pinned to md: 2 x 150/s x 22.6 Gops may exceed its 11 Tops/s
>>> sorted(name for name in form.milp.row_blocks if not name.startswith("R"))
['C1_compute']
>>> free = replace(one.requests[0].request, deadline_s=None)
>>> pair = replace(multi, requests=tuple(replace(r, request=free) for r in multi.requests))
>>> both = build_routing_multi(pair).commodities
>>> [(c.request_ids, c.units) for c in both]
[(('r1', 'r2'), 2)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from splitbench.errors import UsageError
from splitbench.formulations._multi_rows import (
    FlowPart,
    add_capacity_rows,
    add_memory_rows,
    add_order_rows,
    arc_loads,
    order_weights,
    split_flow,
)
from splitbench.formulations.routing import add_routing_flow
from splitbench.graphs.layered import LayeredGraph, build_layered_graph
from splitbench.instance.model import ExitPolicy, Objective, Request
from splitbench.instance.multi import MultiInstance
from splitbench.milp import MILP, MILPBuilder, ModelSizes, NamedBlock
from splitbench.placement import MultiPlacement, Placement

__all__ = [
    "SYMMETRY",
    "Commodity",
    "MultiFormulation",
    "build_routing_multi",
    "interchangeable_classes",
]

FloatArray = npt.NDArray[np.float64]

SYMMETRY = ("aggregate", "order", "none")
"""The values of ``build_routing_multi(..., symmetry=)``. Aggregation is the default
because it pays: on capacity-bound classes of 5-20 identical requests HiGHS proves
in about a second what it cannot in 30 s without it; the (S1) order saved nodes
on five requests with a deadline but cost time and incumbents on ten and twenty, so it
is an option only."""


@dataclass(frozen=True, eq=False)
class Commodity:
    """One flow of the coupled model: one request, or interchangeable requests
    aggregated into one flow of as many units.

    Attributes
    ----------
    request_ids : tuple of str
        The requests it carries, in file order.
    block : NamedBlock
        Its flow columns (column j is arc j of ``graph``).
    graph : LayeredGraph
        The layered graph (of its first request; the others have the same one).
    """

    request_ids: tuple[str, ...]
    block: NamedBlock
    graph: LayeredGraph

    @property
    def units(self) -> int:
        """How many requests (unit paths) the flow carries."""
        return len(self.request_ids)


@dataclass(frozen=True, eq=False)
class MultiFormulation(ModelSizes):
    """A built many-request formulation: its MILP and how a solution becomes a
    :class:`~splitbench.placement.MultiPlacement`.

    Attributes
    ----------
    name : str
        ``"routing-multi"``.
    milp : MILP
        The model (its LP relaxation when built with ``relax``).
    request_ids : tuple of str
        The requests, in file order.
    commodities : tuple of Commodity
        The flows, in the order of their first request.
    exact : bool
        Whether the MILP's optimum is the instance's optimum.
    note : str or None
        Why the instance is infeasible whatever the solver, when known in advance.
    symmetry : str
        How interchangeable requests were treated (one of :data:`SYMMETRY`).
    symmetry_rows : int
        Number of (S1) rows.
    """

    name: str
    milp: MILP
    request_ids: tuple[str, ...]
    commodities: tuple[Commodity, ...]
    exact: bool
    note: str | None = None
    symmetry: str = "none"
    symmetry_rows: int = 0

    def commodity(self, request_id: str) -> Commodity:
        """The flow that carries request ``request_id`` (KeyError if none)."""
        for commodity in self.commodities:
            if request_id in commodity.request_ids:
                return commodity
        raise KeyError(request_id)

    @property
    def flows(self) -> dict[str, NamedBlock]:
        """Each request's flow columns by request id (shared by aggregated requests)."""
        return {rid: c.block for c in self.commodities for rid in c.request_ids}

    @property
    def graphs(self) -> dict[str, LayeredGraph]:
        """Each request's layered graph by request id."""
        return {rid: c.graph for c in self.commodities for rid in c.request_ids}

    def request_values(self, request_id: str, values: npt.ArrayLike) -> FloatArray:
        """The flow values of request ``request_id``'s commodity, in arc order of its
        layered graph (the sum over the requests of an aggregated one)."""
        out: FloatArray = np.asarray(values, dtype=float)[self.commodity(request_id).block.slice]
        return out

    def decode(self, values: npt.ArrayLike) -> MultiPlacement:
        """The placements of an integral solution ``values``: each commodity's flow is
        split into its unit paths, handed to its requests in file order."""
        x = np.asarray(values, dtype=float)
        placements: dict[str, Placement] = {}
        for c in self.commodities:
            paths = split_flow(c.graph, x[c.block.slice], c.units)
            for rid, path in zip(c.request_ids, paths, strict=True):
                placements[rid] = c.graph.placement_from_arcs(path)
        return MultiPlacement(tuple((rid, placements[rid]) for rid in self.request_ids))

    @property
    def n_integers(self) -> int:
        """Number of integer variables (binary, or the flows of aggregated requests)."""
        return self.milp.n_integers


def interchangeable_classes(instance: MultiInstance) -> list[list[int]]:
    """Groups (two or more) of request positions that are interchangeable: the same DNN,
    rate and request fields, so any solution stays one when their placements are
    swapped.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> one = MultiInstance.from_single(example_instance())
    >>> r = one.requests[0]
    >>> three = (r, replace(r, id="b", rate_per_s=2.0), replace(r, id="c"))
    >>> interchangeable_classes(replace(one, requests=three))
    [[0, 2]]
    """
    groups: dict[tuple[str, float, Request], list[int]] = {}
    for i, req in enumerate(instance.requests):
        groups.setdefault((req.dnn, req.rate_per_s, req.request), []).append(i)
    return [members for members in groups.values() if len(members) > 1]


def _groups(instance: MultiInstance, symmetry: str) -> tuple[list[list[int]], list[list[int]]]:
    """(the requests of each commodity, the classes to order by (S1))."""
    if symmetry not in SYMMETRY:
        raise UsageError(f"symmetry must be one of {', '.join(SYMMETRY)}, got {symmetry!r}")
    classes = interchangeable_classes(instance) if symmetry != "none" else []
    merged: dict[int, list[int]] = {}
    ordered: list[list[int]] = []
    for members in classes:
        if symmetry == "order":
            ordered.append(members)
        elif instance.requests[members[0]].request.deadline_s is None:
            merged[members[0]] = members
    inside = {i for members in merged.values() for i in members[1:]}
    groups = [merged.get(i, [i]) for i in range(len(instance.requests)) if i not in inside]
    return groups, ordered


def build_routing_multi(
    instance: MultiInstance, *, relax: bool = False, symmetry: str = "aggregate"
) -> MultiFormulation:
    """Build the coupled routing MILP of ``instance`` (see the module docstring).

    Parameters
    ----------
    instance : MultiInstance
        The requests and their shared network; every request under the select exit
        policy.
    relax : bool
        Build the LP relaxation instead (every column continuous).
    symmetry : str
        One of :data:`SYMMETRY`: aggregate each class of interchangeable requests
        without a deadline into one flow (default), order every class by (S1)
        (``"order"``), or leave them alone (``"none"``).

    Returns
    -------
    MultiFormulation
        Exact (select policy); decoding splits each flow into its paths.

    Raises
    ------
    UsageError
        When a request has the expected exit policy (the coupled model does not yet
        take it), or for an unknown ``symmetry``.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> one = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
    >>> form = build_routing_multi(one)
    >>> form.sizes()  # 20 inferences/s cannot fill any node or link: the single model
    {'n_vars': 64, 'n_binaries': 64, 'n_rows': 41, 'n_nonzeros': 192}
    >>> build_routing_multi(one, relax=True).milp.n_integers
    0
    >>> request = replace(one.requests[0].request, exit_policy="expected")
    >>> build_routing_multi(replace(one, requests=(replace(one.requests[0], request=request),)))
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: request 'r1': the coupled routing model does not yet take \
the expected exit policy (only select)
    """
    for req in instance.requests:
        if req.request.exit_policy is ExitPolicy.EXPECTED:
            raise UsageError(
                f"request {req.id!r}: the coupled routing model does not yet take the "
                f"expected exit policy (only select)"
            )
    groups, ordered = _groups(instance, symmetry)
    net = instance.network
    energy = instance.objective is Objective.ENERGY
    builder = MILPBuilder(f"routing-multi:{instance.name}")
    graphs: list[LayeredGraph] = []
    parts: list[FlowPart] = []
    position: dict[int, int] = {}
    constant = 0.0
    notes: list[str] = []
    for members in groups:
        i = members[0]
        req = instance.requests[i]
        graph = build_layered_graph(instance.single(req.id))
        scale = req.rate_per_s if energy else req.rate_per_s / instance.total_rate
        units = len(members)
        cols = add_routing_flow(builder, graph, tag=f"[{i}]", cost_scale=scale, units=units)
        constant += units * scale * graph.constant_cost
        position[i] = len(parts)
        graphs.append(graph)
        parts.append(FlowPart(cols, arc_loads(graph), req.rate_per_s, req.dnn, req.id, units))
        if graph.infeasible_reason is not None:
            notes.append(f"request {req.id!r}: {graph.infeasible_reason}")
    _add_coupling(builder, instance, parts)
    rows = 0
    if ordered:
        weights = [order_weights(p.loads, len(net.nodes)) for p in parts]
        classes = [[position[i] for i in members] for members in ordered]
        rows = add_order_rows(builder, classes, parts, weights)
    milp = builder.build(objective_constant=constant)
    commodities = tuple(
        Commodity(
            tuple(instance.requests[i].id for i in members),
            milp.var_blocks[f"f[{members[0]}]"],
            graph,
        )
        for members, graph in zip(groups, graphs, strict=True)
    )
    return MultiFormulation(
        name="routing-multi",
        milp=milp.relax() if relax else milp,
        request_ids=instance.request_ids,
        commodities=commodities,
        exact=True,
        note="; ".join(notes) or None,
        symmetry=symmetry,
        symmetry_rows=rows,
    )


def _add_coupling(builder: MILPBuilder, instance: MultiInstance, parts: Sequence[FlowPart]) -> None:
    """Rows (C1)-(C4) over the flows ``parts``."""
    net = instance.network
    u = instance.max_utilization

    def gather(where: str, load: str) -> list[npt.NDArray[np.generic]]:
        used = [np.flatnonzero(getattr(p.loads, load) > 0) for p in parts]
        return [
            np.concatenate([getattr(p.loads, where)[k] for p, k in zip(parts, used, strict=True)]),
            np.concatenate([p.cols[k] for p, k in zip(parts, used, strict=True)]),
            np.concatenate(
                [p.rate * getattr(p.loads, load)[k] for p, k in zip(parts, used, strict=True)]
            ),
            np.concatenate(
                [np.full(k.size, float(p.units)) for p, k in zip(parts, used, strict=True)]
            ),
        ]

    resource, cols, vals, upper = gather("node", "ops")
    add_capacity_rows(
        builder,
        "C1_compute",
        resource.astype(np.int64),
        cols.astype(np.int64),
        vals.astype(np.float64),
        u * np.array([node.ops_per_s for node in net.nodes]),
        [node.id for node in net.nodes],
        "sum_r rate_r x ops r runs on node n <= U x ops_per_s(n)",
        upper.astype(np.float64),
    )
    resource, cols, vals, upper = gather("net_arc", "bits")
    add_capacity_rows(
        builder,
        "C2_link",
        resource.astype(np.int64),
        cols.astype(np.int64),
        vals.astype(np.float64),
        u * np.array([arc.bandwidth_bps for arc in net.arcs]),
        [(arc.source, arc.target) for arc in net.arcs],
        "sum_r rate_r x bits r sends over arc (u, v) <= U x bandwidth_bps(u, v)",
        upper.astype(np.float64),
    )
    block_memory = {
        d.name: np.array([0.0, *(b.memory_bytes for b in d.blocks)]) for d in instance.dnns
    }
    add_memory_rows(builder, net, block_memory, parts)
