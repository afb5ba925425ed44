"""Every exact formulation on every available backend against the exhaustive oracle.

On seeded random small instances (:mod:`milp_instances`), per objective and exit
policy, through the method registry (so through the evaluator):

- an exact method's answer is ``optimal`` exactly when the oracle finds a
  placement, ``infeasible`` exactly when it does not, and its objective equals the
  oracle's within 1e-6 (relative);
- the placement passes the evaluator, and the solver's objective equals the
  evaluator's recomputation;
- a dual bound never exceeds the optimum;
- the assignment MILP where it is not exact (a fixed-routing restriction) is never
  better than the optimum, reports its answer ``feasible`` (never ``optimal``) with
  the restriction's bound in ``info["restricted_bound"]`` and no ``bound``, and
  reports ``none``, not ``infeasible``, when its restriction is infeasible.

The default run checks a sample (most on ``highs``); ``-m slow`` checks 200
instances per objective and policy on every available backend.
"""

from __future__ import annotations

import math
from functools import cache

import pytest
from milp_instances import COMBOS, oracle, small_instance

from splitbench.formulations import assignment_is_exact
from splitbench.instance import ExitPolicy, Objective
from splitbench.methods import get_method, solve
from splitbench.solvers import available_solvers
from splitbench.status import Status, Termination

RTOL = 1e-6
SLOW_COUNT = 200
DEFAULT_COUNTS = {"highs": 30, "cbc": 10, "pyomo-highs": 10, "scip": 10}
OTHER_DEFAULT_COUNT = 3


@cache
def _available() -> tuple[str, ...]:
    return tuple(available_solvers())


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)


def check_method(
    method: str, solver: str, seed: int, objective: Objective, policy: ExitPolicy
) -> str:
    """Check one answer against the oracle; returns what happened (for counting)."""
    instance = small_instance(seed, objective, policy)
    reference = oracle(seed, objective, policy)
    assert reference.status in (Status.OPTIMAL, Status.INFEASIBLE), reference.reason
    got = solve(instance, method, solver=solver)
    where = f"{method} on {solver}, {instance.name}: {got.status}/{got.termination} ({got.reason})"
    exact = get_method(method).exact_on(instance)
    assert got.exact is exact, where
    assert got.termination is Termination.COMPLETED, where
    if got.placement is not None:
        assert got.evaluation is not None and got.claimed_objective is not None
        assert got.feasible, (where, got.evaluation.violations)
        assert _close(got.claimed_objective, got.evaluation.objective), where
    if reference.status is Status.INFEASIBLE:
        expected = {Status.INFEASIBLE} if exact else {Status.NONE}
        assert got.status in expected, where
        return "infeasible"
    assert reference.objective is not None
    if got.bound is not None:
        assert got.bound <= reference.objective * (1 + RTOL) + 1e-12, where
    if exact:
        assert got.status is Status.OPTIMAL, where
        assert got.objective is not None and _close(got.objective, reference.objective), (
            where,
            got.objective,
            reference.objective,
        )
        return "optimal"
    assert got.bound is None, where  # the restriction's bound is not the instance's
    assert "restricted_bound" in got.info, where
    if got.status is Status.NONE:
        return "restriction infeasible"
    # the restriction's optimum is an answer, not a proven optimum (it was "optimal")
    assert got.status is Status.FEASIBLE, where
    assert got.objective is not None
    assert got.objective >= reference.objective * (1 - RTOL), where
    return (
        "restriction equal" if _close(got.objective, reference.objective) else ("restriction worse")
    )


def _cases(counts: dict[str, int], other: int) -> list[tuple[str, int]]:
    out = []
    for solver in _available():
        count = counts.get(solver, other)
        if count:
            out.append((solver, count))
    return out


@pytest.mark.parametrize(("objective", "policy"), COMBOS, ids=lambda v: str(v))
@pytest.mark.parametrize("method", ["routing-milp", "assignment-milp"])
def test_sample_agrees_with_the_oracle(
    method: str, objective: Objective, policy: ExitPolicy
) -> None:
    seen: set[str] = set()
    for solver, count in _cases(DEFAULT_COUNTS, OTHER_DEFAULT_COUNT):
        for seed in range(count):
            seen.add(check_method(method, solver, seed, objective, policy))
    assert {"optimal", "infeasible"} & seen


@pytest.mark.slow
@pytest.mark.parametrize(("objective", "policy"), COMBOS, ids=lambda v: str(v))
@pytest.mark.parametrize("method", ["routing-milp", "assignment-milp"])
@pytest.mark.parametrize("solver", _available())
def test_200_instances_agree_with_the_oracle(
    method: str, solver: str, objective: Objective, policy: ExitPolicy
) -> None:
    outcomes: dict[str, int] = {}
    for seed in range(SLOW_COUNT):
        what = check_method(method, solver, seed, objective, policy)
        outcomes[what] = outcomes.get(what, 0) + 1
    assert sum(outcomes.values()) == SLOW_COUNT
    assert outcomes.get("optimal", 0) + outcomes.get("restriction equal", 0) >= SLOW_COUNT // 2


@pytest.mark.parametrize(("objective", "policy"), COMBOS, ids=lambda v: str(v))
def test_routing_lp_is_right_whenever_it_answers(objective: Objective, policy: ExitPolicy) -> None:
    for seed in range(30):
        instance = small_instance(seed, objective, policy)
        reference = oracle(seed, objective, policy)
        got = solve(instance, "routing-lp", solver="highs")
        where = f"routing-lp on {instance.name}: {got.status} ({got.reason})"
        if got.status is Status.OPTIMAL:
            assert reference.objective is not None and got.objective is not None, where
            assert got.feasible and _close(got.objective, reference.objective), where
            assert got.facts.lp_integral is True
        elif got.status is Status.INFEASIBLE:
            assert reference.status is Status.INFEASIBLE, where
        else:
            assert got.status is Status.NONE, where
            assert got.facts.lp_integral is False and got.bound is not None
            if reference.objective is not None:
                assert got.bound <= reference.objective * (1 + RTOL), where


def test_exactness_predicate_matches_the_registry() -> None:
    spec = get_method("assignment-milp")
    for objective, policy in COMBOS:
        for seed in range(20):
            instance = small_instance(seed, objective, policy)
            assert spec.exact_on(instance) is assignment_is_exact(instance)
            if objective is Objective.LATENCY or instance.request.deadline_s is None:
                assert assignment_is_exact(instance)
