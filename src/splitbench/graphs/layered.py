"""The layered graph of Jung & Lee: joint placement and routing as one path problem.

Copies k = 0..K-1 of the network G. Vertex (n, k, r) means "the tensor of
hand-over k (k = 0: the input; otherwise block k's output) sits at node n, and the
last block ran on a node of tier rank r" (r only matters under ``tier_order``;
otherwise there is one copy, r = 0). Arcs:

- transmission (u, k, r) -> (v, k, r) for every arc (u, v) of G, moving s_k;
- compute (n, l-1, r) -> (n, l, rho(n)) for every candidate node n of block l with
  rho(n) >= r (so the tier order is a property of the path);
- compute-and-exit (n, l_e-1, r) -> sink, or -> (n, result copy of e) when the
  request has a destination: block l_e runs on n and its exit branch follows there;
- result transmission inside the result copy of exit e, moving e's output, and
  (destination, result e) -> sink.

Every source-to-sink path is one placement with its routes ([JL]; the layered
model of Zhang et al., INFOCOM 2018). Each arc carries ``cost`` (its share of the
objective) and ``time_s`` (its share of the latency the deadline binds), and a
compute arc carries its block's memory on its node, so:

- select policy: a path's cost is exactly the evaluator's objective and its time
  the latency; only admissible exits (accuracy >= min_accuracy) get exit arcs;
- expected policy: arcs of block l and of hand-over l-1 are weighted by the reach
  share q_l; an early exit's branch (q-weighted) and its return route (the cheapest
  route to the destination, pi-weighted) are folded into the compute arc of its
  block; the result copy carries the final exit's result weighted by its share.
  ``time_s`` is the full-depth latency. When the expected accuracy is below
  ``min_accuracy`` no path exists and ``infeasible_reason`` says why.

The graph is built with numpy arrays per layer, never per arc in Python.

Examples
--------
>>> from splitbench.instance import example_instance
>>> g = build_layered_graph(example_instance())
>>> g.n_vertices, g.n_arcs  # 5 layers x 3 tier ranks x 3 nodes, and the sink
(46, 64)
>>> import numpy as np
>>> # the device-only path: compute block 1..4 on md, then block 5 + exit on md
>>> path = [g.vertex_id("md", 0, 0)] + [g.vertex_id("md", k, 0) for k in range(1, 5)]
>>> placement = g.placement_from_vertices([*path, g.sink])
>>> placement.blocks, placement.exit
(('md', 'md', 'md', 'md', 'md'), 5)
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from splitbench.graphs._layered_arrays import (
    Arcs,
    FloatArray,
    IntArray,
    candidate_mask,
    network_weights,
    return_costs,
    weighted,
)
from splitbench.instance.model import ExitPolicy, Instance, Objective
from splitbench.placement import Placement
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = ["ArcKind", "LayeredGraph", "build_layered_graph"]


class ArcKind(IntEnum):
    """What an arc of the layered graph stands for."""

    TRANSMIT = 0
    """Move hand-over ``layer``'s tensor over one network arc."""
    COMPUTE = 1
    """Run block ``layer`` on ``node``."""
    COMPUTE_EXIT = 2
    """Run block ``layer`` on ``node`` and leave through its exit."""
    RESULT = 3
    """Move exit ``layer``'s result over one network arc (result copy)."""
    DELIVER = 4
    """The result has reached the destination: into the sink."""


