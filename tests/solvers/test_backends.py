"""Every backend: one status vocabulary, incumbent and bound kept apart, failures as
results, lazy imports, and a clear error for a solver that is not there."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from splitbench.errors import UsageError
from splitbench.formulations import MILP, MILPBuilder
from splitbench.solution import Status
from splitbench.solvers import (
    SOLVERS,
    SolverResult,
    SolverSettings,
    available_solvers,
    describe_solvers,
    get_solver,
    solve_milp,
)
from splitbench.solvers import base as solvers_base

AVAILABLE = available_solvers()


def knapsack(capacity: float = 4.0, constant: float = 0.0) -> MILP:
    """max 3a + 2b + 4c with weights 2, 1, 3 and at least one item, as a minimisation:
    optimum -6 (b and c) for capacity 4; infeasible below 1."""
    b = MILPBuilder("knapsack")
    x = b.add_vars("x", ["a", "b", "c"], cost=[-3.0, -2.0, -4.0], upper=1.0, integer=True)
    b.add_rows("cap", 1, rows=[0, 0, 0], cols=x, vals=[2.0, 1.0, 3.0], upper=capacity)
    b.add_rows("some", 1, rows=[0, 0, 0], cols=x, vals=1.0, lower=1.0)
    return b.build(objective_constant=constant)


def market_split(seed: int = 3, m: int = 5, n: int = 40, *, slack: bool) -> MILP:
    """A Cornuejols-Dawande market split problem: far beyond a second of branch and
    bound. With ``slack`` it minimises the total deviation (incumbents are easy)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, (m, n)).astype(float)
    b = MILPBuilder("market-split")
    x = b.add_vars("x", list(range(n)), upper=1.0, integer=True)
    rows, cols, vals = np.repeat(np.arange(m), n), np.tile(x, m), a.ravel()
    if slack:
        over = b.add_vars("over", list(range(m)), cost=1.0)
        under = b.add_vars("under", list(range(m)), cost=1.0)
        rows = np.concatenate([rows, np.arange(m), np.arange(m)])
        cols = np.concatenate([cols, over, under])
        vals = np.concatenate([vals, np.ones(m), -np.ones(m)])
    rhs = np.floor(a.sum(axis=1) / 2)
    b.add_rows("split", m, rows=rows, cols=cols, vals=vals, lower=rhs, upper=rhs)
    return b.build()


MAIN = [s for s in ("highs", "cbc", "pyomo-highs", "scip") if s in AVAILABLE]


def test_the_usual_backends_are_available_here() -> None:
    assert {"highs", "cbc", "pyomo-highs"} <= set(AVAILABLE)
    rows = {name: (ok, text) for name, ok, text in describe_solvers()}
    assert rows["highs"][0] and rows["cbc"][0]
    assert set(SOLVERS) <= set(rows)
    if "scip" not in AVAILABLE:
        assert rows["scip"] == (False, "pyscipopt is not installed")


def test_unknown_or_missing_solvers_name_the_available_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown solver 'gurobi'; available: highs"):
        get_solver("gurobi")
    with pytest.raises(UsageError, match=r"Pyomo knows no solver 'nosuch'.*available: highs"):
        solve_milp(knapsack(), "pyomo:nosuch")
    if "scip" not in AVAILABLE:
        with pytest.raises(UsageError, match="pyscipopt is not installed"):
            get_solver("scip")


