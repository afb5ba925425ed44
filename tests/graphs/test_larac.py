"""LARAC: a feasible answer and a Lagrangian lower bound, bound <= optimum <= answer.

LARAC is registered as not exact: an ``optimal`` answer is proven by its bound
meeting the answer, not by the method."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from splitbench.graphs.layered import build_layered_graph
from splitbench.instance import Instance, example_instance
from splitbench.methods import solve
from splitbench.solution import Solution
from splitbench.status import Status, Termination

from .instances import cases, oracle, random_instance

RTOL = 1e-9


def declined(got: Solution) -> bool:
    return got.status is Status.NONE and got.termination is Termination.SKIPPED


def check_larac(instance: Instance) -> Status:
    ref = oracle(instance)
    got = solve(instance, "larac")
    where = f"larac on {instance.name}: {got.status}/{got.termination} ({got.reason})"
    assert not got.exact, where
    if declined(got):
        assert build_layered_graph(instance).memory_limits(), where
        return got.status
    if ref.status is Status.INFEASIBLE:
        assert got.status is Status.INFEASIBLE, where
        return got.status
    assert got.status in (Status.OPTIMAL, Status.FEASIBLE), where
    assert got.feasible, (where, got.evaluation)
    assert got.objective is not None and got.bound is not None and ref.objective is not None
    slack = RTOL * abs(ref.objective) + 1e-15
    assert got.bound <= ref.objective + slack, where
    assert ref.objective <= got.objective + slack, where
    if got.status is Status.OPTIMAL:  # proven by the closing bound
        assert math.isclose(got.objective, ref.objective, rel_tol=1e-6), where
        assert math.isclose(got.bound, got.objective, rel_tol=1e-6, abs_tol=1e-15), where
    else:
        assert got.info["gap"] > RTOL
    return got.status


def test_larac_bound_and_answer_bracket_the_optimum() -> None:
    seen = [check_larac(instance) for instance in cases(120)]
    assert seen.count(Status.FEASIBLE) >= 5 and seen.count(Status.OPTIMAL) >= 30


def test_larac_on_binding_deadlines() -> None:
    seen = [check_larac(random_instance(seed, deadline="binding")) for seed in range(60)]
    assert Status.FEASIBLE in seen


@pytest.mark.slow
def test_larac_bracket_long() -> None:
    for instance in cases(600):
        check_larac(instance)
    for seed in range(300):
        check_larac(random_instance(seed, deadline="binding", memory=False))


def test_larac_on_the_fin_scenario() -> None:
    got = solve(example_instance(), "larac")
    ref = oracle(example_instance())
    assert got.status is Status.FEASIBLE and got.feasible
    assert got.bound is not None and got.objective is not None and ref.objective is not None
    assert got.bound <= ref.objective <= got.objective
    assert got.info["iterations"] >= 1 and got.info["multiplier"] > 0


def test_larac_without_deadline_is_the_cheapest_path() -> None:
    inst = example_instance()
    free = replace(inst, request=replace(inst.request, deadline_s=None))
    got = solve(free, "larac")
    assert got.status is Status.OPTIMAL and got.info["iterations"] == 0
    assert got.objective == pytest.approx(oracle(free).objective, rel=1e-9)
