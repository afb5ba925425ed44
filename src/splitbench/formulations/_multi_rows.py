"""The coupling rows of the many-request routing MILP (private to
:mod:`splitbench.formulations.routing_multi`).

What one request's layered-graph arcs put on the shared resources per inference
(:func:`arc_loads`), and the rows that bound the sum over requests: node compute
(C1), arc bandwidth (C2), shared block weights (C3, C4), and the symmetry-breaking
order of interchangeable requests (S1).

Examples
--------
>>> from splitbench.graphs.layered import build_layered_graph
>>> from splitbench.instance import example_instance
>>> loads = arc_loads(build_layered_graph(example_instance()))
>>> # the largest block (b1, 22.62 Gops) and the 39 transmission arcs
>>> round(float(loads.ops.max()) / 1e9, 2), int((loads.net_arc >= 0).sum())
(22.62, 39)
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from splitbench.graphs.layered import LayeredGraph
from splitbench.graphs.loads import ArcLoads, arc_loads
from splitbench.instance.model import Network
from splitbench.milp import MILPBuilder

__all__ = [
    "ArcLoads",
    "FlowPart",
    "add_capacity_rows",
    "add_memory_rows",
    "add_order_rows",
    "arc_loads",
    "order_weights",
    "split_flow",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ORDER_RANGE = 1024
"""The largest weight of an order key (S1): the key of a placement stays an integer
below this, so that one unit of difference survives the solvers' tolerances."""


@dataclass(frozen=True, eq=False)
class FlowPart:
    """One request's flow in the coupled model.

    Attributes
    ----------
    cols : ndarray of int
        Its flow columns, in arc order of its layered graph.
    loads : ArcLoads
        The loads of those arcs.
    rate : float
        Inferences per second.
    dnn : str
        The DNN it runs (requests of one DNN share block weights).
    rid : str
        The request's id (for row labels; the first one's when aggregated).
    units : int
        How many interchangeable requests the flow carries (its columns are in
        0..units).
    """

    cols: IntArray
    loads: ArcLoads
    rate: float
    dnn: str
    rid: str
    units: int = 1


def add_capacity_rows(
    builder: MILPBuilder,
    name: str,
    resource: IntArray,
    cols: IntArray,
    vals: FloatArray,
    capacity: FloatArray,
    labels: Sequence[Hashable],
    meaning: str,
    upper: FloatArray | None = None,
) -> int:
    """Add ``sum vals[i] * x[cols[i]] over i with resource[i] = j  <=  capacity[j]`` for
    every resource j whose coefficients times the columns' ``upper`` bounds (default
    1) add up to more than its capacity (the others cannot bind), divided by the
    capacity (> 0).

    Returns the number of rows added (none: no block is added).

    Examples
    --------
    >>> b = MILPBuilder("m")
    >>> x = b.add_vars("x", ["a", "b", "c"], upper=1.0)
    >>> add_capacity_rows(b, "cap", np.array([0, 0, 1]), x, np.array([2.0, 3.0, 1.0]),
    ...                   np.array([4.0, 5.0]), ["n0", "n1"], "load <= capacity")
    1
    >>> b.build().A.toarray().tolist(), list(b.build().row_blocks["cap"].labels)
    ([[0.5, 0.75, 0.0]], ['n0'])
    """
    reach = vals if upper is None else vals * upper
    total = np.bincount(resource, weights=reach, minlength=capacity.shape[0])
    binding = np.flatnonzero(total > capacity)
    if binding.size == 0:
        return 0
    position = np.full(capacity.shape[0], -1, dtype=np.int64)
    position[binding] = np.arange(binding.size)
    keep = position[resource] >= 0
    builder.add_rows(
        name,
        int(binding.size),
        rows=position[resource[keep]],
        cols=cols[keep],
        vals=vals[keep] / capacity[resource[keep]],
        upper=1.0,
        labels=[labels[int(j)] for j in binding],
        meaning=meaning,
    )
    return int(binding.size)


