"""The solver contract: one result type, one status vocabulary, one registry.

Every backend is an adapter with a ``name``, an availability check that carries
its reason, a version, and ``solve(milp, settings) -> SolverResult``. Adapters
translate the solver-neutral :class:`~splitbench.formulations.MILP` into their own
objects, map every native status into :class:`~splitbench.solution.Status` (a
status they do not know becomes ``error`` with the native text, never an
exception), and keep the incumbent and the dual bound in separate fields. Solver
packages are imported only when an adapter is used, so ``import splitbench`` works
without any of them.

Names: ``highs`` (highspy, arrays passed directly), ``pyomo-highs`` and
``pyomo:NAME`` (a Pyomo model solved by any solver Pyomo knows), ``cbc`` (PuLP
with its bundled CBC), ``scip`` (pyscipopt, when installed).

Examples
--------
>>> from splitbench.formulations import MILPBuilder
>>> b = MILPBuilder("tiny")
>>> x = b.add_vars("x", ["a", "b"], cost=[1.0, 2.0], upper=1.0, integer=True)
>>> _ = b.add_rows("cover", 1, rows=[0, 0], cols=x, vals=1.0, lower=1.0)
>>> result = solve_milp(b.build(objective_constant=0.5), "highs")
>>> result.status.value, result.objective, [round(abs(v)) for v in result.values]
('optimal', 1.5, [1, 0])
>>> "highs" in available_solvers()
True
>>> solve_milp(b.build(), "gurobi-direct")
Traceback (most recent call last):
...
splitbench.errors.UsageError: unknown solver 'gurobi-direct'; available: ...
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from splitbench.errors import UsageError
from splitbench.solution import Status

if TYPE_CHECKING:
    from splitbench.formulations.milp import MILP

__all__ = [
    "SOLVERS",
    "SolverAdapter",
    "SolverResult",
    "SolverSettings",
    "available_solvers",
    "describe_solvers",
    "get_solver",
    "module_available",
    "solve_milp",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SolverSettings:
    """What every backend is told.

    Attributes
    ----------
    time_limit_s : float or None
        The solver's own time limit (None: none).
    mip_rel_gap : float or None
        Relative gap at which a MIP solve may stop (None: the solver's default).
    threads : int
        Solver threads (1 for fair timing).
    """

    time_limit_s: float | None = None
    mip_rel_gap: float | None = None
    threads: int = 1


@dataclass(frozen=True, eq=False)
class SolverResult:
    """What a backend returned.

    Attributes
    ----------
    status : Status
        ``optimal``, ``feasible`` (stopped otherwise with an incumbent),
        ``infeasible``, ``time_limit`` (incumbent kept if any), ``no_solution`` or
        ``error``.
    values : ndarray or None
        The incumbent, one value per column.
    objective : float or None
        The incumbent's objective, ``c @ values + objective_constant``.
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
        The native status, or what went wrong.
    """

    status: Status
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


class SolverAdapter(Protocol):
    """The contract every backend implements (one adapter per module)."""

    name: str

    def unavailable_reason(self) -> str | None:
        """None when the backend can run here, else why not."""

    def version(self) -> str | None:
        """The solver's version string."""

    def solve(self, milp: MILP, settings: SolverSettings) -> SolverResult:
        """Solve ``milp`` (minimisation). The adapter may ignore
        ``milp.objective_constant``: :func:`solve_milp` adds it to objective and bound."""


SOLUTION_TOLERANCE = 1e-5
"""A returned solution that breaks a bound (relative) or integrality by more than
this is not trusted: it is dropped, and an ``optimal`` status becomes ``error``."""


def _distrust(result: SolverResult, violation: float) -> SolverResult:
    downgrade = {Status.OPTIMAL: Status.ERROR, Status.FEASIBLE: Status.NO_SOLUTION}
    return replace(
        result,
        values=None,
        status=downgrade.get(result.status, result.status),
        message=f"{result.message}; its solution violates the model by {violation:.3g}, dropped",
    )


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


def _factory(target: str) -> Callable[[], SolverAdapter]:
    def make() -> SolverAdapter:
        module_name, _, attr = target.partition(":")
        adapter: SolverAdapter = getattr(importlib.import_module(module_name), attr)()
        return adapter

    return make


SOLVERS: dict[str, Callable[[], SolverAdapter]] = {
    "highs": _factory("splitbench.solvers.highs:HighsAdapter"),
    "pyomo-highs": _factory("splitbench.solvers.pyomo:PyomoHighsAdapter"),
    "cbc": _factory("splitbench.solvers.cbc:CbcAdapter"),
    "scip": _factory("splitbench.solvers.scip:ScipAdapter"),
}
"""Backend factories by name; ``pyomo:NAME`` is parsed by :func:`get_solver`."""

PYOMO_PREFIX = "pyomo:"
PYOMO_NAMES_LISTED = (
    "highs",
    "appsi_highs",
    "cbc",
    "glpk",
    "scip",
    "gurobi_direct",
    "cplex_direct",
    "xpress_direct",
)
"""Pyomo solver names :func:`available_solvers` checks (any other name may be asked)."""


def _make(name: str) -> SolverAdapter:
    if name.startswith(PYOMO_PREFIX) and len(name) > len(PYOMO_PREFIX):
        from splitbench.solvers.pyomo import PyomoAdapter

        return PyomoAdapter(name[len(PYOMO_PREFIX) :])
    return SOLVERS[name]()


def available_solvers(*, pyomo_names: bool = True) -> list[str]:
    """The solver names that can run here.

    Parameters
    ----------
    pyomo_names : bool
        Also list ``pyomo:NAME`` for the Pyomo solvers of :data:`PYOMO_NAMES_LISTED`
        that are available (slower: Pyomo asks each one).

    Examples
    --------
    >>> available_solvers(pyomo_names=False)[:1]
    ['highs']
    """
    names = [name for name in SOLVERS if _make(name).unavailable_reason() is None]
    if pyomo_names and "pyomo-highs" in names:
        names += [
            PYOMO_PREFIX + n
            for n in PYOMO_NAMES_LISTED
            if _make(PYOMO_PREFIX + n).unavailable_reason() is None
        ]
    return names


def describe_solvers() -> list[tuple[str, bool, str]]:
    """``(name, available, version or why not)`` for every registered backend and the
    Pyomo names of :data:`PYOMO_NAMES_LISTED` (what ``splitbench list solvers`` shows).

    Examples
    --------
    >>> rows = describe_solvers()
    >>> rows[0][:2]
    ('highs', True)
    >>> [name for name, ok, _ in rows if not ok and name == "scip"] in (["scip"], [])
    True
    """
    rows: list[tuple[str, bool, str]] = []
    names = [*SOLVERS, *(PYOMO_PREFIX + n for n in PYOMO_NAMES_LISTED)]
    for name in names:
        adapter = _make(name)
        reason = adapter.unavailable_reason()
        if reason is None:
            rows.append((name, True, adapter.version() or ""))
        else:
            rows.append((name, False, reason))
    return rows


def get_solver(name: str) -> SolverAdapter:
    """The adapter called ``name``.

    Raises
    ------
    UsageError
        When the name is unknown or the backend cannot run here; the message gives
        the reason and lists the available solvers.

    Examples
    --------
    >>> get_solver("highs").name
    'highs'
    >>> get_solver("pyomo:highs").name
    'pyomo:highs'
    """
    if name not in SOLVERS and not name.startswith(PYOMO_PREFIX):
        raise UsageError(f"unknown solver {name!r}; available: {', '.join(available_solvers())}")
    adapter = _make(name)
    reason = adapter.unavailable_reason()
    if reason is not None:
        raise UsageError(
            f"solver {name!r} is not available ({reason}); available: "
            f"{', '.join(available_solvers())}"
        )
    return adapter


def solve_milp(
    milp: MILP,
    solver: str = "highs",
    *,
    time_limit_s: float | None = None,
    mip_rel_gap: float | None = None,
    threads: int = 1,
) -> SolverResult:
    """Solve ``milp`` with backend ``solver``.

    Parameters
    ----------
    milp : MILP
        The model (a MILP or its relaxation).
    solver : str
        A name from :func:`available_solvers` (or any ``pyomo:NAME``).
    time_limit_s : float, optional
        The solver's time limit.
    mip_rel_gap : float, optional
        Relative MIP gap at which the solver may stop.
    threads : int
        Solver threads.

    Returns
    -------
    SolverResult
        Never raises for a solver failure: that is status ``error`` with the
        message. A row without nonzeros whose bounds exclude 0 makes the model
        infeasible before any solver is called (PuLP and Pyomo refuse such rows).

    Raises
    ------
    UsageError
        For an unknown or unavailable solver.

    Examples
    --------
    >>> from splitbench.formulations import build_routing
    >>> from splitbench.instance import example_instance
    >>> milp = build_routing(example_instance()).milp
    >>> exact = solve_milp(milp, "highs", time_limit_s=60.0, mip_rel_gap=1e-9)
    >>> lp = solve_milp(milp.relax(), "cbc")
    >>> exact.status.value, round(exact.objective, 4), round(lp.bound, 4)
    ('optimal', 0.0856, 0.0612)
    """
    adapter = get_solver(solver)
    conflict = milp.empty_row_conflict()
    if conflict is not None:
        return SolverResult(
            status=Status.INFEASIBLE,
            solver=solver,
            solver_version=adapter.version(),
            message=f"row {conflict} ({milp.row_block_of(conflict)}) has no variables "
            f"and its bounds exclude 0",
            solve_time_s=0.0,
            translate_time_s=0.0,
        )
    settings = SolverSettings(time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, threads=threads)
    start = time.perf_counter()
    try:
        result = adapter.solve(milp, settings)
    except Exception as err:  # a solve never raises: the failure becomes a result
        return SolverResult(
            status=Status.ERROR,
            solver=solver,
            solve_time_s=time.perf_counter() - start,
            message=f"{type(err).__name__}: {err}",
        )
    values = result.values
    if values is not None:
        violation = (
            milp.max_violation(values, relative=True) if values.shape == (milp.n_vars,) else np.inf
        )
        if violation > SOLUTION_TOLERANCE:
            result = _distrust(result, violation)
            values = None
    constant = milp.objective_constant
    objective = milp.objective_value(values) if values is not None else None
    bound = result.bound + constant if result.bound is not None else None
    if result.status is Status.OPTIMAL and objective is not None:
        # an LP optimum is its own bound; a MIP bound is never above an optimal incumbent
        # (solvers that print rounded bounds, e.g. CBC through Pyomo, may say otherwise)
        bound = objective if bound is None or not milp.is_mip else min(bound, objective)
    return replace(result, solver=solver, objective=objective, bound=bound)
