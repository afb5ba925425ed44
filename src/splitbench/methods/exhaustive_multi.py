"""The exhaustive oracle for format 2: every candidate of every request, then a search.

Method ``exhaustive`` on a many-request instance (MULTI.md). Two stages:

1. *Candidates.* For each request alone (its format-1 view,
   :meth:`~splitbench.instance.multi.MultiInstance.single`): every admissible exit
   (select policy; the final one under the expected policy), every assignment of the
   deployed blocks to their candidate nodes, and **every** simple route for each
   hand-over, for the result and (expected policy, with a destination) for each
   early exit's result. Under shared bandwidth a route that another route beats in
   both time and energy can be the one that still fits, so, unlike the
   single-request oracle, no route is discarded for being dominated. Each candidate
   is judged by :func:`splitbench.evaluate.evaluate` itself; a feasible one keeps its
   share of the objective (energy: lambda_r E_r; latency: lambda_r D_r / sum lambda),
   its rate-scaled ops per node and bits per arc
   (:func:`~splitbench.evaluate_multi.request_loads`) and the (DNN, block) weights it
   puts on nodes with a finite memory. A candidate that breaks a shared limit on its
   own is dropped (it breaks it in any combination).
2. *Search.* Depth-first over the requests, fewest kept candidates first (ties in
   file order), each request's candidates in increasing cost. A branch is cut when
   the partial cost plus the cheapest candidate of every request still to place
   reaches the best complete cost found (candidates are sorted, so the rest of the
   level goes too), and a candidate is refused when it would push a node's compute
   load or an arc's link load over U times its capacity, or a node's memory
   (distinct weights counted once) over its size, with the evaluator's relative
   slack :data:`~splitbench.tolerances.FEASIBILITY_RTOL`. Before going deeper, each
   request still to place is checked for a candidate that fits the loads so far:
   one with none cuts the branch, and the bound takes the cheapest that fits. Loads
   only grow down a branch, so every cut is safe (and a request's first fitting
   candidate only moves on). Interchangeable requests (the same DNN, rate and
   request fields,
   :func:`~splitbench.formulations.routing_multi.interchangeable_classes`) share one
   candidate list, and a later one in the search order takes a candidate index at
   least the earlier one's: any solution, its copies' placements sorted by index, is
   such a solution at the same cost and loads.

Guarantee: with no limit hit, ``optimal`` is a proven optimum of the instance
(every placement whose routes are simple paths was a candidate; a route that
revisits a node only adds cost and load) and ``infeasible`` a proof that none
exists. Above ``max_candidates`` candidates of one request, ``max_routes`` simple
routes between two nodes or ``max_nodes`` search nodes it declines (``skipped``,
with the reason) rather than return an answer it cannot prove; at the time limit it
returns the best found as ``feasible`` (or nothing).

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.answer import RunOptions
>>> from splitbench.instance import MultiInstance, example_instance
>>> one = MultiInstance.from_single(example_instance(), rate_per_s=150.0)
>>> two = replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))
>>> result = run_exhaustive_multi(two, RunOptions())
>>> result.status.value, result.placement.ids, result.info["candidates"]
('optimal', ('r1', 'r2'), 19)
>>> # alone, each runs blocks 1-3 on md (0.0856 J); two of them at 150/s overload md
>>> [result.placement[rid].blocks for rid in ("r1", "r2")]
[('md', 'md', 'md', 'cs', 'cs'), ('md', 'md', 'es', 'es', 'es')]
>>> round(result.claimed_objective, 2), result.claimed_objective == result.bound
(26.33, True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from splitbench.answer import Clock, MethodResult, RunOptions, Status, Termination
from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import request_loads
from splitbench.formulations.routing_multi import interchangeable_classes
from splitbench.instance.model import ExitPolicy, Instance, Objective
from splitbench.instance.multi import MultiInstance
from splitbench.methods.exhaustive import PARAMS as SINGLE_PARAMS
from splitbench.methods.exhaustive import _exit_blocks
from splitbench.params import Param, parse_params
from splitbench.placement import MultiPlacement, Placement
from splitbench.routes import simple_routes
from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = ["PARAMS", "run_exhaustive_multi"]

PARAMS = {
    # the single oracle's limits (max_candidates counts per request here)
    **SINGLE_PARAMS,
    "max_nodes": Param(int, 20_000_000, "decline when the search visits more nodes than this"),
}
"""The parameters of method ``exhaustive`` on a format-2 instance."""

_CHECK_EVERY = 1024
"""Candidates evaluated, or search nodes visited, between two looks at the clock."""

_Route = tuple[str, ...]


class _OutOfTimeError(Exception):
    """The time limit passed."""


class _DeclinedError(Exception):
    """The instance is beyond the oracle's limits."""


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One feasible placement of one request, with what it costs and loads."""

    placement: Placement
    cost: float  # its share of the objective
    ops: tuple[tuple[int, float], ...]  # (node position, ops/s)
    bits: tuple[tuple[int, float], ...]  # (arc position, bit/s)
    weights: tuple[tuple[int, frozenset[int]], ...]  # (node with finite memory, weight keys)


class _Routes:
    """Every simple route between two nodes, enumerated once per pair."""

    def __init__(self, instance: MultiInstance, max_routes: int) -> None:
        self.network = instance.network
        self.max_routes = max_routes
        self.cache: dict[tuple[str, str], tuple[_Route, ...]] = {}

    def get(self, source: str, target: str) -> tuple[_Route, ...]:
        key = (source, target)
        if key not in self.cache:
            found = tuple(simple_routes(self.network, source, target, limit=self.max_routes + 1))
            if len(found) > self.max_routes:
                raise _DeclinedError(
                    f"more than {self.max_routes} simple routes from {source} to {target}"
                )
            self.cache[key] = found
        return self.cache[key]


def _early_exits(single: Instance) -> frozenset[int]:
    """The blocks after which an early exit's result route is part of the placement."""
    req = single.request
    if req.exit_policy is ExitPolicy.SELECT or req.destination is None:
        return frozenset()
    return frozenset(ex.after_block for ex in single.dnn.exits[:-1])


