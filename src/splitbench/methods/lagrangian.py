"""Method ``lagrangian``: a Lagrangian relaxation of the coupling rows, solved by
shortest paths, with a repair step: a certified gap without any MILP.

The coupled routing model (:mod:`splitbench.formulations.routing_multi`, built in
its LP form for its rows only; no solver is called) is one path problem per
commodity c (one request, or k_c interchangeable ones) tied together by its
coupling rows ``A x + A_y y <= b``, each normalised by its capacity. Every one of
them gets a multiplier mu_j >= 0:

- (C1_compute) of a node and (C2_link) of an arc, where the loads can exceed the
  capacity (the rows ``add_capacity_rows`` keeps; the others cannot bind);
- the shared memory, (C3_weights) ``f_c(n, l) - k_c y[n, d, l] <= 0`` and
  (C4_memory) ``sum_{d, l} m_{d,l} y[n, d, l] / M_n <= 1``: the weight variables y
  stay in the Lagrangian and are minimised in closed form over [0, 1]: y = 1 when
  its reduced cost ``r_y = mu_C4(n) m_{d,l} / M_n - sum_c k_c mu_C3(n, d, l, c)`` is
  negative, 0 when positive, and what the paths use when it is 0.

With P over the paths of commodity c's layered graph within its request's own
deadline, accuracy and memory (:func:`~splitbench.graphs.label_setting.best_path`)::

    L(mu) = const + sum_c k_c min_P sum_{a in P} (s_c cost_a + (A_c^T mu)_a)
            + sum_y min(0, r_y) - mu . b

(s_c: the rate for energy, rate / total rate for latency). Why a bound: a placement
meeting every limit gives paths of that kind and y = the weights it holds with
``A x + A_y y - b <= 0``, so for mu >= 0 its objective is at least
``objective + mu . (A x + A_y y - b)``, which is at least L(mu), the minimum over a
larger set. A subproblem that stops early adds its ``lower_bound`` (its path then
only guides the step), which keeps L a bound. Commodities of interchangeable
requests (:func:`~splitbench.formulations.routing_multi.interchangeable_classes`)
with equal priced costs (by symmetry, always) share one solve. Format 1 relaxes
nothing: L(0) is the optimum.

Step rule: projected subgradient ``mu <- max(0, mu + t d)``, d = A x + A_y y - b at
the subproblems' minimisers with the components of rows at mu_j = 0 and d_j < 0
dropped, and the Polyak step ``t = theta (target - L(mu)) / |d|^2``. The target is
the best feasible objective; before one is known (documented fallback) it is the
best L plus :data:`FALLBACK_TARGET` times max(|best L|, the sum of every
commodity's dearest arc). theta starts at ``step``; after ``patience`` iterations
that close less than :data:`PROGRESS` of the gap to the target it halves and the
iterations restart from the best mu. They stop after ``iterations``, when the gap
closes (:data:`~splitbench.tolerances.OPTIMALITY_RTOL`), when d = 0, when theta is
below :data:`MIN_THETA`, or on the clock.

Repair: the paths of iteration 0, of every ``repair_every``-th, of any whose paths
meet every relaxed row, and at the end of the last and the best iterate (each set
of paths once) are the preferred placements of
:func:`~splitbench.methods.residual.place_in_order`. Order: decreasing *rise* (the
priced cost of the request's path over its mu = 0 optimum: the requests the prices
squeeze most go first, while there is room), ties in
:func:`~splitbench.methods.residual.demand_order`. The best feasible answer is kept.

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.answer import RunOptions
>>> from splitbench.instance import MultiInstance, example_instance
>>> one = MultiInstance.from_single(example_instance(), rate_per_s=150.0)
>>> two = replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))
>>> res = run_lagrangian_multi(two, RunOptions())
>>> # md cannot run blocks 1-3 of both at 150/s: the second moves to es
>>> res.status.value, [res.placement[r].blocks for r in two.request_ids]
('feasible', [('md', 'md', 'md', 'cs', 'cs'), ('md', 'md', 'es', 'es', 'es')])
>>> # the optimum (routing-milp) is 26.33 W; alone, each costs 150/s x 0.0856 J
>>> round(res.claimed_objective, 2), round(res.bound, 2), round(2 * 150 * 0.0856, 2)
(26.33, 26.04, 25.68)
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from splitbench.answer import Clock, MethodResult, RunOptions, Status, Termination
from splitbench.errors import UsageError
from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import evaluate_multi
from splitbench.formulations.routing_multi import build_routing_multi
from splitbench.graphs.label_setting import PARAMS as LABEL_PARAMS
from splitbench.graphs.label_setting import best_path
from splitbench.graphs.layered import LayeredGraph, build_layered_graph
from splitbench.instance.model import Instance, Objective
from splitbench.instance.multi import MultiInstance
from splitbench.methods.residual import demand_order, place_in_order
from splitbench.params import Param, parse_params
from splitbench.placement import MultiPlacement, Placement
from splitbench.tolerances import AGREEMENT_ATOL, OPTIMALITY_RTOL

__all__ = ["PARAMS", "run_lagrangian", "run_lagrangian_multi"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_NO_INT: IntArray = np.zeros(0, dtype=np.int64)

PARAMS = {
    "iterations": Param(int, 100, "subgradient iterations (at most)"),
    "step": Param(float, 2.0, "initial Polyak step factor theta, in (0, 2]"),
    "patience": Param(int, 8, "halve theta after this many iterations without a better bound"),
    "repair_every": Param(int, 5, "repair the subproblems' paths every this many iterations"),
    "max_labels": Param(
        int, LABEL_PARAMS["max_labels"].default, "label limit of each subproblem's search"
    ),
}
"""The parameters of method ``lagrangian``."""

FALLBACK_TARGET = 0.05
"""Before any feasible objective is known, the Polyak target is this share of the
best bound above it."""

PROGRESS = 0.01
"""An iteration counts as progress when it closes this share of the gap between the
best bound and the target; ``patience`` iterations without it halve the step."""

MIN_THETA = 1e-4
"""The iterations stop once the step factor has halved below this."""


class _HaltError(Exception):
    """A subproblem has no path: proven (``kind`` "infeasible": then the instance has
    none either), or its search stopped first ("labels", "time")."""

    def __init__(self, why: str, kind: str) -> None:
        super().__init__(why)
        self.kind = kind


@dataclass(frozen=True, eq=False)
class _Flow:
    """One commodity of the coupled model: its requests, graph and relaxed rows."""

    ids: tuple[str, ...]
    graph: LayeredGraph
    base: FloatArray  # the scaled arc costs s_c cost_a
    load: sp.csr_matrix  # relaxed rows x arcs: A_c (the arc prices are A_c^T mu)
    key: Hashable  # equal for interchangeable requests


@dataclass
class _Point:
    """The Lagrangian at one mu: its value, a subgradient and the paths."""

    value: float
    gradient: FloatArray
    paths: dict[str, IntArray]  # request id -> arcs of its subproblem path
    priced: dict[str, float]  # request id -> priced cost of that path (per unit)


@dataclass
class _Relaxation:
    """The relaxed rows of ``instance`` and the per-commodity data to price them."""

    instance: MultiInstance
    coupled: bool = True
    flows: list[_Flow] = field(default_factory=list)
    rhs: FloatArray = field(default_factory=lambda: np.zeros(0))
    y_load: sp.csr_matrix | None = None  # relaxed rows x y columns: A_y
    y_links: tuple[IntArray, IntArray, FloatArray] = (_NO_INT, _NO_INT, np.zeros(0))
    constant: float = 0.0
    unit: float = 0.0  # a scale of the objective: every commodity's dearest arc
    solves: int = 0
    stopped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.coupled:  # one request alone: its own graph, no row (any exit policy)
            (rid,) = self.instance.request_ids
            graph = build_layered_graph(self.instance.single(rid))
            self._add((rid,), graph, sp.csr_matrix((0, graph.n_arcs)))
            self.constant = graph.constant_cost
            return
        form = build_routing_multi(self.instance, relax=True)
        milp = form.milp
        rows = [
            np.arange(block.start, block.stop)
            for name, block in milp.row_blocks.items()
            if name[:1] == "C"
        ]
        picked = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        coupling = sp.csc_matrix(milp.A[picked])
        self.rhs = np.asarray(milp.row_upper[picked], dtype=np.float64)
        self.constant = float(milp.objective_constant)
        for c in form.commodities:
            self._add(c.request_ids, c.graph, sp.csr_matrix(coupling[:, c.block.slice]))
        y = milp.var_blocks.get("y")
        if y is not None and picked.size:
            self.y_load = sp.csr_matrix(coupling[:, y.slice])
            links = sp.coo_matrix(self.y_load)  # the (C3) entries -k_c, by row and y
            keep = links.data < 0
            self.y_links = (links.row[keep], links.col[keep], -links.data[keep])

    def _add(self, ids: tuple[str, ...], graph: LayeredGraph, load: sp.csr_matrix) -> None:
        req = self.instance.request(ids[0])
        scale = req.rate_per_s
        if self.instance.objective is Objective.LATENCY:
            scale /= self.instance.total_rate
        base = np.asarray(scale * graph.cost, dtype=np.float64)
        key = (req.dnn, req.rate_per_s, req.request)
        self.flows.append(_Flow(ids, graph, base, load, key))
        self.unit += len(ids) * float(base[np.isfinite(base)].max(initial=0.0))

    def at(self, mu: FloatArray, max_labels: int, stop_at: float) -> _Point:
        """L(mu), a subgradient and the subproblem paths (see the module docstring)."""
        value = self.constant - float(mu @ self.rhs)
        gradient = -self.rhs.copy()
        paths: dict[str, IntArray] = {}
        priced: dict[str, float] = {}
        solved: dict[tuple[Hashable, bytes], tuple[float, IntArray]] = {}
        for flow in self.flows:
            cost = flow.base + flow.load.T @ mu
            key = (flow.key, cost.tobytes())
            if key not in solved:
                self.solves += 1
                answer = best_path(
                    replace(flow.graph, cost=cost), max_labels=max_labels, stop_at=stop_at
                )
                if answer.path is None:
                    kind = answer.stopped or "infeasible"
                    why = answer.reason or f"the label search stopped ({kind})"
                    raise _HaltError(f"request {flow.ids[0]}: {why}", kind)
                if answer.stopped is not None:  # its bound is valid, its path a guess
                    self.stopped.append(f"request {flow.ids[0]}: {answer.stopped}")
                solved[key] = (answer.lower_bound, answer.path.arcs)
            bound, arcs = solved[key]
            value += len(flow.ids) * bound
            used = np.bincount(arcs, minlength=flow.graph.n_arcs).astype(np.float64)
            gradient += len(flow.ids) * (flow.load @ used)
            for rid in flow.ids:
                paths[rid] = arcs
                priced[rid] = float(cost[arcs].sum())
        if self.y_load is not None:
            reduced = self.y_load.T @ mu
            value += float(np.minimum(reduced, 0.0).sum())
            # at a zero reduced cost any y in [0, 1] minimises: take what the paths use
            rows, cols, units = self.y_links
            held = np.zeros(reduced.shape[0])
            np.maximum.at(held, cols, (gradient + self.rhs)[rows] / units)
            chosen = np.where(reduced < 0, 1.0, np.where(reduced > 0, 0.0, np.minimum(held, 1.0)))
            gradient += self.y_load @ chosen
        return _Point(value, gradient, paths, priced)


@dataclass
class _Search:
    """The state of the subgradient iterations: best bound, best answer, the log."""

    relaxation: _Relaxation
    params: dict[str, Any]
    clock: Clock
    stop_at: float
    best_bound: float = -math.inf
    best_iteration: int = -1
    answer: MultiPlacement | None = None
    objective: float = math.inf
    repairs: int = 0
    iterations: int = 0
    reason: str | None = None
    tried: set[tuple[bytes, ...]] = field(default_factory=set)
    uncoupled: dict[str, float] = field(default_factory=dict)
    uncoupled_bound: float | None = None

    def repair(self, point: _Point) -> None:
        """Turn ``point``'s paths into a placement meeting every limit, if they are new."""
        inst = self.relaxation.instance
        ids = inst.request_ids
        signature = tuple(point.paths[rid].tobytes() for rid in ids)
        if signature in self.tried or time.perf_counter() > self.stop_at:
            return
        self.tried.add(signature)
        self.repairs += 1
        preferred: dict[str, Placement] = {
            rid: flow.graph.placement_from_arcs(point.paths[rid])
            for flow in self.relaxation.flows
            for rid in flow.ids
        }
        placement = MultiPlacement(tuple((rid, preferred[rid]) for rid in ids))
        if self.relaxation.coupled:  # format 1 has no shared limit to repair
            position = {rid: i for i, rid in enumerate(demand_order(inst))}
            order = sorted(ids, key=lambda r: (self.uncoupled[r] - point.priced[r], position[r]))
            placed = place_in_order(
                inst, order, preferred, max_labels=self.params["max_labels"], stop_at=self.stop_at
            )
            if placed.placement is None:
                self.reason = placed.reason
                return
            placement = placed.placement
            judged = evaluate_multi(inst, placement)
            feasible, objective = judged.feasible, judged.objective
        else:  # format 1: the request alone
            alone = evaluate(inst.single(ids[0]), placement[ids[0]])
            feasible, objective = alone.feasible, alone.objective
        if feasible and objective < self.objective:
            self.answer, self.objective = placement, objective

    def closed(self) -> bool:
        """Whether the best bound proves the best answer optimal."""
        if not math.isfinite(self.objective):
            return False
        slack = OPTIMALITY_RTOL * max(abs(self.objective), abs(self.best_bound)) + AGREEMENT_ATOL
        return self.objective - self.best_bound <= slack

    def target(self) -> float:
        """The Polyak target: the best objective, or the fallback above the best bound."""
        if math.isfinite(self.objective):
            return self.objective
        scale = max(abs(self.best_bound), self.relaxation.unit, AGREEMENT_ATOL)
        return self.best_bound + FALLBACK_TARGET * scale

    def run(self) -> Termination:
        """Iterate (see the module docstring); the termination of the loop."""
        params = self.params
        rows = self.relaxation.rhs.shape[0]
        mu = best_mu = np.zeros(rows)
        theta = float(params["step"])
        stale = 0
        point: _Point | None = None
        best: _Point | None = None
        for iteration in range(params["iterations"]):
            if self.clock.expired():
                return Termination.TIME_LIMIT
            try:
                point = self.relaxation.at(mu, params["max_labels"], self.stop_at)
            except _HaltError as stop:
                if stop.kind == "infeasible":
                    raise
                self.reason = str(stop)
                return Termination.TIME_LIMIT if stop.kind == "time" else Termination.OTHER_LIMIT
            self.iterations += 1
            if iteration == 0:
                self.uncoupled, self.uncoupled_bound = dict(point.priced), point.value
            before = self.target() - self.best_bound
            progress = point.value - self.best_bound
            if progress > 0 or best is None:
                self.best_bound, self.best_iteration = point.value, iteration
                best, best_mu = point, mu
            meets = rows == 0 or float(point.gradient.max()) <= 0
            if iteration % params["repair_every"] == 0 or meets:
                self.repair(point)
            direction = np.where((mu <= 0) & (point.gradient < 0), 0.0, point.gradient)
            if self.closed() or not direction.any():
                return Termination.COMPLETED
            stale = 0 if progress > PROGRESS * before else stale + 1
            if stale >= params["patience"]:  # halve the step, restart from the best mu
                theta, stale, point, mu = theta / 2, 0, best, best_mu
                direction = np.where((mu <= 0) & (point.gradient < 0), 0.0, point.gradient)
                if theta < MIN_THETA:
                    break
            squared = float(direction @ direction)
            step = theta * max(self.target() - point.value, 0.0) / squared
            if step == 0.0:
                break
            mu = np.maximum(mu + step * direction, 0.0)
        for last in (point, best):
            if last is not None:
                self.repair(last)
        return Termination.COMPLETED


