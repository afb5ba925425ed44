"""Every registered method against the exhaustive oracle, through the one evaluator.

- any ``optimal`` answer, of any method, equals the oracle's optimum (1e-6 relative);
- it says ``infeasible`` only when the oracle does, and never misses a feasible one;
- any answer reported ``optimal`` or ``feasible`` passes the evaluator;
- no answer beats the optimum, and no bound exceeds it.
"""

from __future__ import annotations

import math

import pytest

from random_instances import random_instance
from splitbench.methods import METHODS, solve
from splitbench.solution import Solution
from splitbench.status import Status, Termination

SEEDS = range(40)
RTOL = 1e-6


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)


@pytest.fixture(scope="module")
def oracle() -> dict[int, Solution]:
    return {seed: solve(random_instance(seed), "exhaustive") for seed in SEEDS}


def test_every_registered_method_is_checked() -> None:
    expected = {
        "assignment-milp",
        "routing-milp",
        "routing-lp",
        "layered-sp",
        "fin",
        "larac",
        "label-setting",
        "exhaustive",
        "device-only",
        "cloud-only",
        "single-split",
        "mcp",
        "sequential",
        "lp-rounding",
        "lagrangian",
    }
    assert set(METHODS) == expected


@pytest.mark.parametrize("method", sorted(METHODS))
def test_method_agrees_with_the_oracle(method: str, oracle: dict[int, Solution]) -> None:
    spec = METHODS[method]
    seen: set[Status] = set()
    for seed in SEEDS:
        instance = random_instance(seed)
        reference = oracle[seed]
        assert reference.status in (Status.OPTIMAL, Status.INFEASIBLE), reference.reason
        got = solve(instance, method)
        seen.add(got.status)
        context = f"{method} on seed {seed}: {got.status} ({got.reason})"
        assert got.termination is not Termination.ERROR, context
        if got.status in (Status.OPTIMAL, Status.FEASIBLE):
            assert got.feasible, f"{context}: {got.evaluation}"
        if reference.status is Status.INFEASIBLE:
            assert got.status not in (Status.OPTIMAL, Status.FEASIBLE), context
            continue
        optimum = reference.objective
        assert optimum is not None
        if got.objective is not None and got.feasible:
            assert got.objective >= optimum * (1 - RTOL) - 1e-12, context
        if got.bound is not None and math.isfinite(got.bound):
            assert got.bound <= optimum * (1 + RTOL) + 1e-12, context
        if got.status is Status.INFEASIBLE and spec.exact_on(instance):
            pytest.fail(f"{context}: the oracle found {optimum}")
        if got.status is Status.OPTIMAL:  # only a proven optimum may say so, exact or not
            assert got.objective is not None and _close(got.objective, optimum), context
    # a method that declined everything was not exercised
    assert seen & {Status.OPTIMAL, Status.FEASIBLE}, f"{method} never answered: {seen}"
