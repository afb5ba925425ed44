"""The ``scip`` backend: SCIP through PySCIPOpt (only when ``pyscipopt`` is installed).

One SCIP variable per column (type B, I or C with its bounds and cost) and one
linear constraint per non-empty row. Limits: ``limits/time``, ``limits/gap``;
output hidden.

================================  ==============================================
SCIP status                       status
================================  ==============================================
optimal, gaplimit                 optimal
infeasible; inforunbd when every  infeasible
column is bounded
timelimit                         time_limit (incumbent if any)
nodelimit, sollimit, memlimit,    feasible with an incumbent, else no_solution
userinterrupt, ...
anything else                     error, with SCIP's text
================================  ==============================================

Examples
--------
>>> ScipAdapter().name
'scip'
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from splitbench.solution import Status
from splitbench.solvers.base import SolverResult, SolverSettings, module_available

if TYPE_CHECKING:
    from splitbench.formulations.milp import MILP

__all__ = ["ScipAdapter"]

_STOPPED = (
    "nodelimit",
    "totalnodelimit",
    "stallnodelimit",
    "sollimit",
    "bestsollimit",
    "memlimit",
    "userinterrupt",
    "restartlimit",
    "primallimit",
    "duallimit",
    "terminate",
)


def _bound(value: float) -> float | None:
    return value if math.isfinite(value) else None


class ScipAdapter:
    """Backend ``scip``: PySCIPOpt."""

    name = "scip"

    def unavailable_reason(self) -> str | None:
        """None when pyscipopt is installed."""
        return None if module_available("pyscipopt") else "pyscipopt is not installed"

    def version(self) -> str | None:
        """PySCIPOpt's version."""
        import pyscipopt

        return f"pyscipopt {getattr(pyscipopt, '__version__', '?')}"

    def solve(self, milp: MILP, settings: SolverSettings) -> SolverResult:
        """Solve with SCIP (the objective constant is left to the caller)."""
        import pyscipopt

        start = time.perf_counter()
        model = pyscipopt.Model("splitbench")
        model.hideOutput()
        if settings.time_limit_s is not None:
            model.setParam("limits/time", float(settings.time_limit_s))
        if settings.mip_rel_gap is not None:
            model.setParam("limits/gap", float(settings.mip_rel_gap))
        binary = milp.integrality & (milp.col_lower >= 0) & (milp.col_upper <= 1)
        columns: list[Any] = []
        for j in range(milp.n_vars):
            kind = "B" if binary[j] else ("I" if milp.integrality[j] else "C")
            lo, up = float(milp.col_lower[j]), float(milp.col_upper[j])
            columns.append(
                model.addVar(
                    name=f"v{j}",
                    vtype=kind,
                    obj=float(milp.c[j]),
                    lb=lo if math.isfinite(lo) else None,
                    ub=up if math.isfinite(up) else None,
                )
            )
        a = milp.A
        for i in range(milp.n_rows):
            start_i, stop_i = a.indptr[i], a.indptr[i + 1]
            if start_i == stop_i:
                continue
            expr = pyscipopt.quicksum(
                float(v) * columns[int(j)]
                for j, v in zip(a.indices[start_i:stop_i], a.data[start_i:stop_i], strict=True)
            )
            lo, up = float(milp.row_lower[i]), float(milp.row_upper[i])
            model.addCons(_ranged(expr, lo, up), name=f"r{i}")
        translated = time.perf_counter()
        model.optimize()
        done = time.perf_counter()
        native = str(model.getStatus())
        values = None
        if model.getNSols() > 0:
            best = model.getBestSol()
            values = np.array([model.getSolVal(best, v) for v in columns], dtype=float)
        bounded = bool(np.all(np.isfinite(milp.col_lower)) and np.all(np.isfinite(milp.col_upper)))
        if native in ("optimal", "gaplimit"):
            status = Status.OPTIMAL
        elif native == "infeasible" or (native == "inforunbd" and bounded):
            status, values = Status.INFEASIBLE, None
        elif native == "timelimit":
            status = Status.TIME_LIMIT
        elif native in _STOPPED or native == "inforunbd":
            status = Status.FEASIBLE if values is not None else Status.NO_SOLUTION
        else:
            status = Status.ERROR
        is_mip = milp.is_mip
        return SolverResult(
            status=status,
            values=values,
            bound=(
                _bound(float(model.getDualbound()))
                if is_mip and status is not Status.INFEASIBLE
                else None
            ),
            nodes=int(model.getNNodes()) if is_mip else None,
            solver_time_s=float(model.getSolvingTime()),
            solve_time_s=done - translated,
            translate_time_s=translated - start,
            solver_version=self.version(),
            message=native,
        )


def _ranged(expr: Any, lo: float, up: float) -> Any:
    """``lo <= expr <= up`` as a SCIP constraint (one side when the other is infinite)."""
    if lo == up:
        return expr == lo
    if not math.isfinite(lo):
        return expr <= up
    if not math.isfinite(up):
        return expr >= lo
    return (lo <= expr) <= up
