"""The latency-leveled copy of an arc set and its minimum-cost pass (private to FIN).

Every vertex v gets ``gamma + 1`` copies (v, 0..gamma); an arc u -> v of integer
shift s goes from (u, k) to (v, k + s) when k + s <= gamma. The table ``best[v, k]``
(least cost of a source path reaching copy (v, k)) is filled by a *schedule*, a
topological order of arc groups:

- ``fixpoint``: relax the group's arcs until nothing improves (a layer of the
  layered graph is a copy of the network and may have cycles; a shift-0 arc stays
  in its level, which the fixed point handles like any other arc);
- ``once``: relax the group's arcs once (arcs into a later layer);
- ``prune``: drop the useless copies of the group's vertices before they are read
  (:meth:`LeveledGraph.prune`): copies that cannot reach the sink within gamma
  levels, copies dominated by a lower copy of the same vertex that is no costlier
  (both lossless), and optionally lambda-thinning (lossy, see ``fin``).

:func:`layered_schedule` is the schedule of the layered graph itself (FIN's ``arc``
rounding); :mod:`splitbench.graphs._steps` builds the step graph and its schedule
(``step`` rounding); :class:`FinPasses` makes the leveled graph of either at a
given gamma (rounded up for answers, down for the lower bound) and reads the answer
off it.

A relaxation is vectorised over the levels with numpy: the arcs of a group, sorted
by head, are gathered from a sliding-window view of the table (no index array of
size arcs x levels is ever built), reduced per head with ``np.minimum.reduceat``
and written back where they strictly improve. Groups are cut into chunks of at most
:data:`CHUNK_ELEMENTS` arc copies, so the transient memory of a relaxation is
bounded whatever gamma is. Updates are strict improvements, so with nonnegative
costs the predecessor arcs never form a cycle and any finite copy backtracks to the
source.

Memory: the table holds ``n_vertices x (gamma + 1 + pad)`` float64 (pad: the
largest usable shift) and the predecessors ``n_vertices x (gamma + 1)`` int32, so
12 to 20 bytes per vertex copy (:data:`BYTES_PER_COPY` counts 20; measured 19-22),
plus the working arrays of one chunk (at most about 130 MB); each usable arc keeps
about 40 bytes of gather data.

Examples
--------
A path 0 -> 1 -> 2 of two arcs, and a direct arc 0 -> 2 that is costlier but faster:

>>> import numpy as np
>>> arcs = dict(tail=np.array([0, 1, 0]), head=np.array([1, 2, 2]), cost=np.array([1.0, 1, 5]))
>>> schedule = [("once", np.array([0])), ("once", np.array([1, 2]))]
>>> shift = np.array([2, 2, 1])
>>> remaining = least_shift_to_sink(3, 2, arcs["tail"], arcs["head"], shift, schedule)
>>> remaining.tolist()
[1.0, 2.0, 0.0]
>>> leveled = LeveledGraph(3, 0, 2, **arcs, shift=shift, gamma=4, remaining=remaining,
...                        schedule=schedule)
>>> sink, pred = leveled.run()
>>> sink.tolist()  # level 1: the direct arc (cost 5); level 4: the cheap path (cost 2)
[inf, 5.0, inf, inf, 2.0]
>>> leveled.backtrack(pred, 4).tolist()
[0, 1]
>>> LeveledGraph(3, 0, 2, **arcs, shift=shift, gamma=3, remaining=remaining,
...              schedule=schedule).run()[0].tolist()  # too few levels for the cheap path
[inf, 5.0, inf, inf]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from splitbench.graphs._paths import (
    PassStoppedError,
    PathSearch,
    deadline_met,
    memory_violations,
)
from splitbench.graphs._steps import StepGraph
from splitbench.graphs.layered import ArcKind, LayeredGraph
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = [
    "BYTES_PER_COPY",
    "CHUNK_ELEMENTS",
    "FinPasses",
    "LeveledGraph",
    "PassStoppedError",
    "Schedule",
    "layered_schedule",
    "least_shift_to_sink",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Schedule = Sequence[tuple[str, IntArray]]
"""``(operation, ids)``: ``fixpoint`` or ``once`` with arc ids, ``prune`` with vertex ids."""

CHUNK_ELEMENTS = 1 << 21
"""At most this many arc copies (arcs x levels) are relaxed at once (16 MB per array)."""

BYTES_PER_COPY = 20
"""Bytes one vertex copy costs in a pass: 8 (cost), 4 (predecessor), up to 8 (padding)."""


def layered_schedule(graph: LayeredGraph) -> list[tuple[str, IntArray]]:
    """The schedule of the layered graph: per hand-over k, its transmission arcs (every
    tier-rank copy) to a fixed point, the layer's pruning, the compute arcs of block
    k + 1 once; then the result copies to a fixed point and the deliveries."""
    kind, layer = graph.kind, graph.layer
    computing = (kind == ArcKind.COMPUTE) | (kind == ArcKind.COMPUTE_EXIT)
    out: list[tuple[str, IntArray]] = []
    for k in range(graph.n_layers):
        out.append(("fixpoint", np.flatnonzero((kind == ArcKind.TRANSMIT) & (layer == k))))
        out.append(("prune", np.flatnonzero(graph.vertex_layer == k)))
        out.append(("once", np.flatnonzero(computing & (layer == k + 1))))
    out.append(("fixpoint", np.flatnonzero(kind == ArcKind.RESULT)))
    out.append(("once", np.flatnonzero(kind == ArcKind.DELIVER)))
    return out


def least_shift_to_sink(
    n_vertices: int,
    sink: int,
    tail: IntArray,
    head: IntArray,
    shift: IntArray,
    schedule: Schedule,
) -> FloatArray:
    """Least total shift from every vertex to the sink (inf: none), over the arcs of
    nonnegative shift, by the schedule run backwards (each group to a fixed point)."""
    remaining = np.full(n_vertices, np.inf)
    remaining[sink] = 0.0
    for operation, ids in reversed(schedule):
        if operation == "prune":
            continue
        arcs = ids[shift[ids] >= 0]
        while arcs.size:
            before = remaining[tail[arcs]]
            np.minimum.at(remaining, tail[arcs], shift[arcs] + remaining[head[arcs]])
            if operation == "once" or np.array_equal(before, remaining[tail[arcs]]):
                break
    return remaining


class _Chunk:
    """Arcs sorted by head, with their head groups, ready to relax."""

    def __init__(
        self,
        arcs: IntArray,
        tail: IntArray,
        head: IntArray,
        cost: FloatArray,
        shift: IntArray,
        pad: int,
    ) -> None:
        heads = head[arcs]
        first = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
        self.arcs = arcs
        self.tails = tail[arcs]
        self.offsets = pad - shift[arcs]
        self.cost = cost[arcs][:, None]
        self.heads = heads[first]
        self.starts = first
        self.counts = np.diff(np.r_[first, arcs.size])
        self.single = first.size == arcs.size


class LeveledGraph:
    """The leveled copy of an arc set for integer arc ``shift`` (negative: dropped).

    Parameters
    ----------
    n_vertices, source, sink : int
        The vertices 0..n_vertices-1, the source and the sink.
    tail, head : ndarray of int
        Arc end points.
    cost : ndarray of float
        Arc costs (nonnegative).
    shift : ndarray of int
        Level increase of every arc; arcs with a negative shift, or whose head cannot
        reach the sink within ``gamma`` levels after it, are left out.
    gamma : int
        The top level.
    remaining : ndarray of float
        Least total shift from every vertex to the sink (:func:`least_shift_to_sink`).
    schedule : sequence of (str, ndarray)
        The order of the arc groups and pruning steps (see the module docstring).
    """

    def __init__(
        self,
        n_vertices: int,
        source: int,
        sink: int,
        *,
        tail: IntArray,
        head: IntArray,
        cost: FloatArray,
        shift: IntArray,
        gamma: int,
        remaining: FloatArray,
        schedule: Schedule,
    ) -> None:
        self.n_vertices, self.source, self.sink = n_vertices, source, sink
        self.tail, self.shift, self.gamma, self.remaining = tail, shift, gamma, remaining
        usable = (shift >= 0) & (shift + remaining[head] <= gamma)
        self.pad = int(shift[usable].max(initial=0))
        self.n_arcs = int(usable.sum())
        per_chunk = max(1, CHUNK_ELEMENTS // (gamma + 1))
        self.steps: list[tuple[str, IntArray, list[_Chunk]]] = []
        for operation, ids in schedule:
            if operation == "prune":
                self.steps.append((operation, ids, []))
                continue
            arcs = ids[usable[ids]]
            if arcs.size == 0:
                continue
            arcs = arcs[np.argsort(head[arcs], kind="stable")]
            # a head's arcs may straddle chunks: they are relaxed one chunk after the other
            chunks = [
                _Chunk(arcs[start : start + per_chunk], tail, head, cost, shift, self.pad)
                for start in range(0, arcs.size, per_chunk)
            ]
            self.steps.append((operation, arcs, chunks))

    def run(
        self,
        thinning: int = 0,
        *,
        track: bool = True,
        stop: Callable[[], bool] | None = None,
    ) -> tuple[FloatArray, npt.NDArray[np.signedinteger] | None]:
        """Fill the table; returns the sink's row of ``best`` (gamma + 1 costs) and
        the predecessor arc of every copy (-1 for none; None unless ``track``).
        ``thinning`` > 0 applies lambda-thinning with that width at every pruning.

        Raises
        ------
        PassStoppedError
            When ``stop()`` returns True (checked before every step of the schedule).
        """
        half = self.gamma + 1
        table = np.full((self.n_vertices, self.pad + half), np.inf)
        best = table[:, self.pad :]
        best[self.source, 0] = 0.0
        window = sliding_window_view(table, half, axis=1)
        dtype = np.int32 if self.tail.size < np.iinfo(np.int32).max else np.int64
        pred = np.full((self.n_vertices, half), -1, dtype=dtype) if track else None
        for operation, ids, chunks in self.steps:
            if stop is not None and stop():
                raise PassStoppedError
            if operation == "prune":
                self.prune(best, ids, thinning)
                continue
            changed = True
            while changed:
                changed = False
                for chunk in chunks:
                    changed |= self._relax(window, best, pred, chunk)
                if operation == "once":
                    break
        return best[self.sink].copy(), pred

    @staticmethod
    def _relax(
        window: FloatArray,
        best: FloatArray,
        pred: npt.NDArray[np.signedinteger] | None,
        chunk: _Chunk,
    ) -> bool:
        candidate = window[chunk.tails, chunk.offsets] + chunk.cost
        low = candidate if chunk.single else np.minimum.reduceat(candidate, chunk.starts, axis=0)
        current = best[chunk.heads]
        better = low < current
        if not better.any():
            return False
        if pred is not None:
            if chunk.single:
                choice = np.broadcast_to(chunk.arcs[:, None], low.shape)
            else:
                rows = np.arange(chunk.arcs.size)[:, None]
                hit = np.where(candidate == np.repeat(low, chunk.counts, axis=0), rows, rows.size)
                choice = chunk.arcs[np.minimum.reduceat(hit, chunk.starts, axis=0)]
            pred[chunk.heads] = np.where(better, choice, pred[chunk.heads])
        best[chunk.heads] = np.where(better, low, current)
        return True

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

    def backtrack(self, pred: npt.NDArray[np.signedinteger], level: int) -> IntArray:
        """The arcs, source first, of the path ending at copy (sink, ``level``)."""
        vertex = self.sink
        arcs: list[int] = []
        for _ in range(self.n_vertices * (self.gamma + 1) + 1):
            if vertex == self.source and level == 0:
                return np.asarray(arcs[::-1], dtype=np.int64)
            arc = int(pred[vertex, level])
            if arc < 0:
                break
            arcs.append(arc)
            level -= int(self.shift[arc])
            vertex = int(self.tail[arc])
        raise RuntimeError("broken predecessor chain in the leveled graph")


def _shift(scaled: FloatArray, up: bool) -> IntArray:
    """Level shifts: ``scaled`` rounded up, or down against the evaluator's slack."""
    levels = np.ceil(scaled) if up else np.floor(scaled / (1 + FEASIBILITY_RTOL))
    return levels.astype(np.int64)


