"""Compiled shortest paths over a layered graph, shared by the graph methods (private).

:class:`PathSearch` sorts the arcs of a :class:`~splitbench.graphs.layered.LayeredGraph`
once into compressed sparse rows (forward and reverse) and runs scipy's compiled
Dijkstra over any arc weight. scipy's csgraph routines keep explicit zeros of a
sparse matrix as arcs (only dense inputs treat 0 as "no arc"), so zero-weight arcs
(routes that stay, links without energy cost) need no epsilon; an ``inf`` weight
removes an arc. The end points identify a layered-graph arc, so a path of vertices
maps back to arc ids by one binary search.

Also here: the checks every graph method makes on a path (deadline, memory), with
the evaluator's relative tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from splitbench.answer import RunFacts
from splitbench.graphs.layered import LayeredGraph
from splitbench.tolerances import FEASIBILITY_RTOL, TIGHT_RTOL

__all__ = [
    "PassStoppedError",
    "Path",
    "PathSearch",
    "Resource",
    "deadline_met",
    "graph_facts",
    "memory_resources",
    "memory_violations",
    "resource_violations",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Path:
    """A source-to-sink path: its arc ids in order, summed ``cost`` and ``time_s``."""

    arcs: IntArray
    cost: float
    time_s: float


class PathSearch:
    """Compressed-sparse-row views of a layered graph for repeated Dijkstra calls.

    Parameters
    ----------
    graph : LayeredGraph
        The graph; its arc arrays are not copied or changed.
    """

    def __init__(self, graph: LayeredGraph) -> None:
        self.graph = graph
        n = graph.n_vertices
        keys = graph.tail * n + graph.head
        self.order: IntArray = np.argsort(keys, kind="stable")
        self.keys: IntArray = keys[self.order]
        self.heads: IntArray = graph.head[self.order].astype(np.int32)
        self.indptr: IntArray = _indptr(graph.tail, n)
        self.cost_matrix = self.matrix(graph.cost)

    @cached_property
    def _reverse(self) -> tuple[IntArray, IntArray, IntArray]:
        """Arc order, tails and row pointers of the reversed graph (built on first use)."""
        g = self.graph
        order = np.argsort(g.head * g.n_vertices + g.tail, kind="stable")
        return order, g.tail[order].astype(np.int32), _indptr(g.head, g.n_vertices)

    def matrix(self, weights: FloatArray, *, reverse: bool = False) -> sp.csr_matrix:
        """A CSR matrix with ``weights`` (one per arc id) on the arcs, forward or reversed."""
        n = self.graph.n_vertices
        if reverse:
            order, tails, indptr = self._reverse
            return sp.csr_matrix((weights[order], tails, indptr), shape=(n, n))
        return sp.csr_matrix((weights[self.order], self.heads, self.indptr), shape=(n, n))

    def distances(
        self, weights: FloatArray | sp.csr_matrix, *, reverse: bool = False
    ) -> tuple[FloatArray, npt.NDArray[np.int32]]:
        """Dijkstra from the source (or, ``reverse``, to the sink): distances and
        predecessors (in the reversed graph: the next vertex towards the sink)."""
        matrix = weights if sp.issparse(weights) else self.matrix(weights, reverse=reverse)
        start = self.graph.sink if reverse else self.graph.source
        dist, pred = dijkstra(matrix, directed=True, indices=start, return_predecessors=True)
        return np.asarray(dist, dtype=np.float64), np.asarray(pred)

    def arcs_between(self, vertices: list[int]) -> IntArray:
        """Arc ids of the consecutive vertex pairs of a path."""
        v = np.asarray(vertices, dtype=np.int64)
        keys = v[:-1] * self.graph.n_vertices + v[1:]
        return self.order[np.searchsorted(self.keys, keys)]

    def path_from(self, pred: npt.NDArray[np.int32]) -> IntArray | None:
        """Arc ids of the source-to-sink path in a forward predecessor array."""
        source, vertex = self.graph.source, self.graph.sink
        back = pred.tolist()
        vertices = [vertex]
        while vertex != source:
            vertex = back[vertex]
            if vertex < 0:
                return None
            vertices.append(vertex)
        vertices.reverse()
        return self.arcs_between(vertices)

    def make_path(self, arcs: IntArray) -> Path:
        """A :class:`Path` with its summed cost and time."""
        g = self.graph
        return Path(arcs, float(g.cost[arcs].sum()), float(g.time_s[arcs].sum()))

    def shortest_path(self, weights: FloatArray | sp.csr_matrix) -> Path | None:
        """The shortest source-to-sink path for ``weights``; None when there is none."""
        dist, pred = self.distances(weights)
        if not np.isfinite(dist[self.graph.sink]):
            return None
        arcs = self.path_from(pred)
        return None if arcs is None else self.make_path(arcs)

    def lexicographic_path(self, primary: FloatArray, secondary: FloatArray) -> Path | None:
        """A path minimising ``primary``, and among those (up to a relative 1e-10)
        ``secondary``: Dijkstra from the source and to the sink on ``primary`` mark
        the arcs that lie on some shortest path; a third Dijkstra on ``secondary``
        runs over those arcs only."""
        g = self.graph
        ahead, _ = self.distances(primary)
        best = ahead[g.sink]
        if not np.isfinite(best):
            return None
        behind, _ = self.distances(primary, reverse=True)
        with np.errstate(invalid="ignore"):
            slack = ahead[g.tail] + primary + behind[g.head]
        tight = slack <= best + TIGHT_RTOL * abs(best)
        return self.shortest_path(np.where(tight, secondary, np.inf))


class PassStoppedError(Exception):
    """A pass was stopped (its ``stop`` callback said so) before it finished."""


def graph_facts(graph: LayeredGraph) -> RunFacts:
    """The record facts of a graph method: the size of the layered graph it searched."""
    return RunFacts(graph_vertices=graph.n_vertices, graph_arcs=graph.n_arcs)


def _indptr(ends: IntArray, n: int) -> IntArray:
    out = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=out[1:])
    return out


def deadline_met(graph: LayeredGraph, time_s: float) -> bool:
    """Whether a path of duration ``time_s`` meets the request's deadline (the
    evaluator's tolerance; always True without a deadline)."""
    deadline = graph.instance.request.deadline_s
    return deadline is None or time_s <= deadline * (1 + FEASIBILITY_RTOL)


