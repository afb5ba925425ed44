"""Every backend: one status vocabulary, incumbent and bound kept apart, failures as
results, settings validated before any work, lazy imports, scaling that keeps tiny
objectives exact, time limits honoured, and a clear error for a missing solver."""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from splitbench.errors import UsageError
from splitbench.evaluate import evaluate
from splitbench.formulations import build_assignment, build_routing
from splitbench.instance import Instance, load_instance
from splitbench.milp import MILP, MILPBuilder
from splitbench.solvers import (
    SOLVERS,
    SolverResult,
    SolverSettings,
    available_solvers,
    describe_solvers,
    get_solver,
    solve_milp,
)
from splitbench.solvers import cbc as cbc_module
from splitbench.solvers.highs import configured_highs
from splitbench.solvers.pyomo import PyomoAdapter
from splitbench.solvers.solve import scaling_of
from splitbench.status import Status, Termination

AVAILABLE = available_solvers()
MAIN = [s for s in ("highs", "cbc", "pyomo-highs", "scip") if s in AVAILABLE]
TIMED = [s for s in ("highs", "cbc", "pyomo-highs", "pyomo:cbc", "scip") if s in AVAILABLE]
DATA = Path(__file__).parent / "data"


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
        over = b.add_vars("over", list(range(m)), cost=1.0, upper=1e4)
        under = b.add_vars("under", list(range(m)), cost=1.0, upper=1e4)
        rows = np.concatenate([rows, np.arange(m), np.arange(m)])
        cols = np.concatenate([cols, over, under])
        vals = np.concatenate([vals, np.ones(m), -np.ones(m)])
    rhs = np.floor(a.sum(axis=1) / 2)
    b.add_rows("split", m, rows=rows, cols=cols, vals=vals, lower=rhs, upper=rhs)
    return b.build()


def test_the_usual_backends_are_available_here() -> None:
    assert {"highs", "cbc", "pyomo-highs", "pyomo:cbc"} <= set(AVAILABLE)
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
    for empty in ("pyomo:", "pyomo:  "):
        with pytest.raises(UsageError, match=r"names no Pyomo solver: write pyomo:NAME"):
            get_solver(empty)
    if "scip" not in AVAILABLE:
        with pytest.raises(UsageError, match="pyscipopt is not installed"):
            get_solver("scip")


def test_importing_the_solver_layer_imports_no_solver() -> None:
    code = (
        "import sys, splitbench, splitbench.solvers, splitbench.solvers.solve, "
        "splitbench.formulations, splitbench.milp; "
        "print(sorted(m for m in ('highspy', 'pyomo', 'pulp', 'pyscipopt') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


ORDER = {
    "base": 0,
    "mps": 1,
    "highs": 2,
    "cbc": 2,
    "pyomo": 2,
    "scip": 2,
    "registry": 3,
    "solve": 4,
}
"""Where each module of solvers/ stands: it imports only from lower numbers."""


def test_solver_modules_import_leftwards_only_and_never_inside_functions() -> None:
    """base <- mps <- backends <- registry <- solve; splitbench imports at module level."""
    folder = Path(get_solver.__code__.co_filename).parent
    wrong = []
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith(
                        "splitbench"
                    ):
                        wrong.append(f"{path.name}:{inner.lineno} imports inside a function")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "splitbench.solvers."
            ):
                target = (node.module or "").rsplit(".", 1)[-1]
                if path.stem != "__init__" and ORDER[target] >= ORDER[path.stem]:
                    wrong.append(f"{path.name} -> {target}")
    assert wrong == []


@pytest.mark.parametrize("solver", AVAILABLE)
def test_optimal_with_the_objective_constant(solver: str) -> None:
    result = solve_milp(knapsack(constant=10.0), solver, SolverSettings(mip_rel_gap=1e-9))
    assert (result.status, result.termination) == (Status.OPTIMAL, Termination.COMPLETED)
    assert result.values is not None and result.values.round().tolist() == [0.0, 1.0, 1.0]
    assert result.objective == pytest.approx(4.0)
    assert result.bound is not None and 4.0 - 1e-6 <= result.bound <= result.objective
    assert result.solver == solver and result.solver_version
    assert result.solve_time_s is not None and result.translate_time_s is not None


@pytest.mark.parametrize("solver", AVAILABLE)
def test_infeasible(solver: str) -> None:
    result = solve_milp(knapsack(capacity=0.5), solver)
    assert (result.status, result.termination) == (Status.INFEASIBLE, Termination.COMPLETED)
    assert result.values is None and result.objective is None and result.bound is None


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
        assert (result.status, result.termination) == (Status.INFEASIBLE, Termination.COMPLETED)
        assert "R1_conservation" in result.message


