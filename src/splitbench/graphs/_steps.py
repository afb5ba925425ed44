"""The step graph of FIN's ``step`` rounding (private to FIN).

A *step* is the part of a placement that ``rounding="step"`` rounds up once: the
transfer of hand-over k's tensor from node u (the source, or where block k ran) to
node v plus block k + 1's compute on v (with its exit branch, for a
compute-and-exit arc); and the result's transfer from the exit's node to the
destination. The step graph has the vertices of the layered graph
(:mod:`splitbench.graphs.layered`) and one *step arc* (u, k, r) -> head(c) for

- every live tail (u, k, r): the source for k = 0, else a head of a compute arc of
  block k (so (u, k, rho(u)): the tier rank is the one of u);
- every compute arc c of block k + 1 that leaves (v, k, r), in the same rank copy
  (tier order, allowed nodes and single-block memory are the layered graph's);
- every candidate route u -> v of hand-over k's tensor (below);

plus one result step (v, result copy of e) -> sink per candidate route v ->
destination, ending with the delivery arc. A step arc's cost and time are the
route's plus the compute arc's, summed exactly; :meth:`StepGraph.expand` turns a
path of step arcs back into layered-graph arcs (so the placement, the memory check
and the cost are the layered graph's own).

Candidate routes per (u, v) and tensor (``StepGraph.routes`` says which applied):

- ``fastest``: when the transfer cost is proportional to its time (the latency
  objective, or energy whose arcs cost energy in proportion to their time), the
  fastest route: it dominates every other, so the set is complete;
- ``pareto``: otherwise, on networks of at most :data:`PARETO_NODES` nodes, the
  Pareto set of (cost, time) routes by label setting (complete), at most
  :data:`MAX_ROUTES` per pair (``capped``: a spread subset, cheapest and fastest
  kept);
- ``supported``: on larger networks, the cheapest and the fastest route and the
  minimisers of (1 - a) cost + a time (both normalised) for a in
  :data:`SUPPORT_WEIGHTS`, Pareto-filtered per pair (compiled Dijkstra; Pareto
  routes that no weight selects are missed).

With a complete set every path of the layered graph is dominated by a step path
with the same blocks, no costlier and no slower; since one ceiling of a sum is at
most the sum of the ceilings, step rounding then never loses a path arc rounding
keeps.

For FIN's lower bound, the first step arc of every (tail, compute arc) pair also
carries the least cost and the least time of *any* route between their nodes
(``low_cost``, ``low_time``: exact Dijkstra distances, each of its own route) and
``lower_schedule`` relaxes only those: every placement is dominated by such a path,
whatever the candidate routes. :func:`estimate_steps` bounds the number of step
arcs before any route is searched, so that FIN can decline a step graph over its
memory budget.

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.graphs.layered import build_layered_graph
>>> graph = build_layered_graph(example_instance())
>>> steps = build_steps(graph, np.ones(graph.n_arcs, dtype=bool), budget=10**6)
>>> steps.routes, steps.n_arcs, len(steps.schedule)  # 5 blocks: prune and relax each
('pareto', 22, 10)
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from splitbench.graphs._paths import PassStoppedError, PathSearch
from splitbench.graphs.layered import ArcKind, LayeredGraph

__all__ = ["MAX_ROUTES", "PARETO_NODES", "SUPPORT_WEIGHTS", "StepGraph", "build_steps"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

PARETO_NODES = 16
"""Networks up to this many nodes get the exact Pareto set of routes per pair."""

MAX_ROUTES = 8
"""At most this many Pareto routes per (u, v) pair and tensor."""

SUPPORT_WEIGHTS = (0.5,)
"""Weights a of the time in (1 - a) cost + a time for the supported routes."""


class _Routes:
    """Candidate routes of one tensor: options ``u -> v`` with cost and time."""

    def __init__(self, u: IntArray, v: IntArray, cost: FloatArray, time: FloatArray) -> None:
        self.u, self.v, self.cost, self.time = u, v, cost, time

    def nodes(self, option: int) -> list[int]:  # pragma: no cover - overridden
        raise NotImplementedError


class _ParetoRoutes(_Routes):
    def __init__(self, options: list[tuple[int, int, float, float, tuple[int, ...]]]) -> None:
        u, v, cost, time = (np.array([o[k] for o in options]) for k in range(4))
        super().__init__(u.astype(np.int64), v.astype(np.int64), cost * 1.0, time * 1.0)
        self.paths = [o[4] for o in options]

    def nodes(self, option: int) -> list[int]:
        return list(self.paths[option])


class _TreeRoutes(_Routes):
    """Routes read off shortest-path trees (forward from sources, or reversed to targets)."""

    def __init__(
        self,
        pairs: tuple[IntArray, IntArray, FloatArray, FloatArray, IntArray],
        pred: list[npt.NDArray[np.int32]],
        row_of: dict[int, int],
        reverse: bool,
    ) -> None:
        super().__init__(*pairs[:4])
        self.variant = pairs[4].astype(np.int8)
        self.pred, self.row_of, self.reverse = pred, row_of, reverse

    def nodes(self, option: int) -> list[int]:
        u, v = int(self.u[option]), int(self.v[option])
        root, other = (v, u) if self.reverse else (u, v)
        parent = self.pred[int(self.variant[option])][self.row_of[root]]
        walk = [other]
        while walk[-1] != root:
            walk.append(int(parent[walk[-1]]))
            if walk[-1] < 0 or len(walk) > parent.size + 1:
                raise RuntimeError("broken route tree")
        return walk if self.reverse else walk[::-1]


@dataclass(frozen=True)
class StepGraph:
    """Step arcs over the vertices of a layered graph (see the module docstring)."""

    graph: LayeredGraph
    tail: IntArray
    head: IntArray
    cost: FloatArray
    time_s: FloatArray
    final: IntArray
    option: IntArray
    table: IntArray
    low_cost: FloatArray
    low_time: FloatArray
    tables: list[_Routes]
    schedule: list[tuple[str, IntArray]]
    lower_schedule: list[tuple[str, IntArray]]
    routes: str

    @property
    def n_arcs(self) -> int:
        """Number of step arcs."""
        return int(self.tail.size)

    def expand(self, steps: IntArray, search: PathSearch) -> IntArray:
        """The layered-graph arcs, source first, of a path of step arcs."""
        g = self.graph
        out: list[IntArray] = []
        for s in steps.tolist():
            nodes = self.tables[int(self.table[s])].nodes(int(self.option[s]))
            base = int(self.tail[s]) - int(g.vertex_node[int(self.tail[s])])
            if len(nodes) > 1:
                out.append(search.arcs_between([base + n for n in nodes]))
            out.append(np.array([self.final[s]], dtype=np.int64))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _ranges(starts: IntArray, counts: IntArray) -> IntArray:
    """Concatenated ``arange(start, start + count)`` for every pair."""
    total = int(counts.sum())
    offsets = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts)
    return np.asarray(offsets + np.arange(total, dtype=np.int64), dtype=np.int64)


def _pareto(
    n: int,
    arcs: tuple[IntArray, IntArray, FloatArray, FloatArray],
    sources: IntArray,
    targets: IntArray,
) -> tuple[_Routes, bool]:
    """Pareto routes by label setting (labels settled in (cost, time) order)."""
    a_from, a_to, cost, time = arcs
    adjacency: list[list[tuple[int, float, float]]] = [[] for _ in range(n)]
    for x, y, c, t in zip(
        a_from.tolist(), a_to.tolist(), cost.tolist(), time.tolist(), strict=True
    ):
        adjacency[x].append((y, c, t))
    wanted = set(targets.tolist())
    options: list[tuple[int, int, float, float, tuple[int, ...]]] = []
    capped = False
    for s in sources.tolist():
        settled: list[list[tuple[float, float, tuple[int, ...]]]] = [[] for _ in range(n)]
        heap: list[tuple[float, float, int, tuple[int, ...]]] = [(0.0, 0.0, s, (s,))]
        while heap:
            c, t, x, path = heapq.heappop(heap)
            if settled[x] and settled[x][-1][1] <= t:
                continue  # earlier labels are no costlier: dominated
            settled[x].append((c, t, path))
            for y, cy, ty in adjacency[x]:
                if y not in path and not (settled[y] and settled[y][-1][1] <= t + ty):
                    heapq.heappush(heap, (c + cy, t + ty, y, (*path, y)))
        for v in sorted(wanted):
            labels = settled[v]
            if len(labels) > MAX_ROUTES:
                capped = True
                labels = [labels[int(i)] for i in np.linspace(0, len(labels) - 1, MAX_ROUTES)]
            options.extend((s, v, c, t, path) for c, t, path in labels)
    return _ParetoRoutes(options), capped


def _tree_routes(
    n: int,
    arcs: tuple[IntArray, IntArray, FloatArray, FloatArray],
    sources: IntArray,
    targets: IntArray,
    variants: list[FloatArray],
) -> tuple[_Routes, tuple[FloatArray, FloatArray]]:
    """One shortest route per variant weight, by compiled Dijkstra, Pareto-filtered;
    and the distances of the first and the last variant, sources x targets."""
    a_from, a_to, cost, time = arcs
    reverse = targets.size < sources.size
    roots, others = (targets, sources) if reverse else (sources, targets)
    ends = (a_to, a_from) if reverse else (a_from, a_to)
    order = np.lexsort((ends[1], ends[0]))
    indptr = np.r_[0, np.cumsum(np.bincount(ends[0], minlength=n))]
    keys = np.r_[a_from * n + a_to, n * n]  # a sentinel: the network may have no arc
    key_order = np.argsort(keys)
    sorted_keys = keys[key_order]
    cost, time = np.r_[cost, 0.0], np.r_[time, 0.0]
    pred_list = []
    reach_list = []
    dist_list = []
    for w in variants:
        matrix = sp.csr_matrix((w[order], ends[1][order].astype(np.int32), indptr), shape=(n, n))
        dist, pred = dijkstra(matrix, directed=True, indices=roots, return_predecessors=True)
        pred_list.append(pred)
        reach_list.append(np.isfinite(dist))
        dist_list.append(dist[:, others] if not reverse else dist[:, others].T)
    self_dists = (dist_list[0], dist_list[-1])
    # sums along every tree at once by pointer doubling: a root (and what is
    # unreached) points to itself with weight 0
    stacked = np.concatenate(pred_list).astype(np.int64)
    columns = np.arange(n)[None, :]
    up = np.where(stacked >= 0, stacked, columns)
    key = columns * n + up if reverse else up * n + columns
    arc = key_order[np.searchsorted(sorted_keys, key)]
    real = stacked >= 0
    c_sum = np.where(real, cost[arc], 0.0)
    t_sum = np.where(real, time[arc], 0.0)
    offset = (np.arange(up.shape[0]) * n)[:, None]
    flat = (up + offset).ravel()
    c_sum, t_sum = c_sum.ravel(), t_sum.ravel()
    for _ in range(n):
        above = flat[flat]
        if np.array_equal(above, flat):
            break
        c_sum = c_sum + c_sum[flat]
        t_sum = t_sum + t_sum[flat]
        flat = above
    shape = (len(variants), roots.size, n)
    reach = np.stack(reach_list)
    c_all = np.where(reach, c_sum.reshape(shape), np.inf)[:, :, others]
    t_all = t_sum.reshape(shape)[:, :, others]
    # Pareto filter across the variants of each pair (ties: the first variant stays)
    c_i, c_j = c_all[:, None], c_all[None, :]
    t_i, t_j = t_all[:, None], t_all[None, :]
    first = np.tril(np.ones((len(variants),) * 2, dtype=bool), -1)[:, :, None, None]
    beaten = (c_j <= c_i) & (t_j <= t_i) & ((c_j < c_i) | (t_j < t_i) | first)
    keep = np.isfinite(c_all) & ~(beaten & np.isfinite(c_j)).any(axis=1)
    variant, r, o = np.nonzero(keep)
    root_nodes, other_nodes = roots[r], others[o]
    u, v = (other_nodes, root_nodes) if reverse else (root_nodes, other_nodes)
    pairs = (u, v, c_all[variant, r, o], t_all[variant, r, o], variant)
    table = _TreeRoutes(pairs, pred_list, {int(x): k for k, x in enumerate(roots)}, reverse)
    return table, self_dists


def _route_kind(cost: FloatArray, time: FloatArray, n: int) -> str:
    if not (time > 0).any() or not (cost > 0).any():
        return "fastest"
    ratio = cost.sum() / time.sum()
    if np.allclose(cost, ratio * time, rtol=1e-12, atol=0.0):
        return "fastest"
    return "pareto" if n <= PARETO_NODES else "supported"


def _routes(
    n: int,
    arcs: tuple[IntArray, IntArray, FloatArray, FloatArray],
    sources: IntArray,
    targets: IntArray,
) -> tuple[_Routes, str, FloatArray, FloatArray]:
    """The candidate routes, their kind, and the least cost and the least time of any
    route (sources x targets; inf: unreachable)."""
    cost, time = arcs[2], arcs[3]
    kind = _route_kind(cost, time, n)
    if kind == "supported":
        c = cost / cost.sum()
        t = time / time.sum()
        variants = [cost, *((1 - a) * c + a * t for a in SUPPORT_WEIGHTS), time]
        table, (low_cost, low_time) = _tree_routes(n, arcs, sources, targets, variants)
        return table, kind, low_cost, low_time
    if kind == "pareto":
        table, capped = _pareto(n, arcs, sources, targets)
        kind = "capped" if capped else kind
    else:
        table, _ = _tree_routes(n, arcs, sources, targets, [time if (time > 0).any() else cost])
    # complete sets hold the cheapest and the fastest route of every pair
    low_cost = np.full((sources.size, targets.size), np.inf)
    low_time = np.full((sources.size, targets.size), np.inf)
    i, j = np.searchsorted(sources, table.u), np.searchsorted(targets, table.v)
    np.minimum.at(low_cost, (i, j), table.cost)
    np.minimum.at(low_time, (i, j), table.time)
    if kind == "capped":
        low_cost, low_time = _least(n, arcs, sources, targets)
    return table, kind, low_cost, low_time


def _one_copy(graph: LayeredGraph, arcs: IntArray) -> IntArray:
    """The arcs of ``arcs`` (one layer, every tier-rank copy) in the lowest rank copy."""
    if arcs.size == 0:
        return arcs
    base = _base(graph, graph.tail[arcs])
    return np.asarray(arcs[base == base.min()], dtype=np.int64)


def estimate_steps(graph: LayeredGraph, keep: BoolArray) -> int:
    """An upper bound on the step arcs :func:`build_steps` creates, before any route
    is searched: per block, (live tails) x (compute arcs leaving their copy) x the
    most routes a pair can get, plus the result steps."""
    n = len(graph.instance.network.nodes)
    kind, layer = graph.kind, graph.layer
    computing = keep & ((kind == ArcKind.COMPUTE) | (kind == ArcKind.COMPUTE_EXIT))
    limit = {"fastest": 1, "pareto": MAX_ROUTES, "supported": len(SUPPORT_WEIGHTS) + 2}
    total = 0
    for block in range(1, graph.n_layers + 1):
        tails = _live_tails(graph, computing, block)
        finals = np.flatnonzero(computing & (layer == block))
        if tails.size == 0 or finals.size == 0:
            continue
        transmit = _one_copy(
            graph, np.flatnonzero((kind == ArcKind.TRANSMIT) & (layer == block - 1))
        )
        per_pair = limit[_route_kind(graph.cost[transmit], graph.time_s[transmit], n)]
        bases, counts = np.unique(_base(graph, graph.tail[finals]), return_counts=True)
        leaving = dict(zip(bases.tolist(), counts.tolist(), strict=True))
        total += per_pair * sum(leaving.get(b, 0) for b in _base(graph, tails).tolist())
    results = computing & (kind == ArcKind.COMPUTE_EXIT) & (graph.head != graph.sink)
    return total + max(limit.values()) * int(results.sum())


def _base(graph: LayeredGraph, vertices: IntArray) -> IntArray:
    """The first vertex of each vertex's copy of the network."""
    return vertices - graph.vertex_node[vertices]


