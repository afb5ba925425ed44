"""Route choices and per-request rows of the coupled assignment MILP (private to
:mod:`splitbench.formulations.assignment_multi`).

:class:`RoutePool` lists the simple routes between two nodes of the network (for one
tensor size, cheapest first, at most ``max_routes``) and remembers the node pairs
that have more; :func:`request_tables` gives every variable of one request its cost,
time and load; :func:`add_request_rows` adds that request's rows (A1)-(A12).

Examples
--------
>>> from splitbench.instance import Objective, example_instance
>>> pool = RoutePool(example_instance().network, Objective.ENERGY, max_routes=64)
>>> md, cs = (example_instance().network.node_index[n] for n in ("md", "cs"))
>>> [r.nodes for r in pool.routes(md, cs, 1000.0)]  # direct is cheaper than via es
[('md', 'cs'), ('md', 'es', 'cs')]
>>> pool.count(md, cs), pool.truncated
(2, set())
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from splitbench.errors import UsageError
from splitbench.formulations._assignment_costs import candidates, operating_exits
from splitbench.instance.model import Arc, Exit, Instance, Network, Objective
from splitbench.milp import MILPBuilder
from splitbench.routes import arc_weight, route_cost, simple_routes

__all__ = [
    "RequestColumns",
    "RequestTables",
    "Route",
    "RoutePool",
    "add_request_rows",
    "request_tables",
    "transfer_pairs",
    "transfers",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

INTO_BLOCK_1, BETWEEN_BLOCKS, RESULT = 0, 1, 2
"""What a route variable's hand-over is (its owner: an ``x[1, n]``, a ``z``, a ``w``)."""


@dataclass(frozen=True)
class Route:
    """One simple route for one tensor size: its nodes, the positions of its arcs in
    ``network.arcs``, and its objective cost and time (the evaluator's arithmetic)."""

    nodes: tuple[str, ...]
    arcs: tuple[int, ...]
    cost: float
    time_s: float


class RoutePool:
    """The simple routes between node pairs (node positions), at most ``max_routes``
    per pair and tensor size, cheapest first for ``objective``.

    A pair with more than ``max_routes`` simple routes is *truncated* (recorded in
    :attr:`truncated`): its list is the ``max_routes`` cheapest (Yen's algorithm,
    :func:`networkx.shortest_simple_paths`), which always holds a cheapest route.
    """

    def __init__(self, network: Network, objective: Objective, max_routes: int) -> None:
        if max_routes < 1:
            raise UsageError(f"max_routes must be at least 1, got {max_routes}")
        self.network = network
        self.objective = objective
        self.max_routes = max_routes
        self.truncated: set[tuple[int, int]] = set()
        self._names = [node.id for node in network.nodes]
        self._arc = {(a.source, a.target): j for j, a in enumerate(network.arcs)}
        self._listed: dict[tuple[int, int], list[tuple[str, ...]]] = {}
        self._chosen: dict[tuple[int, int, float], tuple[Route, ...]] = {}
        self._graph: Any = None

    def _list(self, u: int, v: int) -> list[tuple[str, ...]]:
        found = self._listed.get((u, v))
        if found is None:
            names = self._names
            found = list(simple_routes(self.network, names[u], names[v], self.max_routes + 1))
            self._listed[u, v] = found
            if len(found) > self.max_routes:
                self.truncated.add((u, v))
        return found

    def count(self, u: int, v: int) -> int:
        """The number of simple routes from ``u`` to ``v`` (``u != v``), counted up to
        ``max_routes + 1``."""
        return len(self._list(u, v))

    def routes(self, u: int, v: int, n_bytes: float) -> tuple[Route, ...]:
        """The routes from ``u`` to ``v`` (``u != v``) for ``n_bytes``, cheapest first
        (ties: faster, then fewer hops); empty when ``v`` is unreachable."""
        key = (u, v, n_bytes)
        if key not in self._chosen:
            found = self._list(u, v)
            if (u, v) in self.truncated:
                found = self._cheapest(u, v, n_bytes)
            made = [self._route(nodes, n_bytes) for nodes in found]
            made.sort(key=lambda r: (r.cost, r.time_s, len(r.nodes)))
            self._chosen[key] = tuple(made[: self.max_routes])
        return self._chosen[key]

    def _route(self, nodes: tuple[str, ...], n_bytes: float) -> Route:
        figures = route_cost(self.network, nodes, n_bytes)
        cost = figures.time_s if self.objective is Objective.LATENCY else figures.energy_j
        arcs = tuple(self._arc[hop] for hop in itertools.pairwise(nodes))
        return Route(nodes, arcs, cost, figures.time_s)

    def _cheapest(self, u: int, v: int, n_bytes: float) -> list[tuple[str, ...]]:
        if self._graph is None:
            self._graph = nx.DiGraph()
            self._graph.add_nodes_from(self._names)
            for arc in self.network.arcs:
                self._graph.add_edge(arc.source, arc.target, arc=arc)

        def weight(_a: str, _b: str, data: dict[str, Arc]) -> float:
            return arc_weight(data["arc"], n_bytes, self.objective)

        paths = nx.shortest_simple_paths(self._graph, self._names[u], self._names[v], weight)
        return [tuple(p) for p in itertools.islice(paths, self.max_routes)]