@dataclass(frozen=True, eq=False)
class LayeredGraph:
    """The layered graph of one instance, as arc arrays.

    Attributes
    ----------
    instance : Instance
        The instance it was built from.
    n_vertices : int
        Vertices are 0..n_vertices-1.
    source, sink : int
        The vertex of the input at the request's source, and the sink.
    tail, head : ndarray of int
        Arc end points.
    cost : ndarray of float
        The arc's share of the objective (latency or energy, expectation-weighted
        under the expected policy).
    time_s : ndarray of float
        The arc's share of the latency the deadline binds.
    kind : ndarray of int
        :class:`ArcKind` of every arc.
    layer : ndarray of int
        Hand-over index (TRANSMIT), block index (COMPUTE, COMPUTE_EXIT) or the
        exit's block (RESULT, DELIVER).
    arc_from, arc_to : ndarray of int
        Network node indices: the network arc moved over (TRANSMIT, RESULT); the
        node computing (COMPUTE, COMPUTE_EXIT: both equal); -1 for DELIVER.
    memory_node : ndarray of int
        Network node index of a compute arc, -1 for other arcs.
    memory_bytes : ndarray of float
        Memory the arc's block needs on ``memory_node`` (0 for other arcs).
    constant_cost : float
        Cost added to every path (0 with the current construction).
    infeasible_reason : str or None
        Set when no placement can meet the request whatever the path.
    vertex_node, vertex_layer, vertex_rank : ndarray of int
        Network node, layer (-1 for result copies and sink) and tier rank of every
        vertex; result copies have ``vertex_rank`` = -(exit block) - 1.
    """

    instance: Instance
    n_vertices: int
    source: int
    sink: int
    tail: IntArray
    head: IntArray
    cost: FloatArray
    time_s: FloatArray
    kind: IntArray
    layer: IntArray
    arc_from: IntArray
    arc_to: IntArray
    memory_node: IntArray
    memory_bytes: FloatArray
    constant_cost: float
    infeasible_reason: str | None
    vertex_node: IntArray
    vertex_layer: IntArray
    vertex_rank: IntArray
    n_layers: int
    n_ranks: int

    @property
    def n_arcs(self) -> int:
        """Number of arcs."""
        return int(self.tail.shape[0])

    def vertex_id(self, node: str, layer: int, rank: int = 0) -> int:
        """The vertex (node, layer, rank) of the layer copies."""
        n = self.instance.network.node_index[node]
        n_nodes = len(self.instance.network.nodes)
        if not (0 <= layer < self.n_layers and 0 <= rank < self.n_ranks):
            raise KeyError((node, layer, rank))
        return (layer * self.n_ranks + rank) * n_nodes + n

    def memory_limits(self) -> list[tuple[int, float, IntArray]]:
        """``(node index, capacity, compute arc ids)`` for every node whose memory
        could bind (finite capacity below the memory its arcs could use)."""
        out = []
        for n, node in enumerate(self.instance.network.nodes):
            if node.memory_bytes is None:
                continue
            arcs = np.flatnonzero((self.memory_node == n) & (self.memory_bytes > 0))
            if arcs.size and float(self.memory_bytes[arcs].sum()) > node.memory_bytes:
                out.append((n, float(node.memory_bytes), arcs))
        return out

    def arc_lookup(self) -> dict[tuple[int, int], int]:
        """Arc id by (tail, head): the end points identify an arc uniquely."""
        return {
            (int(t), int(h)): i for i, (t, h) in enumerate(zip(self.tail, self.head, strict=True))
        }

    def placement_from_vertices(self, vertices: Sequence[int]) -> Placement:
        """The placement of a source-to-sink path given as its vertices."""
        lookup = self.arc_lookup()
        return self.placement_from_arcs(
            [lookup[(int(u), int(v))] for u, v in itertools.pairwise(vertices)]
        )

    def placement_from_arcs(self, arcs: Sequence[int] | IntArray) -> Placement:
        """The placement of a unit flow given as the (unordered) arcs it uses.

        The arcs are walked from the source to the sink; arcs the walk does not
        reach (cycles detached from the path) are ignored.

        Raises
        ------
        ValueError
            When the arcs contain no source-to-sink path.
        """
        out: dict[int, list[int]] = {}
        for arc in sorted(int(a) for a in arcs):
            out.setdefault(int(self.tail[arc]), []).append(arc)
        walk: list[int] = []
        vertex = self.source
        while vertex != self.sink:
            options = out.get(vertex)
            if not options:
                raise ValueError(f"the flow leaves no arc from vertex {vertex}: no path")
            arc = options.pop(0)
            walk.append(arc)
            vertex = int(self.head[arc])
            if len(walk) > self.n_arcs:
                raise ValueError("the flow does not reach the sink")
        return self._decode(walk)

    def _decode(self, walk: Sequence[int]) -> Placement:
        names = [node.id for node in self.instance.network.nodes]
        req = self.instance.request
        blocks: list[str] = []
        routes: list[list[str]] = [[req.source]]
        exit_block = 0
        result: list[str] | None = None
        for arc in walk:
            kind = ArcKind(int(self.kind[arc]))
            to = names[int(self.arc_to[arc])] if self.arc_to[arc] >= 0 else ""
            if kind is ArcKind.TRANSMIT:
                routes[-1].append(to)
            elif kind is ArcKind.COMPUTE:
                blocks.append(to)
                routes.append([to])
            elif kind is ArcKind.COMPUTE_EXIT:
                blocks.append(to)
                exit_block = int(self.layer[arc])
                result = [to]
            elif kind is ArcKind.RESULT and result is not None:
                result.append(to)
        if not exit_block:
            raise ValueError("the path has no exit")
        final: list[tuple[str, ...] | None] = [tuple(r) for r in routes]
        final.append(tuple(result) if req.destination is not None and result else None)
        return Placement(blocks=tuple(blocks), exit=exit_block, routes=tuple(final))

    def vertex_label(self, vertex: int) -> Hashable:
        """A readable label: ``(node, layer, tier rank)``, ``("result", exit, node)``
        or ``"sink"``."""
        if vertex == self.sink:
            return "sink"
        node = self.instance.network.nodes[int(self.vertex_node[vertex])].id
        if self.vertex_layer[vertex] < 0:
            return ("result", -int(self.vertex_rank[vertex]) - 1, node)
        return (node, int(self.vertex_layer[vertex]), int(self.vertex_rank[vertex]))

    def to_networkx(self) -> Any:
        """A ``networkx.DiGraph`` view with readable vertex labels and arc attributes
        (``cost``, ``time_s``, ``kind``, ``memory_bytes``) for inspection and teaching."""
        import networkx as nx

        graph = nx.DiGraph()
        for v in range(self.n_vertices):
            graph.add_node(self.vertex_label(v))
        for i in range(self.n_arcs):
            graph.add_edge(
                self.vertex_label(int(self.tail[i])),
                self.vertex_label(int(self.head[i])),
                arc=i,
                cost=float(self.cost[i]),
                time_s=float(self.time_s[i]),
                kind=ArcKind(int(self.kind[i])).name.lower(),
                memory_bytes=float(self.memory_bytes[i]),
            )
        return graph