def test_importing_splitbench_imports_no_solver() -> None:
    code = (
        "import sys, splitbench, splitbench.solvers, splitbench.formulations, "
        "splitbench.formulations.methods, splitbench.methods; "
        "print(sorted(m for m in ('highspy', 'pyomo', 'pulp', 'pyscipopt') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("solver", AVAILABLE)
def test_optimal_with_the_objective_constant(solver: str) -> None:
    result = solve_milp(knapsack(constant=10.0), solver, mip_rel_gap=1e-9)
    assert result.status is Status.OPTIMAL, result.message
    assert result.values is not None and result.values.round().tolist() == [0.0, 1.0, 1.0]
    assert result.objective == pytest.approx(4.0)
    assert result.bound is not None and result.bound <= 4.0 + 1e-6
    assert result.solver == solver and result.solver_version
    assert result.solve_time_s is not None and result.translate_time_s is not None


@pytest.mark.parametrize("solver", AVAILABLE)
def test_infeasible(solver: str) -> None:
    result = solve_milp(knapsack(capacity=0.5), solver)
    assert result.status is Status.INFEASIBLE, result.message
    assert result.values is None and result.objective is None


@pytest.mark.parametrize("solver", AVAILABLE)
def test_lp_relaxation(solver: str) -> None:
    result = solve_milp(knapsack().relax(), solver)
    assert result.status is Status.OPTIMAL, result.message
    assert result.objective == pytest.approx(-3.0 - 2.0 - 4.0 / 3.0)
    assert result.bound == result.objective and result.nodes is None


def test_an_empty_row_that_excludes_zero_is_infeasible_before_any_solver() -> None:
    b = MILPBuilder("empty")
    b.add_vars("x", ["a"], upper=1.0, integer=True)
    b.add_rows("R1_conservation", 1, rows=[], cols=[], vals=[], lower=-1.0, upper=-1.0)
    for solver in MAIN:
        result = solve_milp(b.build(), solver)
        assert result.status is Status.INFEASIBLE
        assert "R1_conservation" in result.message


@pytest.mark.parametrize("solver", MAIN)
def test_time_limit_keeps_incumbent_and_bound(solver: str) -> None:
    result = solve_milp(market_split(slack=True), solver, time_limit_s=0.5)
    assert result.status is Status.TIME_LIMIT, result.message
    assert result.values is not None and result.objective is not None
    assert result.objective > 0
    assert result.bound is not None and result.bound <= result.objective


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_time_limit_without_incumbent(solver: str) -> None:
    result = solve_milp(market_split(slack=False), solver, time_limit_s=0.5)
    assert result.status is Status.TIME_LIMIT, result.message
    assert result.values is None and result.objective is None


@dataclass
class _Stub:
    """An adapter whose answer the test decides."""

    answer: SolverResult | None = None
    raises: Exception | None = None
    name: str = "stub"
    calls: list[Any] = field(default_factory=list)

    def unavailable_reason(self) -> str | None:
        return None

    def version(self) -> str | None:
        return "0"

    def solve(self, milp: MILP, settings: SolverSettings) -> SolverResult:
        self.calls.append(settings)
        if self.raises is not None:
            raise self.raises
        assert self.answer is not None
        return self.answer


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> _Stub:
    adapter = _Stub()
    monkeypatch.setitem(solvers_base.SOLVERS, "stub", lambda: adapter)
    return adapter


def test_a_failing_solver_is_an_error_result(stub: _Stub) -> None:
    stub.raises = RuntimeError("segfault averted")
    result = solve_milp(knapsack(), "stub", time_limit_s=3.0, mip_rel_gap=0.1)
    assert result.status is Status.ERROR
    assert result.message == "RuntimeError: segfault averted"
    assert stub.calls == [SolverSettings(time_limit_s=3.0, mip_rel_gap=0.1, threads=1)]


def test_a_solution_that_breaks_the_model_is_not_trusted(stub: _Stub) -> None:
    stub.answer = SolverResult(
        status=Status.OPTIMAL, values=np.array([0.5, 0.0, 0.0]), message="Optimal"
    )
    result = solve_milp(knapsack(), "stub")
    assert result.status is Status.ERROR and result.values is None
    assert "violates the model by 0.5" in result.message
    stub.answer = SolverResult(
        status=Status.TIME_LIMIT, values=np.array([1.0, 1.0, 1.0]), bound=-9.0
    )
    result = solve_milp(knapsack(constant=1.0), "stub")
    assert result.status is Status.TIME_LIMIT and result.values is None
    assert result.bound == -8.0


def test_the_objective_is_recomputed_and_the_bound_shifted(stub: _Stub) -> None:
    stub.answer = SolverResult(
        status=Status.FEASIBLE, values=np.array([1.0, 0.0, 0.0]), objective=123.0, bound=-6.0
    )
    result = solve_milp(knapsack(constant=2.0), "stub")
    assert (result.status, result.objective, result.bound) == (Status.FEASIBLE, -1.0, -4.0)
