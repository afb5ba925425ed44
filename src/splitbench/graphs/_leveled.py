"""The latency-leveled copy of a layered graph and its minimum-cost pass (private to FIN).

Every vertex v of the layered graph gets ``gamma + 1`` copies (v, 0..gamma); an arc
u -> v of integer shift s goes from (u, k) to (v, k + s) when k + s <= gamma. The
table ``best[v, k]`` (least cost of a source path reaching copy (v, k)) is filled
in the layered graph's own topological order of arc groups, vectorised over the
levels with numpy:

- transmission arcs of hand-over k (every tier rank copy at once), to a fixed
  point, since a layer is a copy of the network and may have cycles; a shift-0 arc
  (no time) stays in its level, which the fixed point handles like any other arc;
- then the compute (and compute-and-exit) arcs of block k + 1, once;
- after the last layer: the result-copy arcs to a fixed point, then the deliveries.

Arcs with the same head are split into slots (at most one arc per head per slot),
so an update is one gather, one comparison and one scatter per slot. Updates are
strict improvements, so with nonnegative costs the predecessor arcs never form a
cycle and any finite copy backtracks to the source.

At each layer boundary, before the compute arcs read it, the layer's copies are
pruned (:meth:`LeveledGraph.prune`): copies that cannot reach the sink within gamma
levels, copies dominated by a lower copy of the same vertex that is no costlier
(both lossless), and optionally lambda-thinning (lossy, see ``fin``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from splitbench.graphs.layered import ArcKind, LayeredGraph

__all__ = ["LeveledGraph"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class _Slot:
    """Arcs with distinct heads, with their precomputed gather indices."""

    def __init__(self, arcs: IntArray, graph: LayeredGraph, shift: IntArray, width: int) -> None:
        levels = np.arange(width // 2)
        self.arcs = arcs
        self.heads = graph.head[arcs]
        self.cost = graph.cost[arcs][:, None]
        # copy (tail, k - s) in the padded table: columns 0..gamma are +inf padding
        self.gather = (
            graph.tail[arcs][:, None] * width + width // 2 + levels[None, :] - shift[arcs][:, None]
        )


def _slots(arcs: IntArray, graph: LayeredGraph, shift: IntArray, width: int) -> list[_Slot]:
    if arcs.size == 0:
        return []
    arcs = arcs[np.argsort(graph.head[arcs], kind="stable")]
    heads = graph.head[arcs]
    first = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
    rank = np.arange(arcs.size) - np.repeat(first, np.diff(np.r_[first, arcs.size]))
    return [_Slot(arcs[rank == j], graph, shift, width) for j in range(int(rank.max()) + 1)]


class LeveledGraph:
    """The leveled copy of ``graph`` for integer arc ``shift`` (negative: arc dropped).

    Parameters
    ----------
    graph : LayeredGraph
        The layered graph.
    shift : ndarray of int
        Level increase of every arc; arcs with a negative shift or a shift above
        ``gamma`` are left out.
    gamma : int
        The top level.
    remaining : ndarray of float
        Least total shift from every vertex to the sink (inf when it cannot reach it).
    """

    def __init__(
        self, graph: LayeredGraph, shift: IntArray, gamma: int, remaining: FloatArray
    ) -> None:
        self.graph = graph
        self.gamma = gamma
        self.shift = shift
        self.width = 2 * (gamma + 1)
        self.remaining = remaining
        usable = (shift >= 0) & (shift <= gamma)
        kind, layer = graph.kind, graph.layer
        self.steps: list[tuple[str, list[_Slot] | IntArray]] = []

        def add(step: str, mask: npt.NDArray[np.bool_]) -> None:
            arcs = np.flatnonzero(mask & usable).astype(np.int64)
            if arcs.size:
                self.steps.append((step, _slots(arcs, graph, shift, self.width)))

        computing = (kind == ArcKind.COMPUTE) | (kind == ArcKind.COMPUTE_EXIT)
        for k in range(graph.n_layers):
            add("fixpoint", (kind == ArcKind.TRANSMIT) & (layer == k))
            self.steps.append(("prune", np.flatnonzero(graph.vertex_layer == k)))
            add("once", computing & (layer == k + 1))
        add("fixpoint", kind == ArcKind.RESULT)
        add("once", kind == ArcKind.DELIVER)

    def run(self, thinning: int = 0) -> tuple[FloatArray, IntArray]:
        """Fill the table; returns ``best`` (n_vertices x (gamma + 1)) and the
        predecessor arc of every copy (-1 for none). ``thinning`` > 0 applies
        lambda-thinning with that width at every layer boundary."""
        g = self.graph
        half = self.gamma + 1
        table = np.full((g.n_vertices, self.width), np.inf)
        table[g.source, half] = 0.0
        flat = table.reshape(-1)
        best = table[:, half:]
        pred = np.full((g.n_vertices, half), -1, dtype=np.int64)
        for step, payload in self.steps:
            if step == "prune":
                assert not isinstance(payload, list)
                self.prune(best, payload, thinning)
                continue
            assert isinstance(payload, list)
            changed = True
            while changed:
                changed = False
                for slot in payload:
                    candidate = flat[slot.gather] + slot.cost
                    current = best[slot.heads]
                    better = candidate < current
                    if better.any():
                        changed = True
                        best[slot.heads] = np.where(better, candidate, current)
                        pred[slot.heads] = np.where(better, slot.arcs[:, None], pred[slot.heads])
                if step == "once":
                    break
        return best, pred

    def prune(self, best: FloatArray, vertices: IntArray, thinning: int) -> None:
        """Drop (set to inf) the useless copies of ``vertices`` in place."""
        if vertices.size == 0:
            return
        levels = np.arange(self.gamma + 1)
        rows = best[vertices]
        rows[levels[None, :] > self.gamma - self.remaining[vertices][:, None]] = np.inf
        lower = np.minimum.accumulate(rows, axis=1)
        rows[:, 1:][rows[:, 1:] >= lower[:, :-1]] = np.inf
        if thinning > 0:
            kept_level = np.full(vertices.size, np.iinfo(np.int64).max // 2)
            for k in range(self.gamma, -1, -1):
                finite = np.isfinite(rows[:, k])
                keep = finite & (kept_level - k > thinning)
                rows[finite & ~keep, k] = np.inf
                kept_level[keep] = k
        best[vertices] = rows

    def backtrack(self, pred: IntArray, level: int) -> IntArray:
        """The arcs, source first, of the path ending at copy (sink, ``level``)."""
        g = self.graph
        vertex = g.sink
        arcs: list[int] = []
        for _ in range(g.n_vertices * (self.gamma + 1) + 1):
            if vertex == g.source and level == 0:
                return np.asarray(arcs[::-1], dtype=np.int64)
            arc = int(pred[vertex, level])
            if arc < 0:
                break
            arcs.append(arc)
            level -= int(self.shift[arc])
            vertex = int(g.tail[arc])
        raise RuntimeError("broken predecessor chain in the leveled graph")
