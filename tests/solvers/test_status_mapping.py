"""Native statuses map into the one vocabulary through each adapter's table; an
unknown one is termination ``error`` with the native text, never an exception."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from splitbench.solvers import SOLVERS, SolverAdapter, map_native_status
from splitbench.solvers.base import result_from_native
from splitbench.solvers.cbc import parse_cbc_log, read_cbc_result
from splitbench.solvers.highs import read_highs_result
from splitbench.solvers.pyomo import PyomoAdapter, read_pyomo_result
from splitbench.status import Proof, Status, Termination

ADAPTERS: list[SolverAdapter] = [factory() for factory in SOLVERS.values()] + [PyomoAdapter("cbc")]
"""Every registered backend, and the ``pyomo:NAME`` family."""

RESULT_STATUSES = {Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE, Status.NONE}


def test_every_registered_backend_is_checked_here() -> None:
    assert {a.name for a in ADAPTERS} >= set(SOLVERS.names())
    for adapter in ADAPTERS:
        assert len(adapter.native_status) >= 5, adapter.name


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_every_native_status_maps_to_a_valid_pair(adapter: SolverAdapter) -> None:
    for native, pair in adapter.native_status.items():
        termination, proof = pair
        assert isinstance(termination, Termination) and isinstance(proof, Proof), native
        assert map_native_status(adapter.native_status, native) == pair
        if proof is not Proof.NONE:  # only a finished run proves anything
            assert termination is Termination.COMPLETED, native
        for values in (None, np.zeros(2)):
            result = result_from_native(
                adapter.native_status, native, values=values, all_bounded=True, n_vars=2
            )
            assert result.status in RESULT_STATUSES
            assert result.termination in (termination, Termination.ERROR)
            if proof in (Proof.INFEASIBLE, Proof.INFEASIBLE_OR_UNBOUNDED):
                assert (result.status, result.values) == (Status.INFEASIBLE, None)
            elif values is None:
                assert result.status is Status.NONE
            if result.status is Status.OPTIMAL:
                assert (termination, proof) == (Termination.COMPLETED, Proof.OPTIMAL)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
@pytest.mark.parametrize("native", ["somethingNew", (7, 7), ["unhashable"], None])
def test_an_unknown_native_status_is_an_error(adapter: SolverAdapter, native: Any) -> None:
    assert map_native_status(adapter.native_status, native) == (Termination.ERROR, Proof.NONE)
    result = result_from_native(
        adapter.native_status, native, values=np.ones(2), all_bounded=True, text="native text"
    )
    assert result.termination is Termination.ERROR
    assert result.message == "unknown native status: native text"
    assert result.status is Status.FEASIBLE  # an incumbent is kept; the evaluator judges it


def test_infeasible_or_unbounded_is_infeasible_only_with_bounded_columns() -> None:
    table = ADAPTERS[0].native_status
    bounded = result_from_native(
        table, "kUnboundedOrInfeasible", values=None, all_bounded=True, bound=1.0
    )
    free = result_from_native(table, "kUnboundedOrInfeasible", values=None, all_bounded=False)
    assert (bounded.status, bounded.bound) == (Status.INFEASIBLE, None)
    assert free.status is Status.NONE


def test_the_tables_know_every_status_the_installed_solvers_define() -> None:
    highspy = pytest.importorskip("highspy")
    names = {n for n in dir(highspy.HighsModelStatus) if n.startswith("k")}
    assert names <= set(SOLVERS.get("highs")().native_status)
    from pyomo.opt import TerminationCondition

    known = set(PyomoAdapter("cbc").native_status)
    assert {t.value for t in TerminationCondition} <= known


class FakeHighs:
    """Just what :func:`read_highs_result` asks of a ``highspy.Highs``."""

    def __init__(self, status: str, *, solution: bool) -> None:
        import highspy

        self.status = getattr(highspy.HighsModelStatus, status)
        self.info = SimpleNamespace(
            primal_solution_status=2 if solution else 0,
            mip_dual_bound=-1.5,
            mip_node_count=7,
            objective_function_value=3.0,
        )

    def getModelStatus(self) -> Any:  # noqa: N802 (highspy's names)
        return self.status

    def modelStatusToString(self, status: Any) -> str:  # noqa: N802
        return f"native {status.name}"

    def getInfo(self) -> Any:  # noqa: N802
        return self.info

    def getSolution(self) -> Any:  # noqa: N802
        return SimpleNamespace(col_value=[1.0, 0.0])

    def getRunTime(self) -> float:  # noqa: N802
        return 0.25

    def getNumCol(self) -> int:  # noqa: N802
        return 2


_OPT, _FEAS, _INF, _NONE = Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE, Status.NONE
_C, _T, _L, _I, _E = (
    Termination.COMPLETED,
    Termination.TIME_LIMIT,
    Termination.OTHER_LIMIT,
    Termination.INTERRUPTED,
    Termination.ERROR,
)


@pytest.mark.parametrize(
    ("native", "solution", "bounded", "expected"),
    [
        ("kOptimal", True, True, (_OPT, _C)),
        ("kOptimal", False, True, (_NONE, _E)),
        ("kInfeasible", False, True, (_INF, _C)),
        ("kUnboundedOrInfeasible", False, True, (_INF, _C)),
        ("kUnboundedOrInfeasible", False, False, (_NONE, _C)),
        ("kTimeLimit", True, True, (_FEAS, _T)),
        ("kTimeLimit", False, True, (_NONE, _T)),
        ("kIterationLimit", True, True, (_FEAS, _L)),
        ("kInterrupt", False, True, (_NONE, _I)),
        ("kSolveError", False, True, (_NONE, _E)),
        ("kUnknown", True, True, (_FEAS, _E)),
    ],
)
def test_highs_statuses(
    native: str, solution: bool, bounded: bool, expected: tuple[Status, Termination]
) -> None:
    pytest.importorskip("highspy")
    result = read_highs_result(FakeHighs(native, solution=solution), is_mip=True, bounded=bounded)
    assert (result.status, result.termination) == expected
    assert result.message.startswith(f"native {native}")
    assert (result.nodes, result.solver_time_s) == (7, 0.25)
    assert result.bound == (None if expected[0] is _INF else -1.5)
    assert (result.values is not None) == (solution and expected[0] is not _INF)


class FakeModel:
    """A model with variables ``x`` and a ``solutions.load_from`` that sets them."""

    def __init__(self) -> None:
        self.x = {
            0: SimpleNamespace(value=None, lb=0.0, ub=1.0),
            1: SimpleNamespace(value=None, lb=0.5, ub=1.0),
        }
        self.solutions = SimpleNamespace(load_from=self._load)

    def _load(self, results: Any) -> None:
        self.x[0].value = 1.0  # x[1] never reached the solver: it stays None


def _pyomo_results(condition: str, n_solutions: int) -> Any:
    return SimpleNamespace(
        solver=SimpleNamespace(
            termination_condition=SimpleNamespace(value=condition),
            wallclock_time=0.5,
            message=None,
        ),
        problem=SimpleNamespace(lower_bound=-2.0),
        solution=[object()] * n_solutions,
    )


@pytest.mark.parametrize(
    ("condition", "n_solutions", "expected"),
    [
        ("optimal", 1, (_OPT, _C)),
        ("optimal", 0, (_NONE, _E)),
        ("infeasible", 0, (_INF, _C)),
        ("infeasibleOrUnbounded", 0, (_INF, _C)),
        ("maxTimeLimit", 1, (_FEAS, _T)),
        ("maxTimeLimit", 0, (_NONE, _T)),
        ("maxIterations", 1, (_FEAS, _L)),
        ("intermediateNonInteger", 1, (_NONE, _L)),
        ("userInterrupt", 0, (_NONE, _I)),
        ("solverFailure", 0, (_NONE, _E)),
        ("somethingNew", 1, (_FEAS, _E)),
    ],
)
def test_pyomo_conditions(
    condition: str, n_solutions: int, expected: tuple[Status, Termination]
) -> None:
    result = read_pyomo_result(
        FakeModel(), _pyomo_results(condition, n_solutions), bounded=True, is_mip=True
    )
    assert (result.status, result.termination) == expected
    assert condition in result.message and result.solver_time_s == 0.5
    if result.values is not None:
        assert result.values.tolist() == [1.0, 0.5]  # an unseen column: its bound nearest 0


_NO_LOG = parse_cbc_log("")


@pytest.mark.parametrize(
    ("status", "sol_status", "head", "log", "expected"),
    [
        (1, 1, "Optimal - objective value 2", "Result - Optimal solution found", (_OPT, _C)),
        (-1, -1, "Infeasible - objective value 0", "", (_INF, _C)),
        (-1, 0, "Integer infeasible - objective value 0", "", (_INF, _C)),
        (
            1,
            2,
            "Stopped on time - objective value 3",
            "Result - Stopped on time limit",
            (_FEAS, _T),
        ),
        (1, 2, "Stopped on time - objective value 1e+50", "", (_NONE, _T)),
        (0, 0, "Stopped on iterations or time", "", (_NONE, _T)),
        (1, 2, "Stopped on nodes - objective value 3", "", (_FEAS, _L)),
        (0, 0, "Stopped on nodes - objective value 3", "", (_NONE, _L)),
        (1, 2, "Stopped on ctrl-c - objective value 3", "", (_FEAS, _I)),
        (-3, 0, "Gibberish", "", (_NONE, _E)),
        (-2, -3, "Something new", "", (_FEAS, _E)),
    ],
)
def test_cbc_statuses(
    status: int, sol_status: int, head: str, log: str, expected: tuple[Status, Termination]
) -> None:
    has_values = expected[0] in (_OPT, _FEAS) or "1e+50" in head  # CBC's "no incumbent"
    result = read_cbc_result(
        status,
        sol_status,
        head=head,
        log=parse_cbc_log(log),
        values=np.array([1.0, 0.0]) if has_values else None,
        is_mip=True,
        bounded=True,
    )
    assert (result.status, result.termination) == expected, result.message
    assert result.message and "objective value" not in result.message


def test_cbc_bounds_are_read_at_the_precision_printed() -> None:
    log = parse_cbc_log(
        "Cbc0010I After 0 nodes, 1 on tree, 1e+50 best solution, best possible 0.998403 (0.01 s)\n"
        "Cbc0005I Partial search - best objective 1.2 (best possible 0.998412), took 3\n"
        "Result - Stopped on time limit\n\nObjective value:  1.20000000\n"
        "Lower bound:  0.998\nEnumerated nodes:  12\n(Wallclock seconds):  1.01\n"
    )
    assert log["bound"] == pytest.approx(0.998412 - 5e-7, abs=1e-15)  # 6 digits beat 3
    assert log["bound"] < 0.998412 and (log["nodes"], log["wallclock"]) == (12, 1.01)
    assert parse_cbc_log("Lower bound:  1.250\n")["bound"] == pytest.approx(1.2495)
    assert parse_cbc_log("best possible 0 (0.1 seconds)")["bound"] == 0.0
    assert _NO_LOG["bound"] is None and _NO_LOG["result"] is None