def _count(single: Instance, routes: _Routes) -> int:
    """How many candidates :func:`_placements` yields, by dynamic programming over the
    blocks (ways to reach each node with block l placed, routes included)."""
    req = single.request
    early = _early_exits(single)
    exits = set(_exit_blocks(single))
    ways = {req.source: 1}
    total = 0
    for l in range(1, max(exits, default=0) + 1):
        step: dict[str, int] = {}
        for node in single.candidate_nodes(l):
            n = sum(w * len(routes.get(prev, node)) for prev, w in ways.items())
            if n and l in early and req.destination is not None:
                n *= len(routes.get(node, req.destination))
            if n:
                step[node] = n
        ways = step
        if l in exits:
            for node, n in ways.items():
                back = 1 if req.destination is None else len(routes.get(node, req.destination))
                total += n * back
    return total


def _assignments(single: Instance, routes: _Routes, exit_block: int) -> Iterator[_Route]:
    """Node tuples for blocks 1..exit_block whose every hand-over has a route."""

    def extend(prefix: _Route, at: str) -> Iterator[_Route]:
        if len(prefix) == exit_block:
            yield prefix
            return
        for node in single.candidate_nodes(len(prefix) + 1):
            if routes.get(at, node):
                yield from extend((*prefix, node), node)

    yield from extend((), single.request.source)


def _placements(single: Instance, routes: _Routes) -> Iterator[Placement]:
    """Every placement of the request whose routes are simple paths (see the module)."""
    source, target = single.request.source, single.request.destination
    early = sorted(_early_exits(single))
    for exit_block in _exit_blocks(single):
        for nodes in _assignments(single, routes, exit_block):
            ends = (source, *nodes)
            hops: list[Sequence[_Route | None]] = [
                routes.get(ends[k], ends[k + 1]) for k in range(exit_block)
            ]
            hops.append((None,) if target is None else routes.get(nodes[-1], target))
            backs = [routes.get(nodes[l - 1], target) for l in early if target is not None]
            for chosen in itertools.product(*hops):
                for back in itertools.product(*backs):
                    yield Placement(nodes, exit_block, chosen, tuple(zip(early, back, strict=True)))