def memory_violations(graph: LayeredGraph, arcs: IntArray) -> list[str]:
    """One sentence per node whose memory the path's blocks exceed."""
    nodes = graph.instance.network.nodes
    on_node = graph.memory_node[arcs]
    used = on_node >= 0
    if not used.any():
        return []
    need = np.bincount(on_node[used], weights=graph.memory_bytes[arcs][used], minlength=len(nodes))
    out = []
    for n in np.flatnonzero(need > 0):
        capacity = nodes[int(n)].memory_bytes
        if capacity is not None and need[n] > capacity * (1 + FEASIBILITY_RTOL):
            out.append(
                f"blocks on {nodes[int(n)].id} need {need[n]:g} bytes of memory; "
                f"it has {capacity:g}"
            )
    return out


@dataclass(frozen=True, eq=False)
class Resource:
    """An additive budget along a path: the ``amounts`` of the path's arcs among
    ``arcs`` add up to at most ``capacity`` (with the evaluator's relative slack).

    Attributes
    ----------
    label : str
        What it is, for messages (``"memory of es"``).
    capacity : float
        The budget (>= 0).
    arcs : ndarray of int
        The arcs that use it.
    amounts : ndarray of float
        What each of those arcs uses (same length as ``arcs``).
    """

    label: str
    capacity: float
    arcs: IntArray
    amounts: FloatArray

    def used(self, path: IntArray) -> float:
        """What the path (arc ids) uses of this budget."""
        hit = np.isin(self.arcs, path)
        # an arc may appear on a path more than once (a cycle): count each time
        counts = np.array([int(np.count_nonzero(path == a)) for a in self.arcs[hit]])
        return float((self.amounts[hit] * counts).sum()) if counts.size else 0.0


def memory_resources(graph: LayeredGraph) -> list[Resource]:
    """One :class:`Resource` per node whose memory could bind
    (:meth:`~splitbench.graphs.layered.LayeredGraph.memory_limits`)."""
    nodes = graph.instance.network.nodes
    return [
        Resource(f"memory of {nodes[n].id}", capacity, arcs, graph.memory_bytes[arcs])
        for n, capacity, arcs in graph.memory_limits()
    ]


def resource_violations(resources: list[Resource], arcs: IntArray) -> list[str]:
    """One sentence per budget the path ``arcs`` exceeds (relative slack
    :data:`~splitbench.tolerances.FEASIBILITY_RTOL`)."""
    out = []
    for res in resources:
        used = res.used(arcs)
        if used > res.capacity * (1 + FEASIBILITY_RTOL) + 0.0:
            out.append(f"{res.label}: {used:g} used of {res.capacity:g}")
    return out
