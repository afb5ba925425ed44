"""Solve a MILP with any backend: validate, scale, solve, unscale, and trust nothing.

:func:`solve_milp` is the one entry point. In order:

1. the settings are validated (a time limit > 0 and finite, a relative gap in
   [0, 1), threads >= 1) and the solver looked up, before any work;
2. a row with no nonzero whose bounds exclude 0 makes the model infeasible without
   calling a solver (PuLP and Pyomo refuse such rows);
3. the model is scaled (:func:`scaling_of`): an objective whose largest coefficient
   is below 1 by the power of two that brings it to about 1 (never down: that would
   push small coefficients into the solvers' reduced-cost tolerances), then up again
   while its smallest nonzero is below 2^-10 and its largest below 2^20, and every
   row whose coefficients are tiny or huge by its own power of two. Objective
   coefficients of 1e-7..1e-11 (latencies in seconds) otherwise fall inside the
   solvers' absolute tolerances
   and give a wrong "optimal" answer; a deadline row with coefficients ~1e-6 and a
   right-hand side ~5e-3 is inside their feasibility tolerance. Powers of two are
   exact, so the scaled model has the same solutions;
4. the backend solves the scaled model (absolute gap 0, the relative gap of the
   settings); a backend that raises gives termination ``error``, never an exception;
5. objective and bound are mapped back to the original units: the objective is
   recomputed from the values on the original model (objective constant included),
   the bound divided by the scale;
6. a solution that breaks the original model by more than
   :data:`~splitbench.tolerances.SOLUTION_TOLERANCE` is dropped (status ``none``,
   with the reason); the bound of an optimal MIP is ``min(bound, objective)``, an
   LP optimum is its own bound, and no bound lies above its incumbent.

Examples
--------
>>> from splitbench.milp import MILPBuilder
>>> b = MILPBuilder("tiny")
>>> x = b.add_vars("x", ["a", "b"], cost=[1.0, 2.0], upper=1.0, integer=True)
>>> _ = b.add_rows("cover", 1, rows=[0, 0], cols=x, vals=1.0, lower=1.0)
>>> result = solve_milp(b.build(objective_constant=0.5), "highs")
>>> result.status.value, result.termination.value, round(result.objective, 6)
('optimal', 'completed', 1.5)
>>> [round(abs(v)) for v in result.values]
[1, 0]
>>> solve_milp(b.build(), "gurobi-direct")
Traceback (most recent call last):
...
splitbench.errors.UsageError: unknown solver 'gurobi-direct'; available: ...
>>> solve_milp(b.build(), "highs", Settings(time_limit_s=-1.0))
Traceback (most recent call last):
...
splitbench.errors.UsageError: time limit (--time-limit) must be a positive, finite number \
of seconds, got -1.0
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from splitbench.answer import Settings
from splitbench.milp import MILP
from splitbench.solvers.base import SolverAdapter, SolverResult, check_settings
from splitbench.solvers.mps import read_mps
from splitbench.solvers.registry import get_solver
from splitbench.status import Status, Termination
from splitbench.tolerances import SOLUTION_TOLERANCE

__all__ = ["Scaling", "scaling_of", "solve_milp", "solve_mps"]

FloatArray = npt.NDArray[np.float64]

_RANGE_EXPONENT = 3
"""Rows whose largest |coefficient| lies within [2^-3, 2^3] are left alone."""

_FLOOR_EXPONENT = -30
"""Scaling down never pushes a coefficient below 2^-30 (~1e-9: solvers drop such
matrix entries)."""

_SMALL_COST_EXPONENT = -10
"""After scaling, the smallest nonzero objective coefficient is raised towards 2^-10..."""

_LARGE_COST_EXPONENT = 20
"""...as far as the largest stays at most 2^20."""


@dataclass(frozen=True)
class Scaling:
    """The factors :func:`solve_milp` hands a backend the scaled model with.

    Attributes
    ----------
    objective : float
        The objective (and its constant) is multiplied by this power of two.
    rows : ndarray
        Row ``i`` (coefficients and bounds) is multiplied by ``rows[i]``.
    """

    objective: float
    rows: FloatArray

    @property
    def is_identity(self) -> bool:
        """Whether nothing is scaled."""
        return self.objective == 1.0 and bool(np.all(self.rows == 1.0))


def _exponent(largest: float, smallest: float) -> int:
    """The power of two that brings ``largest`` to about 1, without taking
    ``smallest`` below 2^-30 when it scales down."""
    if not (largest > 0 and math.isfinite(largest)):
        return 0
    exponent = -round(math.log2(largest))
    if exponent < 0 and smallest > 0:
        exponent = max(exponent, min(0, _FLOOR_EXPONENT - math.floor(math.log2(smallest))))
    return int(exponent)


def scaling_of(milp: MILP) -> Scaling:
    """The objective and row factors for ``milp`` (powers of two; see the module docstring).

    Examples
    --------
    >>> from splitbench.milp import MILPBuilder
    >>> b = MILPBuilder("m")
    >>> x = b.add_vars("x", ["a", "b"], cost=[1e-11, 1.5e-5], upper=1.0, integer=True)
    >>> _ = b.add_rows("deadline", 1, rows=[0, 0], cols=x, vals=[1e-6, 2e-6], upper=5e-3)
    >>> _ = b.add_rows("cover", 1, rows=[0, 0], cols=x, vals=1.0, lower=1.0)
    >>> s = scaling_of(b.build())
    >>> math.log2(s.objective), np.log2(s.rows).tolist()
    (27.0, [19.0, 0.0])
    """
    nonzero = np.abs(milp.c[milp.c != 0])
    # the objective is only ever scaled up: scaling it down pushes its small
    # coefficients into the solvers' absolute optimality (reduced-cost) tolerances;
    # and small ones are raised further while the largest stays moderate (an energy
    # optimum of 1.6e-7 W among costs up to 19 was pruned away by HiGHS unscaled)
    objective = 1.0
    if nonzero.size:
        top, bottom = float(nonzero.max()), float(nonzero.min())
        exponent = max(0, _exponent(top, bottom))
        low = math.log2(bottom) + exponent
        if low < _SMALL_COST_EXPONENT:
            room = math.floor(_LARGE_COST_EXPONENT - math.log2(top) - exponent)
            exponent += max(0, min(math.ceil(_SMALL_COST_EXPONENT - low), room))
        objective = 2.0**exponent
    rows = np.ones(milp.n_rows)
    matrix = abs(milp.A).tocsr()
    counts = np.diff(matrix.indptr)
    filled = np.flatnonzero(counts)
    if filled.size:
        largest = np.maximum.reduceat(matrix.data, matrix.indptr[filled])
        smallest = np.minimum.reduceat(matrix.data, matrix.indptr[filled])
        outside = np.abs(np.log2(largest)) > _RANGE_EXPONENT
        for i, big, small in zip(filled[outside], largest[outside], smallest[outside], strict=True):
            rows[i] = 2.0 ** _exponent(float(big), float(small))
    return Scaling(objective=float(objective), rows=rows)


def solve_milp(milp: MILP, solver: str = "highs", settings: Settings | None = None) -> SolverResult:
    """Solve ``milp`` with backend ``solver`` (see the module docstring for the steps).

    Parameters
    ----------
    milp : MILP
        The model (a MILP or its relaxation).
    solver : str
        A name from :func:`~splitbench.solvers.available_solvers` (or any ``pyomo:NAME``).
    settings : Settings, optional
        Time limit, relative MIP gap and threads (default: no limit, the default
        gap, one thread).

    Returns
    -------
    SolverResult
        In the model's original units. Never raises for a solver failure: that is
        termination ``error``, status ``none``, with the message.

    Raises
    ------
    UsageError
        For invalid settings, or an unknown or unavailable solver.

    Examples
    --------
    >>> from splitbench.formulations import build_routing
    >>> from splitbench.instance import example_instance
    >>> milp = build_routing(example_instance()).milp
    >>> exact = solve_milp(milp, "highs", Settings(time_limit_s=60.0))
    >>> lp = solve_milp(milp.relax(), "cbc")
    >>> exact.status.value, round(exact.objective, 4), round(lp.bound, 4)
    ('optimal', 0.0856, 0.0612)
    """
    settings = check_settings(settings if settings is not None else Settings())
    adapter = get_solver(solver)
    conflict = milp.empty_row_conflict()
    if conflict is not None:
        return SolverResult(
            status=Status.INFEASIBLE,
            termination=Termination.COMPLETED,
            solver=solver,
            solver_version=adapter.version(),
            message=f"row {conflict} ({milp.row_block_of(conflict)}) has no variables "
            f"and its bounds exclude 0",
            solve_time_s=0.0,
            translate_time_s=0.0,
        )
    scaling = scaling_of(milp)
    scaled = milp if scaling.is_identity else milp.scaled(scaling.objective, scaling.rows)
    start = time.perf_counter()
    try:
        result = adapter.solve(scaled, settings)
    except Exception as err:  # a solve never raises: the failure becomes a result
        return SolverResult(
            status=Status.NONE,
            termination=Termination.ERROR,
            solver=solver,
            solver_version=_version(adapter),
            solve_time_s=time.perf_counter() - start,
            message=f"{type(err).__name__}: {err}",
        )
    return _in_original_units(milp, replace(result, solver=solver), scaling.objective)


def _version(adapter: SolverAdapter) -> str | None:
    try:
        return adapter.version()
    except Exception:  # a failing solver may fail here too; the error is reported already
        return None


def _in_original_units(milp: MILP, result: SolverResult, objective_scale: float) -> SolverResult:
    """Unscale, check the solution against the original model, and settle the bound."""
    values = result.values
    status, termination, message = result.status, result.termination, result.message
    if values is not None:
        violation = (
            milp.max_violation(values, relative=True)
            if values.shape == (milp.n_vars,) and bool(np.all(np.isfinite(values)))
            else math.inf
        )
        if not violation <= SOLUTION_TOLERANCE:
            values, status = None, Status.NONE
            if termination is Termination.COMPLETED:
                termination = Termination.ERROR
            message = f"{message}; its solution violates the model by {violation:.3g}, dropped"
    objective = milp.objective_value(values) if values is not None else None
    bound = result.bound
    if bound is not None:
        bound = bound / objective_scale + milp.objective_constant
    if objective is not None:
        if status is Status.OPTIMAL and (bound is None or not milp.is_mip):
            bound = objective  # an LP optimum is its own bound
        elif bound is not None:
            bound = min(bound, objective)  # rounded printed bounds may say otherwise
    return replace(
        result,
        status=status,
        termination=termination,
        values=values,
        objective=objective,
        bound=bound,
        message=message,
    )


def solve_mps(
    path: str | os.PathLike[str], solver: str = "highs", settings: Settings | None = None
) -> SolverResult:
    """Read the MPS file ``path`` (:func:`~splitbench.solvers.mps.read_mps`) and solve it
    with :func:`solve_milp`; values come in the file's column order, objective and
    bound include its objective constant.

    Raises
    ------
    UsageError
        For invalid settings, an unknown or unavailable solver, or an unreadable file.

    Examples
    --------
    >>> import os, tempfile
    >>> from splitbench.instance import example_instance
    >>> from splitbench.solvers.mps import export_mps
    >>> path = os.path.join(tempfile.mkdtemp(), "assignment.mps")
    >>> _ = export_mps(example_instance(), "assignment", path)
    >>> round(solve_mps(path, "pyomo-highs").objective, 4)
    0.0856
    """
    check_settings(settings if settings is not None else Settings())
    get_solver(solver)
    return solve_milp(read_mps(path), solver, settings)