def _ranks(single: Instance) -> IntArray:
    req = single.request
    return np.array(
        [-1 if (r := req.tier_rank(n.tier)) is None else r for n in single.network.nodes],
        dtype=np.int64,
    )


def _depth(exits: Sequence[Exit], admissible: Sequence[bool]) -> int:
    return max((ex.after_block for ex, ok in zip(exits, admissible, strict=True) if ok), default=0)


def transfers(single: Instance) -> list[tuple[int, int]]:
    """The node pairs (u != v) of every transfer the model of ``single`` may choose a
    route for, once per transfer (a pair of hand-overs k and k' counts twice): the
    source to every candidate of block 1, consecutive candidates the tier order
    allows, the candidates of an admissible exit's block to the destination."""
    req, index = single.request, single.network.node_index
    exits, admissible = operating_exits(single)[:2]
    depth = _depth(exits, admissible)
    cand = candidates(single, depth)
    rank = _ranks(single)
    source = index[req.source]
    out = [(source, int(n)) for n in cand[1]] if depth else []
    for k in range(1, depth):
        out += [
            (int(n), int(m))
            for n in cand[k]
            for m in cand[k + 1]
            if not req.tier_order or rank[m] >= rank[n]
        ]
    if req.destination is not None:
        dest = index[req.destination]
        for ex, ok in zip(exits, admissible, strict=True):
            out += [(int(n), dest) for n in cand[ex.after_block]] if ok else []
    return [(u, v) for u, v in out if u != v]


def transfer_pairs(single: Instance) -> set[tuple[int, int]]:
    """The distinct node pairs of :func:`transfers`."""
    return set(transfers(single))


@dataclass(frozen=True, eq=False)
class RequestTables:
    """Per-variable data of one request (select policy); arrays of a group run in
    parallel. ``x_*``: (block, candidate node); ``p_*``: node pairs of consecutive
    blocks (``p_ok``: a ``z`` exists); ``w_*``: (admissible exit, node of its block);
    ``r_*``: route variables, each owned by the ``x`` (``INTO_BLOCK_1``), ``z``
    (among the ``p_ok`` pairs) or ``w`` at position ``r_owner``, labelled ``(hand-over
    k, route)`` or ``("result", exit block, route)``; ``r_arcs`` lists the arcs of every
    route (network arc positions), ``r_arc_route`` the route each belongs to."""

    depth: int
    exits: list[Exit]
    admissible: list[bool]
    accuracy: list[float | None]
    x_block: IntArray
    x_node: IntArray
    x_cost: FloatArray
    x_time: FloatArray
    x_ops: FloatArray
    x_ok: BoolArray
    p_k: IntArray
    p_tail: IntArray
    p_head: IntArray
    p_ok: BoolArray
    w_exit: IntArray
    w_node: IntArray
    w_cost: FloatArray
    w_time: FloatArray
    w_ops: FloatArray
    w_ok: BoolArray
    r_kind: IntArray
    r_owner: IntArray
    r_bits: FloatArray
    r_labels: list[tuple[Hashable, ...]]
    r_arcs: IntArray
    r_arc_route: IntArray
    routes: tuple[Route, ...]

    @property
    def exit_block(self) -> IntArray:
        """The block each exit follows."""
        return np.array([ex.after_block for ex in self.exits], dtype=np.int64)


