"""The ``pyomo-highs`` and ``pyomo:NAME`` backends: a Pyomo model of the same arrays.

The MILP becomes a ``ConcreteModel`` with one indexed ``Var`` (bounds and domain
per column: Binary, Integers or Reals) and one indexed ``Constraint`` (one
``lo <= expr <= hi`` per non-empty sparse row), so any solver Pyomo knows can run
the identical model. ``pyomo-highs`` is ``pyomo:highs`` (Pyomo's HiGHS interface).
``pyomo:cbc`` falls back on the CBC binary bundled with PuLP when no ``cbc`` is on
the ``PATH``. The time limit goes through Pyomo's ``timelimit``; the gap and the
thread count through the solver's own option names where they are known
(:data:`OPTION_NAMES`), and are left at the solver's defaults otherwise.

==============================================  =======================================
Pyomo termination condition                     status
==============================================  =======================================
optimal, globallyOptimal, locallyOptimal        optimal
infeasible; infeasibleOrUnbounded when every    infeasible
column is bounded
maxTimeLimit                                    time_limit (incumbent if any)
other limits, interrupts, feasible              feasible with an incumbent, else
                                                no_solution
error, solverFailure, unknown, anything else    error, with Pyomo's text
==============================================  =======================================

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
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from splitbench.solution import Status
from splitbench.solvers.base import SolverResult, SolverSettings, module_available

if TYPE_CHECKING:
    from splitbench.formulations.milp import MILP

__all__ = ["OPTION_NAMES", "PyomoAdapter", "PyomoHighsAdapter", "pyomo_from_milp"]

OPTION_NAMES: dict[str, dict[str, str]] = {
    "highs": {"gap": "mip_rel_gap", "threads": "threads"},
    "appsi_highs": {"gap": "mip_rel_gap", "threads": "threads"},
    "cbc": {"gap": "ratioGap", "threads": "threads"},
    "appsi_cbc": {"gap": "ratioGap", "threads": "threads"},
    "glpk": {"gap": "mipgap"},
    "scip": {"gap": "limits/gap"},
    "gurobi": {"gap": "MIPGap", "threads": "Threads"},
    "gurobi_direct": {"gap": "MIPGap", "threads": "Threads"},
    "gurobi_persistent": {"gap": "MIPGap", "threads": "Threads"},
    "cplex": {"gap": "mipgap", "threads": "threads"},
    "cplex_direct": {"gap": "mipgap", "threads": "threads"},
    "xpress_direct": {"gap": "miprelstop", "threads": "threads"},
}
"""Solver option names for the relative MIP gap and the thread count, per Pyomo name."""

_OPTIMAL = ("optimal", "globallyOptimal", "locallyOptimal")
_STOPPED = (
    "maxIterations",
    "maxEvaluations",
    "minFunctionValue",
    "minStepLength",
    "userInterrupt",
    "resourceInterrupt",
    "licensingProblems",
    "feasible",
    "other",
)


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
        if start == stop:
            return pyo.Constraint.Skip  # solve_milp checked empty rows against their bounds
        expr = pyo.quicksum(
            (
                float(v) * x[int(j)]
                for j, v in zip(a.indices[start:stop], a.data[start:stop], strict=True)
            )
        )
        lo, up = float(milp.row_lower[i]), float(milp.row_upper[i])
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


class PyomoAdapter:
    """Backend ``pyomo:NAME``: a Pyomo model solved by Pyomo's solver ``NAME``."""

    def __init__(self, solver_name: str) -> None:
        self.solver_name = solver_name
        self.name = f"pyomo:{solver_name}"

    def _factory(self) -> Any:
        import pyomo.environ as pyo

        opt = pyo.SolverFactory(self.solver_name)
        if self.solver_name == "cbc" and not opt.available(exception_flag=False):
            from splitbench.solvers.cbc import cbc_executable

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
        """The solver options for ``settings`` (gap and threads, where known)."""
        names = OPTION_NAMES.get(self.solver_name, {})
        out: dict[str, Any] = {}
        if settings.mip_rel_gap is not None and "gap" in names:
            out[names["gap"]] = settings.mip_rel_gap
        if "threads" in names:
            out[names["threads"]] = settings.threads
        return out

    def solve(self, milp: MILP, settings: SolverSettings) -> SolverResult:
        """Build the Pyomo model and solve it (objective constant left to the caller)."""
        start = time.perf_counter()
        model = pyomo_from_milp(milp)
        opt = self._factory()
        translated = time.perf_counter()
        kwargs: dict[str, Any] = {"load_solutions": False, "options": self.options(settings)}
        if settings.time_limit_s is not None:
            kwargs["timelimit"] = settings.time_limit_s
        results = opt.solve(model, **kwargs)
        done = time.perf_counter()
        bounded = bool(np.all(np.isfinite(milp.col_lower)) and np.all(np.isfinite(milp.col_upper)))
        result = _read(model, results, bounded=bounded, is_mip=milp.is_mip)
        if result.message.startswith("intermediateNonInteger"):
            # e.g. CBC stopped with a fractional LP point: no incumbent; a stop at the
            # time limit is still a time limit
            limit = settings.time_limit_s
            hit = limit is not None and done - translated >= 0.99 * limit
            result = replace(
                result, values=None, status=Status.TIME_LIMIT if hit else Status.NO_SOLUTION
            )
        return replace(
            result,
            translate_time_s=translated - start,
            solve_time_s=done - translated,
            solver_version=self.version(),
        )


class PyomoHighsAdapter(PyomoAdapter):
    """Backend ``pyomo-highs``: ``pyomo:highs``."""

    def __init__(self) -> None:
        super().__init__("highs")
        self.name = "pyomo-highs"


def _read(model: Any, results: Any, *, bounded: bool, is_mip: bool) -> SolverResult:
    from pyomo.common.log import LoggingIntercept

    condition = str(results.solver.termination_condition)
    condition = condition.rsplit(".", 1)[-1]
    n_solutions = len(results.solution) if hasattr(results, "solution") else 0
    values = None
    if n_solutions and condition not in ("infeasible", "infeasibleOrUnbounded"):
        with LoggingIntercept(level=logging.WARNING):  # "loading an aborted status"
            model.solutions.load_from(results)
        values = np.array(
            [v.value if v.value is not None else 0.0 for v in model.x.values()], dtype=float
        )
    if condition in _OPTIMAL:
        status = Status.OPTIMAL
    elif condition == "infeasible" or (condition == "infeasibleOrUnbounded" and bounded):
        status = Status.INFEASIBLE
    elif condition == "maxTimeLimit":
        status = Status.TIME_LIMIT
    elif condition in _STOPPED or condition == "infeasibleOrUnbounded":
        status = Status.FEASIBLE if values is not None else Status.NO_SOLUTION
    else:
        status = Status.ERROR
    if status is Status.OPTIMAL and values is None and len(model.x):
        status = Status.ERROR
    bound = _number(results.problem.lower_bound) if is_mip else None
    if status is Status.INFEASIBLE:
        values, bound = None, None
    elapsed = _number(getattr(results.solver, "wallclock_time", None))
    if elapsed is None:
        elapsed = _number(getattr(results.solver, "time", None))
    message = condition
    text = getattr(results.solver, "message", None)
    if isinstance(text, str) and text:
        message = f"{condition}: {text}"
    return SolverResult(
        status=status, values=values, bound=bound, solver_time_s=elapsed, message=message
    )