# -- 5a: objectives of 1e-7..1e-11 (latencies in seconds) -------------------------------

EXHAUSTIVE_OPTIMUM = 1.5234419253258743e-05
"""The optimum of fin-b-lenet (latency, expected policy) found by ``exhaustive``; routing,
label-setting and an independent solver agree. The unscaled assignment MILP said
1.5674e-05 (HiGHS) and 1.5434e-05 (CBC), both "optimal"."""


@pytest.fixture(scope="module")
def lenet() -> Instance:
    """``splitbench generate fin-branchy --param dnn=b-lenet --param objective=latency
    --param exit_policy=expected``, saved once."""
    return load_instance(DATA / "fin-b-lenet-latency-expected.json")


@pytest.mark.parametrize("factor", [1.0, 1e-2, 1e-3, 1e3])
@pytest.mark.parametrize("builder", [build_routing, build_assignment])
@pytest.mark.parametrize("solver", [s for s in ("highs", "cbc") if s in AVAILABLE])
def test_tiny_objective_coefficients_give_the_true_optimum(
    lenet: Instance, builder: Any, solver: str, factor: float
) -> None:
    form = builder(lenet)
    assert form.exact
    milp = form.milp.scaled(factor)  # times x 1e-2 etc.: the objective gets smaller still
    nonzero = np.abs(form.milp.c[form.milp.c != 0])
    assert nonzero.min() < 1e-10 and nonzero.max() < 1e-4
    result = solve_milp(milp, solver)
    assert result.status is Status.OPTIMAL, result.message
    assert result.objective is not None and result.bound is not None
    assert result.objective / factor == pytest.approx(EXHAUSTIVE_OPTIMUM, rel=1e-6)
    assert result.objective * (1 - 1e-6) <= result.bound <= result.objective
    assert result.values is not None
    check = evaluate(lenet, form.decode(result.values))
    assert check.feasible and check.objective == pytest.approx(EXHAUSTIVE_OPTIMUM, rel=1e-9)


def test_scaling_uses_exact_powers_of_two_and_keeps_tiny_rows_visible(lenet: Instance) -> None:
    milp = build_assignment(lenet).milp
    scaling = scaling_of(milp)
    exponents = np.log2(np.append(scaling.rows, scaling.objective))
    assert np.array_equal(exponents, np.round(exponents))
    scaled = milp.scaled(scaling.objective, scaling.rows)
    costs = np.abs(scaled.c[scaled.c != 0])
    # the largest cost at about 1, or higher while the smallest is raised to 2^-10
    assert 0.5 <= costs.max() <= 2.0**20
    assert costs.min() >= 2.0**-11 or costs.max() >= 2.0**19
    largest = np.maximum.reduceat(np.abs(scaled.A.data), scaled.A.indptr[:-1])
    assert np.all(largest <= 8.0) and np.all(largest >= 1 / 8)
    # the same solutions: activities scale exactly, so the bounds hold alike
    x = np.zeros(milp.n_vars)
    assert np.array_equal(scaled.row_activity(x), milp.row_activity(x) * scaling.rows)
    well = knapsack()
    assert scaling_of(well).rows.tolist() == [1.0, 1.0]


def test_tiny_costs_among_large_ones_are_raised_within_limits() -> None:
    b = MILPBuilder("range")
    b.add_vars("x", ["a", "b", "c"], cost=[19.0, 1.6e-7, 0.0], upper=1.0, integer=True)
    scaling = scaling_of(b.build())
    assert scaling.objective == 2.0**13  # 1.6e-7 x 2^13 >= 2^-10; 19 x 2^13 < 2^20
    b = MILPBuilder("wide")
    b.add_vars("x", ["a", "b"], cost=[1e4, 1e-12], upper=1.0, integer=True)
    assert scaling_of(b.build()).objective == 2.0**6  # the largest stops it at 2^20


def test_scaling_down_never_pushes_small_coefficients_out_of_sight() -> None:
    b = MILPBuilder("bytes")
    x = b.add_vars("x", ["a", "b"], cost=1.0, upper=1.0)
    b.add_rows("memory", 1, rows=[0, 0], cols=x, vals=[1e8, 1e-1], upper=1.6e10)
    scaling = scaling_of(b.build())
    assert scaling.rows[0] < 1.0 and 1e-1 * scaling.rows[0] >= 2.0**-30


# -- stub adapters: what solve_milp does with an answer --------------------------------


