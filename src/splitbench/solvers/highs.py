"""The ``highs`` backend: HiGHS through highspy, the model passed as arrays.

The constraint matrix goes to ``Highs.passModel`` row-wise (CSR start, index and
value arrays) with the cost, bound and integrality arrays, so no per-entry Python
object is ever made. ``output_flag`` is switched off right after the ``Highs``
object is made (highspy 1.16 prints its banner in the constructor, before any
option can be set: the command line keeps that off machine-readable output), then
``threads``, ``time_limit``, ``mip_rel_gap`` and ``mip_abs_gap = 0`` are set before
the solve. On a time limit HiGHS keeps its incumbent (``getSolution`` when the
primal solution status is feasible) and its dual bound (``getInfo().mip_dual_bound``);
both are returned.

Native statuses (:data:`NATIVE_STATUS`, HiGHS model status names):

==================================  ==========================================
HiGHS model status                  (termination, proof)
==================================  ==========================================
kOptimal, kModelEmpty               completed, optimal
kInfeasible                         completed, infeasible
kUnboundedOrInfeasible              completed, infeasible or unbounded
kUnbounded                          completed, unbounded
kTimeLimit                          time_limit
kIterationLimit, kSolutionLimit,    other_limit
kObjectiveBound, kObjectiveTarget,
kMemoryLimit
kInterrupt, kHighsInterrupt         interrupted
kNotset, kLoadError, kModelError,   error
kPresolveError, kSolveError,
kPostsolveError, kUnknown
anything else                       error, with HiGHS's own text
==================================  ==========================================

Examples
--------
>>> from splitbench.formulations import build_routing
>>> from splitbench.instance import example_instance
>>> form = build_routing(example_instance())
>>> result = HighsAdapter().solve(form.milp, SolverSettings())
>>> result.status.value, result.termination.value, round(result.bound, 4), result.nodes
('optimal', 'completed', 0.0856, 1)
"""

from __future__ import annotations

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

__all__ = [
    "NATIVE_STATUS",
    "HighsAdapter",
    "configured_highs",
    "highs_from_milp",
    "read_highs_result",
]

_K_ROWWISE = 2
_K_MINIMIZE = 1
_K_SOLUTION_FEASIBLE = 2  # highspy.SolutionStatus.kSolutionStatusFeasible
_INFINITE = 1e30  # HiGHS's dual bound is +-inf (or huge) when it has none

_C, _T, _L, _I, _E = (
    Termination.COMPLETED,
    Termination.TIME_LIMIT,
    Termination.OTHER_LIMIT,
    Termination.INTERRUPTED,
    Termination.ERROR,
)
NATIVE_STATUS: NativeStatusTable = {
    "kOptimal": (_C, Proof.OPTIMAL),
    "kModelEmpty": (_C, Proof.OPTIMAL),
    "kInfeasible": (_C, Proof.INFEASIBLE),
    "kUnboundedOrInfeasible": (_C, Proof.INFEASIBLE_OR_UNBOUNDED),
    "kUnbounded": (_C, Proof.UNBOUNDED),
    "kTimeLimit": (_T, Proof.NONE),
    "kIterationLimit": (_L, Proof.NONE),
    "kSolutionLimit": (_L, Proof.NONE),
    "kObjectiveBound": (_L, Proof.NONE),
    "kObjectiveTarget": (_L, Proof.NONE),
    "kMemoryLimit": (_L, Proof.NONE),
    "kInterrupt": (_I, Proof.NONE),
    "kHighsInterrupt": (_I, Proof.NONE),
    "kNotset": (_E, Proof.NONE),
    "kLoadError": (_E, Proof.NONE),
    "kModelError": (_E, Proof.NONE),
    "kPresolveError": (_E, Proof.NONE),
    "kSolveError": (_E, Proof.NONE),
    "kPostsolveError": (_E, Proof.NONE),
    "kUnknown": (_E, Proof.NONE),
}
"""HiGHS model status name -> (termination, proof)."""


