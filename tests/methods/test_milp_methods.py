"""The registry methods ``assignment-milp``, ``routing-milp`` and ``routing-lp``."""

from __future__ import annotations

import pytest

from formulations.milp_instances import chain_instance
from splitbench.errors import UsageError
from splitbench.instance import Instance
from splitbench.methods import get_method, solve
from splitbench.solvers import available_solvers
from splitbench.status import Status, Termination

MAIN = [
    s for s in ("highs", "cbc", "pyomo-highs", "scip") if s in available_solvers(pyomo_names=False)
]
SIZES = ("n_vars", "n_binaries", "n_rows", "n_nonzeros")


@pytest.mark.parametrize("solver", MAIN)
@pytest.mark.parametrize("method", ["assignment-milp", "routing-milp"])
def test_milp_methods_on_every_backend(method: str, solver: str, example: Instance) -> None:
    reference = solve(example, "exhaustive")
    got = solve(example, method, solver=solver, params={"mip_rel_gap": "1e-9"})
    assert got.status is Status.OPTIMAL, got.reason
    assert got.termination is Termination.COMPLETED and got.exact
    assert got.solver == solver and got.feasible
    assert got.objective == pytest.approx(reference.objective, rel=1e-6)
    assert got.claimed_objective == pytest.approx(got.objective, rel=1e-6)
    assert got.bound is not None and got.bound <= got.objective * (1 + 1e-6)
    facts = got.facts
    assert facts.formulation == get_method(method).formulation
    assert all(isinstance(getattr(facts, size), int) for size in SIZES), facts
    assert facts.n_binaries is not None and facts.n_binaries > 0
    assert facts.nodes is None or facts.nodes >= 0
    assert facts.solver_version, facts
    assert "solver_message" in got.info
    assert got.build_time_s is not None and got.build_time_s > 0
    assert got.solve_time_s is not None and got.solve_time_s > 0


@pytest.mark.parametrize("solver", MAIN)
def test_routing_lp_on_every_backend(solver: str, example: Instance) -> None:
    got = solve(example, "routing-lp", solver=solver)
    assert got.status is Status.NONE  # the example's deadline binds
    assert got.termination is Termination.COMPLETED
    assert got.facts.lp_integral is False and got.facts.n_binaries == 0
    assert got.facts.lp_bound is not None
    assert got.bound == pytest.approx(got.facts.lp_bound)


def test_default_solver_is_highs(example: Instance) -> None:
    got = solve(example, "routing-milp")
    assert got.status is Status.OPTIMAL and got.solver == "highs"
    assert str(got.facts.solver_version).count(".") == 2


def test_an_unknown_solver_is_a_usage_error_naming_the_available_ones(
    example: Instance,
) -> None:
    with pytest.raises(UsageError, match="unknown solver 'gurobi'; available: highs"):
        solve(example, "routing-milp", solver="gurobi")


def test_a_time_limit_keeps_the_incumbent() -> None:
    instance = chain_instance(30, 30, 0, density=0.1)
    got = solve(instance, "assignment-milp", time_limit_s=0.5)
    assert got.termination is Termination.TIME_LIMIT, (got.status, got.reason)
    assert got.status in (Status.FEASIBLE, Status.NONE), got.reason
    assert (got.placement is not None) == (got.status is Status.FEASIBLE)
    if got.placement is not None:
        assert got.feasible and got.objective is not None
        assert got.bound is None or got.bound <= got.objective
    fast = solve(instance, "routing-milp", time_limit_s=10.0)
    assert fast.status is Status.OPTIMAL
    assert fast.facts.nodes is not None and fast.facts.nodes <= 1
    if got.objective is not None:
        assert fast.objective is not None and fast.objective <= got.objective * (1 + 1e-6)
