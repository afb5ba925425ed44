"""MILP backends: one adapter per solver, one contract, one status vocabulary.

Examples
--------
>>> "highs" in available_solvers(pyomo_names=False)
True
"""

from splitbench.solvers.base import (
    SOLVERS,
    SolverAdapter,
    SolverResult,
    SolverSettings,
    available_solvers,
    describe_solvers,
    get_solver,
    solve_milp,
)
from splitbench.solvers.mps import export_mps, read_mps, solve_mps, write_mps

__all__ = [
    "SOLVERS",
    "SolverAdapter",
    "SolverResult",
    "SolverSettings",
    "available_solvers",
    "describe_solvers",
    "export_mps",
    "get_solver",
    "read_mps",
    "solve_milp",
    "solve_mps",
    "write_mps",
]
