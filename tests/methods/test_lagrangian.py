"""Method ``lagrangian`` against independent references: the coupled routing MILP
(HiGHS) for the optimum, the format-2 evaluator for every answer, label setting on
each request alone for the uncoupled bound.

Cases: the seeded capacity-bound instances of the coupled model's tests
(:func:`formulations.test_routing_multi.cases`: compute, link, memory, overload),
families ``fin-multi`` and ``multi-tiered``.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from functools import cache

import pytest

from formulations.test_routing_multi import cases, five_copies, with_rates
from splitbench.answer import MethodResult, RunOptions, Settings
from splitbench.errors import UsageError
from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import evaluate_multi
from splitbench.families import generate
from splitbench.families.tiny import milp_instance
from splitbench.formulations.routing_multi import build_routing_multi
from splitbench.graphs.label_setting import run_label_setting
from splitbench.instance import ExitPolicy, MultiInstance, Objective, example_instance
from splitbench.methods.lagrangian import run_lagrangian, run_lagrangian_multi
from splitbench.methods.multi import run_routing_milp_multi
from splitbench.placement import MultiPlacement, Placement
from splitbench.solvers import solve_milp
from splitbench.status import Status, Termination
from splitbench.tolerances import AGREEMENT_RTOL

BOUND_RTOL = 1e-9
KINDS = ("compute", "link", "memory", "overload")
FAMILIES: tuple[tuple[str, dict[str, object], int], ...] = (
    ("fin-multi", {"users": 2}, 0),
    ("fin-multi", {"users": 4}, 0),
    ("fin-multi", {"users": 12, "dnns": "b-alexnet"}, 0),
    ("multi-tiered", {"n_blocks": 3}, 1),
    ("multi-tiered", {"n_blocks": 3}, 2),
    ("multi-tiered", {}, 4),
)


@cache
def optimum(multi: MultiInstance) -> float | None:
    """The coupled optimum by the routing MILP (None: infeasible)."""
    result = run_routing_milp_multi(multi, RunOptions())
    assert result.status in (Status.OPTIMAL, Status.INFEASIBLE), (multi.name, result.reason)
    return result.claimed_objective if result.status is Status.OPTIMAL else None


@cache
def lagrangian(multi: MultiInstance) -> MethodResult:
    return run_lagrangian_multi(multi, RunOptions())


def family(name: str, values: dict[str, object], seed: int) -> MultiInstance:
    inst = generate(name, values, seed=seed)
    assert isinstance(inst, MultiInstance)
    return inst


def alone(multi: MultiInstance) -> float | None:
    """The uncoupled optimum: each request's own optimum, scaled into the objective."""
    total = 0.0
    for req, single in multi.singles():
        result = run_label_setting(single, RunOptions())
        if result.status is not Status.OPTIMAL:
            return None
        assert result.claimed_objective is not None
        total += req.rate_per_s * result.claimed_objective
    return total if multi.objective is Objective.ENERGY else total / multi.total_rate


def check(multi: MultiInstance, result: MethodResult) -> None:
    """The bound is below the optimum, the answer feasible at its claimed objective,
    a proof of optimality or infeasibility true."""
    best = optimum(multi)
    if result.bound is not None and best is not None:
        assert result.bound <= best * (1 + BOUND_RTOL) + 1e-12, (multi.name, result.bound, best)
    if result.placement is not None:
        assert isinstance(result.placement, MultiPlacement)
        assert result.placement.ids == multi.request_ids
        judged = evaluate_multi(multi, result.placement)
        assert judged.feasible, (multi.name, judged.violations)
        assert result.claimed_objective == pytest.approx(judged.objective, rel=1e-12, abs=0)
        assert best is not None and judged.objective >= best * (1 - BOUND_RTOL)
        assert result.status in (Status.FEASIBLE, Status.OPTIMAL)
    else:
        assert result.status in (Status.NONE, Status.INFEASIBLE), multi.name
    if result.status is Status.OPTIMAL:
        assert result.bound is not None and result.claimed_objective is not None
        gap = result.claimed_objective - result.bound
        assert gap <= AGREEMENT_RTOL * abs(result.claimed_objective) + 1e-12
    if result.status is Status.INFEASIBLE:  # only when a request has no placement alone
        assert best is None and alone(multi) is None, multi.name
    for key in ("iterations", "subproblems", "best_iteration"):
        assert key in result.info