@dataclass
class _Stub:
    """An adapter whose answer the test decides."""

    answer: SolverResult | None = None
    raises: Exception | None = None
    name: str = "stub"
    native_status: dict[Any, Any] = field(default_factory=dict)
    calls: list[tuple[MILP, SolverSettings]] = field(default_factory=list)

    def unavailable_reason(self) -> str | None:
        return None

    def version(self) -> str | None:
        return "0"

    def solve(self, milp: MILP, settings: SolverSettings) -> SolverResult:
        self.calls.append((milp, settings))
        if self.raises is not None:
            raise self.raises
        assert self.answer is not None
        return self.answer


@pytest.fixture
def stub() -> Iterator[_Stub]:
    adapter = _Stub()
    SOLVERS.register("stub", lambda: adapter)
    yield adapter
    SOLVERS.unregister("stub")


KNAPSACK_SCALE = 1.0
"""Knapsack costs reach 4: an objective is never scaled down, so the backend sees them
as they are (tiny objectives are scaled up: see the LeNet regression below)."""


def test_the_backend_sees_the_scaled_model(stub: _Stub) -> None:
    stub.answer = SolverResult(Status.FEASIBLE, Termination.COMPLETED, values=np.zeros(3))
    solve_milp(knapsack(), "stub")
    seen, _ = stub.calls[0]
    assert seen.c.tolist() == (knapsack().c * KNAPSACK_SCALE).tolist()


def test_a_failing_solver_is_an_error_result(stub: _Stub) -> None:
    stub.raises = RuntimeError("segfault averted")
    result = solve_milp(knapsack(), "stub", SolverSettings(time_limit_s=3.0, mip_rel_gap=0.1))
    assert (result.status, result.termination) == (Status.NONE, Termination.ERROR)
    assert result.message == "RuntimeError: segfault averted"
    assert stub.calls[0][1] == SolverSettings(time_limit_s=3.0, mip_rel_gap=0.1, threads=1)


def test_a_solution_that_breaks_the_model_is_not_trusted(stub: _Stub) -> None:
    stub.answer = SolverResult(
        Status.OPTIMAL, Termination.COMPLETED, values=np.array([0.5, 0.0, 0.0]), message="Optimal"
    )
    result = solve_milp(knapsack(), "stub")
    assert (result.status, result.termination) == (Status.NONE, Termination.ERROR)
    assert result.values is None and result.objective is None
    assert "violates the model by 0.5" in result.message
    stub.answer = SolverResult(
        Status.FEASIBLE,
        Termination.TIME_LIMIT,
        values=np.array([1.0, 1.0, 1.0]),
        bound=-9.0 * KNAPSACK_SCALE,
    )
    result = solve_milp(knapsack(constant=1.0), "stub")
    assert (result.status, result.termination) == (Status.NONE, Termination.TIME_LIMIT)
    assert result.values is None and result.bound == -8.0


def test_the_objective_is_recomputed_and_the_bound_unscaled(stub: _Stub) -> None:
    stub.answer = SolverResult(
        Status.FEASIBLE,
        Termination.TIME_LIMIT,
        values=np.array([1.0, 0.0, 0.0]),
        objective=123.0,
        bound=-6.0 * KNAPSACK_SCALE,
    )
    result = solve_milp(knapsack(constant=2.0), "stub")
    assert (result.status, result.objective, result.bound) == (Status.FEASIBLE, -1.0, -4.0)
    stub.answer = SolverResult(
        Status.OPTIMAL, Termination.COMPLETED, values=np.array([0.0, 1.0, 1.0]), bound=0.0
    )
    result = solve_milp(knapsack(), "stub")  # a bound above an optimal incumbent is clipped
    assert (result.objective, result.bound) == (-6.0, -6.0)


@pytest.mark.parametrize(
    "settings",
    [
        SolverSettings(time_limit_s=float("nan")),
        SolverSettings(time_limit_s=-1.0),
        SolverSettings(time_limit_s=0.0),
        SolverSettings(time_limit_s=float("inf")),
        SolverSettings(mip_rel_gap=-0.1),
        SolverSettings(mip_rel_gap=1.0),
        SolverSettings(mip_rel_gap=float("nan")),
        SolverSettings(threads=0),
        SolverSettings(threads=True),
        SolverSettings(threads=1.5),  # type: ignore[arg-type]  (what a careless caller passes)
    ],
)
def test_invalid_settings_are_refused_before_any_work(
    stub: _Stub, settings: SolverSettings
) -> None:
    with pytest.raises(UsageError, match=r"time limit|gap|threads"):
        solve_milp(knapsack(), "stub", settings)
    assert stub.calls == []
    with pytest.raises(UsageError):
        solve_milp(knapsack(), "highs", settings)