def add_memory_rows(
    builder: MILPBuilder,
    network: Network,
    block_memory: dict[str, FloatArray],
    parts: Sequence[FlowPart],
) -> int:
    """Add the shared-weight variables ``y[n, dnn, l]`` and rows (C3) and (C4) for every
    node with a memory limit that the distinct blocks placeable on it could exceed,
    when two or more requests may place weights there (one request alone is bound by
    its own (R3) row).

    ``block_memory[dnn][l]`` is block l's memory (index 0 unused). Returns the number
    of nodes with a (C4) row.
    """
    pairs: dict[tuple[int, str, int], list[tuple[int, IntArray]]] = {}
    for i, part in enumerate(parts):
        memory = block_memory[part.dnn][part.loads.block]
        on = np.flatnonzero((part.loads.node >= 0) & (memory > 0))
        if on.size == 0:
            continue
        keys = part.loads.node[on] * (len(block_memory[part.dnn]) + 1) + part.loads.block[on]
        uniques, inverse = np.unique(keys, return_inverse=True)
        for u, key in enumerate(uniques):
            where, block = divmod(int(key), len(block_memory[part.dnn]) + 1)
            pairs.setdefault((where, part.dnn, block), []).append((i, on[inverse == u]))
    chosen: list[tuple[int, str, int]] = []
    for n, node in enumerate(network.nodes):
        if node.memory_bytes is None:
            continue
        here = [key for key in pairs if key[0] == n]
        users = sum(parts[i].units for i in {i for key in here for i, _ in pairs[key]})
        if users > 1 and sum(float(block_memory[d][l]) for _, d, l in here) > node.memory_bytes:
            chosen.extend(sorted(here))
    if not chosen:
        return 0
    names = [node.id for node in network.nodes]
    y = builder.add_vars(
        "y",
        [(names[n], d, l) for n, d, l in chosen],
        upper=1.0,
        integer=True,
        meaning="y[n, dnn, l] = 1 when some request places block l of dnn on node n",
    )
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    row_labels: list[Hashable] = []
    for j, key in enumerate(chosen):
        for i, arcs in pairs[key]:
            r = len(row_labels)
            rows.append(np.full(arcs.size + 1, r, dtype=np.int64))
            cols.append(np.append(parts[i].cols[arcs], y[j]))
            vals.append(np.append(np.ones(arcs.size), -float(parts[i].units)))
            row_labels.append((names[key[0]], key[1], key[2], parts[i].rid))
    builder.add_rows(
        "C3_weights",
        len(row_labels),
        rows=np.concatenate(rows),
        cols=np.concatenate(cols),
        vals=np.concatenate(vals),
        upper=0.0,
        labels=row_labels,
        meaning="flow of request r through block l on node n <= units(r) y[n, dnn, l]",
    )
    nodes = sorted({n for n, _, _ in chosen})
    row_of = {n: k for k, n in enumerate(nodes)}
    capacity = np.array([float(network.nodes[n].memory_bytes or 0.0) for n in nodes])
    scale = np.where(capacity > 0, capacity, 1.0)
    node_row = np.array([row_of[n] for n, _, _ in chosen], dtype=np.int64)
    weights = np.array([float(block_memory[d][l]) for _, d, l in chosen])
    builder.add_rows(
        "C4_memory",
        len(nodes),
        rows=node_row,
        cols=y,
        vals=weights / scale[node_row],
        upper=capacity / scale,
        labels=[names[n] for n in nodes],
        meaning="memory of the distinct (dnn, block) weights on node n <= M_n",
    )
    return len(nodes)


def order_weights(loads: ArcLoads, n_nodes: int) -> FloatArray:
    """The order key's weight of every arc: a compute arc of block l on node n weighs
    ``(n + 1) * (n_nodes + 1) ** (D - l)`` for l <= D, the deepest depth (at least 1)
    with ``(n_nodes + 1) ** D <= ORDER_RANGE``, so every key is below that; other arcs
    weigh 0. The key of a
    path (the sum over its arcs) orders placements lexicographically by the nodes of
    their first D blocks.

    Examples
    --------
    >>> loads = ArcLoads(node=np.array([0, 2, 1, -1]), block=np.array([1, 1, 2, 0]),
    ...                  ops=np.zeros(4), net_arc=np.full(4, -1), bits=np.zeros(4))
    >>> order_weights(loads, 3).tolist()  # D = 5: 4 ** 5 = 1024 keys
    [256.0, 768.0, 128.0, 0.0]
    """
    base = n_nodes + 1
    depth = 1
    while base ** (depth + 1) <= ORDER_RANGE:
        depth += 1
    used = (loads.node >= 0) & (loads.block >= 1) & (loads.block <= depth)
    power = np.where(used, depth - loads.block, 0).astype(np.float64)
    out: FloatArray = np.where(used, (loads.node + 1) * base**power, 0.0)
    return out


