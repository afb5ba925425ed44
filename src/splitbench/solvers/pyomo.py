"""The ``pyomo-highs`` and ``pyomo:NAME`` backends: a Pyomo model of the same arrays.

The MILP becomes a ``ConcreteModel`` with one indexed ``Var`` (bounds and domain
per column: Binary, Integers or Reals) and one indexed ``Constraint`` (one
``lo <= expr <= hi`` per non-empty sparse row), so any solver Pyomo knows can run
the identical model. ``pyomo-highs`` is ``pyomo:highs`` (Pyomo's HiGHS interface).
``pyomo:cbc`` falls back on the CBC binary bundled with PuLP when no ``cbc`` is on
the ``PATH``. The time limit goes through Pyomo's ``timelimit``; the relative gap,
an absolute gap of 0 and the thread count through each solver's own option names
(:data:`OPTION_NAMES`; a solver not listed keeps its defaults). A command-line
solver that Pyomo kills after its time limit (``subprocess.TimeoutExpired``) is
termination ``time_limit``, and its temporary files are removed.

Native statuses (:data:`NATIVE_STATUS`, Pyomo's ``TerminationCondition`` values):

==============================================  =====================================
Pyomo termination condition                     (termination, proof)
==============================================  =====================================
optimal, globallyOptimal, locallyOptimal        completed, optimal
infeasible                                      completed, infeasible
infeasibleOrUnbounded                           completed, infeasible or unbounded
unbounded                                       completed, unbounded
feasible                                        completed, none
maxTimeLimit                                    time_limit
maxIterations, maxEvaluations, minStepLength,   other_limit
minFunctionValue, intermediateNonInteger,
resourceInterrupt, other
userInterrupt                                   interrupted
TimeoutExpired (Pyomo killed the solver)        time_limit
unknown, error, solverFailure, noSolution, ...  error, with Pyomo's text
==============================================  =====================================

Examples
--------
>>> from splitbench.formulations import build_routing
>>> from splitbench.instance import example_instance
>>> result = PyomoHighsAdapter().solve(build_routing(example_instance()).milp,
...                                    SolverSettings())
>>> result.status.value, round(result.bound, 4)
('optimal', 0.0856)
"""

from __future__ import annotations

import logging
import math
import subprocess
import tempfile
import time
from dataclasses import replace
from typing import Any

import numpy as np

from splitbench.milp import MILP
from splitbench.solvers.base import (
    NativeStatusTable,
    SolverResult,
    SolverSettings,
    all_bounded,
    cbc_executable,
    module_available,
    result_from_native,
    solver_time_limit,
    stamped,
)
from splitbench.status import Proof, Termination

__all__ = [
    "NATIVE_STATUS",
    "OPTION_NAMES",
    "PyomoAdapter",
    "PyomoHighsAdapter",
    "pyomo_from_milp",
    "read_pyomo_result",
]

OPTION_NAMES: dict[str, dict[str, str]] = {
    "highs": {"gap": "mip_rel_gap", "absgap": "mip_abs_gap", "threads": "threads"},
    "appsi_highs": {"gap": "mip_rel_gap", "absgap": "mip_abs_gap", "threads": "threads"},
    "cbc": {"gap": "ratioGap", "absgap": "allowableGap"},
    "appsi_cbc": {"gap": "ratioGap", "absgap": "allowableGap"},
    "glpk": {"gap": "mipgap"},
    "scip": {"gap": "limits/gap", "absgap": "limits/absgap"},
    "gurobi": {"gap": "MIPGap", "absgap": "MIPGapAbs", "threads": "Threads"},
    "gurobi_direct": {"gap": "MIPGap", "absgap": "MIPGapAbs", "threads": "Threads"},
    "gurobi_persistent": {"gap": "MIPGap", "absgap": "MIPGapAbs", "threads": "Threads"},
    "cplex": {
        "gap": "mip_tolerances_mipgap",
        "absgap": "mip_tolerances_absmipgap",
        "threads": "threads",
    },
    "cplex_direct": {
        "gap": "mip_tolerances_mipgap",
        "absgap": "mip_tolerances_absmipgap",
        "threads": "threads",
    },
    "xpress_direct": {"gap": "miprelstop", "absgap": "mipabsstop", "threads": "threads"},
}
"""Solver option names for the relative gap, the absolute gap (set to 0) and the
thread count, per Pyomo solver name (CBC runs single-threaded without an option)."""

