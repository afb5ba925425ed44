"""Method ``sequential`` (format 2): requests one by one on the residual network.

Judged on the seeded capacity-bound cases of the coupled MILP's own test
(``formulations/test_routing_multi.py``: compute, link, shared memory, overload) and
on the families ``fin-multi`` and ``multi-tiered``. Every answer must pass the
format-2 evaluator at the objective the method claims (1e-9 relative) and cost no
less than the coupled optimum (``run_routing_milp_multi``, its placement evaluated);
a failure is ``none`` naming the request, never ``infeasible``, and every instance
without a solution gets ``none``. The helpers :func:`optimum` and
:func:`check_answer` are shared with ``test_fin_multi`` and ``test_rounding``.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import replace
from functools import cache

import pytest

from formulations.test_routing_multi import KINDS, cases
from splitbench.answer import MethodResult, RunOptions, Settings
from splitbench.errors import UsageError
from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import evaluate_multi
from splitbench.families import generate
from splitbench.families.tiny import milp_instance
from splitbench.instance import (
    ExitPolicy,
    MultiInstance,
    MultiRequest,
    Objective,
    example_instance,
)
from splitbench.methods.exhaustive import run_exhaustive
from splitbench.methods.multi import run_routing_milp_multi
from splitbench.methods.residual import demand_order
from splitbench.methods.sequential import (
    as_multi,
    expected_policy_reason,
    run_sequential,
    run_sequential_multi,
)
from splitbench.placement import MultiPlacement
from splitbench.status import Status, Termination

REL = 1e-9

FAMILY_CASES = (
    ("fin-multi", {"users": 2}, 0),
    ("fin-multi", {"users": 12, "dnns": "b-alexnet"}, 0),  # the edge binds
    ("fin-multi", {"users": 3, "rate_per_s": 200, "rate_spread": 0.5}, 1),
    ("multi-tiered", {"n_blocks": 3}, 1),
    ("multi-tiered", {"devices": 4, "users_per_device": 3}, 2),
    ("multi-tiered", {"devices": 6, "users_per_device": 4, "objective": "energy"}, 3),
)
"""(family, params, seed) of the family instances every method is run on."""


def family_instance(index: int) -> MultiInstance:
    name, params, seed = FAMILY_CASES[index]
    inst = generate(name, params, seed=seed)
    assert isinstance(inst, MultiInstance)
    return inst


@cache
def optimum(multi: MultiInstance) -> float | None:
    """The coupled optimum (the evaluator's objective of the routing MILP's answer);
    None when the instance is infeasible."""
    result = run_routing_milp_multi(multi, RunOptions())
    if result.status is Status.INFEASIBLE:
        return None
    assert result.status is Status.OPTIMAL, (multi.name, result.reason)
    assert isinstance(result.placement, MultiPlacement)
    return evaluate_multi(multi, result.placement).objective


def check_answer(multi: MultiInstance, result: MethodResult) -> float:
    """``result``'s placement meets every limit, costs what the method claims and no
    less than the optimum; returns the evaluated objective."""
    assert result.status in (Status.FEASIBLE, Status.OPTIMAL), (multi.name, result.reason)
    if result.status is Status.OPTIMAL:  # only a bound of the run itself can prove it
        assert result.bound is not None and result.claimed_objective is not None
        assert math.isclose(result.claimed_objective, result.bound, rel_tol=1e-9, abs_tol=1e-12)
    assert isinstance(result.placement, MultiPlacement)
    assert result.placement.ids == multi.request_ids
    evaluation = evaluate_multi(multi, result.placement)
    assert evaluation.feasible, (multi.name, evaluation.violations)
    assert result.claimed_objective is not None
    assert math.isclose(result.claimed_objective, evaluation.objective, rel_tol=REL)
    best = optimum(multi)
    assert best is not None, multi.name
    assert evaluation.objective >= best - REL * max(1.0, abs(best)), multi.name
    return evaluation.objective


def fails_naming_a_request(multi: MultiInstance, result: MethodResult) -> None:
    assert result.status is Status.NONE, (multi.name, result.status)
    assert result.placement is None
    found = re.match(r"request (\S+): ", result.reason or "")
    assert found is not None and found.group(1) in multi.request_ids, result.reason


@pytest.mark.parametrize("kind", KINDS)
def test_answers_meet_every_limit_and_failures_prove_nothing(kind: str) -> None:
    answered = 0
    for multi in cases(kind):
        result = run_sequential_multi(multi, RunOptions())
        assert result.termination is Termination.COMPLETED, multi.name
        assert result.bound is None  # no optimality claim
        if result.placement is None:
            fails_naming_a_request(multi, result)
            continue
        check_answer(multi, result)
        answered += 1
    assert answered >= 2, kind


def test_every_instance_without_a_solution_gets_none() -> None:
    infeasible = 0
    for kind in KINDS:
        for multi in cases(kind):
            if optimum(multi) is None:
                infeasible += 1
                fails_naming_a_request(multi, run_sequential_multi(multi, RunOptions()))
    assert infeasible >= 10


def order_matters() -> MultiInstance:
    """Two B-AlexNet users on the example network: ``big`` (150/s, free) and ``pinned``
    (140/s, blocks 1-3 pinned to md, first in the file). Blocks 1-3 of both exceed md's
    11 Tops/s; ``big`` can move blocks 3-5 to es, ``pinned`` cannot."""
    example = example_instance()
    one = MultiInstance.from_single(example, rate_per_s=150.0)
    pinned = replace(example.request, allowed_nodes=tuple((l, ("md",)) for l in (1, 2, 3)))
    first = MultiRequest("pinned", example.dnn.name, 140.0, pinned)
    return replace(one, requests=(first, replace(one.requests[0], id="big")))


def test_order_matters_and_a_greedy_failure_is_none() -> None:
    multi = order_matters()
    assert demand_order(multi) == ["big", "pinned"]
    by_demand = run_sequential_multi(multi, RunOptions())
    fails_naming_a_request(multi, by_demand)
    assert by_demand.reason is not None and by_demand.reason.startswith("request pinned:")
    assert "another order may fit" in by_demand.reason
    assert by_demand.info["order"] == ["big", "pinned"]
    by_file = run_sequential_multi(multi, RunOptions(params={"order": "file"}))
    assert by_file.info["order"] == ["pinned", "big"]
    assert check_answer(multi, by_file) == pytest.approx(optimum(multi), rel=REL)
    assert isinstance(by_file.placement, MultiPlacement)
    assert by_file.placement["pinned"].blocks[:3] == ("md", "md", "md")
    assert by_file.placement["big"].blocks[2] != "md"


def test_a_request_that_fits_nowhere_alone_is_named_so() -> None:
    alone = MultiInstance.from_single(example_instance(), rate_per_s=600.0)
    result = run_sequential_multi(alone, RunOptions())
    fails_naming_a_request(alone, result)
    assert "it was the first" in (result.reason or "")


@pytest.mark.parametrize("index", range(len(FAMILY_CASES)))
def test_family_instances(index: int) -> None:
    multi = family_instance(index)
    result = run_sequential_multi(multi, RunOptions())
    check_answer(multi, result)
    assert result.info["order"] == demand_order(multi)


def test_the_edge_full_case_is_solved_optimally_here() -> None:
    """Not a promise, a figure: on the 12 B-AlexNet users the greedy finds the optimum."""
    multi = family_instance(1)
    assert check_answer(multi, run_sequential_multi(multi, RunOptions())) == pytest.approx(
        optimum(multi), rel=REL
    )


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("objective", list(Objective))
def test_one_request_is_the_exact_optimum(seed: int, objective: Objective) -> None:
    single = milp_instance(seed, objective, ExitPolicy.SELECT)
    oracle = run_exhaustive(single, RunOptions())
    result = run_sequential(single, RunOptions())
    if oracle.status is Status.INFEASIBLE:
        assert result.status is Status.NONE and result.placement is None
        return
    assert oracle.status is Status.OPTIMAL
    assert result.status is Status.FEASIBLE  # the runner upgrades nothing
    assert result.placement is not None and not isinstance(result.placement, MultiPlacement)
    evaluation = evaluate(single, result.placement)
    assert evaluation.feasible
    assert result.claimed_objective == pytest.approx(evaluation.objective, rel=REL, abs=0)
    assert evaluation.objective == pytest.approx(oracle.claimed_objective, rel=REL, abs=0)


def test_as_multi_leaves_no_load_limit_binding() -> None:
    single = milp_instance(3, Objective.ENERGY, ExitPolicy.SELECT)
    multi = as_multi(single)
    rate = multi.requests[0].rate_per_s
    assert 0 < rate <= 1 and math.log2(rate).is_integer()
    assert multi.single("r1").request == single.request


def test_the_expected_policy_is_declined() -> None:
    single = milp_instance(0, Objective.ENERGY, ExitPolicy.EXPECTED)
    multi = MultiInstance.from_single(single)
    result = run_sequential_multi(multi, RunOptions())
    assert result.termination is Termination.SKIPPED
    assert result.reason == expected_policy_reason(multi)
    assert "expected exit policy" in (result.reason or "")


def test_a_bad_order_is_refused() -> None:
    with pytest.raises(UsageError, match="order=random: expected one of demand, file"):
        run_sequential_multi(order_matters(), RunOptions(params={"order": "random"}))
    with pytest.raises(UsageError, match="method 'sequential' takes no such parameter"):
        run_sequential_multi(order_matters(), RunOptions(params={"gamma": 3}))


def big_instance() -> MultiInstance:
    """300 requests on 41 nodes: about 2 s of label searches (2-core machine)."""
    inst = generate("multi-tiered", {"devices": 30, "users_per_device": 10, "load": 1.5}, seed=0)
    assert isinstance(inst, MultiInstance)
    return inst


def test_the_time_limit_returns_promptly() -> None:
    multi = big_instance()
    limit = 0.1
    start = time.perf_counter()
    result = run_sequential_multi(multi, RunOptions(settings=Settings(time_limit_s=limit)))
    elapsed = time.perf_counter() - start
    assert elapsed < limit + 1.0, elapsed
    assert result.status is Status.NONE and result.termination is Termination.TIME_LIMIT
    assert result.placement is None
