"""FIN's rounding (``arc`` or ``step``), its gamma fallback, its memory budget and its time.

Fast tests check both roundings on small instances (every answer evaluator-feasible,
every bound valid, step never worse than arc) and the fallback, the budget and the
time limit. The slow tests print the tables quoted in :mod:`splitbench.graphs.fin`::

    pytest -m slow -s -p no:cacheprovider tests/graphs/test_fin_rounding.py

- the rounding table: both roundings per gamma on the FIN sweeps and tiered
  instances (answered / instances, mean and max gap to label-setting's optimum, ms),
  pure (``max_gamma = gamma``) and with the fallback (the default);
- the answer rate at gamma 100 on medium random-chain and tiered instances before
  (arc rounding, no fallback: FIN as it was) and after (the defaults);
- where FIN's time goes on random chains, against label-setting in the same run.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from splitbench.answer import Clock, RunOptions
from splitbench.families import generate
from splitbench.families._tiny_parts import fast_and_slow
from splitbench.graphs.fin import fin_max_path_steps, run_fin
from splitbench.graphs.layered import build_layered_graph
from splitbench.instance import Instance, example_instance
from splitbench.instance.model import ExitPolicy
from splitbench.methods import solve
from splitbench.solution import Solution
from splitbench.status import Status, Termination

from .instances import cases, chain_instance, fin_sweeps, oracle, random_instance, tiered_instances

RTOL = 1e-9
GAMMAS = (3, 10, 20, 30, 100)


def fin(instance: Instance, gamma: int, rounding: str = "step", **params: Any) -> Solution:
    return solve(instance, "fin", params={"gamma": gamma, "rounding": rounding, **params})


def pure(instance: Instance, gamma: int, rounding: str) -> Solution:
    """FIN without the fallback: one pass at ``gamma``."""
    return fin(instance, gamma, rounding, max_gamma=gamma)


def check(got: Solution, ref: Solution, where: str) -> None:
    """An answer is evaluator-feasible and no better than the optimum; a bound is valid."""
    assert got.termination is Termination.COMPLETED, where
    if got.status.has_answer:
        assert got.feasible, (where, got.evaluation)
        assert ref.objective is not None and got.objective is not None
        assert got.objective >= ref.objective * (1 - RTOL) - 1e-15, where
    if got.status is Status.INFEASIBLE:
        assert ref.status is Status.INFEASIBLE, where
    if got.bound is not None and ref.objective is not None:
        assert got.bound <= ref.objective * (1 + RTOL) + 1e-15, where


def no_worse(step: Solution, arc: Solution) -> bool:
    """Step is no costlier than arc where both answer (and answers where arc does)."""
    if not arc.status.has_answer:
        return True
    if not step.status.has_answer:
        return False
    assert step.objective is not None and arc.objective is not None
    return step.objective <= arc.objective * (1 + RTOL) + 1e-15


# --- fast tests ---


@pytest.mark.parametrize("gamma", [3, 10, 30])
def test_both_roundings_are_feasible_and_step_is_never_worse(gamma: int) -> None:
    step_answers = arc_answers = 0
    for instance in cases(80):
        ref = oracle(instance)
        arc, step = pure(instance, gamma, "arc"), pure(instance, gamma, "step")
        default = fin(instance, gamma)
        for got in (arc, step, default):
            check(got, ref, f"{instance.name} gamma {gamma}: {got.reason}")
        if not build_layered_graph(instance).memory_limits():  # memory is checked on the answer
            assert no_worse(step, arc), instance.name
        step_answers += step.status.has_answer
        arc_answers += arc.status.has_answer
    assert step_answers >= arc_answers


def test_step_is_the_default() -> None:
    got = solve(example_instance(), "fin")
    assert got.info["rounding"] == got.info["fin_rounding_used"] == "step"
    assert got.info["fin_routes"] == "pareto"


def test_b_alexnet_at_gamma_10() -> None:
    """The issue's sweep points: arc answers nothing at 3 and 4 ms and 139.5 mJ at
    5 ms / 80 %; step answers at 4 ms and gives 89.9 mJ at 5 ms (the optimum: 85.6)."""
    sweep = {inst.name: inst for inst in fin_sweeps("b-alexnet")}
    for ms in (3, 4):
        assert pure(sweep[f"b-alexnet-T{ms}ms"], 10, "arc").status is Status.NONE
    assert pure(sweep["b-alexnet-T3ms"], 10, "step").status is Status.NONE
    assert pure(sweep["b-alexnet-T4ms"], 10, "step").status is Status.FEASIBLE
    arc, step = (pure(sweep["b-alexnet-T5ms"], 10, r) for r in ("arc", "step"))
    assert arc.objective == pytest.approx(0.1395, abs=5e-5)
    assert step.objective == pytest.approx(0.0899, abs=5e-5)
    assert solve(sweep["b-alexnet-T5ms"], "label-setting").objective == pytest.approx(
        0.0856, abs=5e-5
    )
    default = fin(sweep["b-alexnet-T3ms"], 10)  # the fallback answers
    assert default.status is Status.FEASIBLE and default.feasible
    assert default.info["fin_gammas"] == [10, 20, 40] and default.info["fin_gamma_used"] == 40


def test_destination_and_expected_policy() -> None:
    """Result steps (a destination) and the expected policy, with both roundings."""
    base = fin_sweeps("b-alexnet")[20]  # T = 8 ms, 80 %
    variants = [
        replace(base, request=replace(base.request, destination="md")),
        replace(base, request=replace(base.request, destination="cs")),
        replace(base, request=replace(base.request, exit_policy=ExitPolicy.EXPECTED)),
    ]
    for instance in variants:
        ref = oracle(instance)
        for rounding in ("arc", "step"):
            for gamma in (10, 100):
                check(fin(instance, gamma, rounding), ref, f"{instance.request} {rounding}")
        assert no_worse(pure(instance, 30, "step"), pure(instance, 30, "arc"))
    dest = solve(variants[1], "fin", params={"gamma": 100})
    assert dest.info["fin_max_path_steps"] == 6  # five blocks and the result


def test_supported_routes_on_a_larger_network() -> None:
    for seed in range(3):
        instance = chain_instance(6, 20, seed)
        ref = solve(instance, "label-setting")
        for gamma in (10, 100):
            got = fin(instance, gamma)
            assert got.info["fin_routes"] == "supported"
            check(got, ref, f"{instance.name} gamma {gamma}")
            assert got.status is Status.FEASIBLE


def test_latency_objective_uses_the_fastest_route() -> None:
    instance = chain_instance(6, 20, 0, objective="latency")
    got = fin(instance, 30)
    assert got.info["fin_routes"] == "fastest"
    check(got, solve(instance, "label-setting"), instance.name)


def test_the_fallback_doubles_gamma_and_keeps_the_guarantee() -> None:
    """cost <= the optimum for the deadline T (1 - m / gamma_used), at the gamma used."""
    checked = retried = 0
    small = [random_instance(seed, deadline="binding", memory=False) for seed in range(150)]
    for instance in [*small, example_instance(), *fin_sweeps("b-alexnet")]:
        deadline = instance.request.deadline_s
        m = fin_max_path_steps(build_layered_graph(instance))
        for gamma in (3, 10, 30):
            got = fin(instance, gamma)
            used = got.info.get("fin_gamma_used")
            if deadline is None or used is None or not got.status.has_answer:
                continue
            tried = got.info["fin_gammas"]
            assert tried == [gamma * 2**k for k in range(len(tried))] and used in tried[-2:]
            if m >= used:
                continue
            short = replace(
                instance, request=replace(instance.request, deadline_s=deadline * (1 - m / used))
            )
            ref = oracle(short)
            if ref.status is Status.OPTIMAL:
                assert got.objective is not None and ref.objective is not None
                assert got.objective <= ref.objective * (1 + RTOL), instance.name
                checked += 1
                retried += len(tried) > 1
    assert checked >= 50 and retried >= 5, (checked, retried)


def test_no_fallback_when_max_gamma_is_gamma() -> None:
    got = fin(example_instance(), 3, max_gamma=3)
    assert got.status is Status.NONE and got.termination is Termination.COMPLETED
    assert got.reason is not None and "raise gamma" in got.reason
    assert "from gamma 9" in got.reason  # 5 steps, slack 1 - 2.216 / 5 ms
    got = fin(example_instance(), 3)
    assert got.status is Status.FEASIBLE and got.info["fin_gammas"] == [3, 6, 12, 24]
    assert got.info["fin_gamma_used"] == 12  # the refinement at 24 is no cheaper


def test_tight_deadline_answers_the_fastest_placement() -> None:
    """A deadline equal to the fastest latency leaves no slack for any rounding: the
    fallback returns the fastest placement (evaluator-feasible)."""
    inst = example_instance()
    ends = fast_and_slow(replace(inst, request=replace(inst.request, deadline_s=None)))
    assert ends is not None
    tight = replace(inst, request=replace(inst.request, deadline_s=ends[0]))
    got = fin(tight, 100)
    assert got.status is Status.FEASIBLE and got.feasible and "fastest" in got.info["fin_answer"]
    assert got.info["fin_gamma_needed"] is None and got.info["fin_gamma_used"] is None
    assert fin(tight, 100, max_gamma=100).status is Status.NONE


def test_max_copies_declines_up_front() -> None:
    start = time.perf_counter()
    got = fin(example_instance(), 10**9)
    assert time.perf_counter() - start < 2.0
    assert got.status is Status.NONE and got.termination is Termination.SKIPPED
    assert got.reason is not None and "max_copies" in got.reason and "lower gamma" in got.reason
    got = fin(example_instance(), 100, max_copies=46 * 50)  # 46 vertices
    assert got.termination is Termination.SKIPPED and "at most 49" in (got.reason or "")


def test_the_fallback_stops_at_the_budget() -> None:
    # gamma 3 finds no path; 6 fits in 46 x 7 copies, 12 does not
    got = fin(example_instance(), 3, max_copies=46 * 7)
    assert got.info["fin_gammas"] == [3, 6]
    assert "max_copies" in got.info["fin_fallback_stopped"]
    assert got.status is Status.FEASIBLE and got.feasible  # the fastest placement
    got = fin(example_instance(), 3, max_copies=46 * 7, max_gamma=6)
    assert got.info["fin_gammas"] == [3, 6] and got.status is Status.FEASIBLE


def test_a_step_graph_over_the_budget_falls_back_to_arc() -> None:
    instance = chain_instance(6, 20, 0)
    n = build_layered_graph(instance).n_vertices
    got = fin(instance, 30, max_copies=n * 31)
    assert got.info["fin_rounding_used"] == "arc" and "fin_step_declined" in got.info
    check(got, solve(instance, "label-setting"), instance.name)


def test_time_limit_returns_time_limit() -> None:
    instance = chain_instance(30, 30, 0)
    start = time.perf_counter()
    got = solve(instance, "fin", params={"gamma": 400}, time_limit_s=0.05)
    assert time.perf_counter() - start < 2.0
    assert got.termination is Termination.TIME_LIMIT
    assert got.status in (Status.NONE, Status.FEASIBLE)
    if got.status is Status.FEASIBLE:
        assert got.feasible


class Counting(Clock):
    """A clock that expires after ``after`` calls of :meth:`expired`."""

    def __init__(self, after: float) -> None:
        super().__init__(60.0)
        self.after, self.calls = after, 0

    def expired(self) -> bool:
        self.calls += 1
        return self.calls > self.after


def test_time_limit_keeps_the_answer_found_before_the_bound() -> None:
    """A clock that expires at the lower-bound pass (its checks come last): the answer
    stays, with termination ``time_limit`` and no bound."""

    def run(clock: Clock, bound: bool) -> Any:
        params = {"gamma": 30, "bound": bound}
        return run_fin(example_instance(), RunOptions(params=params, clock=clock))

    counting = Counting(math.inf)
    assert run(counting, bound=False).status is Status.FEASIBLE
    res = run(Counting(counting.calls), bound=True)
    assert res.termination is Termination.TIME_LIMIT and res.status is Status.FEASIBLE
    assert res.placement is not None and res.bound is None
    res = run(Counting(0), bound=True)
    assert res.termination is Termination.TIME_LIMIT and res.status is Status.NONE


def test_without_deadline_fin_is_exact() -> None:
    inst = example_instance()
    free = replace(inst, request=replace(inst.request, deadline_s=None))
    got = solve(free, "fin")
    assert got.status is Status.OPTIMAL and got.bound == pytest.approx(got.objective)
    assert got.objective == pytest.approx(oracle(free).objective, rel=1e-9)


def test_thinning_with_step_rounding() -> None:
    for instance in cases(40):
        ref = oracle(instance)
        for thinning in (1, 1000):
            got = solve(instance, "fin", params={"gamma": 30, "lambda": thinning})
            check(got, ref, instance.name)


# --- slow: the tables ---


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def record(runs: list[tuple[Solution, float | None, float]]) -> str:
    """answered/instances, mean and max gap %, mean ms."""
    gaps = [
        (s.objective - best) / abs(best)
        for s, best, _ in runs
        if s.status.has_answer and s.objective is not None and best
    ]
    answered = sum(s.status.has_answer for s, _, _ in runs)
    ms = 1e3 * mean([t for _, _, t in runs])
    worst = 100 * max(gaps) if gaps else math.nan
    return f"{answered:>3d}/{len(runs):<3d} {100 * mean(gaps):>7.2f} {worst:>7.2f} {ms:>6.1f}"


def timed(function: Callable[[], Solution]) -> tuple[Solution, float]:
    start = time.perf_counter()
    sol = function()
    return sol, time.perf_counter() - start


@pytest.mark.slow
def test_rounding_table(capsys: pytest.CaptureFixture[str]) -> None:
    families = {
        "fin b-alexnet": fin_sweeps("b-alexnet"),
        "fin b-resnet": fin_sweeps("b-resnet"),
        "fin b-lenet": fin_sweeps("b-lenet"),
        "tiered 4-8 nodes": tiered_instances(30),
    }
    configs = {
        "arc": lambda i, g: pure(i, g, "arc"),
        "step": lambda i, g: pure(i, g, "step"),
        "arc+fallback": lambda i, g: fin(i, g, "arc"),
        "step+fallback": lambda i, g: fin(i, g),
    }
    lines = [
        "FIN rounding: answered/instances, mean and max gap % to the optimum, ms per run",
        f"{'family':17s} {'gamma':>5s} " + " | ".join(f"{c:^28s}" for c in configs),
    ]
    worse = better = 0
    for name, instances in families.items():
        best = {i.name: solve(i, "label-setting").objective for i in instances}
        for gamma in GAMMAS:
            runs: dict[str, list[tuple[Solution, float | None, float]]] = {c: [] for c in configs}
            for instance in instances:
                ref = oracle(instance)
                for config, run in configs.items():
                    sol, seconds = timed(lambda r=run, i=instance, g=gamma: r(i, g))  # type: ignore[misc]
                    check(sol, ref, f"{config} gamma {gamma} on {instance.name}")
                    runs[config].append((sol, best[instance.name], seconds))
                step, arc = runs["step"][-1][0], runs["arc"][-1][0]
                worse += not no_worse(step, arc)
                better += not no_worse(arc, step)
            row = " | ".join(f"{record(r):28s}" for r in runs.values())
            lines.append(f"{name:17s} {gamma:>5d} {row}")
    lines.append(
        f"step (no fallback) beats arc at {better} (instance, gamma) pairs, loses at {worse}"
    )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert worse == 0


MODELS = {"alexnet": 20, "vgg16": 38, "resnet50": 23, "mobilenet_v2": 26, "googlenet": 25}


def medium(family: str, seed: int) -> Instance | None:
    """A medium instance (10-40 blocks, 10-60 nodes, energy) with a deadline drawn
    between its fastest and its cheapest placement's latency; None when these are
    (nearly) equal, so that no deadline binds."""
    rng = np.random.default_rng(seed)
    if family == "random-chain":
        params: dict[str, Any] = {
            "blocks": int(rng.integers(10, 41)),
            "nodes": int(rng.integers(10, 61)),
            "density": float(rng.uniform(0.05, 0.3)),
        }
    else:
        model = sorted(MODELS)[seed % len(MODELS)]
        params = {
            "model": model,
            "n_blocks": int(rng.integers(10, MODELS[model] + 1)),
            "devices": int(rng.integers(1, 6)),
            "edges": int(rng.integers(5, 41)),
            "clouds": int(rng.integers(1, 11)),
            "tier_order": bool(seed % 2),
        }
    instance = generate(family, {**params, "objective": "energy"}, seed=seed)
    ends = fast_and_slow(instance)
    if ends is None or ends[1] <= 1.01 * ends[0]:
        return None
    deadline = ends[0] + float(rng.uniform(0.1, 0.9)) * (ends[1] - ends[0])
    return replace(instance, request=replace(instance.request, deadline_s=deadline))


@pytest.mark.slow
def test_medium_answer_rates(capsys: pytest.CaptureFixture[str]) -> None:
    per_family = 40
    configs = {
        "before (arc, no fallback)": {"rounding": "arc", "max_gamma": 100},
        "step, no fallback": {"max_gamma": 100},
        "arc + fallback": {"rounding": "arc"},
        "after (defaults)": {},
    }
    lines = ["FIN at gamma 100 on medium instances (answered/instances, gap %, ms)"]
    for family in ("random-chain", "tiered"):
        instances: list[Instance] = []
        seed = 0
        while len(instances) < per_family and seed < 40 * per_family:
            drawn = medium(family, seed)
            seed += 1
            if drawn is not None:
                instances.append(drawn)
        models = sorted({i.dnn.name for i in instances}) if family == "tiered" else []
        lines.append(f"{family}: {len(instances)} binding instances of {seed} drawn {models}")
        best = {}
        for instance in instances:
            exact = solve(instance, "label-setting", time_limit_s=60)
            best[instance.name] = exact.objective if exact.status is Status.OPTIMAL else None
        for label, params in configs.items():
            runs, used, fastest = [], [], 0
            for instance in instances:
                sol, seconds = timed(
                    lambda i=instance, p=params: solve(  # type: ignore[misc]
                        i, "fin", params={"gamma": 100, **p}
                    )
                )
                assert sol.termination is Termination.COMPLETED, sol.reason
                assert not sol.status.has_answer or sol.feasible, (instance.name, sol.evaluation)
                runs.append((sol, best[instance.name], seconds))
                used.append(sol.info.get("fin_gamma_used"))
                fastest += "fin_answer" in sol.info
            gammas = sorted({g for g in used if g is not None})
            lines.append(
                f"  {label:26s} {record(runs)}  gamma used {gammas}, fastest placement {fastest}"
            )
    with capsys.disabled():
        print("\n" + "\n".join(lines))


@pytest.mark.slow
def test_time_breakdown(capsys: pytest.CaptureFixture[str]) -> None:
    """Where FIN's time goes (build, first pass, retries, lower bound) at gamma 100,
    against label-setting on the same instances, side by side (best of 3)."""

    def best_of(function: Callable[[], Solution]) -> tuple[Solution, float]:
        return min((timed(function) for _ in range(3)), key=lambda r: r[1])

    phases = ("graph", "steps", "pass", "retries", "bound")
    lines = [
        "FIN time (ms) at gamma 100: " + ", ".join(phases) + " | total | label-setting | ratio",
    ]
    for size in (20, 50):
        for seed in range(3):
            instance = chain_instance(size, size, seed)
            exact, t_exact = best_of(lambda i=instance: solve(i, "label-setting"))  # type: ignore[misc]
            for rounding in ("arc", "step"):
                for bound in (True, False):
                    sol, total = best_of(
                        lambda i=instance, r=rounding, b=bound: solve(  # type: ignore[misc]
                            i, "fin", params={"gamma": 100, "rounding": r, "bound": b}
                        )
                    )
                    times = sol.info["fin_times_s"]
                    split = " ".join(f"{1e3 * times.get(p, 0.0):7.1f}" for p in phases)
                    assert sol.objective is not None and exact.objective is not None
                    gap = 100 * (sol.objective / exact.objective - 1)
                    runner = (sol.build_time_s or 0.0) + (sol.solve_time_s or 0.0)
                    covered = 100 * sum(times.values()) / runner
                    lines.append(
                        f"{size}x{size} s{seed} {rounding:4s} bound={bound!s:5s} {split} | "
                        f"{1e3 * total:7.1f} | {1e3 * t_exact:7.1f} | {total / t_exact:5.1f}x"
                        f"  gap {gap:6.2f} %  phases {covered:3.0f} % of the runner's time"
                    )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
