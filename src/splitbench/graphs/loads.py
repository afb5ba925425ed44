"""What one request's layered-graph arcs put on the shared resources, per inference.

A path of the layered graph (:mod:`splitbench.graphs.layered`) is a placement; under
the select exit policy, what it runs on each node and moves over each network arc
is the sum over its arcs of :class:`ArcLoads`. The coupled many-request models
(:mod:`splitbench.formulations.routing_multi`) and the residual-capacity heuristics
(:mod:`splitbench.methods.residual`) weigh these by the request's rate.

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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from splitbench.graphs._paths import Resource
from splitbench.graphs.layered import ArcKind, LayeredGraph
from splitbench.instance.model import Network

__all__ = ["ArcLoads", "arc_loads", "load_budgets", "network_arc_index"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class ArcLoads:
    """What each arc of one request's layered graph uses, per inference (select policy).

    Attributes
    ----------
    node : ndarray of int
        Network node index of a compute arc (its block runs there), -1 for other arcs.
    block : ndarray of int
        Block index (1-based) of a compute arc, 0 for other arcs.
    ops : ndarray of float
        Operations a compute arc runs on ``node``: its block's, plus its exit
        branch's on a compute-and-exit arc.
    net_arc : ndarray of int
        Position in ``network.arcs`` of the network arc a transmission or result arc
        moves over, -1 for other arcs.
    bits : ndarray of float
        Bits it moves: 8 times the hand-over's tensor or the exit's result.
    """

    node: IntArray
    block: IntArray
    ops: FloatArray
    net_arc: IntArray
    bits: FloatArray


def arc_loads(graph: LayeredGraph) -> ArcLoads:
    """The per-inference loads of every arc of ``graph`` (see :class:`ArcLoads`).

    Examples
    --------
    >>> from splitbench.graphs.layered import build_layered_graph
    >>> from splitbench.instance import example_instance
    >>> graph = build_layered_graph(example_instance())
    >>> loads = arc_loads(graph)
    >>> first = int(np.flatnonzero(graph.kind == ArcKind.TRANSMIT)[0])
    >>> int(loads.net_arc[first]), float(loads.bits[first])  # the input over md -> es
    (0, 24576.0)
    """
    dnn = graph.instance.dnn
    kind, layer = graph.kind, graph.layer
    compute = (kind == ArcKind.COMPUTE) | (kind == ArcKind.COMPUTE_EXIT)
    exits = kind == ArcKind.COMPUTE_EXIT
    block_ops = np.array([0.0, *(b.ops for b in dnn.blocks)])
    exit_ops = np.zeros(dnn.n_blocks + 1)
    exit_bytes = np.zeros(dnn.n_blocks + 1)
    for ex in dnn.exits:
        exit_ops[ex.after_block] = ex.ops
        exit_bytes[ex.after_block] = ex.output_bytes
    handover = np.array([dnn.handover_bytes(k) for k in range(dnn.n_blocks)])
    ops = np.where(compute, block_ops[np.where(compute, layer, 0)], 0.0)
    ops = ops + np.where(exits, exit_ops[np.where(exits, layer, 0)], 0.0)
    transmit = kind == ArcKind.TRANSMIT
    result = kind == ArcKind.RESULT
    moved = transmit | result
    n_bytes = np.where(transmit, handover[np.where(transmit, layer, 0)], 0.0)
    n_bytes = n_bytes + np.where(result, exit_bytes[np.where(result, layer, 0)], 0.0)
    net_arc = np.where(moved, network_arc_index(graph.instance.network, graph), -1)
    return ArcLoads(
        node=np.where(compute, graph.arc_to, -1).astype(np.int64),
        block=np.where(compute, layer, 0).astype(np.int64),
        ops=ops.astype(np.float64),
        net_arc=net_arc.astype(np.int64),
        bits=(8.0 * n_bytes).astype(np.float64),
    )


def network_arc_index(network: Network, graph: LayeredGraph) -> IntArray:
    """Position in ``network.arcs`` of the network arc (``arc_from``, ``arc_to``) of every
    layered arc (-1 where there is none); one link per direction makes it unique."""
    n_nodes = len(network.nodes)
    arrays = network.arc_arrays
    table = np.full(n_nodes * n_nodes, -1, dtype=np.int64)
    table[arrays.tails * n_nodes + arrays.heads] = np.arange(arrays.tails.shape[0])
    valid = (graph.arc_from >= 0) & (graph.arc_to >= 0)
    keys = np.where(valid, graph.arc_from * n_nodes + graph.arc_to, 0)
    out: IntArray = np.where(valid, table[keys], -1).astype(np.int64)
    return out


def load_budgets(
    graph: LayeredGraph,
    rate_per_s: float,
    ops_left: FloatArray,
    bits_left: FloatArray,
    memory_left: FloatArray,
    memory_need: FloatArray | None = None,
) -> list[Resource]:
    """The shared capacities left to one request, as budgets along a path of its
    layered graph: every node's compute (``ops_left``, ops/s) and memory
    (``memory_left``, bytes; inf where unlimited) and every network arc's bandwidth
    (``bits_left``, bits/s), each in network order. The request uses ``rate_per_s``
    times an arc's :class:`ArcLoads`, and on a compute arc the memory
    ``memory_need`` gives (default: the block's, ``graph.memory_bytes``). A budget
    its arcs together cannot exceed is left out.

    Examples
    --------
    >>> from splitbench.graphs.layered import build_layered_graph
    >>> from splitbench.instance import example_instance
    >>> graph = build_layered_graph(example_instance())
    >>> net = graph.instance.network
    >>> ops = np.array([n.ops_per_s for n in net.nodes])
    >>> bits = np.array([a.bandwidth_bps for a in net.arcs])
    >>> free = np.full(len(net.nodes), np.inf)
    >>> [b.label for b in load_budgets(graph, 300.0, ops, bits, free)]  # md: 300 x 22.6 Gops
    ['compute of md']
    """
    net = graph.instance.network
    loads = arc_loads(graph)
    need = graph.memory_bytes if memory_need is None else memory_need
    out: list[Resource] = []

    def budget(label: str, capacity: float, arcs: IntArray, amounts: FloatArray) -> None:
        keep = amounts > 0
        arcs, amounts = arcs[keep], amounts[keep]
        if arcs.size and float(amounts.sum()) > capacity:
            out.append(Resource(label, max(capacity, 0.0), arcs, amounts))

    for n, node in enumerate(net.nodes):
        on = np.flatnonzero(loads.node == n)
        if on.size:
            budget(f"compute of {node.id}", float(ops_left[n]), on, rate_per_s * loads.ops[on])
            budget(f"memory of {node.id}", float(memory_left[n]), on, need[on])
    for e, arc in enumerate(net.arcs):
        over = np.flatnonzero(loads.net_arc == e)
        if over.size:
            label = f"bandwidth of {arc.source}->{arc.target}"
            budget(label, float(bits_left[e]), over, rate_per_s * loads.bits[over])
    return out
