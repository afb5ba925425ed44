"""The routing formulation ([JL]): one unit of binary flow on the layered graph.

Jung & Lee (arXiv 2111.07006) rewrite joint block placement and tensor routing as
routing on a layered graph (:mod:`splitbench.graphs.layered`): every
source-to-sink path is one placement with all its routes, and its length is the
objective. The MILP sends one unit of flow along such a path.

Sets
    V: vertices of the layered graph, with the source s (the input at the
    request's source) and the sink t; A: its arcs a = (u, v), each with an
    objective weight ``cost_a``, a latency ``time_a`` (what the deadline binds) and,
    for a compute arc, the node n_a it runs on and the block memory ``mu_a``.
Variables
    ``f[a]`` in {0, 1}: the path uses arc a.
Objective
    minimise  sum_a cost_a f[a] + constant_cost
Constraints
    (R1_conservation) for every vertex v incident to an arc:
        sum_{a out of v} f[a] - sum_{a into v} f[a] = 1 if v = s, -1 if v = t, else 0
    (R2_deadline) when the request has a deadline T:
        sum_a time_a f[a] <= T
    (R3_memory) for every node n with finite memory M_n that the blocks could exceed:
        sum_{compute arcs a on n} mu_a f[a] <= M_n

(R2) and (R3) are stored divided by T and by M_n (when M_n > 0), so that the
solvers' absolute feasibility tolerances act as relative ones on seconds and bytes.

Size O(L (|N| + |A|)) (times the number of tiers under ``tier_order``). Without
(R2) and (R3) the matrix is a node-arc incidence matrix, totally unimodular: the LP
relaxation has an integral optimum and the MILP needs no branching. Under the
select policy only exits meeting ``min_accuracy`` have exit arcs; under the
expected policy costs are expectations and (R2) binds the full-depth latency, as
built into the graph's arc weights. When no exit is admissible, (R1) of the sink is
an empty row that must equal -1: the model is infeasible, and
:attr:`~splitbench.milp.Formulation.note` says why.

Examples
--------
>>> from splitbench.instance import example_instance
>>> form = build_routing(example_instance())
>>> form.exact, sorted(form.milp.row_blocks)
(True, ['R1_conservation', 'R2_deadline'])
>>> form.milp.n_vars == form.milp.n_binaries == 64
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from splitbench.graphs.layered import LayeredGraph, build_layered_graph
from splitbench.instance.model import Instance
from splitbench.milp import Formulation, LazyLabels, MILPBuilder
from splitbench.placement import Placement

__all__ = ["add_routing_flow", "build_routing", "routing_from_graph"]


def build_routing(instance: Instance) -> Formulation:
    """Build the routing MILP of ``instance`` (see the module docstring).

    Parameters
    ----------
    instance : Instance
        The instance.

    Returns
    -------
    Formulation
        Exact; variable block ``f`` labelled by the layered graph's
        ``(tail label, head label)``; decoding walks the arcs with flow > 0.5.

    Examples
    --------
    >>> import numpy as np
    >>> from splitbench.instance import example_instance
    >>> form = build_routing(example_instance())
    >>> form.sizes()
    {'n_vars': 64, 'n_binaries': 64, 'n_rows': 41, 'n_nonzeros': 192}
    """
    return routing_from_graph(build_layered_graph(instance))


def routing_from_graph(graph: LayeredGraph) -> Formulation:
    """Build the routing MILP from an already built layered graph.

    Examples
    --------
    >>> from splitbench.graphs.layered import build_layered_graph
    >>> from splitbench.instance import example_instance
    >>> graph = build_layered_graph(example_instance())
    >>> routing_from_graph(graph).milp.var_blocks["f"].labels[0]
    (('md', 0, 0), ('es', 0, 0))
    """
    builder = MILPBuilder(f"routing:{graph.instance.name}")
    f = add_routing_flow(builder, graph)
    milp = builder.build(objective_constant=graph.constant_cost)

    def decode(values: npt.NDArray[np.float64]) -> Placement:
        return graph.placement_from_arcs(np.flatnonzero(values[f] > 0.5))

    return Formulation(
        name="routing", milp=milp, decoder=decode, exact=True, note=graph.infeasible_reason
    )


def add_routing_flow(
    builder: MILPBuilder,
    graph: LayeredGraph,
    *,
    tag: str = "",
    cost_scale: float = 1.0,
    units: int = 1,
) -> npt.NDArray[np.int64]:
    """Add one request's flow variables and rows (R1)-(R3) to ``builder``.

    The blocks are named ``f``, ``R1_conservation``, ``R2_deadline`` and
    ``R3_memory``, each followed by ``tag`` (so several requests fit in one model);
    the objective coefficients are the arc costs times ``cost_scale``. The objective
    constant (``graph.constant_cost``, times the scale) is the caller's to add.

    With ``units`` > 1 the flow carries that many unit paths at once (interchangeable
    requests aggregated): ``f[a]`` is an integer in 0..units and (R1) sends ``units``.
    (R2) and (R3) bind each path on its own, which a sum of paths cannot express:
    a deadline is then refused, and (R3) left to the caller's shared-memory rows.

    Parameters
    ----------
    builder : MILPBuilder
        The model under construction.
    graph : LayeredGraph
        The request's layered graph.
    tag : str
        Appended to every block name.
    cost_scale : float
        Multiplies the arc costs in the objective (per unit of flow).
    units : int
        Unit paths the flow carries (1: one request, binary flows).

    Returns
    -------
    ndarray of int
        The columns of the flow variables, in arc order.

    Raises
    ------
    ValueError
        For ``units`` < 1, or ``units`` > 1 with a deadline.

    Examples
    --------
    >>> from splitbench.graphs.layered import build_layered_graph
    >>> from splitbench.instance import example_instance
    >>> b = MILPBuilder("two copies")
    >>> graph = build_layered_graph(example_instance())
    >>> first = add_routing_flow(b, graph, tag="[0]")
    >>> second = add_routing_flow(b, graph, tag="[1]", cost_scale=2.0)
    >>> milp = b.build()
    >>> int(second[0]), sorted(milp.row_blocks)[:2]
    (64, ['R1_conservation[0]', 'R1_conservation[1]'])
    >>> bool(np.allclose(milp.c[second], 2.0 * milp.c[first]))
    True
    """
    instance = graph.instance
    req = instance.request
    n_arcs = graph.n_arcs
    if units < 1 or (units > 1 and req.deadline_s is not None):
        raise ValueError(f"{units} unit paths: a flow carries 1, or more without a deadline")
    labels = LazyLabels(
        n_arcs,
        lambda i: (graph.vertex_label(int(graph.tail[i])), graph.vertex_label(int(graph.head[i]))),
    )
    f = builder.add_vars(
        f"f{tag}",
        labels,
        cost=graph.cost * cost_scale,
        upper=float(units),
        integer=True,
        meaning="f[a] = 1 when the path uses arc a of the layered graph"
        if units == 1
        else f"f[a] = how many of the {units} paths use arc a of the layered graph",
    )

    # (R1) one row per vertex incident to an arc, plus the source and the sink
    ends = np.concatenate([graph.tail, graph.head, [graph.source, graph.sink]])
    vertices, position = np.unique(ends, return_inverse=True)
    rhs = np.zeros(vertices.shape[0])
    rhs[position[2 * n_arcs]] += float(units)
    rhs[position[2 * n_arcs + 1]] -= float(units)
    builder.add_rows(
        f"R1_conservation{tag}",
        int(vertices.shape[0]),
        rows=position[: 2 * n_arcs],
        cols=np.concatenate([f, f]),
        vals=np.concatenate([np.ones(n_arcs), -np.ones(n_arcs)]),
        lower=rhs,
        upper=rhs,
        labels=LazyLabels(int(vertices.shape[0]), lambda i: graph.vertex_label(int(vertices[i]))),
        meaning=f"flow out - flow in = {units} at the source, -{units} at the sink, 0 elsewhere",
    )
    if req.deadline_s is not None:
        used = np.flatnonzero(graph.time_s)
        builder.add_rows(
            f"R2_deadline{tag}",
            1,
            rows=np.zeros(used.shape[0], dtype=np.int64),
            cols=f[used],
            vals=graph.time_s[used] / req.deadline_s,
            upper=1.0,
            labels=["deadline"],
            meaning="latency (full depth under the expected policy) <= T",
        )
    limits = graph.memory_limits() if units == 1 else []
    if limits:
        rows = np.concatenate([np.full(arcs.shape[0], i) for i, (_, _, arcs) in enumerate(limits)])
        cols = np.concatenate([arcs for _, _, arcs in limits])
        capacity = np.array([capacity for _, capacity, _ in limits])
        scale = np.where(capacity > 0, capacity, 1.0)
        builder.add_rows(
            f"R3_memory{tag}",
            len(limits),
            rows=rows,
            cols=f[cols],
            vals=graph.memory_bytes[cols] / scale[rows],
            upper=capacity / scale,
            labels=[instance.network.nodes[n].id for n, _, _ in limits],
            meaning="memory of the blocks placed on node n <= M_n",
        )
    return f