_C, _L = Termination.COMPLETED, Termination.OTHER_LIMIT
NATIVE_STATUS: NativeStatusTable = {
    "optimal": (_C, Proof.OPTIMAL),
    "globallyOptimal": (_C, Proof.OPTIMAL),
    "locallyOptimal": (_C, Proof.OPTIMAL),
    "infeasible": (_C, Proof.INFEASIBLE),
    "infeasibleOrUnbounded": (_C, Proof.INFEASIBLE_OR_UNBOUNDED),
    "unbounded": (_C, Proof.UNBOUNDED),
    "feasible": (_C, Proof.NONE),
    "maxTimeLimit": (Termination.TIME_LIMIT, Proof.NONE),
    "maxIterations": (_L, Proof.NONE),
    "maxEvaluations": (_L, Proof.NONE),
    "minStepLength": (_L, Proof.NONE),
    "minFunctionValue": (_L, Proof.NONE),
    "intermediateNonInteger": (_L, Proof.NONE),
    "resourceInterrupt": (_L, Proof.NONE),
    "other": (_L, Proof.NONE),
    "userInterrupt": (Termination.INTERRUPTED, Proof.NONE),
    "TimeoutExpired": (Termination.TIME_LIMIT, Proof.NONE),
    "unknown": (Termination.ERROR, Proof.NONE),
    "error": (Termination.ERROR, Proof.NONE),
    "solverFailure": (Termination.ERROR, Proof.NONE),
    "internalSolverError": (Termination.ERROR, Proof.NONE),
    "invalidProblem": (Termination.ERROR, Proof.NONE),
    "licensingProblems": (Termination.ERROR, Proof.NONE),
    "noSolution": (Termination.ERROR, Proof.NONE),
}
"""Pyomo ``TerminationCondition`` value -> (termination, proof); ``TimeoutExpired``
stands for Pyomo killing a command-line solver that overran its time limit."""

_NO_VALUES = ("infeasible", "infeasibleOrUnbounded", "intermediateNonInteger")
"""Conditions whose reported point is not an incumbent (CBC stopped on a fractional
LP point reports ``intermediateNonInteger``)."""


def pyomo_from_milp(milp: MILP, *, with_constant: bool = False) -> Any:
    """A Pyomo ``ConcreteModel`` of ``milp``: ``x[j]`` per column, ``rows[i]`` per
    non-empty row, objective ``cost``.

    Examples
    --------
    >>> from splitbench.formulations import build_routing
    >>> from splitbench.instance import example_instance
    >>> model = pyomo_from_milp(build_routing(example_instance()).milp)
    >>> len(model.x), len(model.rows)
    (64, 41)
    """
    import pyomo.environ as pyo

    model = pyo.ConcreteModel(name="splitbench")
    n = milp.n_vars
    model.x = pyo.Var(range(n), domain=pyo.Reals)
    binary = milp.integrality & (milp.col_lower >= 0) & (milp.col_upper <= 1)
    for j in range(n):
        var = model.x[j]
        if binary[j]:
            var.domain = pyo.Binary
        elif milp.integrality[j]:
            var.domain = pyo.Integers
        lo, up = float(milp.col_lower[j]), float(milp.col_upper[j])
        var.setlb(lo if math.isfinite(lo) else None)
        var.setub(up if math.isfinite(up) else None)
    a = milp.A
    x = model.x

    def row(m: Any, i: int) -> Any:
        start, stop = a.indptr[i], a.indptr[i + 1]
        lo, up = float(milp.row_lower[i]), float(milp.row_upper[i])
        if start == stop or not (math.isfinite(lo) or math.isfinite(up)):
            # solve_milp checked empty rows against their bounds; a free row binds nothing
            return pyo.Constraint.Skip
        expr = pyo.quicksum(
            float(v) * x[int(j)]
            for j, v in zip(a.indices[start:stop], a.data[start:stop], strict=True)
        )
        if lo == up:
            return expr == lo
        return (lo if math.isfinite(lo) else None, expr, up if math.isfinite(up) else None)

    model.rows = pyo.Constraint(range(milp.n_rows), rule=row)
    cost = np.flatnonzero(milp.c)
    objective = pyo.quicksum(float(milp.c[j]) * x[int(j)] for j in cost)
    if with_constant:
        objective = objective + milp.objective_constant
    model.cost = pyo.Objective(expr=objective, sense=pyo.minimize)
    return model


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _value(var: Any) -> float:
    """A variable's value; one the solver never saw (in no row and not in the
    objective) takes the point of its bounds nearest 0."""
    if var.value is not None:
        return float(var.value)
    lo = var.lb if var.lb is not None else -math.inf
    up = var.ub if var.ub is not None else math.inf
    return float(min(max(0.0, lo), up))


def read_pyomo_result(model: Any, results: Any, *, bounded: bool, is_mip: bool) -> SolverResult:
    """The result of ``opt.solve(model, load_solutions=False)`` (loads the incumbent
    into ``model`` when there is one)."""
    from pyomo.common.log import LoggingIntercept

    condition = getattr(results.solver.termination_condition, "value", None)
    if not isinstance(condition, str):
        condition = str(results.solver.termination_condition).rsplit(".", 1)[-1]
    n_solutions = len(results.solution) if hasattr(results, "solution") else 0
    values = None
    if n_solutions and condition not in _NO_VALUES:
        with LoggingIntercept(level=logging.WARNING):  # "loading an aborted status"
            model.solutions.load_from(results)
        values = np.array([_value(v) for v in model.x.values()], dtype=float)
    elapsed = _number(getattr(results.solver, "wallclock_time", None))
    if elapsed is None:
        elapsed = _number(getattr(results.solver, "time", None))
    text = getattr(results.solver, "message", None)
    return result_from_native(
        NATIVE_STATUS,
        condition,
        values=values,
        all_bounded=bounded,
        text=f"{condition}: {text}" if isinstance(text, str) and text else condition,
        bound=_number(results.problem.lower_bound) if is_mip else None,
        solver_time_s=elapsed,
        n_vars=len(model.x),
    )