# -- 10: time limits, honoured by every backend ----------------------------------------

LIMIT_S = 1.0
MARGIN_S = 1.0


@pytest.mark.parametrize("solver", TIMED)
def test_a_time_limit_keeps_incumbent_and_bound(solver: str) -> None:
    milp = market_split(slack=True)
    start = time.perf_counter()
    result = solve_milp(milp, solver, SolverSettings(time_limit_s=LIMIT_S))
    elapsed = time.perf_counter() - start
    assert result.termination is Termination.TIME_LIMIT, result.message
    assert result.solve_time_s is not None and result.translate_time_s is not None
    assert result.solve_time_s + result.translate_time_s <= LIMIT_S + MARGIN_S
    assert elapsed <= LIMIT_S + MARGIN_S + 2.0  # the rest: adapters' imports and versions
    assert result.status is Status.FEASIBLE
    assert result.values is not None and result.objective is not None and result.objective > 0
    assert result.objective == pytest.approx(milp.objective_value(result.values))
    if solver != "pyomo-highs" or result.bound is not None:  # HiGHS via Pyomo may not say
        assert result.bound is not None and 0.0 <= result.bound <= result.objective


@pytest.mark.slow
@pytest.mark.parametrize("solver", TIMED)
def test_a_time_limit_without_incumbent(solver: str) -> None:
    result = solve_milp(market_split(slack=False), solver, SolverSettings(time_limit_s=LIMIT_S))
    assert (result.status, result.termination) == (Status.NONE, Termination.TIME_LIMIT)
    assert result.values is None and result.objective is None
    assert (result.solve_time_s or 0.0) + (result.translate_time_s or 0.0) <= LIMIT_S + MARGIN_S


def _sleeper(folder: Path) -> str:
    """A stand-in CBC that ignores its time limit (exec: no child keeps the pipes open)."""
    path = folder / "cbc"
    path.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for CBC")
def test_cbc_that_overruns_its_limit_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cbc_module, "cbc_executable", lambda: _sleeper(tmp_path))
    start = time.perf_counter()
    result = cbc_module.CbcAdapter().solve(knapsack(), SolverSettings(time_limit_s=0.5))
    assert time.perf_counter() - start < 0.5 + cbc_module.KILL_MARGIN_S + 1.0
    assert (result.status, result.termination) == (Status.NONE, Termination.TIME_LIMIT)
    assert "ran past its time limit" in result.message


def test_pyomo_timeout_expired_is_a_time_limit_and_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pyomo.common.tempfiles import TempfileManager

    left: list[str] = []

    class Killed:
        """What Pyomo's shell solvers do when their process overruns: the problem file
        is written in a pushed tempfile context that is never popped."""

        def solve(self, model: Any, **kwargs: Any) -> Any:
            TempfileManager.push()
            left.append(TempfileManager.create_tempfile(suffix=".pyomo.lp"))
            raise subprocess.TimeoutExpired(["cbc"], kwargs.get("timelimit", 0.0))

    monkeypatch.setattr(PyomoAdapter, "_factory", lambda self: Killed())
    monkeypatch.setattr(PyomoAdapter, "version", lambda self: "fake")
    depth = len(TempfileManager._context_stack)
    result = PyomoAdapter("cbc").solve(knapsack(), SolverSettings(time_limit_s=1.0))
    assert (result.status, result.termination) == (Status.NONE, Termination.TIME_LIMIT)
    assert "stopped by Pyomo" in result.message
    assert left and not os.path.exists(left[0])
    assert len(TempfileManager._context_stack) == depth


def test_every_backend_is_told_a_zero_absolute_gap() -> None:
    h = configured_highs(SolverSettings(mip_rel_gap=1e-7))
    assert (h.getOptionValue("mip_abs_gap")[1], h.getOptionValue("mip_rel_gap")[1]) == (0.0, 1e-7)
    command = cbc_module.cbc_command(
        "cbc", "m.mps", "m.sol", SolverSettings(mip_rel_gap=1e-7), time_limit_s=None, mip=True
    )
    assert command[command.index("-allow") + 1] == "0"
    assert command[command.index("-ratio") + 1] == "1e-07"
    for name in ("highs", "cbc", "scip", "gurobi_direct", "cplex_direct", "xpress_direct"):
        options = PyomoAdapter(name).options(SolverSettings(mip_rel_gap=1e-7))
        assert sorted(options.values(), key=float)[:2] == [0.0, 1e-7], name
