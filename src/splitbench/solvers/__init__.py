"""MILP backends: one adapter per solver, one contract, one status vocabulary.

Modules, each importing only from those before it: :mod:`~splitbench.solvers.base`
(settings, result, the adapter protocol, native-status tables),
:mod:`~splitbench.solvers.mps` (MPS text), the backends
(:mod:`~splitbench.solvers.highs`, :mod:`~splitbench.solvers.cbc`,
:mod:`~splitbench.solvers.pyomo`, :mod:`~splitbench.solvers.scip`),
:mod:`~splitbench.solvers.registry` (names) and :mod:`~splitbench.solvers.solve`
(:func:`solve_milp`: validation, scaling, the trust check).

Examples
--------
>>> "highs" in available_solvers(pyomo_names=False)
True
>>> from splitbench.formulations import build_routing
>>> from splitbench.instance import example_instance
>>> result = solve_milp(build_routing(example_instance()).milp, "cbc",
...                     SolverSettings(time_limit_s=30.0))
>>> result.status.value, result.termination.value, round(result.objective, 4)
('optimal', 'completed', 0.0856)
"""

from splitbench.solvers.base import (
    NativeStatusTable,
    SolverAdapter,
    SolverResult,
    SolverSettings,
    check_settings,
    map_native_status,
)
from splitbench.solvers.mps import export_mps, read_mps, write_mps
from splitbench.solvers.registry import (
    SOLVERS,
    available_solvers,
    describe_solvers,
    get_solver,
)
from splitbench.solvers.solve import solve_milp, solve_mps

__all__ = [
    "SOLVERS",
    "NativeStatusTable",
    "SolverAdapter",
    "SolverResult",
    "SolverSettings",
    "available_solvers",
    "check_settings",
    "describe_solvers",
    "export_mps",
    "get_solver",
    "map_native_status",
    "read_mps",
    "solve_milp",
    "solve_mps",
    "write_mps",
]
