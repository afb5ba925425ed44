"""Format 2 through the runner: routing-milp on every backend, judged by the format-2
evaluator; methods without a format-2 form decline; one request gives format 1's optimum."""

from __future__ import annotations

import pytest

from splitbench.families import generate
from splitbench.families.tiny import milp_instance
from splitbench.instance import ExitPolicy, MultiInstance, Objective, example_instance
from splitbench.methods import solve
from splitbench.placement import MultiPlacement
from splitbench.solvers import available_solvers
from splitbench.status import Status, Termination
from splitbench.tolerances import AGREEMENT_RTOL


@pytest.mark.parametrize("users", [1, 2, 3])
def test_backends_agree_on_fin_multi(users: int) -> None:
    inst = generate("fin-multi", {"users": users})
    assert isinstance(inst, MultiInstance)
    answers = {s: solve(inst, "routing-milp", solver=s) for s in ("highs", "cbc")}
    for sol in answers.values():
        assert sol.status is Status.OPTIMAL and sol.feasible, sol.reason
        assert isinstance(sol.placement, MultiPlacement)
        assert sol.placement.ids == inst.request_ids
        assert sol.bound is not None and sol.bound <= sol.objective * (1 + AGREEMENT_RTOL)
    a, b = (answers[s].objective for s in ("highs", "cbc"))
    assert a is not None and b is not None
    assert a == pytest.approx(b, rel=AGREEMENT_RTOL)


def test_shared_capacity_costs_something() -> None:
    # twelve b-alexnet users: alone each would use the edge the same way; together the
    # edge cannot take them all, so the coupled optimum is above the sum of the singles
    inst = generate("fin-multi", {"dnns": "b-alexnet", "users": 12})
    assert isinstance(inst, MultiInstance)
    coupled = solve(inst, "routing-milp")
    assert coupled.status is Status.OPTIMAL and coupled.feasible
    alone = sum(
        req.rate_per_s * (solve(one, "label-setting").objective or 0.0)
        for req, one in inst.singles()
    )
    assert coupled.objective is not None and coupled.objective > alone * (1 + 1e-6)
    data = coupled.to_dict()
    assert len(data["requests"]) == 12 and data["max_node_utilization"] <= 1 + 1e-9


@pytest.mark.parametrize("objective", ["latency", "energy"])
@pytest.mark.parametrize("seed", range(6))
def test_one_request_gives_the_format_1_optimum(seed: int, objective: str) -> None:
    one = milp_instance(seed, Objective(objective), ExitPolicy.SELECT)
    # a rate so small that no load limit can bind (these nodes take seconds per inference)
    rate = 1e-6
    multi = MultiInstance.from_single(one, rate_per_s=rate)
    single = solve(one, "routing-milp")
    coupled = solve(multi, "routing-milp")
    assert coupled.status is single.status
    if single.objective is not None:
        scale = rate if objective == "energy" else 1.0  # energy: W; latency: the mean
        assert coupled.objective == pytest.approx(scale * single.objective, rel=1e-9)


def test_methods_without_a_format_2_form_decline() -> None:
    multi = MultiInstance.from_single(example_instance())
    sol = solve(multi, "larac")
    assert (sol.status, sol.termination) == (Status.NONE, Termination.SKIPPED)
    assert "format 2" in (sol.reason or "")


def test_mcp_walks_each_request_alone_and_ignores_the_shared_capacity() -> None:
    inst = generate("fin-multi", {"users": 20})
    assert isinstance(inst, MultiInstance)
    joint = solve(inst, "mcp", params={"latency_scale": 10})
    assert isinstance(joint.placement, MultiPlacement)
    for req, single in list(inst.singles())[:3]:
        alone = solve(single, "mcp", params={"latency_scale": 10})
        assert joint.placement[req.id] == alone.placement
    # twenty users of each application overload the cloud: the baseline breaks a limit
    assert joint.status is Status.INVALID
    assert any("compute load" in v for v in joint.violations)
    assert joint.objective is not None


@pytest.mark.parametrize("method", ["routing-milp", "assignment-milp"])
def test_both_coupled_models_agree_on_every_available_backend(method: str) -> None:
    inst = generate("multi-tiny", {"binds": "link"}, seed=4)
    values = {s: solve(inst, method, solver=s) for s in available_solvers()}
    assert len(values) >= 3  # highs, pyomo-highs and cbc ship with the package
    for sol in values.values():
        assert sol.status is Status.OPTIMAL and sol.feasible, sol.reason
    objectives = [sol.objective for sol in values.values()]
    assert all(o is not None for o in objectives)
    first = objectives[0]
    assert first is not None
    assert all(o == pytest.approx(first, rel=AGREEMENT_RTOL) for o in objectives)