def build_layered_graph(instance: Instance) -> LayeredGraph:
    """Build the layered graph of ``instance`` (see the module docstring).

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> g = build_layered_graph(example_instance())
    >>> # block 5 + final exit: on md from rank 0, es from ranks 0-1, cs from ranks 0-2
    >>> int(g.kind.tolist().count(ArcKind.COMPUTE_EXIT))
    6
    """
    net = instance.network
    dnn = instance.dnn
    req = instance.request
    w = network_weights(instance)
    n_nodes = len(net.nodes)
    tier_order = req.tier_order
    n_ranks = len(tier_order) if tier_order is not None else 1
    energy = req.objective is Objective.ENERGY
    expected = req.exit_policy is ExitPolicy.EXPECTED
    reason: str | None = None

    if expected:
        exits = [dnn.final_exit]
        q = dnn.reach_shares()
        pi = dnn.exit_shares()
        accuracies = [ex.accuracy for ex in dnn.exits]
        if req.min_accuracy is not None:
            acc = sum(p * (a or 0.0) for p, a in zip(pi, accuracies, strict=True))
            if acc < req.min_accuracy * (1 - FEASIBILITY_RTOL):
                exits = []
                reason = f"the expected accuracy {acc:g} is below min_accuracy {req.min_accuracy:g}"
    else:
        exits = list(instance.admissible_exits())
        q = (1.0,) * dnn.n_blocks
        pi = ()
        if not exits:
            reason = f"no exit reaches min_accuracy {req.min_accuracy:g}"
    last = max((ex.after_block for ex in exits), default=0)
    n_layers = max(last, 1)
    base_result = n_layers * n_ranks * n_nodes
    sink = base_result + len(exits) * n_nodes if req.destination is not None else base_result
    n_vertices = sink + 1
    arcs = Arcs()

    def vid(nodes: Any, layer: int, rank: Any) -> Any:
        return (layer * n_ranks + np.asarray(rank)) * n_nodes + np.asarray(nodes)

    rank_of = np.zeros(n_nodes, dtype=np.int64)
    if tier_order is not None:
        rank_of = np.array(
            [tier_order.index(n.tier) if n.tier in tier_order else -1 for n in net.nodes],
            dtype=np.int64,
        )

    # transmission arcs of hand-overs 0..last-1 (layer 0 only in rank copy 0), all
    # layers and rank copies at once: rows are (layer, rank) copies, columns arcs of G
    if last > 0 and w["src"].size:
        copy_layer = np.concatenate([[0], np.repeat(np.arange(1, last), n_ranks)])
        copy_rank = np.concatenate([[0], np.tile(np.arange(n_ranks), last - 1)])
        sizes = np.array([dnn.handover_bytes(k) for k in range(last)])[copy_layer, None]
        t = sizes * w["inv_bw"] + w["delay"]
        weight = np.asarray(q[:last])[copy_layer, None]
        c = (sizes * w["epb"] if energy else t) * weight
        offset = ((copy_layer * n_ranks + copy_rank) * n_nodes)[:, None]
        n_copies = copy_layer.size
        arcs.add(
            tail=(offset + w["src"]).ravel(),
            head=(offset + w["dst"]).ravel(),
            cost=c.ravel(),
            time_s=t.ravel(),
            kind=ArcKind.TRANSMIT,
            layer=np.repeat(copy_layer, w["src"].size),
            arc_from=np.tile(w["src"], n_copies),
            arc_to=np.tile(w["dst"], n_copies),
        )

    # compute and compute-and-exit arcs of blocks 1..last, all blocks at once: one row
    # per (block, candidate node), expanded over the rank copies it may come from
    rows, cand = np.nonzero(candidate_mask(instance, last, rank_of, w["speed"]))
    layer = rows + 1
    seconds = np.array([b.ops for b in dnn.blocks])[rows] / w["speed"][cand]
    time_arc = seconds.copy()
    cost_arc = (seconds * w["power"][cand] if energy else seconds) * np.asarray(q)[rows]
    if expected:
        for ex, share in zip(dnn.exits[:-1], pi, strict=False):
            sel = np.flatnonzero(layer == ex.after_block)
            branch = ex.ops / w["speed"][cand[sel]]
            time_arc[sel] += branch
            back = return_costs(instance, cand[sel], ex.output_bytes)
            folded = branch * w["power"][cand[sel]] if energy else branch
            cost_arc[sel] += q[ex.after_block - 1] * folded + weighted(share, back)
        keep = np.isfinite(cost_arc)
        rows, cand, layer = rows[keep], cand[keep], layer[keep]
        time_arc, cost_arc = time_arc[keep], cost_arc[keep]
    memory = np.array([b.memory_bytes for b in dnn.blocks])[rows]
    exit_time = np.zeros(rows.size)
    exit_cost = np.zeros(rows.size)
    exit_head = np.full(rows.size, -1, dtype=np.int64)
    for e, ex in enumerate(exits):
        sel = np.flatnonzero(layer == ex.after_block)
        branch = ex.ops / w["speed"][cand[sel]]
        exit_time[sel] = branch
        exit_cost[sel] = (branch * w["power"][cand[sel]] if energy else branch) * q[
            ex.after_block - 1
        ]
        exit_head[sel] = sink if req.destination is None else base_result + e * n_nodes + cand[sel]
    rho = rank_of[cand]
    for r in range(n_ranks):
        ok = (rho >= r) & ((rows > 0) | (r == 0))
        tails = (rows * n_ranks + r) * n_nodes + cand
        for kind, chosen in (
            (ArcKind.COMPUTE, ok & (layer < last)),
            (ArcKind.COMPUTE_EXIT, ok & (exit_head >= 0)),
        ):
            sel = np.flatnonzero(chosen)
            exiting = kind is ArcKind.COMPUTE_EXIT
            arcs.add(
                tail=tails[sel],
                head=exit_head[sel] if exiting else ((layer * n_ranks + rho) * n_nodes + cand)[sel],
                cost=cost_arc[sel] + (exit_cost[sel] if exiting else 0.0),
                time_s=time_arc[sel] + (exit_time[sel] if exiting else 0.0),
                kind=kind,
                layer=layer[sel],
                arc_from=cand[sel],
                arc_to=cand[sel],
                memory_node=cand[sel],
                memory_bytes=memory[sel],
            )
    if req.destination is not None:
        dest = net.node_index[req.destination]
        for e, ex in enumerate(exits):
            base = base_result + e * n_nodes
            share = pi[-1] if expected else 1.0
            t = ex.output_bytes * w["inv_bw"] + w["delay"]
            c = (ex.output_bytes * w["epb"] if energy else t) * share
            arcs.add(
                tail=base + w["src"],
                head=base + w["dst"],
                cost=c,
                time_s=t,
                kind=ArcKind.RESULT,
                layer=ex.after_block,
                arc_from=w["src"],
                arc_to=w["dst"],
            )
            arcs.add(
                tail=np.array([base + dest]),
                head=np.array([sink]),
                cost=0.0,
                time_s=0.0,
                kind=ArcKind.DELIVER,
                layer=ex.after_block,
                arc_from=-1,
                arc_to=-1,
            )

    vertex_node = np.concatenate(
        [
            np.tile(np.arange(n_nodes), n_layers * n_ranks),
            np.tile(np.arange(n_nodes), (sink - base_result) // max(n_nodes, 1)),
            [0],
        ]
    ).astype(np.int64)
    vertex_layer = np.concatenate(
        [
            np.repeat(np.arange(n_layers), n_ranks * n_nodes),
            np.full(sink - base_result + 1, -1),
        ]
    ).astype(np.int64)
    vertex_rank = np.concatenate(
        [
            np.tile(np.repeat(np.arange(n_ranks), n_nodes), n_layers),
            np.repeat([-(ex.after_block) - 1 for ex in exits], n_nodes)
            if req.destination is not None
            else np.zeros(0, dtype=np.int64),
            [0],
        ]
    ).astype(np.int64)
    return LayeredGraph(
        instance=instance,
        n_vertices=n_vertices,
        source=int(vid(net.node_index[req.source], 0, 0)),
        sink=sink,
        constant_cost=0.0,
        infeasible_reason=reason,
        vertex_node=vertex_node,
        vertex_layer=vertex_layer,
        vertex_rank=vertex_rank,
        n_layers=n_layers,
        n_ranks=n_ranks,
        **{name: arcs.array(name) for name in Arcs.FIELDS},
    )