def add_order_rows(
    builder: MILPBuilder,
    classes: Sequence[Sequence[int]],
    parts: Sequence[FlowPart],
    weights: Sequence[FloatArray],
) -> int:
    """Add (S1) ``key(r) <= key(r')`` for consecutive requests r, r' of every class of
    interchangeable requests (key: :func:`order_weights` summed over the path).

    Returns the number of rows added.
    """
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    row_labels: list[Hashable] = []
    for members in classes:
        for a, b in itertools.pairwise(members):
            used_a = np.flatnonzero(weights[a])
            used_b = np.flatnonzero(weights[b])
            r = len(row_labels)
            rows.append(np.full(used_a.size + used_b.size, r, dtype=np.int64))
            cols.append(np.concatenate([parts[a].cols[used_a], parts[b].cols[used_b]]))
            vals.append(np.concatenate([weights[a][used_a], -weights[b][used_b]]))
            row_labels.append((parts[a].rid, parts[b].rid))
    if not row_labels:
        return 0
    builder.add_rows(
        "S1_order",
        len(row_labels),
        rows=np.concatenate(rows),
        cols=np.concatenate(cols),
        vals=np.concatenate(vals),
        upper=0.0,
        labels=row_labels,
        meaning="interchangeable requests r before r': key(r) <= key(r')",
    )
    return len(row_labels)


def split_flow(graph: LayeredGraph, values: FloatArray, units: int) -> list[IntArray]:
    """Split an integral flow of ``units`` from the source to the sink of ``graph`` into
    that many paths (arc ids, in path order); cycles met on the way are cancelled.

    Raises
    ------
    ValueError
        When the flow does not carry ``units`` paths to the sink.

    Examples
    --------
    >>> from splitbench.graphs.layered import build_layered_graph
    >>> from splitbench.instance import example_instance
    >>> g = build_layered_graph(example_instance())
    >>> walk = [g.vertex_id("md", 0, 0)] + [g.vertex_id("md", k, 0) for k in range(1, 5)]
    >>> lookup = g.arc_lookup()
    >>> arcs = [lookup[u, v] for u, v in itertools.pairwise([*walk, g.sink])]
    >>> flow = np.zeros(g.n_arcs)
    >>> flow[arcs] = 2.0
    >>> [len(path) for path in split_flow(g, flow, 2)]
    [5, 5]
    """
    residual = np.rint(np.clip(values, 0.0, None)).astype(np.int64)
    leaving: dict[int, list[int]] = {}
    for used in np.flatnonzero(residual > 0):
        leaving.setdefault(int(graph.tail[used]), []).append(int(used))
    paths: list[IntArray] = []
    for _ in range(units):
        walk: list[int] = []
        seen = {graph.source: 0}
        vertex = graph.source
        while vertex != graph.sink:
            arc = next((a for a in leaving.get(vertex, ()) if residual[a] > 0), None)
            if arc is None:
                raise ValueError(f"the flow leaves no arc from vertex {vertex}: no path")
            walk.append(arc)
            vertex = int(graph.head[arc])
            if vertex in seen:  # a cycle back to ``vertex``: cancel it
                start = seen[vertex]
                residual[walk[start:]] -= 1
                del walk[start:]
                seen = {graph.source: 0} | {int(graph.head[a]): j + 1 for j, a in enumerate(walk)}
            else:
                seen[vertex] = len(walk)
        residual[walk] -= 1
        paths.append(np.array(walk, dtype=np.int64))
    return paths