def _live_tails(graph: LayeredGraph, computing: BoolArray, block: int) -> IntArray:
    """Where block ``block``'s input can sit: the source, or a head of a compute arc
    of the block before (its node and tier rank)."""
    if block == 1:
        return np.array([graph.source], dtype=np.int64)
    into = computing & (graph.kind == ArcKind.COMPUTE) & (graph.layer == block - 1)
    return np.unique(graph.head[into])


def _least(
    n: int,
    arcs: tuple[IntArray, IntArray, FloatArray, FloatArray],
    sources: IntArray,
    targets: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """The least cost and the least time of any route, sources x targets (inf: none)."""
    a_from, a_to, cost, time = arcs
    out = []
    for w in (cost, time):
        matrix = sp.csr_matrix((w, (a_from, a_to)), shape=(n, n))
        if targets.size < sources.size:
            dist = dijkstra(matrix.T.tocsr(), directed=True, indices=targets)[:, sources].T
        else:
            dist = dijkstra(matrix, directed=True, indices=sources)[:, targets]
        out.append(np.asarray(dist, dtype=np.float64))
    return out[0], out[1]


def build_steps(
    graph: LayeredGraph, keep: BoolArray, budget: int, stop: Callable[[], bool] | None = None
) -> StepGraph | None:
    """The step graph of ``graph`` over the arcs in ``keep``; None when its estimate
    (:func:`estimate_steps`) exceeds ``budget`` step arcs.

    Raises
    ------
    PassStoppedError
        When ``stop()`` returns True (checked before every block).
    """
    if estimate_steps(graph, keep) > budget:
        return None
    n = len(graph.instance.network.nodes)
    kind, layer = graph.kind, graph.layer
    computing = keep & ((kind == ArcKind.COMPUTE) | (kind == ArcKind.COMPUTE_EXIT))
    ints: dict[str, list[IntArray]] = {k: [] for k in ("tail", "head", "final", "option", "table")}
    floats: dict[str, list[FloatArray]] = {
        k: [] for k in ("cost", "time_s", "low_cost", "low_time")
    }
    schedule: list[tuple[str, IntArray]] = []
    lower: list[tuple[str, IntArray]] = []
    tables: list[_Routes] = []
    kinds: set[str] = set()
    n_arcs = 0

    def add(tails: IntArray, finals: IntArray, copy: IntArray) -> None:
        """Step arcs from every tail, along every route option from its node, into
        every final arc that leaves the option's end in the tail's copy; and one
        lower-bound arc per (tail, final arc) with the least cost and time of a route."""
        nonlocal n_arcs
        one = _one_copy(graph, copy)
        network = (graph.arc_from[one], graph.arc_to[one], graph.cost[one], graph.time_s[one])
        sources = np.unique(graph.vertex_node[tails])
        targets = np.unique(graph.vertex_node[graph.tail[finals]])
        table, how, low_cost, low_time = _routes(n, network, sources, targets)
        kinds.add(how)
        by_u = np.argsort(table.u, kind="stable")
        u_sorted = table.u[by_u]
        nodes = graph.vertex_node[tails]
        lo = np.searchsorted(u_sorted, nodes, side="left")
        hi = np.searchsorted(u_sorted, nodes, side="right")
        t_idx = np.repeat(np.arange(tails.size), hi - lo)
        opt = by_u[_ranges(lo, hi - lo)]
        start = tails[t_idx] - nodes[t_idx] + table.v[opt]  # the option's end, tail's copy
        by_tail = np.argsort(graph.tail[finals], kind="stable")
        f_tails = graph.tail[finals][by_tail]
        lo = np.searchsorted(f_tails, start, side="left")
        hi = np.searchsorted(f_tails, start, side="right")
        pick = np.repeat(np.arange(start.size), hi - lo)
        fin = finals[by_tail[_ranges(lo, hi - lo)]]
        t_idx, opt = t_idx[pick], opt[pick]
        i = np.searchsorted(sources, table.u[opt])
        j = np.searchsorted(targets, table.v[opt])
        for name, values in (
            ("tail", tails[t_idx]),
            ("head", graph.head[fin]),
            ("final", fin),
            ("option", opt),
            ("table", np.full(fin.size, len(tables), dtype=np.int64)),
        ):
            ints[name].append(values)
        for name, number in (
            ("cost", table.cost[opt] + graph.cost[fin]),
            ("time_s", table.time[opt] + graph.time_s[fin]),
            ("low_cost", low_cost[i, j] + graph.cost[fin]),
            ("low_time", low_time[i, j] + graph.time_s[fin]),
        ):
            floats[name].append(number)
        table.u, table.v = table.u.astype(np.int32), table.v.astype(np.int32)
        table.cost = table.time = np.zeros(0)  # the step arcs hold them
        tables.append(table)
        ids = np.arange(n_arcs, n_arcs + fin.size, dtype=np.int64)
        _, first = np.unique(tails[t_idx] * graph.n_arcs + fin, return_index=True)
        n_arcs += fin.size
        for out, chosen in ((schedule, ids), (lower, ids[first])):
            out.append(("prune", tails))
            out.append(("once", chosen))

    for block in range(1, graph.n_layers + 1):
        if stop is not None and stop():
            raise PassStoppedError
        tails = _live_tails(graph, computing, block)
        finals = np.flatnonzero(computing & (layer == block))
        if tails.size and finals.size:
            transmit = np.flatnonzero((kind == ArcKind.TRANSMIT) & (layer == block - 1))
            add(tails, finals, transmit)
    exits = computing & (kind == ArcKind.COMPUTE_EXIT) & (graph.head != graph.sink)
    result_tails = np.unique(graph.head[exits])
    for deliver in np.flatnonzero(kind == ArcKind.DELIVER):
        base = int(_base(graph, graph.tail[deliver : deliver + 1])[0])
        tails = result_tails[(result_tails >= base) & (result_tails < base + n)]
        if tails.size:
            inside = (graph.tail >= base) & (graph.tail < base + n)
            result = np.flatnonzero((kind == ArcKind.RESULT) & inside)
            add(tails, np.array([deliver], dtype=np.int64), result)

    def joined(parts: list[Any], dtype: type) -> Any:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    order = ("supported", "capped", "pareto", "fastest")
    return StepGraph(
        graph=graph,
        tables=tables,
        schedule=schedule,
        lower_schedule=lower,
        routes=next((k for k in order if k in kinds), "fastest"),
        **{name: joined(parts, np.int64) for name, parts in ints.items()},
        **{name: joined(parts, np.float64) for name, parts in floats.items()},
    )
