"""Methods: the registry of every method, the runner of one, and the methods that are
not graph algorithms (the MILP methods, the baselines, the exhaustive oracle).

Examples
--------
>>> from splitbench.instance import example_instance
>>> sol = solve(example_instance(), "label-setting")
>>> sol.status.value, round(sol.objective, 4)
('optimal', 0.0856)
>>> "fin" in METHODS
True
"""

from splitbench.answer import MethodResult, RunOptions
from splitbench.methods.plugins import (
    ENTRY_POINT_GROUP,
    find_method,
    load_entry_points,
    load_plugin,
)
from splitbench.methods.registry import (
    DEFAULT_SOLVER,
    METHODS,
    SOLVER_PARAMS,
    MethodSpec,
    RunFunction,
    get_method,
    register,
)
from splitbench.methods.run import check_settings, solve
from splitbench.params import Param

__all__ = [
    "DEFAULT_SOLVER",
    "ENTRY_POINT_GROUP",
    "METHODS",
    "SOLVER_PARAMS",
    "MethodResult",
    "MethodSpec",
    "Param",
    "RunFunction",
    "RunOptions",
    "check_settings",
    "find_method",
    "get_method",
    "load_entry_points",
    "load_plugin",
    "register",
    "solve",
]