class _Search:
    """The shared loads of a partial solution and the depth-first search over them."""

    def __init__(self, instance: MultiInstance, clock: Clock, max_nodes: int) -> None:
        net = instance.network
        self.clock = clock
        self.max_nodes = max_nodes
        self.limit = instance.max_utilization * (1 + FEASIBILITY_RTOL)
        self.node_pos = dict(net.node_index)
        self.arc_pos = {(a.source, a.target): i for i, a in enumerate(net.arcs)}
        self.speed = [n.ops_per_s for n in net.nodes]
        self.bandwidth = [a.bandwidth_bps for a in net.arcs]
        self.memory = [n.memory_bytes for n in net.nodes]
        self.ops = [0.0] * len(net.nodes)
        self.bits = [0.0] * len(net.arcs)
        self.keys: dict[tuple[str, int], int] = {}
        self.key_bytes: list[float] = []
        for dnn in instance.dnns:
            for l, block in enumerate(dnn.blocks, start=1):
                self.keys[dnn.name, l] = len(self.key_bytes)
                self.key_bytes.append(block.memory_bytes)
        self.held: list[dict[int, int]] = [{} for _ in net.nodes]
        self.nodes = 0
        self.best_cost = math.inf
        self.best: list[int] | None = None

    def candidate(
        self, single: Instance, p: Placement, rate: float, cost: float
    ) -> _Candidate | None:
        """The candidate of feasible placement ``p`` (its share of the objective ``cost``),
        or None when it breaks a shared limit on its own."""
        ops, bits = request_loads(single, p)
        ops_by = tuple((self.node_pos[n], rate * v) for n, v in ops.items() if v > 0)
        bits_by = tuple((self.arc_pos[a], rate * v) for a, v in bits.items() if v > 0)
        weights: dict[int, set[int]] = {}
        for l, node in enumerate(p.blocks, start=1):
            n = self.node_pos[node]
            if self.memory[n] is not None and self.key_bytes[self.keys[single.dnn.name, l]] > 0:
                weights.setdefault(n, set()).add(self.keys[single.dnn.name, l])
        found = _Candidate(
            p, cost, ops_by, bits_by, tuple((n, frozenset(k)) for n, k in weights.items())
        )
        return found if self.fits(found) else None

    def _memory(self, n: int, extra: frozenset[int]) -> float:
        return math.fsum(self.key_bytes[k] for k in set(self.held[n]) | extra)

    def fits(self, c: _Candidate) -> bool:
        """Whether adding ``c`` keeps every shared limit, as the evaluator judges it."""
        for n, v in c.ops:
            if (self.ops[n] + v) / self.speed[n] > self.limit:
                return False
        for a, v in c.bits:
            if (self.bits[a] + v) / self.bandwidth[a] > self.limit:
                return False
        for n, keys in c.weights:
            capacity = self.memory[n]
            if (
                capacity is not None
                and not keys <= self.held[n].keys()
                and self._memory(n, keys) > capacity * (1 + FEASIBILITY_RTOL)
            ):
                return False
        return True

    def _apply(self, c: _Candidate) -> tuple[list[float], list[float]]:
        saved = ([self.ops[n] for n, _ in c.ops], [self.bits[a] for a, _ in c.bits])
        for n, v in c.ops:
            self.ops[n] += v
        for a, v in c.bits:
            self.bits[a] += v
        for n, keys in c.weights:
            for k in keys:
                self.held[n][k] = self.held[n].get(k, 0) + 1
        return saved

    def _undo(self, c: _Candidate, saved: tuple[list[float], list[float]]) -> None:
        for (n, _), old in zip(c.ops, saved[0], strict=True):
            self.ops[n] = old
        for (a, _), old in zip(c.bits, saved[1], strict=True):
            self.bits[a] = old
        for n, keys in c.weights:
            for k in keys:
                self.held[n][k] -= 1
                if not self.held[n][k]:
                    del self.held[n][k]

    def tick(self) -> None:
        """Count a search node; look at the clock and the node limit now and then."""
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _DeclinedError(f"more than {self.max_nodes} search nodes")
        if self.nodes % _CHECK_EVERY == 0 and self.clock.expired():
            raise _OutOfTimeError

    def _lookahead(
        self, lists: Sequence[Sequence[_Candidate]], depth: int, first: list[int], room: float
    ) -> list[int] | None:
        """Forward check of the requests from ``depth`` on: the first candidate of each
        that fits the current loads (from ``first``, as loads only grow down a branch).
        None when one has none, or their costs sum to ``room`` or more."""
        out = list(first)
        total = 0.0
        for d in range(depth, len(lists)):
            level, i = lists[d], first[d]
            while i < len(level) and not self.fits(level[i]):
                i += 1
            if i == len(level):
                return None
            out[d] = i
            total += level[i].cost
            if total >= room:
                return None
        return out

    def run(self, lists: Sequence[Sequence[_Candidate]], twin: Sequence[int]) -> None:
        """Search ``lists`` (one per depth) for the cheapest combination that fits;
        ``twin[d]`` is the depth of the previous interchangeable request, or -1."""
        rest = [math.fsum(c[0].cost for c in lists[d:]) for d in range(len(lists) + 1)]
        chosen = [0] * len(lists)

        def descend(depth: int, cost: float, first: list[int]) -> None:
            if depth == len(lists):
                self.best_cost, self.best = cost, list(chosen)
                return
            below = rest[depth + 1]
            start = max(first[depth], chosen[twin[depth]] if twin[depth] >= 0 else 0)
            for index in range(start, len(lists[depth])):
                c = lists[depth][index]
                if cost + c.cost + below >= self.best_cost:
                    break
                self.tick()
                if not self.fits(c):
                    continue
                saved = self._apply(c)
                chosen[depth] = index
                ahead = self._lookahead(lists, depth + 1, first, self.best_cost - cost - c.cost)
                if ahead is not None:
                    descend(depth + 1, cost + c.cost, ahead)
                self._undo(c, saved)

        descend(0, 0.0, [0] * len(lists))


