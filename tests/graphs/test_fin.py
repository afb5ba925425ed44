"""FIN: every answer feasible, its bound valid, its rounding guarantee kept."""

from __future__ import annotations

from dataclasses import replace

import pytest

from splitbench.graphs.layered import build_layered_graph
from splitbench.instance import Instance, example_instance
from splitbench.methods import solve
from splitbench.status import Status, Termination

from .instances import cases, oracle, random_instance

RTOL = 1e-9
GAMMAS = (3, 10, 30, 100)


def check_fin(instance: Instance, gamma: int, thinning: int = -1) -> Status:
    ref = oracle(instance)
    got = solve(instance, "fin", params={"gamma": gamma, "lambda": thinning})
    where = f"fin(gamma={gamma}, lambda={thinning}) on {instance.name}: {got.reason}"
    assert got.status in (Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE, Status.NONE), where
    assert got.termination is Termination.COMPLETED, where
    assert not got.exact, where
    if got.status is Status.OPTIMAL:  # no deadline: one exact shortest path
        assert instance.request.deadline_s is None, where
        assert ref.objective is not None and got.objective is not None
        assert got.objective == pytest.approx(ref.objective, rel=RTOL), where
    if got.status.has_answer:
        assert got.feasible, (where, got.evaluation)
        assert ref.objective is not None
        assert got.objective is not None and got.objective >= ref.objective * (1 - RTOL)
    if got.status is Status.INFEASIBLE:
        assert ref.status is Status.INFEASIBLE, where
    if got.bound is not None and ref.objective is not None:
        assert got.bound <= ref.objective * (1 + RTOL) + 1e-15, where
    return got.status


@pytest.mark.parametrize("gamma", GAMMAS)
def test_fin_is_feasible_and_its_bound_valid(gamma: int) -> None:
    answered = sum(check_fin(i, gamma).has_answer for i in cases(120))
    assert answered >= 40


def test_fin_thinning_never_returns_an_infeasible_answer() -> None:
    for instance in cases(60):
        for thinning in (1, 3, 1000):
            check_fin(instance, 30, thinning)


@pytest.mark.slow
@pytest.mark.parametrize("gamma", GAMMAS)
def test_fin_long(gamma: int) -> None:
    for instance in cases(600):
        check_fin(instance, gamma)
        check_fin(instance, gamma, 2)


@pytest.mark.parametrize("gamma", [100, 1000])
def test_fin_rounding_guarantee(gamma: int) -> None:
    """FIN costs at most the optimum for the deadline T (1 - m_max / gamma)."""
    checked = 0
    for seed in range(100):
        instance = random_instance(seed, deadline="binding", memory=False)
        got = solve(instance, "fin", params={"gamma": gamma})
        deadline = instance.request.deadline_s
        m_max = got.info.get("fin_max_path_arcs")
        if deadline is None or m_max is None or m_max >= gamma:
            continue
        shorter = replace(
            instance, request=replace(instance.request, deadline_s=deadline * (1 - m_max / gamma))
        )
        ref = oracle(shorter)
        if ref.status is not Status.OPTIMAL:
            continue
        assert got.status is Status.FEASIBLE, got.reason
        assert got.objective is not None and ref.objective is not None
        assert got.objective <= ref.objective * (1 + RTOL), instance.name
        checked += 1
    assert checked >= 10


def test_fin_reports_its_guarantee() -> None:
    got = solve(example_instance(), "fin", params={"gamma": 100})
    assert got.status is Status.FEASIBLE
    assert got.info["fin_max_path_arcs"] == 15
    assert got.info["fin_max_path_steps"] == 5  # step rounding: one level lost per block
    assert got.info["fin_rounding_bound_s"] == pytest.approx(5 * 0.005 / 100)
    assert "0.00475 s" in got.info["fin_guarantee"]
    assert got.objective == pytest.approx(oracle(example_instance()).objective, rel=1e-9)


def test_fin_without_deadline_is_one_shortest_path() -> None:
    inst = example_instance()
    free = replace(inst, request=replace(inst.request, deadline_s=None))
    got = solve(free, "fin")
    assert got.status is Status.OPTIMAL and "no deadline" in got.info["fin_mode"]
    assert got.objective == pytest.approx(oracle(free).objective, rel=1e-9)
    assert got.bound == pytest.approx(got.objective, rel=1e-12)


def test_fin_small_gamma_says_raise_gamma() -> None:
    got = solve(example_instance(), "fin", params={"gamma": 3, "max_gamma": 3})  # no doubling
    assert got.status is Status.NONE and got.termination is Termination.COMPLETED
    assert got.reason is not None and "raise gamma" in got.reason
    assert got.bound is not None and got.bound <= oracle(example_instance()).objective


def test_fin_thinning_falls_back_rather_than_lose_every_path() -> None:
    fell_back = 0
    for instance in cases(120):
        got = solve(instance, "fin", params={"gamma": 30, "lambda": 1000})
        plain = solve(instance, "fin", params={"gamma": 30})
        if plain.status is Status.FEASIBLE:
            assert got.status is Status.FEASIBLE or "memory" in (got.reason or "")
        fell_back += bool(got.info.get("lambda_fallback"))
    assert fell_back >= 1


def test_fin_memory_is_checked_on_the_answer() -> None:
    for seed in range(200):
        instance = random_instance(seed, memory=True, deadline="binding")
        if not build_layered_graph(instance).memory_limits():
            continue
        got = solve(instance, "fin", params={"gamma": 100})
        if got.status is Status.FEASIBLE:
            assert got.feasible
        elif got.status is Status.NONE:
            assert got.reason is not None
        else:
            assert oracle(instance).status is Status.INFEASIBLE


def test_fin_rejects_gamma_below_one() -> None:
    got = solve(example_instance(), "fin", params={"gamma": 0})
    assert got.status is Status.NONE and got.termination is Termination.SKIPPED
    assert "gamma" in (got.reason or "")
