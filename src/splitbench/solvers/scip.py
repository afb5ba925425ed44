"""The ``scip`` backend: SCIP through PySCIPOpt (only when ``pyscipopt`` is installed).

One SCIP variable per column (type B, I or C with its bounds and cost) and one
linear constraint per non-empty row. Limits: ``limits/time``, ``limits/gap`` (the
relative gap) and ``limits/absgap = 0``; ``parallel/maxnthreads`` for threads;
output hidden. On any stop SCIP keeps its best solution and its dual bound; both
are returned.

Native statuses (:data:`NATIVE_STATUS`, ``Model.getStatus()`` strings):

===================================================  =================================
SCIP status                                          (termination, proof)
===================================================  =================================
optimal, gaplimit (our gap)                          completed, optimal
infeasible                                           completed, infeasible
inforunbd                                            completed, infeasible or unbounded
unbounded                                            completed, unbounded
timelimit                                            time_limit
nodelimit, totalnodelimit, stallnodelimit, sollimit,  other_limit
bestsollimit, memlimit, restartlimit, primallimit,
duallimit
userinterrupt, terminate                             interrupted
unknown, anything else                               error, with SCIP's text
===================================================  =================================

Examples
--------
>>> ScipAdapter().name, ScipAdapter().native_status["gaplimit"][1].value
('scip', 'optimal')
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from splitbench.milp import MILP
from splitbench.solvers.base import (
    NativeStatusTable,
    SolverResult,
    SolverSettings,
    all_bounded,
    module_available,
    result_from_native,
    solver_time_limit,
    stamped,
)
from splitbench.status import Proof, Termination

__all__ = ["NATIVE_STATUS", "ScipAdapter"]

_C, _L, _I = Termination.COMPLETED, Termination.OTHER_LIMIT, Termination.INTERRUPTED
NATIVE_STATUS: NativeStatusTable = {
    "optimal": (_C, Proof.OPTIMAL),
    "gaplimit": (_C, Proof.OPTIMAL),
    "infeasible": (_C, Proof.INFEASIBLE),
    "inforunbd": (_C, Proof.INFEASIBLE_OR_UNBOUNDED),
    "unbounded": (_C, Proof.UNBOUNDED),
    "timelimit": (Termination.TIME_LIMIT, Proof.NONE),
    "nodelimit": (_L, Proof.NONE),
    "totalnodelimit": (_L, Proof.NONE),
    "stallnodelimit": (_L, Proof.NONE),
    "sollimit": (_L, Proof.NONE),
    "bestsollimit": (_L, Proof.NONE),
    "memlimit": (_L, Proof.NONE),
    "restartlimit": (_L, Proof.NONE),
    "primallimit": (_L, Proof.NONE),
    "duallimit": (_L, Proof.NONE),
    "userinterrupt": (_I, Proof.NONE),
    "terminate": (_I, Proof.NONE),
    "unknown": (Termination.ERROR, Proof.NONE),
}
"""SCIP status string -> (termination, proof)."""


class ScipAdapter:
    """Backend ``scip``: PySCIPOpt."""

    name = "scip"
    native_status = NATIVE_STATUS

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
        model.setParam("limits/gap", float(settings.mip_rel_gap))
        model.setParam("limits/absgap", 0.0)
        model.setParam("parallel/maxnthreads", int(settings.threads))
        columns = _add_columns(model, milp)
        a = milp.A
        for i in range(milp.n_rows):
            start_i, stop_i = a.indptr[i], a.indptr[i + 1]
            lo, up = float(milp.row_lower[i]), float(milp.row_upper[i])
            if start_i == stop_i or not (math.isfinite(lo) or math.isfinite(up)):
                continue  # empty rows were checked by solve_milp; a free row binds nothing
            expr = pyscipopt.quicksum(
                float(v) * columns[int(j)]
                for j, v in zip(a.indices[start_i:stop_i], a.data[start_i:stop_i], strict=True)
            )
            model.addCons(_ranged(expr, lo, up), name=f"r{i}")
        translated = time.perf_counter()
        limit = solver_time_limit(settings, translated - start)
        if limit is not None:
            model.setParam("limits/time", float(limit))
        model.optimize()
        done = time.perf_counter()
        values = None
        if model.getNSols() > 0:
            best = model.getBestSol()
            values = np.array([model.getSolVal(best, v) for v in columns], dtype=float)
        is_mip = milp.is_mip
        result = result_from_native(
            NATIVE_STATUS,
            str(model.getStatus()),
            values=values,
            all_bounded=all_bounded(milp),
            bound=float(model.getDualbound()) if is_mip else None,
            nodes=int(model.getNNodes()) if is_mip else None,
            solver_time_s=float(model.getSolvingTime()),
            n_vars=milp.n_vars,
        )
        return stamped(result, self, start, translated, done)


def _add_columns(model: Any, milp: MILP) -> list[Any]:
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
    return columns


def _ranged(expr: Any, lo: float, up: float) -> Any:
    """``lo <= expr <= up`` as a SCIP constraint (one side when the other is infinite)."""
    if lo == up:
        return expr == lo
    if not math.isfinite(lo):
        return expr <= up
    if not math.isfinite(up):
        return expr >= lo
    return (lo <= expr) <= up
