"""Method ``fin`` on format 2: FIN per request on the residual network.

With ample capacity every request keeps FIN's own placement (the same as ``fin`` on
the request alone); when the edge server is full (12 B-AlexNet users of family
``fin-multi``) FIN's own placements together break its compute and the method
re-runs FIN on a pruned instance. On the cases of
``formulations/test_routing_multi.py`` and the family instances of
``test_sequential``: every answer passes the format-2 evaluator at its claimed
objective and costs no less than the coupled optimum; the bound (the sum of FIN's
per-request bounds) is at most the optimum; a failure is ``none`` naming the request.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import pytest

from formulations.test_routing_multi import KINDS, cases
from splitbench.answer import RunOptions, Settings
from splitbench.errors import UsageError
from splitbench.evaluate_multi import evaluate_multi
from splitbench.families import generate
from splitbench.families.tiny import milp_instance
from splitbench.graphs.fin import run_fin
from splitbench.instance import (
    ExitPolicy,
    Link,
    MultiInstance,
    Network,
    Node,
    Objective,
    example_instance,
)
from splitbench.methods import solve
from splitbench.methods.fin_multi import _Pruned, run_fin_multi
from splitbench.placement import MultiPlacement, Placement
from splitbench.status import Status, Termination

from .test_sequential import (
    FAMILY_CASES,
    REL,
    big_instance,
    check_answer,
    fails_naming_a_request,
    family_instance,
    optimum,
)


def fin_multi(**params: object) -> MultiInstance:
    inst = generate("fin-multi", params)
    assert isinstance(inst, MultiInstance)
    return inst


def own_placements(multi: MultiInstance, **params: object) -> dict[str, Placement]:
    """``fin`` on every request alone."""
    out = {}
    for rid in multi.request_ids:
        result = run_fin(multi.single(rid), RunOptions(params=params))
        assert isinstance(result.placement, Placement)
        out[rid] = result.placement
    return out


@pytest.mark.parametrize("gamma", [10, 30])
def test_with_ample_capacity_every_request_keeps_fins_placement(gamma: int) -> None:
    multi = fin_multi(users=2, rate_per_s=1.0)
    result = run_fin_multi(multi, RunOptions(params={"gamma": gamma}))
    check_answer(multi, result)
    assert result.info["pruned"] == [] and set(result.info["fin_runs"].values()) == {1}
    assert isinstance(result.placement, MultiPlacement)
    assert dict(result.placement.requests) == own_placements(multi, gamma=gamma)
    bounds = []
    for req in multi.requests:
        alone = run_fin(multi.single(req.id), RunOptions(params={"gamma": gamma})).bound
        assert alone is not None
        bounds.append(req.rate_per_s * alone)
    assert result.bound == pytest.approx(math.fsum(bounds), rel=REL)
    best = optimum(multi)
    assert best is not None and result.bound is not None and result.bound <= best * (1 + REL)


def test_when_the_edge_is_full_fin_is_run_again_on_what_is_left() -> None:
    multi = fin_multi(users=12, dnns="b-alexnet")
    own = own_placements(multi)
    together = evaluate_multi(multi, MultiPlacement(tuple(own.items())))
    assert not together.feasible
    assert any(v.startswith("node es: compute load") for v in together.violations)
    result = run_fin_multi(multi, RunOptions())
    check_answer(multi, result)
    assert isinstance(result.placement, MultiPlacement)
    pruned = result.info["pruned"]
    assert pruned, "the edge is full: some request must move"
    for rid, placement in result.placement.requests:
        assert (placement == own[rid]) is (rid not in pruned), rid
        assert result.info["fin_runs"][rid] == (2 if rid in pruned else 1)
    assert evaluate_multi(multi, result.placement).node_utilization["es"] <= 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_answers_meet_every_limit_and_failures_prove_nothing(kind: str) -> None:
    answered = 0
    for multi in cases(kind):
        result = run_fin_multi(multi, RunOptions())
        assert result.termination is Termination.COMPLETED, multi.name
        if result.placement is None:
            fails_naming_a_request(multi, result)
            continue
        check_answer(multi, result)
        best = optimum(multi)
        assert best is not None
        if result.bound is not None:
            assert result.bound <= best + REL * max(1.0, abs(best)), multi.name
        answered += 1
    assert answered >= 2, kind


def test_the_residual_fallback_places_what_fin_cannot() -> None:
    """Where FIN finds nothing for a request (its cheapest path breaks memory, say) the
    default fails and ``fallback="residual"`` places it by label setting."""
    rescued = 0
    for kind in KINDS:
        for multi in cases(kind):
            plain = run_fin_multi(multi, RunOptions())
            if plain.placement is not None or optimum(multi) is None:
                continue
            assert plain.info["fallback_used"] == []
            helped = run_fin_multi(multi, RunOptions(params={"fallback": "residual"}))
            if helped.placement is None:
                fails_naming_a_request(multi, helped)
                continue
            check_answer(multi, helped)
            assert helped.info["fallback_used"]
            rescued += 1
    assert rescued >= 1


def test_a_request_infeasible_alone_is_named_so() -> None:
    multi = fin_multi(users=1, dnns="b-alexnet", deadline_s=0.001)
    result = run_fin_multi(multi, RunOptions())
    fails_naming_a_request(multi, result)
    assert "infeasible even alone" in (result.reason or "")


def test_fins_parameters_are_passed_on() -> None:
    multi = fin_multi(users=1, dnns="b-alexnet")
    result = run_fin_multi(multi, RunOptions(params={"gamma": 3, "max_gamma": 3}))
    fails_naming_a_request(multi, result)
    assert "rounding to gamma = 3 levels leaves no path" in (result.reason or "")
    with pytest.raises(UsageError, match="method 'fin' takes no such parameter"):
        run_fin_multi(multi, RunOptions(params={"order": "file"}))


def test_on_one_request_the_format_2_parameters_are_left_out() -> None:
    single = example_instance()
    params = {"gamma": 30, "retries": 1, "fallback": "residual"}
    ours = solve(single, "fin", params=params)  # the runner leaves them out
    theirs = run_fin(single, RunOptions(params={"gamma": 30}))
    assert ours.placement == theirs.placement and ours.bound == theirs.bound


def test_a_pruned_instance_loses_only_what_is_pruned() -> None:
    nodes = (Node("a", "device", 1e9), Node("b", "edge", 1e10), Node("c", "cloud", 1e11))
    links = (Link("a", "b", 1e6), Link("b", "c", 1e7, directed=True))
    single = replace(example_instance(), network=Network(nodes, links))
    pruned = _Pruned({(2, "b")}, {("b", "a")}).instance(single)
    assert [(a.source, a.target) for a in pruned.network.arcs] == [("a", "b"), ("b", "c")]
    assert pruned.network.arc_map["a", "b"] == single.network.arc_map["a", "b"]
    assert "b" not in pruned.candidate_nodes(2) and "b" in single.candidate_nodes(2)
    assert pruned.candidate_nodes(1) == single.candidate_nodes(1)
    assert _Pruned().instance(single) is single


@pytest.mark.parametrize("index", range(len(FAMILY_CASES)))
def test_family_instances(index: int) -> None:
    multi = family_instance(index)
    result = run_fin_multi(multi, RunOptions())
    check_answer(multi, result)
    best = optimum(multi)
    assert result.bound is not None and best is not None
    assert result.bound <= best * (1 + REL)


def test_the_expected_policy_is_declined() -> None:
    single = milp_instance(0, Objective.ENERGY, ExitPolicy.EXPECTED)
    result = run_fin_multi(MultiInstance.from_single(single), RunOptions())
    assert result.termination is Termination.SKIPPED
    assert "expected exit policy" in (result.reason or "")


def test_the_time_limit_returns_promptly() -> None:
    multi = big_instance()
    limit = 0.1
    start = time.perf_counter()
    result = run_fin_multi(multi, RunOptions(settings=Settings(time_limit_s=limit)))
    elapsed = time.perf_counter() - start
    assert elapsed < limit + 1.0, elapsed
    assert result.status is Status.NONE and result.termination is Termination.TIME_LIMIT
