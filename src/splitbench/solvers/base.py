"""The solver contract: settings, one result type, and the native-status tables.

Every backend is an adapter (:class:`SolverAdapter`) with a ``name``, an
availability check that carries its reason, a version, its table of native
statuses, and ``solve(milp, settings) -> SolverResult``. Two questions, two fields
(STYLE.md): each adapter maps its solver's native status through its own plain
dict, ``{native: (Termination, Proof)}`` (:data:`NativeStatusTable`), with the one
function :func:`map_native_status`; an unknown native status becomes termination
``error`` carrying the native text, never an exception. The shared
:func:`~splitbench.status.status_of` then turns termination, proof and whether
there is an incumbent into the :class:`~splitbench.status.Status`
(:func:`result_from_native` does both). Incumbent and dual bound are separate
fields. Solver packages are imported only inside the adapters' functions, so
``import splitbench`` needs none of them.

Examples
--------
>>> table = {"Optimal": (Termination.COMPLETED, Proof.OPTIMAL)}
>>> map_native_status(table, "Optimal")
(<Termination.COMPLETED: 'completed'>, <Proof.OPTIMAL: 'optimal'>)
>>> map_native_status(table, "Something new")
(<Termination.ERROR: 'error'>, <Proof.NONE: 'none'>)
>>> result = result_from_native(table, "Something new", values=None, all_bounded=True)
>>> result.status.value, result.termination.value, result.message
('none', 'error', 'unknown native status: Something new')
>>> check_settings(SolverSettings(time_limit_s=float("nan")))
Traceback (most recent call last):
...
splitbench.errors.UsageError: time limit (--time-limit) must be a positive, finite number \
of seconds, got nan
"""

from __future__ import annotations

import importlib.util
import math
import numbers
import os
import shutil
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from splitbench.answer import Settings
from splitbench.errors import UsageError
from splitbench.milp import MILP
from splitbench.status import Proof, Status, Termination, status_of

__all__ = [
    "MIN_TIME_LIMIT_S",
    "NativeStatusTable",
    "SolverAdapter",
    "SolverResult",
    "SolverSettings",
    "all_bounded",
    "cbc_executable",
    "check_settings",
    "map_native_status",
    "module_available",
    "result_from_native",
    "solver_time_limit",
    "stamped",
]

FloatArray = npt.NDArray[np.float64]

SolverSettings = Settings
"""What every backend is told: :class:`splitbench.answer.Settings` (time limit,
relative MIP gap, threads). The absolute MIP gap is always 0."""

NativeStatusTable: TypeAlias = Mapping[Hashable, tuple[Termination, Proof]]
"""An adapter's table: native status -> (why it stopped, what it proved)."""

MIN_TIME_LIMIT_S = 0.01
"""The least time limit a solver is handed (when translation used up the rest)."""

_RESULT_STATUSES = (Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE, Status.NONE)


@dataclass(frozen=True, eq=False)
class SolverResult:
    """What a backend returned.

    Attributes
    ----------
    status : Status
        What we hold: ``optimal``, ``feasible``, ``infeasible`` or ``none``
        (from :func:`~splitbench.status.status_of`; ``invalid`` is the evaluator's word).
    termination : Termination
        Why the solver stopped.
    values : ndarray or None
        The incumbent, one value per column.
    objective : float or None
        The incumbent's objective, ``c @ values + objective_constant``, in the
        model's own units.
    bound : float or None
        The proven lower bound (dual bound), objective constant included.
    nodes : int or None
        Branch-and-bound nodes, when the solver reports them.
    solver_time_s : float or None
        The solver's own clock.
    solve_time_s : float or None
        Wall-clock time of the solver call, measured around it.
    translate_time_s : float or None
        Time to build the backend's model from the arrays.
    solver : str
        The backend name.
    solver_version : str or None
        The solver's version.
    message : str
        The native status text, or what went wrong.
    """

    status: Status
    termination: Termination
    values: FloatArray | None = None
    objective: float | None = None
    bound: float | None = None
    nodes: int | None = None
    solver_time_s: float | None = None
    solve_time_s: float | None = None
    translate_time_s: float | None = None
    solver: str = ""
    solver_version: str | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in _RESULT_STATUSES:
            raise ValueError(f"a solver result cannot be {self.status.value!r}")