@pytest.mark.parametrize("kind", KINDS)
def test_bounds_and_answers_on_the_capacity_bound_cases(kind: str) -> None:
    feasible = answered = 0
    for multi in cases(kind):
        result = lagrangian(multi)
        check(multi, result)
        feasible += optimum(multi) is not None
        answered += result.placement is not None
    assert answered >= feasible - 1, (kind, answered, feasible)
    if kind != "overload":
        assert answered >= 1


@pytest.mark.parametrize(("name", "values", "seed"), FAMILIES)
def test_bounds_and_answers_on_the_families(
    name: str, values: dict[str, object], seed: int
) -> None:
    multi = family(name, values, seed)
    result = lagrangian(multi)
    check(multi, result)
    assert result.placement is not None and result.bound is not None


@pytest.mark.parametrize("values", [{"users": 2}, {"users": 12, "dnns": "b-alexnet"}])
def test_integral_paths_beat_the_lp_relaxation_under_deadlines(values: dict[str, object]) -> None:
    """fin-multi's 5 ms deadline: each subproblem is a path within it, so the bound is
    above the LP relaxation's (fractional paths), and within 3 % of the optimum."""
    multi = family("fin-multi", values, 0)
    result = lagrangian(multi)
    best = optimum(multi)
    lp = solve_milp(build_routing_multi(multi, relax=True).milp, "highs").objective
    assert result.bound is not None and best is not None and lp is not None
    assert result.bound > lp * (1 + 1e-3)
    assert (best - result.bound) / best < 0.03


def test_the_bound_is_the_optimum_where_no_capacity_binds() -> None:
    """Cases whose coupled optimum is the uncoupled one (rates scaled down, or low):
    the bound meets it and the answer is proven optimal."""
    found = []
    for kind in ("compute", "link"):
        found += [with_rates(multi, 1e-3) for multi in cases(kind)]
    found.append(family("fin-multi", {"users": 3, "rate_per_s": 10.0}, 0))
    found.append(MultiInstance.from_single(example_instance(), rate_per_s=20.0))
    checked = 0
    for multi in found:
        best, uncoupled = optimum(multi), alone(multi)
        if best is None or uncoupled is None or not math.isclose(best, uncoupled, rel_tol=1e-9):
            continue
        result = lagrangian(multi)
        check(multi, result)
        assert result.status is Status.OPTIMAL, (multi.name, result.bound, best)
        assert result.bound == pytest.approx(best, rel=1e-9, abs=0)
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize("which", ["two copies", "fin-multi"])
def test_the_multipliers_lift_the_bound_above_the_uncoupled_one(which: str) -> None:
    if which == "two copies":  # md cannot run blocks 1-3 of both at 150/s
        one = MultiInstance.from_single(example_instance(), rate_per_s=150.0)
        multi = replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))
    else:  # twelve b-alexnet users overload the edge server
        multi = family("fin-multi", {"users": 12, "dnns": "b-alexnet"}, 0)
    result = lagrangian(multi)
    uncoupled, best = alone(multi), optimum(multi)
    assert uncoupled is not None and best is not None and result.bound is not None
    assert result.info["uncoupled_bound"] == pytest.approx(uncoupled, rel=1e-9)
    assert best > uncoupled * (1 + 1e-6)  # the capacity binds
    assert result.bound > uncoupled + 0.1 * (best - uncoupled)  # closes 10 % of the gap
    assert result.info["best_iteration"] > 0