def request_tables(single: Instance, pool: RoutePool) -> RequestTables:
    """The cost, time, load and admissibility of every variable of ``single``'s
    model, with its routes from ``pool`` (select policy; costs in the objective's
    own units, unscaled)."""
    net, req, dnn = single.network, single.request, single.dnn
    index = net.node_index
    speed = np.array([node.ops_per_s for node in net.nodes])
    power = np.array([node.power_w for node in net.nodes])
    energy = req.objective is Objective.ENERGY
    exits, admissible, accuracy = operating_exits(single)
    depth = _depth(exits, admissible)
    cand = candidates(single, depth)
    rank = _ranks(single)
    source = index[req.source]
    dest = None if req.destination is None else index[req.destination]
    x: list[list[float]] = [[] for _ in range(6)]
    p: list[list[float]] = [[] for _ in range(4)]
    w: list[list[float]] = [[] for _ in range(6)]
    r: list[list[float]] = [[], [], []]
    r_labels: list[tuple[Hashable, ...]] = []
    routes: list[Route] = []

    def transfer(kind: int, owner: int, u: int, v: int, n_bytes: float, *step: Hashable) -> bool:
        if u == v:
            return True
        found = pool.routes(u, v, n_bytes)
        routes.extend(found)
        r_labels.extend((*step, r.nodes) for r in found)
        for part, value in zip(r, (kind, owner, 8.0 * n_bytes), strict=True):
            part.extend([value] * len(found))
        return bool(found)

    def run(ops: float, n: int) -> tuple[float, float]:
        seconds = ops / speed[n] if ops else 0.0
        return (seconds * power[n] if energy else seconds), seconds

    for l in range(1, depth + 1):
        for n in map(int, cand[l]):
            ok = l > 1 or transfer(INTO_BLOCK_1, len(x[0]), source, n, dnn.input_bytes, 0)
            ops = dnn.block(l).ops
            for part, value in zip(x, (l, n, *run(ops, n), ops, ok), strict=True):
                part.append(value)
    z_count = 0
    for k in range(1, depth):
        size = dnn.handover_bytes(k)
        for n, m in itertools.product(map(int, cand[k]), map(int, cand[k + 1])):
            ok = (not req.tier_order or rank[m] >= rank[n]) and transfer(
                BETWEEN_BLOCKS, z_count, n, m, size, k
            )
            z_count += ok
            for part, value in zip(p, (k, n, m, ok), strict=True):
                part.append(value)
    for e, (ex, good) in enumerate(zip(exits, admissible, strict=True)):
        for n in map(int, cand[ex.after_block]) if good else ():
            ok = dest is None or transfer(
                RESULT, len(w[0]), n, dest, ex.output_bytes, "result", ex.after_block
            )
            for part, value in zip(w, (e, n, *run(ex.ops, n), ex.ops, ok), strict=True):
                part.append(value)

    def arrays(lists: list[list[float]], kinds: str) -> list[npt.NDArray[Any]]:
        dtypes = {"i": np.int64, "f": np.float64, "b": np.bool_}
        return [np.array(v, dtype=dtypes[k]) for v, k in zip(lists, kinds, strict=True)]

    fields: list[Any] = [  # in the order of RequestTables' fields
        depth,
        list(exits),
        list(admissible),
        list(accuracy),
        *arrays(x, "iifffb"),
        *arrays(p, "iiib"),
        *arrays(w, "iifffb"),
        *arrays(r, "iif"),
        r_labels,
        np.array([a for route in routes for a in route.arcs], dtype=np.int64),
        np.array([j for j, route in enumerate(routes) for _ in route.arcs], dtype=np.int64),
        tuple(routes),
    ]
    return RequestTables(*fields)