class PyomoAdapter:
    """Backend ``pyomo:NAME``: a Pyomo model solved by Pyomo's solver ``NAME``.

    Parameters
    ----------
    solver_name : str
        A name Pyomo's ``SolverFactory`` knows (``cbc``, ``glpk``, ``gurobi_direct``).
    """

    native_status = NATIVE_STATUS

    def __init__(self, solver_name: str) -> None:
        self.solver_name = solver_name
        self.name = f"pyomo:{solver_name}"

    def _factory(self) -> Any:
        import pyomo.environ as pyo

        opt = pyo.SolverFactory(self.solver_name)
        if self.solver_name == "cbc" and not opt.available(exception_flag=False):
            bundled = cbc_executable()
            if bundled is not None:
                opt = pyo.SolverFactory("cbc", executable=bundled)
        return opt

    def unavailable_reason(self) -> str | None:
        """None when Pyomo is installed, knows the solver, and the solver can run."""
        if not module_available("pyomo"):
            return "pyomo is not installed"
        import pyomo.environ as pyo

        if self.solver_name not in pyo.SolverFactory:
            return f"Pyomo knows no solver {self.solver_name!r}"
        try:
            ok = bool(self._factory().available(exception_flag=False))
        except Exception as err:  # a broken plugin is an unavailable one
            return f"{type(err).__name__}: {err}"
        return None if ok else f"Pyomo cannot run {self.solver_name!r} here"

    def version(self) -> str | None:
        """``pyomo <version> / <solver> <version>``."""
        import pyomo.version

        try:
            found = self._factory().version()
        except Exception:
            found = None
        solver = ".".join(str(p) for p in found) if isinstance(found, tuple) else found
        return f"pyomo {pyomo.version.version} / {self.solver_name} {solver}"

    def options(self, settings: SolverSettings) -> dict[str, Any]:
        """The solver options for ``settings``: relative gap, absolute gap 0 and
        threads, under the solver's names (:data:`OPTION_NAMES`).

        Examples
        --------
        >>> PyomoAdapter("cbc").options(SolverSettings(mip_rel_gap=1e-6))
        {'ratioGap': 1e-06, 'allowableGap': 0.0}
        """
        names = OPTION_NAMES.get(self.solver_name, {})
        out: dict[str, Any] = {}
        if "gap" in names:
            out[names["gap"]] = float(settings.mip_rel_gap)
        if "absgap" in names:
            out[names["absgap"]] = 0.0
        if "threads" in names:
            out[names["threads"]] = int(settings.threads)
        return out

    def solve(self, milp: MILP, settings: SolverSettings) -> SolverResult:
        """Build the Pyomo model and solve it (objective constant left to the caller)."""
        from pyomo.common.log import LoggingIntercept
        from pyomo.common.tempfiles import TempfileManager

        start = time.perf_counter()
        model = pyomo_from_milp(milp)
        opt = self._factory()
        translated = time.perf_counter()
        limit = solver_time_limit(settings, translated - start)
        kwargs: dict[str, Any] = {"load_solutions": False, "options": self.options(settings)}
        if limit is not None:
            kwargs["timelimit"] = limit
        bounded = all_bounded(milp)
        # the solver's files go to a folder of our own, removed however the solve ends
        # (Ctrl-C included); the outer context removes the files of a solver killed
        # mid-solve (Pyomo warns that it pops the solver's orphaned context: expected)
        saved_dir = TempfileManager.tempdir
        with (
            tempfile.TemporaryDirectory(prefix="splitbench-pyomo-") as scratch,
            LoggingIntercept(module="pyomo.common.tempfiles"),
            TempfileManager,
        ):
            TempfileManager.tempdir = scratch
            try:
                results = opt.solve(model, **kwargs)
            except subprocess.TimeoutExpired:
                results = None
            finally:
                TempfileManager.tempdir = saved_dir
        done = time.perf_counter()
        if results is None:
            result = result_from_native(
                NATIVE_STATUS,
                "TimeoutExpired",
                values=None,
                all_bounded=bounded,
                text=f"{self.solver_name} ran past its time limit and was stopped by Pyomo",
            )
        else:
            result = read_pyomo_result(model, results, bounded=bounded, is_mip=milp.is_mip)
            stopped_at_limit = limit is not None and done - translated >= 0.99 * limit
            if "intermediateNonInteger" in result.message and stopped_at_limit:
                # CBC stopped on a fractional point at the time limit: that is the limit
                result = replace(result, termination=Termination.TIME_LIMIT)
        return stamped(result, self, start, translated, done)


class PyomoHighsAdapter(PyomoAdapter):
    """Backend ``pyomo-highs``: ``pyomo:highs``."""

    def __init__(self) -> None:
        super().__init__("highs")
        self.name = "pyomo-highs"