def test_some_compute_case_gains_from_the_multipliers() -> None:
    lifted = 0
    for multi in cases("compute"):
        result = lagrangian(multi)
        start = result.info.get("uncoupled_bound")
        if result.bound is not None and start is not None and result.bound > start * 1.001:
            lifted += 1
    assert lifted >= 2


@pytest.mark.parametrize("deadline", [True, False])
def test_interchangeable_requests_share_one_solve(deadline: bool) -> None:
    """Five copies (a deadline: five commodities; none: one aggregated flow): one
    label search per iteration either way."""
    multi = five_copies(deadline)
    result = lagrangian(multi)
    check(multi, result)
    assert result.info["subproblems"] == result.info["iterations"] > 1
    assert result.placement is not None


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("seed", range(4))
def test_format_1_is_the_label_setting_optimum(seed: int, objective: Objective) -> None:
    single = milp_instance(seed, objective, ExitPolicy.SELECT)
    exact = run_label_setting(single, RunOptions())
    result = run_lagrangian(single, RunOptions())
    assert result.status is exact.status
    if exact.status is not Status.OPTIMAL:
        return
    assert isinstance(result.placement, Placement)
    assert evaluate(single, result.placement).feasible
    assert result.claimed_objective == pytest.approx(exact.claimed_objective, rel=1e-9)
    assert result.bound == pytest.approx(exact.claimed_objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_format_1_takes_the_expected_policy_too(seed: int) -> None:
    single = milp_instance(seed, Objective.ENERGY, ExitPolicy.EXPECTED)
    exact = run_label_setting(single, RunOptions())
    result = run_lagrangian(single, RunOptions())
    assert result.status is exact.status
    if exact.status is Status.OPTIMAL:
        assert result.claimed_objective == pytest.approx(exact.claimed_objective, rel=1e-9)


def test_a_request_infeasible_alone_proves_the_instance_infeasible() -> None:
    example = example_instance()
    tight = replace(example, request=replace(example.request, deadline_s=1e-6))
    one = MultiInstance.from_single(example, rate_per_s=1.0)
    bad = MultiInstance.from_single(tight, rate_per_s=1.0, request_id="late")
    multi = replace(one, requests=(one.requests[0], bad.requests[0]))
    result = lagrangian(multi)
    assert result.status is Status.INFEASIBLE and result.bound == math.inf
    assert "late" in (result.reason or "")
    assert optimum(multi) is None


def test_the_expected_policy_is_declined_on_format_2() -> None:
    one = MultiInstance.from_single(example_instance())
    request = replace(one.requests[0].request, exit_policy=ExitPolicy.EXPECTED)
    multi = replace(one, requests=(replace(one.requests[0], request=request),))
    result = run_lagrangian_multi(multi, RunOptions())
    assert (result.status, result.termination) == (Status.NONE, Termination.SKIPPED)


@pytest.mark.parametrize("limit", [1e-3, 0.3])
def test_a_time_limit_returns_promptly_with_what_it_has(limit: float) -> None:
    multi = family("fin-multi", {}, 0)  # 36 requests, 5 ms deadlines
    options = RunOptions(settings=Settings(time_limit_s=limit))
    start = time.perf_counter()
    result = run_lagrangian_multi(multi, options)
    elapsed = time.perf_counter() - start
    assert result.termination is Termination.TIME_LIMIT
    assert elapsed < limit + 1.0, elapsed
    if result.bound is not None:
        best = optimum(multi)
        assert best is not None and result.bound <= best * (1 + BOUND_RTOL)
    if result.placement is not None:
        assert isinstance(result.placement, MultiPlacement)
        assert evaluate_multi(multi, result.placement).feasible


def test_bad_parameters_are_refused() -> None:
    multi = MultiInstance.from_single(example_instance())
    with pytest.raises(UsageError, match="step"):
        run_lagrangian_multi(multi, RunOptions(params={"step": 3.0}))
    with pytest.raises(UsageError, match="lagrangian"):
        run_lagrangian_multi(multi, RunOptions(params={"iteration": 3}))