class SolverAdapter(Protocol):
    """The contract every backend implements (one adapter per module)."""

    @property
    def name(self) -> str:
        """The name it is registered under (``highs``, ``pyomo:cbc``)."""
        ...

    @property
    def native_status(self) -> NativeStatusTable:
        """Its table of native statuses."""
        ...

    def unavailable_reason(self) -> str | None:
        """None when the backend can run here, else why not."""
        ...

    def version(self) -> str | None:
        """The solver's version string."""
        ...

    def solve(self, milp: MILP, settings: SolverSettings) -> SolverResult:
        """Solve ``milp`` (a minimisation), honouring every field of ``settings``.

        The adapter leaves ``milp.objective_constant`` out (the caller adds it to
        objective and bound) and reports ``values``, ``bound``, ``termination`` and
        ``status``; it never needs to compute ``objective``.
        """
        ...


def stamped(
    result: SolverResult, adapter: SolverAdapter, start: float, translated: float, done: float
) -> SolverResult:
    """``result`` with the adapter's name and version and the two phases of its solve:
    translation (``start`` to ``translated``) and the solver call (to ``done``)."""
    return replace(
        result,
        translate_time_s=translated - start,
        solve_time_s=done - translated,
        solver=adapter.name,
        solver_version=adapter.version(),
    )


def check_settings(settings: SolverSettings) -> SolverSettings:
    """``settings`` if every field is valid, else a :class:`~splitbench.errors.UsageError`.

    A time limit must be positive and finite (or None), the relative MIP gap in
    [0, 1), the thread count a whole number >= 1.

    Examples
    --------
    >>> check_settings(SolverSettings(time_limit_s=2.0)).time_limit_s
    2.0
    >>> check_settings(SolverSettings(mip_rel_gap=1.0))
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: relative MIP gap (mip_rel_gap) must be in [0, 1), got 1.0
    >>> check_settings(SolverSettings(threads=0))
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: threads must be a whole number >= 1, got 0
    """
    limit = settings.time_limit_s
    if limit is not None and not (_is_number(limit) and math.isfinite(limit) and limit > 0):
        raise UsageError(
            f"time limit (--time-limit) must be a positive, finite number of seconds, got {limit!r}"
        )
    gap = settings.mip_rel_gap
    if not (_is_number(gap) and 0.0 <= gap < 1.0):
        raise UsageError(f"relative MIP gap (mip_rel_gap) must be in [0, 1), got {gap!r}")
    threads = settings.threads
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1:
        raise UsageError(f"threads must be a whole number >= 1, got {threads!r}")
    return settings


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def solver_time_limit(settings: SolverSettings, spent_s: float) -> float | None:
    """The time limit to hand the solver after ``spent_s`` seconds of translation
    (never below :data:`MIN_TIME_LIMIT_S`; None without a limit).

    Examples
    --------
    >>> solver_time_limit(SolverSettings(time_limit_s=2.0), 0.5)
    1.5
    >>> solver_time_limit(SolverSettings(time_limit_s=2.0), 3.0)
    0.01
    >>> solver_time_limit(SolverSettings(), 3.0) is None
    True
    """
    if settings.time_limit_s is None:
        return None
    return max(MIN_TIME_LIMIT_S, settings.time_limit_s - max(0.0, spent_s))


