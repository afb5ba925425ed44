"""Native statuses map into the one vocabulary; an unknown one is an error with the
native text, never an exception."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from splitbench.solution import Status
from splitbench.solvers.cbc import _file_status, _read, parse_cbc_log
from splitbench.solvers.highs import read_highs_result
from splitbench.solvers.pyomo import _read as read_pyomo


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
        self.solution = solution

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


@pytest.mark.parametrize(
    ("native", "solution", "bounded", "expected"),
    [
        ("kOptimal", True, True, Status.OPTIMAL),
        ("kOptimal", False, True, Status.ERROR),
        ("kInfeasible", False, True, Status.INFEASIBLE),
        ("kUnboundedOrInfeasible", False, True, Status.INFEASIBLE),
        ("kUnboundedOrInfeasible", False, False, Status.NO_SOLUTION),
        ("kTimeLimit", True, True, Status.TIME_LIMIT),
        ("kTimeLimit", False, True, Status.TIME_LIMIT),
        ("kIterationLimit", True, True, Status.FEASIBLE),
        ("kInterrupt", False, True, Status.NO_SOLUTION),
        ("kSolveError", False, True, Status.ERROR),
        ("kUnknown", True, True, Status.ERROR),
        ("kUnbounded", True, True, Status.ERROR),
    ],
)
def test_highs_statuses(native: str, solution: bool, bounded: bool, expected: Status) -> None:
    result = read_highs_result(FakeHighs(native, solution=solution), is_mip=True, bounded=bounded)
    assert result.status is expected
    assert result.message.startswith(f"native {native}")
    assert (result.nodes, result.solver_time_s, result.bound) == (7, 0.25, -1.5)
    assert (result.values is not None) == (solution and expected is not Status.INFEASIBLE)


class FakeModel:
    """A model with variables ``x`` and a ``solutions.load_from`` that sets them."""

    def __init__(self) -> None:
        self.x = {0: SimpleNamespace(value=None), 1: SimpleNamespace(value=None)}
        self.solutions = SimpleNamespace(load_from=self._load)

    def _load(self, results: Any) -> None:
        self.x[0].value, self.x[1].value = 1.0, 0.0


def _pyomo_results(condition: str, n_solutions: int) -> Any:
    return SimpleNamespace(
        solver=SimpleNamespace(
            termination_condition=f"TerminationCondition.{condition}",
            wallclock_time=0.5,
            message=None,
        ),
        problem=SimpleNamespace(lower_bound=-2.0),
        solution=[object()] * n_solutions,
    )


@pytest.mark.parametrize(
    ("condition", "n_solutions", "expected"),
    [
        ("optimal", 1, Status.OPTIMAL),
        ("optimal", 0, Status.ERROR),
        ("infeasible", 0, Status.INFEASIBLE),
        ("infeasibleOrUnbounded", 0, Status.INFEASIBLE),
        ("maxTimeLimit", 1, Status.TIME_LIMIT),
        ("maxTimeLimit", 0, Status.TIME_LIMIT),
        ("maxIterations", 1, Status.FEASIBLE),
        ("userInterrupt", 0, Status.NO_SOLUTION),
        ("solverFailure", 0, Status.ERROR),
        ("somethingNew", 1, Status.ERROR),
    ],
)
def test_pyomo_conditions(condition: str, n_solutions: int, expected: Status) -> None:
    result = read_pyomo(
        FakeModel(), _pyomo_results(condition, n_solutions), bounded=True, is_mip=True
    )
    assert result.status is expected
    assert result.message == condition and result.solver_time_s == 0.5
    if expected in (Status.TIME_LIMIT, Status.FEASIBLE) and n_solutions:
        assert result.values is not None and result.values.tolist() == [1.0, 0.0]


def test_pyomo_infeasible_or_unbounded_with_free_columns_is_no_solution() -> None:
    result = read_pyomo(
        FakeModel(), _pyomo_results("infeasibleOrUnbounded", 0), bounded=False, is_mip=True
    )
    assert result.status is Status.NO_SOLUTION


def _prob(status: int, sol_status: int) -> Any:
    return SimpleNamespace(status=status, sol_status=sol_status, objective=None)


_NO_LOG = {
    "result": None,
    "objective": None,
    "bound": None,
    "nodes": None,
    "wallclock": None,
    "infeasible": False,
}


@pytest.mark.parametrize(
    ("status", "sol_status", "log", "expected"),
    [
        (1, 1, {"result": "Optimal solution found", "objective": 2.0}, Status.OPTIMAL),
        (-1, -1, {"infeasible": True}, Status.INFEASIBLE),
        (1, 2, {"result": "Stopped on time limit", "bound": 0.5}, Status.TIME_LIMIT),
        (0, 0, {"result": "Stopped on time limit"}, Status.TIME_LIMIT),
        (0, 0, {"result": "Stopped on iterations or time"}, Status.TIME_LIMIT),
        (1, 2, {"result": "Stopped on node limit"}, Status.FEASIBLE),
        (0, 0, {"result": "Stopped on node limit"}, Status.NO_SOLUTION),
        (-3, 0, {}, Status.ERROR),
        (-2, -2, {"result": "Something new"}, Status.ERROR),
    ],
)
def test_cbc_statuses(status: int, sol_status: int, log: dict[str, Any], expected: Status) -> None:
    variables = [SimpleNamespace(varValue=1.0), SimpleNamespace(varValue=None)]
    result = _read(_prob(status, sol_status), variables, {**_NO_LOG, **log}, is_mip=True)
    assert result.status is expected
    if expected is Status.OPTIMAL:
        assert result.bound is None and result.values is not None  # solve_milp fills it
        assert result.values.tolist() == [1.0, 0.0]
    if expected is Status.ERROR:
        assert result.message


def test_cbc_log_and_solution_file_heads() -> None:
    log = parse_cbc_log(
        "Result - Optimal solution found\n\nObjective value:  3.5\n"
        "Enumerated nodes:  0\n(Wallclock seconds):  0.01\n"
    )
    assert log["result"] == "Optimal solution found" and log["bound"] is None
    assert _file_status("Optimal - objective value 3.5", log) == (Status.OPTIMAL, True)
    assert _file_status("Infeasible - objective value 0", _NO_LOG) == (Status.INFEASIBLE, False)
    assert _file_status("Integer infeasible - objective value 0", _NO_LOG)[0] is (Status.INFEASIBLE)
    assert _file_status("Stopped on time - objective value 17", _NO_LOG) == (
        Status.TIME_LIMIT,
        True,
    )
    assert _file_status("Stopped on time - objective value 1e+50", _NO_LOG) == (
        Status.TIME_LIMIT,
        False,
    )
    assert _file_status("Stopped on nodes - objective value 4", _NO_LOG) == (Status.FEASIBLE, True)
    assert _file_status("Gibberish", _NO_LOG) == (Status.ERROR, False)
