"""Method ``lp-rounding`` (format 2): the coupled LP, rounded to paths, repaired.

On the cases of ``formulations/test_routing_multi.py`` and the family instances of
``test_sequential``: every answer passes the format-2 evaluator at its claimed
objective and costs no less than the coupled optimum; the bound (the LP optimum) is
at most the optimum and is what ``facts.lp_bound`` says; ``infeasible`` only where
there is no solution; a failed repair is ``none`` with the bound; an integral LP
gives the optimum. The flow decomposition is checked against the MILP decoder's own
split of integral flows.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from functools import cache

import numpy as np
import pytest

from formulations.test_routing_multi import KINDS, cases, five_copies
from splitbench.answer import MethodResult, RunOptions, Settings
from splitbench.evaluate import evaluate
from splitbench.families.tiny import milp_instance
from splitbench.formulations.routing_multi import build_routing_multi
from splitbench.instance import ExitPolicy, MultiInstance, Objective, example_instance
from splitbench.methods.exhaustive import run_exhaustive
from splitbench.methods.milp import run_routing_lp
from splitbench.methods.rounding import (
    apportion,
    flow_paths,
    round_flows,
    run_lp_rounding,
    run_lp_rounding_multi,
)
from splitbench.placement import MultiPlacement
from splitbench.solvers import available_solvers, solve_milp
from splitbench.status import Status, Termination

from .test_sequential import (
    FAMILY_CASES,
    REL,
    big_instance,
    check_answer,
    family_instance,
    optimum,
)


@cache
def rounded(multi: MultiInstance) -> MethodResult:
    return run_lp_rounding_multi(multi, RunOptions())


def check_bound(multi: MultiInstance, result: MethodResult) -> float:
    """The bound is the recorded LP optimum, at most the coupled optimum."""
    assert result.facts.formulation == "routing-multi"
    assert result.facts.n_binaries == 0 and result.facts.n_vars
    assert result.bound is not None and result.bound == result.facts.lp_bound
    best = optimum(multi)
    if best is not None:
        assert result.bound <= best + REL * max(1.0, abs(best)), multi.name
    return result.bound


@pytest.mark.parametrize("kind", KINDS)
def test_answers_bounds_and_proofs(kind: str) -> None:
    seen: Counter[str] = Counter()
    for multi in cases(kind):
        result = rounded(multi)
        assert result.termination is Termination.COMPLETED, multi.name
        if result.status is Status.INFEASIBLE:  # the LP relaxation proves it
            assert optimum(multi) is None, multi.name
            assert result.placement is None and result.facts.lp_bound is None
            seen["infeasible"] += 1
            continue
        bound = check_bound(multi, result)
        if result.status is Status.NONE:
            assert result.placement is None
            assert (result.reason or "").startswith("the repair failed: request "), result.reason
            seen["none"] += 1
            continue
        assert check_answer(multi, result) >= bound - REL * max(1.0, abs(bound))
        seen["feasible"] += 1
    assert seen["feasible"] >= 2, (kind, seen)


def test_infeasible_lps_and_failed_repairs_both_occur() -> None:
    """Some cases need the proof, others (a feasible LP, no solution) the failed repair."""
    seen = Counter(rounded(multi).status for kind in KINDS for multi in cases(kind))
    assert seen[Status.INFEASIBLE] >= 5 and seen[Status.NONE] >= 3, seen


def test_an_integral_lp_gives_the_optimum() -> None:
    integral = 0
    for kind in KINDS:
        for multi in cases(kind):
            result = rounded(multi)
            if not result.facts.lp_integral:
                continue
            integral += 1
            assert result.status is Status.OPTIMAL  # the LP bound proves it
            assert result.info["kept"] == list(result.info["order"])  # every path fitted
            assert set(result.info["shares"].values()) == {1.0}
            assert check_answer(multi, result) == pytest.approx(optimum(multi), rel=REL)
            assert result.bound == pytest.approx(optimum(multi), rel=REL)
    assert integral >= 2


def test_one_integral_request_without_a_deadline() -> None:
    example = example_instance()
    free = replace(example, request=replace(example.request, deadline_s=None))
    result = run_lp_rounding(free, RunOptions())
    assert result.facts.lp_integral is True and result.status is Status.OPTIMAL
    oracle = run_exhaustive(free, RunOptions())
    assert result.claimed_objective == pytest.approx(oracle.claimed_objective, rel=REL)
    assert result.bound == pytest.approx(oracle.claimed_objective, rel=REL)


def test_integral_flows_split_as_the_decoder_splits_them() -> None:
    """Five aggregated copies: the MILP's integral flow of 5 units decomposes into the
    paths the decoder finds, each as often."""
    five = five_copies(deadline=False)
    form = build_routing_multi(five)
    solved = solve_milp(form.milp, "highs")
    assert solved.status is Status.OPTIMAL and solved.values is not None
    (commodity,) = form.commodities
    assert commodity.units == 5
    pieces = flow_paths(commodity.graph, solved.values[commodity.block.slice])
    weights = [w for _, w in pieces]
    assert weights == sorted(weights, reverse=True) and len(pieces) > 1
    assert np.allclose(weights, np.round(weights)) and sum(weights) == pytest.approx(5)
    assert apportion(weights, 5) == [round(w) for w in weights]
    ours = Counter(
        commodity.graph.placement_from_arcs(arcs)
        for (arcs, _), n in zip(pieces, apportion(weights, 5), strict=True)
        for _ in range(n)
    )
    assert ours == Counter(p for _, p in form.decode(solved.values).requests)
    placements, shares = round_flows(form, solved.values)
    assert Counter(placements.values()) == ours and set(shares.values()) == {1.0}


@pytest.mark.parametrize("kind", KINDS)
def test_fractional_flows_decompose_into_their_units(kind: str) -> None:
    """Paths carry the net flow of every commodity (cycles are all that is dropped),
    each a placement of its graph."""
    for multi in cases(kind):
        form = build_routing_multi(multi, relax=True)
        lp = solve_milp(form.milp, "highs")
        if lp.status is not Status.OPTIMAL or lp.values is None:
            continue
        for commodity in form.commodities:
            pieces = flow_paths(commodity.graph, lp.values[commodity.block.slice])
            assert sum(w for _, w in pieces) == pytest.approx(commodity.units, abs=1e-6)
            for arcs, weight in pieces:
                assert weight > 0
                assert commodity.graph.head[arcs[-1]] == commodity.graph.sink
                commodity.graph.placement_from_arcs(arcs)


def test_apportion_hands_out_every_unit() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        units = int(rng.integers(1, 6))
        weights = sorted(rng.dirichlet(np.ones(int(rng.integers(1, 5)))) * units, reverse=True)
        counts = apportion(list(weights), units)
        assert sum(counts) == units and all(c >= 0 for c in counts)
        assert all(c >= int(w) for c, w in zip(counts, weights, strict=True))


def test_aggregated_copies_are_rounded_and_repaired() -> None:
    five = five_copies(deadline=False)
    result = run_lp_rounding_multi(five, RunOptions())
    check_bound(five, result)
    check_answer(five, result)


@pytest.mark.parametrize("index", range(len(FAMILY_CASES)))
def test_family_instances(index: int) -> None:
    multi = family_instance(index)
    result = run_lp_rounding_multi(multi, RunOptions())
    bound = check_bound(multi, result)
    assert check_answer(multi, result) >= bound


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("objective", list(Objective))
def test_one_request(seed: int, objective: Objective) -> None:
    single = milp_instance(seed, objective, ExitPolicy.SELECT)
    oracle = run_exhaustive(single, RunOptions())
    result = run_lp_rounding(single, RunOptions())
    if oracle.status is Status.INFEASIBLE:
        assert result.status in (Status.INFEASIBLE, Status.NONE) and result.placement is None
        return
    assert result.status in (Status.FEASIBLE, Status.OPTIMAL)
    assert result.placement is not None and not isinstance(result.placement, MultiPlacement)
    evaluation = evaluate(single, result.placement)
    assert evaluation.feasible
    assert result.claimed_objective == pytest.approx(evaluation.objective, rel=REL, abs=0)
    best = oracle.claimed_objective
    assert best is not None and evaluation.objective >= best * (1 - REL)
    lp = run_routing_lp(single, RunOptions())
    assert result.bound == pytest.approx(lp.bound, rel=1e-7)
    closed = evaluation.objective <= result.bound * (1 + 1e-9) + 1e-15
    assert (result.status is Status.OPTIMAL) is closed
    assert result.bound is not None and result.facts.lp_bound == result.bound
    assert result.bound <= best * (1 + REL)
    if result.facts.lp_integral:
        assert evaluation.objective == pytest.approx(best, rel=REL)


@pytest.mark.skipif("cbc" not in available_solvers(), reason="CBC is not installed")
def test_the_solver_option_is_used() -> None:
    multi = family_instance(0)
    highs = run_lp_rounding_multi(multi, RunOptions())
    cbc = run_lp_rounding_multi(multi, RunOptions(solver="cbc"))
    assert cbc.facts.solver_version != highs.facts.solver_version
    assert cbc.bound == pytest.approx(highs.bound, rel=1e-6)
    check_answer(multi, cbc)


def test_the_expected_policy_is_declined() -> None:
    single = milp_instance(0, Objective.ENERGY, ExitPolicy.EXPECTED)
    result = run_lp_rounding_multi(MultiInstance.from_single(single), RunOptions())
    assert result.termination is Termination.SKIPPED
    assert "expected exit policy" in (result.reason or "")


def test_the_time_limit_returns_promptly() -> None:
    multi = big_instance()
    limit = 0.1
    start = time.perf_counter()
    result = run_lp_rounding_multi(multi, RunOptions(settings=Settings(time_limit_s=limit)))
    elapsed = time.perf_counter() - start
    assert elapsed < limit + 2.0, elapsed  # the model's build (about 0.2 s) is not cut short
    assert result.status is Status.NONE and result.termination is Termination.TIME_LIMIT