def map_native_status(table: NativeStatusTable, native: Hashable) -> tuple[Termination, Proof]:
    """``table[native]``; an unknown status is ``(error, none)``, never an exception.

    Examples
    --------
    >>> map_native_status({}, ["unhashable"])
    (<Termination.ERROR: 'error'>, <Proof.NONE: 'none'>)
    """
    found = _lookup(table, native)
    return found if found is not None else (Termination.ERROR, Proof.NONE)


def _lookup(table: NativeStatusTable, native: Hashable) -> tuple[Termination, Proof] | None:
    try:
        return table.get(native)
    except TypeError:  # an unhashable native status is as unknown as any other
        return None


def result_from_native(
    table: NativeStatusTable,
    native: Hashable,
    *,
    values: FloatArray | None,
    all_bounded: bool,
    text: str | None = None,
    bound: float | None = None,
    nodes: int | None = None,
    solver_time_s: float | None = None,
    n_vars: int | None = None,
) -> SolverResult:
    """The :class:`SolverResult` of a native status (through :func:`map_native_status`).

    Parameters
    ----------
    table : NativeStatusTable
        The adapter's table.
    native : hashable
        The solver's status.
    values : ndarray or None
        The incumbent the solver returned, if any.
    all_bounded : bool
        Whether every column has finite bounds (then "infeasible or unbounded"
        means infeasible).
    text : str, optional
        The solver's own words for the status (default: ``str(native)``).
    bound, nodes, solver_time_s : optional
        Passed through (a proof of infeasibility drops the bound and the values).
    n_vars : int, optional
        The model's column count; an "optimal" status without a solution for a
        model with columns is an ``error``.

    Examples
    --------
    >>> table = {"ok": (Termination.COMPLETED, Proof.OPTIMAL)}
    >>> r = result_from_native(table, "ok", values=None, all_bounded=True, n_vars=2)
    >>> r.status.value, r.termination.value, r.message
    ('none', 'error', 'ok, without a primal solution')
    """
    message = text if text else str(native)
    termination, proof = map_native_status(table, native)
    if _lookup(table, native) is None:
        message = f"unknown native status: {message}"
    if proof is Proof.INFEASIBLE or (proof is Proof.INFEASIBLE_OR_UNBOUNDED and all_bounded):
        values, bound = None, None
    if (
        termination is Termination.COMPLETED
        and proof is Proof.OPTIMAL
        and values is None
        and (n_vars is None or n_vars > 0)
    ):
        termination, message = Termination.ERROR, f"{message}, without a primal solution"
    status = status_of(termination, proof, has_answer=values is not None, all_bounded=all_bounded)
    return SolverResult(
        status=status,
        termination=termination,
        values=values,
        bound=bound if bound is not None and math.isfinite(bound) else None,
        nodes=nodes,
        solver_time_s=solver_time_s,
        message=message,
    )


def all_bounded(milp: MILP) -> bool:
    """Whether every column of ``milp`` has finite bounds (nothing can be unbounded).

    Examples
    --------
    >>> from splitbench.milp import MILPBuilder
    >>> b = MILPBuilder("m")
    >>> _ = b.add_vars("x", ["a"], upper=1.0)
    >>> all_bounded(b.build())
    True
    """
    return bool(np.all(np.isfinite(milp.col_lower)) and np.all(np.isfinite(milp.col_upper)))


def module_available(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it).

    Examples
    --------
    >>> module_available("numpy"), module_available("no_such_module_here")
    (True, False)
    """
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def cbc_executable() -> str | None:
    """The CBC binary PuLP bundles (PuLP 3.x), else ``cbc`` on the ``PATH``, else None.

    Shared by the ``cbc`` backend and ``pyomo:cbc`` (which falls back on it).

    Examples
    --------
    >>> import os
    >>> os.access(cbc_executable(), os.X_OK)
    True
    """
    if module_available("pulp"):
        from pulp.apis.coin_api import PULP_CBC_CMD

        path = getattr(PULP_CBC_CMD, "pulp_cbc_path", None)
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return str(path)
    return shutil.which("cbc")