def _lagrangian(instance: MultiInstance, options: RunOptions, coupled: bool) -> MethodResult:
    """The method on ``instance``; ``coupled`` False (format 1) relaxes no row."""
    params = parse_params("method 'lagrangian'", PARAMS, options.params)
    if not 0 < params["step"] <= 2 or params["iterations"] < 1 or params["repair_every"] < 1:
        raise UsageError(
            "method 'lagrangian': need 0 < step <= 2, iterations >= 1, repair_every >= 1"
        )
    clock = options.clock
    try:
        relaxation = _Relaxation(instance, coupled)
    except UsageError as err:
        return MethodResult.skipped(str(err))
    clock.mark_built()
    remaining = clock.remaining_s()
    stop_at = math.inf if remaining is None else time.perf_counter() + remaining
    search = _Search(relaxation, params, clock, stop_at)
    try:
        termination = search.run()
    except _HaltError as err:
        return MethodResult(
            Status.INFEASIBLE, bound=math.inf, reason=str(err), info={"iterations": 1}
        )
    info = {
        "iterations": search.iterations,
        "subproblems": relaxation.solves,
        "best_iteration": search.best_iteration,
        "repairs": search.repairs,
        "multipliers": int(relaxation.rhs.shape[0]),
        "uncoupled_bound": search.uncoupled_bound,
    }
    bound = search.best_bound if math.isfinite(search.best_bound) else None
    if relaxation.stopped and search.reason is None:
        search.reason = (
            f"{len(relaxation.stopped)} label searches stopped at their limit (their lower "
            f"bounds were used; first: {relaxation.stopped[0]})"
        )
    if search.answer is None:
        return MethodResult(Status.NONE, termination, bound=bound, reason=search.reason, info=info)
    status = Status.OPTIMAL if search.closed() else Status.FEASIBLE
    return MethodResult(
        status,
        Termination.COMPLETED if status is Status.OPTIMAL else termination,
        placement=search.answer,
        claimed_objective=search.objective,
        bound=bound,
        info=info,
    )