def configured_highs(
    settings: SolverSettings | None = None, *, time_limit_s: float | None = None
) -> Any:
    """A silent ``highspy.Highs`` with the options of ``settings`` set: threads,
    time limit (``time_limit_s`` when given, else the settings'), relative gap and
    an absolute gap of 0. With no settings it is only silenced.

    Examples
    --------
    >>> h = configured_highs(SolverSettings(time_limit_s=2.0, mip_rel_gap=1e-6))
    >>> [h.getOptionValue(k)[1] for k in ("time_limit", "mip_rel_gap", "mip_abs_gap")]
    [2.0, 1e-06, 0.0]
    """
    import highspy

    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    if settings is None:
        return h
    h.setOptionValue("threads", int(settings.threads))
    limit = time_limit_s if time_limit_s is not None else settings.time_limit_s
    if limit is not None:
        h.setOptionValue("time_limit", float(limit))
    h.setOptionValue("mip_rel_gap", float(settings.mip_rel_gap))
    h.setOptionValue("mip_abs_gap", 0.0)
    return h


def highs_from_milp(
    milp: MILP,
    settings: SolverSettings | None = None,
    *,
    time_limit_s: float | None = None,
    with_constant: bool = False,
) -> Any:
    """A ``highspy.Highs`` holding ``milp`` with the options of ``settings`` set
    (see :func:`configured_highs`).

    With ``with_constant`` the objective constant becomes HiGHS's offset;
    otherwise it is left out (the caller adds it).

    Raises
    ------
    ValueError
        When HiGHS refuses the arrays.

    Examples
    --------
    >>> from splitbench.formulations import build_routing
    >>> from splitbench.instance import example_instance
    >>> h = highs_from_milp(build_routing(example_instance()).milp, SolverSettings())
    >>> h.getNumCol(), h.getNumRow(), h.getOptionValue("threads")[1]
    (64, 41, 1)
    """
    h = configured_highs(
        settings if settings is not None else SolverSettings(), time_limit_s=time_limit_s
    )
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
    """Status, incumbent, dual bound, nodes and HiGHS's clock from a ``Highs`` that has
    run (an incumbent is read whenever HiGHS holds a feasible primal solution,
    whatever stopped it).

    Parameters
    ----------
    h : highspy.Highs
        After ``run()``.
    is_mip : bool
        Whether the model has integer columns (LPs report no bound or nodes here).
    bounded : bool
        Whether every column has finite bounds.
    """
    name = h.getModelStatus().name
    info = h.getInfo()
    values = None
    if name == "kModelEmpty":
        values = np.zeros(h.getNumCol())
    elif int(info.primal_solution_status) == _K_SOLUTION_FEASIBLE:
        values = np.array(h.getSolution().col_value, dtype=float)
    bound = nodes = None
    if is_mip:
        dual = float(info.mip_dual_bound)
        bound = dual if np.isfinite(dual) and abs(dual) < _INFINITE else None
        nodes = int(info.mip_node_count)
    return result_from_native(
        NATIVE_STATUS,
        name,
        values=values,
        all_bounded=bounded,
        text=str(h.modelStatusToString(h.getModelStatus())),
        bound=bound,
        nodes=nodes,
        solver_time_s=float(h.getRunTime()),
        n_vars=int(h.getNumCol()),
    )


def run_interruptibly(h: Any) -> None:
    """Run ``h`` in highspy's solver thread, so that Ctrl-C stops the solve.

    ``Highs.run`` holds the interpreter until it returns, so a KeyboardInterrupt
    waits for the whole solve. On Ctrl-C the solve is cancelled, waited for, and the
    KeyboardInterrupt raised again for the caller (the command line ends with one
    line and exit status 130).
    """
    h.HandleUserInterrupt = True  # lets cancelSolve reach the solver's callbacks
    h.startSolve()
    try:
        while not h.wait(0.05)[0]:
            pass
    except KeyboardInterrupt:
        h.cancelSolve()
        while not h.wait(0.05)[0]:
            pass
        raise


class HighsAdapter:
    """Backend ``highs``: highspy with the model passed as arrays."""

    name = "highs"
    native_status = NATIVE_STATUS

    def unavailable_reason(self) -> str | None:
        """None when highspy is installed."""
        return None if module_available("highspy") else "highspy is not installed"

    def version(self) -> str | None:
        """HiGHS's version, e.g. ``1.16.0``."""
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
        limit = solver_time_limit(settings, translated - start)
        if limit is not None:
            h.setOptionValue("time_limit", float(limit))
        run_interruptibly(h)
        done = time.perf_counter()
        result = read_highs_result(h, is_mip=milp.is_mip, bounded=all_bounded(milp))
        return stamped(result, self, start, translated, done)
