"""The runner (:func:`splitbench.methods.solve`): the verdict is the runner's.

- a method that is not exact on the instance never reports ``optimal``;
- a placement the evaluator rejects is ``invalid``, with its violations;
- a method that raises gives termination ``error`` with the message, no exception;
- every method honours the time limit, and a bad time limit is bad input.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from formulations.milp_instances import small_instance
from graphs.instances import chain_instance
from splitbench.answer import MethodResult, RunOptions
from splitbench.errors import UsageError
from splitbench.formulations import assignment_is_exact
from splitbench.instance import ExitPolicy, Instance, Objective, example_instance
from splitbench.methods import METHODS, MethodSpec, register, solve
from splitbench.status import Status, Termination

RESTRICTION_WORSE = (40, Objective.ENERGY, ExitPolicy.SELECT)
"""A seeded instance (:func:`milp_instances.small_instance`) with a binding deadline
on which the assignment MILP's fixed routes miss the optimum."""


def test_a_restriction_is_never_reported_optimal() -> None:
    seed, objective, policy = RESTRICTION_WORSE
    instance = small_instance(seed, objective, policy)
    assert instance.request.objective is Objective.ENERGY
    assert instance.request.deadline_s is not None
    assert not assignment_is_exact(instance)
    exact = solve(instance, "label-setting")
    assert exact.status is Status.OPTIMAL and exact.objective is not None, exact.reason
    got = solve(instance, "assignment-milp")
    assert got.exact is False
    assert got.status is Status.FEASIBLE, (got.status, got.reason)
    assert got.termination is Termination.COMPLETED
    assert got.feasible and got.objective is not None
    assert got.objective > exact.objective * (1 + 1e-6), (got.objective, exact.objective)
    # the restriction's dual bound bounds the restriction only: it is not the bound
    assert got.bound is None
    restricted = got.info["restricted_bound"]
    assert restricted is not None and restricted > exact.objective * (1 + 1e-6)


def test_a_heuristic_placement_that_breaks_the_deadline_is_invalid() -> None:
    instance = example_instance()
    got = solve(instance, "device-only")
    assert got.status is Status.INVALID and got.termination is Termination.COMPLETED
    assert got.exact is False and not got.feasible
    assert got.placement is not None and set(got.placement.blocks) == {"md"}
    assert got.evaluation is not None and instance.request.deadline_s is not None
    assert got.evaluation.latency_s > instance.request.deadline_s
    assert got.violations == ("latency 0.006564 s exceeds the deadline 0.005 s",)
    assert got.to_dict()["status"] == "invalid"
    assert got.to_dict()["violations"] == list(got.violations)


def _raises(instance: Instance, options: RunOptions) -> MethodResult:
    del instance, options
    raise RuntimeError("the user method broke")


@pytest.fixture
def raising_method() -> Iterator[str]:
    name = "test-raises"
    register(MethodSpec(name=name, run=_raises, description="a user method that raises"))
    try:
        yield name
    finally:
        METHODS.unregister(name)


def test_a_method_that_raises_gives_termination_error(raising_method: str) -> None:
    got = solve(example_instance(), raising_method)
    assert got.termination is Termination.ERROR
    assert got.status is Status.NONE
    assert got.placement is None and got.evaluation is None
    assert got.reason is not None and "RuntimeError" in got.reason
    assert "the user method broke" in got.reason
    assert got.to_dict()["termination"] == "error"


def test_the_raising_method_is_unregistered_after_its_test() -> None:
    assert "test-raises" not in METHODS


def test_exhaustive_stops_at_the_time_limit() -> None:
    instance = chain_instance(10, 10, 0)
    # block 1 pinned to the source: 10**9 node assignments, within max_candidates
    request = replace(instance.request, allowed_nodes=((1, (instance.request.source,)),))
    instance = replace(instance, request=request)
    start = time.perf_counter()
    got = solve(instance, "exhaustive", time_limit_s=1, params={"max_candidates": 10**9})
    elapsed = time.perf_counter() - start
    assert got.termination is Termination.TIME_LIMIT, (got.status, got.reason)
    assert elapsed < 20, elapsed
    assert got.status in (Status.FEASIBLE, Status.NONE), got.reason
    assert (got.placement is not None) == (got.status is Status.FEASIBLE)
    if got.placement is not None:
        assert got.feasible
    assert got.info["candidates"] < 10**9


def test_label_setting_stops_at_a_tiny_time_limit() -> None:
    instance = chain_instance(30, 30, 0)
    assert instance.request.objective is Objective.ENERGY
    assert instance.request.deadline_s is not None
    got = solve(instance, "label-setting", time_limit_s=1e-3)
    assert got.termination is Termination.TIME_LIMIT, (got.status, got.reason)
    assert got.status in (Status.FEASIBLE, Status.NONE), got.reason
    if got.placement is not None:
        assert got.feasible


@pytest.mark.parametrize("limit", [math.nan, -1, 0, math.inf])
def test_a_bad_time_limit_is_a_usage_error(limit: float) -> None:
    with pytest.raises(UsageError, match="time-limit"):
        solve(example_instance(), "label-setting", time_limit_s=limit)