def _candidates(
    instance: MultiInstance, search: _Search, routes: _Routes, counted: list[int]
) -> dict[int, list[_Candidate]]:
    """The sorted candidates of every request, by file position (interchangeable
    requests share their first member's list); ``counted`` gets the evaluations."""
    rates = [r.rate_per_s for r in instance.requests]
    total = math.fsum(rates)
    lists: dict[int, list[_Candidate]] = {}
    for i, (req, single) in enumerate(instance.singles()):
        if i in lists:
            continue
        share = req.rate_per_s if instance.objective is Objective.ENERGY else req.rate_per_s / total
        found: list[_Candidate] = []
        for p in _placements(single, routes):
            counted[0] += 1
            if counted[0] % _CHECK_EVERY == 0 and search.clock.expired():
                raise _OutOfTimeError
            ev = evaluate(single, p)
            if ev.feasible:
                c = search.candidate(single, p, req.rate_per_s, share * ev.objective)
                if c is not None:
                    found.append(c)
        if search.clock.expired():
            raise _OutOfTimeError
        found.sort(key=lambda c: c.cost)
        lists[i] = found
        for members in interchangeable_classes(instance):
            if members[0] == i:
                lists.update((j, found) for j in members[1:])
    return lists


def run_exhaustive_multi(instance: MultiInstance, options: RunOptions) -> MethodResult:
    """Find a proven optimum of a format-2 instance by enumeration (method ``exhaustive``).

    Parameters
    ----------
    instance : MultiInstance
        A small instance: every request's candidates are listed.
    options : RunOptions
        ``params``: ``max_candidates`` (per request), ``max_routes`` (simple routes
        between two nodes) and ``max_nodes`` (search nodes) bound the work; the clock
        is honoured.

    Returns
    -------
    MethodResult
        ``optimal`` with a :class:`~splitbench.placement.MultiPlacement` in file order
        (its objective is also the bound); ``infeasible`` (bound inf) when no
        combination meets every limit; ``skipped`` with the reason above a limit;
        at the time limit, the best found as ``feasible``, or ``none``. ``info``
        counts the candidates evaluated, those kept per request and the search nodes.
    """
    params = parse_params("method 'exhaustive'", PARAMS, options.params)
    routes, most = _Routes(instance, params["max_routes"]), params["max_candidates"]
    try:
        counts = [(req.id, _count(single, routes)) for req, single in instance.singles()]
    except _DeclinedError as err:
        return MethodResult.skipped(str(err))
    for rid, count in counts:
        if count > most:
            return MethodResult.skipped(
                f"request {rid}: {count} candidates, more than max_candidates = {most}"
            )
    clock = options.clock
    clock.mark_built()
    search = _Search(instance, clock, params["max_nodes"])
    counted = [0]
    n = len(instance.requests)
    lists: dict[int, list[_Candidate]] = {}
    order = list(range(n))
    timed_out = False
    try:
        lists = _candidates(instance, search, routes, counted)
        order = sorted(range(n), key=lambda i: len(lists[i]))
        twin = [-1] * n
        for members in interchangeable_classes(instance):
            depths = sorted(order.index(i) for i in members)
            for before, after in itertools.pairwise(depths):
                twin[after] = before
        if all(lists[i] for i in order):
            search.run([lists[i] for i in order], twin)
    except _DeclinedError as err:
        return MethodResult.skipped(str(err), info={"candidates": counted[0]})
    except _OutOfTimeError:
        timed_out = True
    info = {
        "candidates": counted[0],
        "kept": {instance.requests[i].id: len(lists[i]) for i in sorted(lists)},
        "search_nodes": search.nodes,
        "search_order": [instance.requests[i].id for i in order],
    }
    placement: MultiPlacement | None = None
    objective: float | None = None
    if search.best is not None:
        picked = {order[d]: lists[order[d]][k] for d, k in enumerate(search.best)}
        placement = MultiPlacement(
            tuple((instance.requests[i].id, picked[i].placement) for i in range(n))
        )
        objective = math.fsum(picked[i].cost for i in range(n))
    if timed_out:
        return MethodResult(
            Status.FEASIBLE if placement is not None else Status.NONE,
            Termination.TIME_LIMIT,
            placement=placement,
            claimed_objective=objective,
            reason=f"time limit reached after {counted[0]} candidates, {search.nodes} nodes",
            info=info,
        )
    if placement is None:
        alone = [instance.requests[i].id for i in sorted(lists) if not lists[i]]
        reason = (
            f"request {alone[0]} has no placement that fits on its own"
            if alone
            else "no combination of the requests' placements meets the shared limits"
        )
        return MethodResult(Status.INFEASIBLE, bound=math.inf, reason=reason, info=info)
    return MethodResult(
        Status.OPTIMAL, placement=placement, claimed_objective=objective, bound=objective, info=info
    )