def run_lagrangian_multi(instance: MultiInstance, options: RunOptions) -> MethodResult:
    """Method ``lagrangian`` on a format-2 instance (see the module docstring).

    Parameters
    ----------
    instance : MultiInstance
        The requests and their shared network (select exit policy: the coupled
        model's rows are relaxed).
    options : RunOptions
        ``params``: ``iterations``, ``step``, ``patience``, ``repair_every``,
        ``max_labels`` (:data:`PARAMS`); the clock is honoured.

    Returns
    -------
    MethodResult
        ``feasible`` with the best repaired placement (its evaluated objective) and
        the best Lagrangian bound; ``optimal`` when they agree within
        :data:`~splitbench.tolerances.OPTIMALITY_RTOL`; ``none`` with the bound when
        no repair fitted; ``infeasible`` when a request has no placement alone;
        ``skipped`` under the expected exit policy. ``info``: ``iterations``,
        ``subproblems`` (label searches run), ``best_iteration``, ``repairs``,
        ``multipliers``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> one = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
    >>> res = run_lagrangian_multi(one, RunOptions())  # nothing can bind at 20/s
    >>> res.status.value, res.info["multipliers"], round(res.bound, 3)
    ('optimal', 0, 1.712)
    """
    return _lagrangian(instance, options, coupled=True)


def run_lagrangian(instance: Instance, options: RunOptions) -> MethodResult:
    """Method ``lagrangian`` on one request (format 1): no row couples anything, so
    the only subproblem is the exact label search and the bound its optimum.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> res = run_lagrangian(example_instance(), RunOptions())
    >>> res.status.value, res.placement.blocks, round(res.bound, 4)
    ('optimal', ('md', 'md', 'md', 'cs', 'cs'), 0.0856)
    """
    result = _lagrangian(MultiInstance.from_single(instance), options, coupled=False)
    if not isinstance(result.placement, MultiPlacement):
        return result
    placement = result.placement.requests[0][1]
    return replace(
        result, placement=placement, claimed_objective=evaluate(instance, placement).objective
    )
