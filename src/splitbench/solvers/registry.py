"""Solver names: the registry of backend factories, and what can run here.

Names: ``highs`` (highspy, arrays passed directly), ``pyomo-highs`` (Pyomo's HiGHS
interface), ``cbc`` (PuLP with its bundled CBC), ``scip`` (pyscipopt, when
installed), and ``pyomo:NAME`` for any solver Pyomo knows (parsed here, not
registered). A factory makes an adapter without importing its solver package;
:func:`get_solver` checks that it can run.

Examples
--------
>>> SOLVERS.names()
('highs', 'pyomo-highs', 'cbc', 'scip')
>>> get_solver("pyomo:cbc").name
'pyomo:cbc'
>>> get_solver("pyomo:")
Traceback (most recent call last):
...
splitbench.errors.UsageError: solver 'pyomo:' names no Pyomo solver: write pyomo:NAME, \
e.g. pyomo:cbc or pyomo:glpk
>>> get_solver("gurobi-direct")
Traceback (most recent call last):
...
splitbench.errors.UsageError: unknown solver 'gurobi-direct'; available: highs, ...
"""

from __future__ import annotations

from collections.abc import Callable

from splitbench.errors import UsageError
from splitbench.registry import Registry
from splitbench.solvers.base import SolverAdapter
from splitbench.solvers.cbc import CbcAdapter
from splitbench.solvers.highs import HighsAdapter
from splitbench.solvers.pyomo import PyomoAdapter, PyomoHighsAdapter
from splitbench.solvers.scip import ScipAdapter

__all__ = [
    "PYOMO_NAMES_LISTED",
    "PYOMO_PREFIX",
    "SOLVERS",
    "available_solvers",
    "describe_solvers",
    "get_solver",
    "make_solver",
]

SolverFactory = Callable[[], SolverAdapter]

SOLVERS: Registry[SolverFactory] = Registry("solver")
"""Backend factories by name (``pyomo:NAME`` is parsed by :func:`make_solver`)."""
SOLVERS.register("highs", HighsAdapter)
SOLVERS.register("pyomo-highs", PyomoHighsAdapter)
SOLVERS.register("cbc", CbcAdapter)
SOLVERS.register("scip", ScipAdapter)

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
"""Pyomo solver names that :func:`available_solvers` and :func:`describe_solvers`
check (any other name may be asked for)."""


def make_solver(name: str) -> SolverAdapter:
    """The adapter called ``name``, without checking that it can run.

    Raises
    ------
    UsageError
        For an unknown name, or ``pyomo:`` with no solver name after it.

    Examples
    --------
    >>> make_solver("scip").name
    'scip'
    """
    if name.startswith(PYOMO_PREFIX):
        solver_name = name[len(PYOMO_PREFIX) :].strip()
        if not solver_name:
            raise UsageError(
                f"solver {name!r} names no Pyomo solver: write pyomo:NAME, "
                "e.g. pyomo:cbc or pyomo:glpk"
            )
        return PyomoAdapter(solver_name)
    if name not in SOLVERS:
        raise UsageError(f"unknown solver {name!r}; available: {', '.join(available_solvers())}")
    return SOLVERS.get(name)()


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
    names = [name for name in SOLVERS if make_solver(name).unavailable_reason() is None]
    if pyomo_names and "pyomo-highs" in names:
        names += [
            PYOMO_PREFIX + n
            for n in PYOMO_NAMES_LISTED
            if make_solver(PYOMO_PREFIX + n).unavailable_reason() is None
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
    """
    rows: list[tuple[str, bool, str]] = []
    for name in [*SOLVERS, *(PYOMO_PREFIX + n for n in PYOMO_NAMES_LISTED)]:
        adapter = make_solver(name)
        reason = adapter.unavailable_reason()
        rows.append(
            (name, True, adapter.version() or "") if reason is None else (name, False, reason)
        )
    return rows


def get_solver(name: str) -> SolverAdapter:
    """The adapter called ``name``, checked to run here.

    Raises
    ------
    UsageError
        When the name is unknown or the backend cannot run here; the message gives
        the reason and lists the available solvers.

    Examples
    --------
    >>> get_solver("highs").name
    'highs'
    """
    adapter = make_solver(name)
    reason = adapter.unavailable_reason()
    if reason is not None:
        raise UsageError(
            f"solver {name!r} is not available ({reason}); available: "
            f"{', '.join(available_solvers())}"
        )
    return adapter