@dataclass(frozen=True, eq=False)
class RequestColumns:
    """One request in the coupled model: its tables and its columns (global indices)."""

    rid: str
    single: Instance
    tables: RequestTables
    x: IntArray
    y: IntArray
    z: IntArray
    w: IntArray
    p: IntArray

    @property
    def route_owner(self) -> IntArray:
        """The column (``x[1, n]``, ``z`` or ``w``) each route variable sums into."""
        t = self.tables
        owners = np.concatenate([self.x, self.z, self.w])
        offset = np.array([0, self.x.size, self.x.size + self.z.size], dtype=np.int64)
        out: IntArray = owners[offset[t.r_kind] + t.r_owner]
        return out


def _rows(
    b: MILPBuilder,
    name: str,
    terms: Sequence[tuple[IntArray, float]],
    upper: float,
    labels: Sequence[Hashable],
    meaning: str,
    lower: float = -np.inf,
) -> None:
    """Rows ``sum_j sign_j * cols_j[i]`` in [lower, upper], one per i (terms: (cols, sign))."""
    size = terms[0][0].size
    if size == 0:
        return
    seq = np.arange(size)
    b.add_rows(
        name,
        size,
        rows=np.concatenate([seq] * len(terms)),
        cols=np.concatenate([cols for cols, _ in terms]),
        vals=np.concatenate([np.full(size, sign) for _, sign in terms]),
        lower=lower,
        upper=upper,
        labels=labels,
        meaning=meaning,
    )


