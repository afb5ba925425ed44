"""The residual network: one request placed on what the others leave, exactly."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from tests.formulations.test_routing_multi import KINDS, brute_force, cases, options

from splitbench.answer import RunOptions
from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import evaluate_multi
from splitbench.instance import MultiInstance, example_instance
from splitbench.instance.multi import MultiRequest
from splitbench.methods.multi import run_routing_milp_multi
from splitbench.methods.residual import (
    Usage,
    demand_order,
    place_in_order,
    place_on_residual,
)
from splitbench.status import Status

RTOL = 1e-9


def two_copies(rate: float) -> MultiInstance:
    one = MultiInstance.from_single(example_instance(), rate_per_s=rate)
    return replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))


def test_ample_capacity_gives_each_request_its_own_optimum() -> None:
    multi = two_copies(1.0)
    usage = Usage.empty(multi)
    placement, reason = place_on_residual(usage, "r1")
    assert reason is None and placement is not None
    assert placement.blocks == ("md", "md", "md", "cs", "cs")  # the format-1 optimum


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "overload"])
def test_residual_placement_is_the_cheapest_that_fits(kind: str) -> None:
    # against enumeration: the first request's every feasible option, costed alone
    checked = 0
    for multi in cases(kind):
        first, second = multi.requests[0], multi.requests[1]
        usage = Usage.empty(multi)
        best_first = min(options(multi, first), key=lambda o: o[1].cost)[0]
        if usage.violations(first.id, best_first):
            continue  # the first alone overloads something: no residual to speak of
        usage.add(first.id, best_first)
        found, _ = place_on_residual(usage, second.id)
        fitting = [p for p, _ in options(multi, second) if not usage.violations(second.id, p)]
        if not fitting:
            assert found is None
            continue
        assert found is not None and not usage.violations(second.id, found)
        single = multi.single(second.id)
        cheapest = min(evaluate(single, p).objective for p in fitting)
        assert evaluate(single, found).objective == pytest.approx(cheapest, rel=RTOL)
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "overload"])
def test_place_in_order_meets_every_limit_and_never_beats_the_optimum(kind: str) -> None:
    answered = feasible = 0
    for multi in cases(kind):
        placed = place_in_order(multi, demand_order(multi))
        exact = run_routing_milp_multi(multi, RunOptions())
        feasible += exact.status is Status.OPTIMAL
        if placed.placement is None:
            assert placed.reason and placed.reason.startswith("request ")
            continue
        answered += 1
        official = evaluate_multi(multi, placed.placement)
        assert official.feasible, (multi.name, official.violations)
        assert exact.status is Status.OPTIMAL and exact.claimed_objective is not None
        assert official.objective >= exact.claimed_objective * (1 - 1e-9)
    assert answered >= 2 and answered >= feasible // 2  # a greedy order may fail


def test_a_kept_preference_is_kept_and_a_bad_one_replaced() -> None:
    multi = two_copies(150.0)
    cheap = place_on_residual(Usage.empty(multi), "r1")[0]
    assert cheap is not None
    # both prefer the same cheap placement: it fits once, the second is re-placed
    placed = place_in_order(multi, ["r1", "r2"], preferred={"r1": cheap, "r2": cheap})
    assert placed.kept == ("r1",) and placed.moved == ("r2",)
    assert placed.placement is not None and evaluate_multi(multi, placed.placement).feasible


def test_held_weights_cost_no_memory_but_other_models_do() -> None:
    base = MultiInstance.from_single(example_instance(), rate_per_s=1.0)
    inst = base.single("r1")
    dnn = replace(inst.dnn, blocks=tuple(replace(b, memory_bytes=1e6) for b in inst.dnn.blocks))
    inst = replace(inst, dnn=dnn)
    need = sum(b.memory_bytes for b in dnn.blocks)
    # cs holds exactly one copy of every block; md and es none
    nodes = tuple(
        replace(n, memory_bytes=need if n.id == "cs" else 0.0) for n in base.network.nodes
    )
    only_cloud = replace(
        inst.request, allowed_nodes=tuple((l, ("cs",)) for l in range(1, inst.dnn.n_blocks + 1))
    )
    twin = replace(inst.dnn, name="twin")
    multi = replace(
        base,
        network=replace(base.network, nodes=nodes),
        dnns=(inst.dnn, twin),
        requests=(
            MultiRequest("a", inst.dnn.name, 1.0, replace(only_cloud, deadline_s=None)),
            MultiRequest("b", inst.dnn.name, 1.0, replace(only_cloud, deadline_s=None)),
            MultiRequest("c", "twin", 1.0, replace(only_cloud, deadline_s=None)),
        ),
    )
    usage = Usage.empty(multi)
    first, _ = place_on_residual(usage, "a")
    assert first is not None
    usage.add("a", first)
    same, _ = place_on_residual(usage, "b")  # shares a's weights
    other, reason = place_on_residual(usage, "c")  # its own weights do not fit
    assert same is not None and other is None
    assert reason is not None and "no placement fits" in reason


def test_demand_order_puts_the_largest_consumer_first() -> None:
    multi = two_copies(1.0)
    heavy = replace(multi.requests[1], id="heavy", rate_per_s=50.0)
    multi = replace(multi, requests=(*multi.requests, heavy))
    assert demand_order(multi) == ["heavy", "r1", "r2"]


def test_every_order_of_a_tight_pair_is_feasible_or_fails_cleanly() -> None:
    for rate in (20.0, 150.0, 300.0):
        multi = two_copies(rate)
        reference = brute_force(multi)
        for order in itertools.permutations(multi.request_ids):
            placed = place_in_order(multi, order)
            if reference is None:
                assert placed.placement is None
            elif placed.placement is not None:
                assert evaluate_multi(multi, placed.placement).feasible