class FinPasses:
    """The passes of one FIN run: over the step graph (``step`` rounding) or over the
    layered graph itself (``arc``), rounded up for answers and down for the bound."""

    def __init__(
        self, graph: LayeredGraph, search: PathSearch, keep: Any, steps: StepGraph | None
    ) -> None:
        self.graph, self.search, self.keep, self.steps = graph, search, keep, steps
        self.schedule = layered_schedule(graph)
        deadline = graph.instance.request.deadline_s
        assert deadline is not None
        self.deadline: float = deadline

    def leveled(self, gamma: int, up: bool) -> LeveledGraph:
        """The leveled graph at ``gamma``, rounded up, or down for the lower bound
        (against the evaluator's slack): of the step arcs (the lower-bound arcs when
        down), or of the layered graph's arcs."""
        g, s = self.graph, self.steps
        if s is not None:
            time_s, cost = (s.time_s, s.cost) if up else (s.low_time, s.low_cost)
            schedule = s.schedule if up else s.lower_schedule
            shift = _shift(gamma * time_s / self.deadline, up)
            remaining = least_shift_to_sink(g.n_vertices, g.sink, s.tail, s.head, shift, schedule)
            tail, head = s.tail, s.head
        else:
            shift = np.where(self.keep, _shift(gamma * g.time_s / self.deadline, up), -1)
            weights = np.where(shift >= 0, shift, np.inf).astype(np.float64)
            remaining, _ = self.search.distances(weights, reverse=True)
            tail, head, cost, schedule = g.tail, g.head, g.cost, self.schedule
        return LeveledGraph(
            g.n_vertices,
            g.source,
            g.sink,
            tail=tail,
            head=head,
            cost=cost,
            shift=shift,
            gamma=gamma,
            remaining=remaining,
            schedule=schedule,
        )

    def answer(
        self, gamma: int, thinning: int, info: dict[str, Any], stop: Any
    ) -> tuple[Any, list[str]]:
        """One pass at ``gamma``: the arcs of the cheapest sink copy that fits in
        memory (None if none) and the memory violations met on the way."""
        leveled = self.leveled(gamma, up=True)
        sink, pred = leveled.run(thinning, stop=stop)
        if thinning and not np.isfinite(sink).any():
            info["lambda_fallback"] = True
            sink, pred = leveled.run(0, stop=stop)
        assert pred is not None
        broken: list[str] = []
        for level in np.argsort(sink, kind="stable"):
            if not np.isfinite(sink[level]):
                break
            arcs = leveled.backtrack(pred, int(level))
            if self.steps is not None:
                arcs = self.steps.expand(arcs, self.search)
            if not deadline_met(self.graph, float(self.graph.time_s[arcs].sum())):
                info["fin_late_paths"] = info.get("fin_late_paths", 0) + 1  # never expected
                continue
            broken = memory_violations(self.graph, arcs)
            if not broken:
                info["fin_level"] = int(level)
                return arcs, []
        return None, broken