def add_request_rows(b: MILPBuilder, tag: str, c: RequestColumns) -> None:
    """Rows (A1)-(A12) of one request (see the module docstring of
    :mod:`~splitbench.formulations.assignment_multi`); ``tag`` ends each block's name."""
    t, req = c.tables, c.single.request
    names = [node.id for node in c.single.network.nodes]
    exit_block = t.exit_block
    y_rows, y_cols = np.nonzero(exit_block[None, :] >= np.arange(1, t.depth + 1)[:, None])
    b.add_rows(
        f"A1_deploy{tag}",
        t.depth,
        rows=np.concatenate([t.x_block - 1, y_rows]),
        cols=np.concatenate([c.x, c.y[y_cols]]),
        vals=np.concatenate([np.ones(c.x.size), -np.ones(y_rows.size)]),
        lower=0.0,
        upper=0.0,
        labels=list(range(1, t.depth + 1)),
        meaning="block l is deployed exactly when the operating exit is at or after it",
    )
    b.add_rows(f"A2_exit{tag}", 1, np.zeros(c.y.size), c.y, 1.0, lower=1.0, upper=1.0)
    if req.min_accuracy is not None:
        acc = np.array([a if a is not None else 0.0 for a in t.accuracy])
        b.add_rows(f"A3_accuracy{tag}", 1, np.zeros(c.y.size), c.y, acc, lower=req.min_accuracy)
    x_of = np.full((t.depth + 2, len(names)), -1, dtype=np.int64)
    x_of[t.x_block, t.x_node] = c.x
    ok = t.p_ok
    tail, head = x_of[t.p_k[ok], t.p_tail[ok]], x_of[t.p_k[ok] + 1, t.p_head[ok]]
    z_labels = b.var_labels(f"z{tag}")
    _rows(
        b,
        f"A4_pair_lower{tag}",
        [(tail, 1), (head, 1), (c.z, -1)],
        1.0,
        z_labels,
        "z >= x + x' - 1",
    )
    _rows(b, f"A5_pair_tail{tag}", [(c.z, 1), (tail, -1)], 0.0, z_labels, "z <= x[k, n]")
    _rows(b, f"A6_pair_head{tag}", [(c.z, 1), (head, -1)], 0.0, z_labels, "z <= x[k+1, m]")
    fk, fn, fm = t.p_k[~ok], t.p_tail[~ok], t.p_head[~ok]
    forbidden = [(int(k), names[n], names[m]) for k, n, m in zip(fk, fn, fm, strict=True)]
    pair = [(x_of[fk, fn], 1.0), (x_of[fk + 1, fm], 1.0)]
    _rows(b, f"A7_forbidden_pair{tag}", pair, 1.0, forbidden, "no route or down the tier order")
    b.add_rows(
        f"A8_exit_node{tag}",
        c.y.size,
        rows=np.concatenate([t.w_exit, np.arange(c.y.size)]),
        cols=np.concatenate([c.w, c.y]),
        vals=np.concatenate([np.ones(c.w.size), -np.ones(c.y.size)]),
        lower=0.0,
        upper=0.0,
        labels=exit_block.tolist(),
        meaning="the operating exit runs on one node",
    )
    exit_x = x_of[exit_block[t.w_exit], t.w_node]
    w_labels = b.var_labels(f"w{tag}")
    _rows(b, f"A9_exit_link{tag}", [(c.w, 1), (exit_x, -1)], 0.0, w_labels, "w[e, n] <= x[l_e, n]")
    if req.deadline_s is not None:
        cols = np.concatenate([c.x, c.w, c.p])
        times = np.concatenate([t.x_time, t.w_time, [r.time_s for r in t.routes]])
        keep = times != 0
        b.add_rows(
            f"A10_deadline{tag}",
            1,
            rows=np.zeros(int(keep.sum())),
            cols=cols[keep],
            vals=times[keep] / req.deadline_s,
            upper=1.0,
            meaning="latency <= T",
        )
    _add_own_memory(b, tag, c, names)
    owner = c.route_owner
    heads, row = np.unique(owner, return_inverse=True)
    if heads.size:
        b.add_rows(
            f"A12_route{tag}",
            heads.size,
            rows=np.concatenate([row, np.arange(heads.size)]),
            cols=np.concatenate([c.p, heads]),
            vals=np.concatenate([np.ones(c.p.size), -np.ones(heads.size)]),
            lower=0.0,
            upper=0.0,
            meaning="one route per transfer: sum of its route variables = x[1, n], z or w",
        )


def _add_own_memory(b: MILPBuilder, tag: str, c: RequestColumns, names: list[str]) -> None:
    """(A11): the memory of the request's own blocks on a node, where it could bind."""
    t, net = c.tables, c.single.network
    mem = np.array([c.single.dnn.block(l).memory_bytes for l in t.x_block.tolist()])
    caps = np.array([np.inf if n.memory_bytes is None else n.memory_bytes for n in net.nodes])
    binding = np.flatnonzero(np.bincount(t.x_node, weights=mem, minlength=len(names)) > caps)
    if not binding.size:
        return
    row_of = np.full(len(names), -1)
    row_of[binding] = np.arange(binding.size)
    use = (row_of[t.x_node] >= 0) & (mem > 0)
    scale = np.where(caps[binding] > 0, caps[binding], 1.0)
    rows = row_of[t.x_node[use]]
    b.add_rows(
        f"A11_memory{tag}",
        binding.size,
        rows=rows,
        cols=c.x[use],
        vals=mem[use] / scale[rows],
        upper=caps[binding] / scale,
        labels=[names[n] for n in binding],
        meaning="memory of the request's blocks on node n <= M_n",
    )
