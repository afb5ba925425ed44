"""The ``highs`` backend: HiGHS through highspy, the model passed as arrays.

The constraint matrix goes to ``Highs.passModel`` row-wise (CSR start, index and
value arrays) with the cost, bound and integrality arrays, so no per-entry Python
object is ever made. ``threads`` and ``output_flag`` are set before the solve.
Native statuses map as follows:

================================  =============================================
HiGHS model status                status
================================  =============================================
kOptimal                          optimal
kInfeasible                       infeasible
kUnboundedOrInfeasible            infeasible when every column is bounded
                                  (nothing can be unbounded), else no_solution
kTimeLimit                        time_limit (with the incumbent if any)
kIterationLimit, kSolutionLimit,  feasible with an incumbent, else no_solution
kInterrupt, kObjectiveBound, ...
kModelEmpty                       optimal, or infeasible when a row
                                  excludes 0 (no columns)
anything else                     error, with HiGHS's own text
================================  =============================================

Examples
--------
>>> from splitbench.formulations import build_routing
>>> from splitbench.instance import example_instance
>>> form = build_routing(example_instance())
>>> result = HighsAdapter().solve(form.milp, SolverSettings())
>>> result.status.value, round(result.bound, 4), result.nodes
('optimal', 0.0856, 1)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from splitbench.solution import Status
from splitbench.solvers.base import SolverResult, SolverSettings, module_available

if TYPE_CHECKING:
    from splitbench.formulations.milp import MILP

__all__ = ["HighsAdapter", "configured_highs", "highs_from_milp", "read_highs_result"]

_K_ROWWISE = 2
_K_MINIMIZE = 1
_NO_SOLUTION_STOPS = (
    "kIterationLimit",
    "kSolutionLimit",
    "kInterrupt",
    "kHighsInterrupt",
    "kObjectiveBound",
    "kObjectiveTarget",
    "kMemoryLimit",
)


def configured_highs(settings: SolverSettings | None = None) -> Any:
    """A silent ``highspy.Highs`` with the options of ``settings`` set (threads before
    any solve, time limit, relative gap); with no settings, only silenced.

    Examples
    --------
    >>> configured_highs(SolverSettings(time_limit_s=2.0)).getOptionValue("time_limit")[1]
    2.0
    """
    import highspy

    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    if settings is None:
        return h
    h.setOptionValue("threads", int(settings.threads))
    if settings.time_limit_s is not None:
        h.setOptionValue("time_limit", float(settings.time_limit_s))
    if settings.mip_rel_gap is not None:
        h.setOptionValue("mip_rel_gap", float(settings.mip_rel_gap))
    return h


def highs_from_milp(milp: MILP, settings: SolverSettings, *, with_constant: bool = False) -> Any:
    """A ``highspy.Highs`` holding ``milp`` with the options of ``settings`` set.

    With ``with_constant`` the objective constant becomes HiGHS's offset (for MPS
    export); otherwise it is left out (the caller adds it).

    Examples
    --------
    >>> from splitbench.formulations import build_routing
    >>> from splitbench.instance import example_instance
    >>> h = highs_from_milp(build_routing(example_instance()).milp, SolverSettings())
    >>> h.getNumCol(), h.getNumRow(), h.getOptionValue("threads")[1]
    (64, 41, 1)
    """
    h = configured_highs(settings)
    a = milp.A
    status = h.passModel(
        milp.n_vars,
        milp.n_rows,
        milp.n_nonzeros,
        _K_ROWWISE,
        _K_MINIMIZE,
        milp.objective_constant if with_constant else 0.0,
        np.ascontiguousarray(milp.c, dtype=np.float64),
        np.ascontiguousarray(milp.col_lower, dtype=np.float64),
        np.ascontiguousarray(milp.col_upper, dtype=np.float64),
        np.ascontiguousarray(milp.row_lower, dtype=np.float64),
        np.ascontiguousarray(milp.row_upper, dtype=np.float64),
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        np.ascontiguousarray(a.data, dtype=np.float64),
        milp.integrality.astype(np.int32),
    )
    if status.name == "kError":
        raise ValueError("HiGHS refused the model (passModel returned kError)")
    return h


def read_highs_result(h: Any, *, is_mip: bool, bounded: bool) -> SolverResult:
    """Read status, incumbent, bound, nodes and time from a ``Highs`` that has run."""
    import highspy

    model_status = h.getModelStatus()
    name = model_status.name
    info = h.getInfo()
    has_solution = int(info.primal_solution_status) == int(highspy.kSolutionStatusFeasible)
    values = np.array(h.getSolution().col_value, dtype=float) if has_solution else None
    text = h.modelStatusToString(model_status)
    if name == "kModelEmpty":  # no columns: feasible exactly when every row admits 0
        lp = h.getLp()
        ok = all(lo <= 0 <= up for lo, up in zip(lp.row_lower_, lp.row_upper_, strict=True))
        status = Status.OPTIMAL if ok else Status.INFEASIBLE
        values = np.zeros(0) if ok else None
    elif name == "kOptimal":
        status = Status.OPTIMAL
    elif name == "kInfeasible" or (name == "kUnboundedOrInfeasible" and bounded):
        status = Status.INFEASIBLE
    elif name == "kTimeLimit":
        status = Status.TIME_LIMIT
    elif name in _NO_SOLUTION_STOPS or name == "kUnboundedOrInfeasible":
        status = Status.FEASIBLE if values is not None else Status.NO_SOLUTION
    else:
        status = Status.ERROR
    if status is Status.OPTIMAL and values is None and h.getNumCol() > 0:
        status, text = Status.ERROR, f"{text} without a primal solution"
    bound = None
    nodes = None
    if is_mip:
        dual = float(info.mip_dual_bound)
        bound = dual if np.isfinite(dual) and abs(dual) < 1e30 else None
        nodes = int(info.mip_node_count)
    return SolverResult(
        status=status,
        values=values if status is not Status.INFEASIBLE else None,
        bound=bound,
        nodes=nodes,
        solver_time_s=float(h.getRunTime()),
        solver_version=HighsAdapter().version(),
        message=text,
    )


class HighsAdapter:
    """Backend ``highs``: highspy with the model passed as arrays."""

    name = "highs"

    def unavailable_reason(self) -> str | None:
        """None when highspy is installed."""
        return None if module_available("highspy") else "highspy is not installed"

    def version(self) -> str | None:
        """HiGHS's version, e.g. ``1.15.1``."""
        import highspy

        return (
            f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}."
            f"{highspy.HIGHS_VERSION_PATCH}"
        )

    def solve(self, milp: MILP, settings: SolverSettings) -> SolverResult:
        """Solve with HiGHS (the objective constant is left to the caller)."""
        start = time.perf_counter()
        h = highs_from_milp(milp, settings)
        translated = time.perf_counter()
        h.run()
        done = time.perf_counter()
        bounded = bool(np.all(np.isfinite(milp.col_lower)) and np.all(np.isfinite(milp.col_upper)))
        result = read_highs_result(h, is_mip=milp.is_mip, bounded=bounded)
        return _with_times(result, translated - start, done - translated)


def _with_times(result: SolverResult, translate: float, solve: float) -> SolverResult:
    from dataclasses import replace

    return replace(result, translate_time_s=translate, solve_time_s=solve)
