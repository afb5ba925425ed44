"""The method registry and :func:`solve`, the one way any method is run.

Every method is registered once, by name, with its parameters, whether it needs a
MILP solver, and when its answer is a proven optimum. :func:`solve` runs it, times
it, and passes its placement through the evaluator, so a method's own claims are
never what is reported.

A method is a function ``run(instance, options) -> MethodResult``; it may decline
an instance by returning status ``skipped`` with a reason. Methods are imported
lazily (``"module:function"``), so ``import splitbench`` needs no solver.

Examples
--------
>>> from splitbench.instance import example_instance
>>> sol = solve(example_instance(), "exhaustive")
>>> sol.status.value, round(sol.objective, 4), sol.placement.blocks
('optimal', 0.0856, ('md', 'md', 'md', 'cs', 'cs'))
>>> get_method("exhaustive").exact_on(example_instance())
True
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from splitbench.errors import PlacementError, UnknownNameError, UsageError
from splitbench.evaluate import evaluate
from splitbench.instance.io import instance_id
from splitbench.instance.model import Instance
from splitbench.params import Param, parse_params
from splitbench.solution import MethodResult, Solution, Status

__all__ = [
    "METHODS",
    "MethodSpec",
    "Param",
    "RunOptions",
    "get_method",
    "register",
    "solve",
]


@dataclass(frozen=True)
class RunOptions:
    """What a method receives besides the instance."""

    solver: str | None = None
    time_limit_s: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MethodSpec:
    """A registered method.

    Attributes
    ----------
    name : str
        The name used on the command line and in results.
    target : str
        ``"module:function"`` of the run function, imported on first use.
    description : str
        One line for ``splitbench list methods``.
    params : mapping of str to Param
        Accepted ``--param`` keys.
    uses_solver : bool
        Whether ``--solver`` applies.
    exact : bool or str
        True when an ``optimal`` answer is always a proven optimum, False when never,
        or ``"module:function"`` of a predicate ``f(instance) -> bool`` for methods
        exact on some instances only (a fixed-routing restriction, for instance).
    formulation : str or None
        The MILP formulation a solver-based method builds.
    """

    name: str
    target: str
    description: str
    params: Mapping[str, Param] = field(default_factory=dict)
    uses_solver: bool = False
    exact: bool | str = False
    formulation: str | None = None

    def load(self) -> Callable[[Instance, RunOptions], MethodResult]:
        """Import and return the run function."""
        function: Callable[[Instance, RunOptions], MethodResult] = _resolve(self.target)
        return function

    def exact_on(self, instance: Instance) -> bool:
        """Whether an ``optimal`` answer of this method is a proven optimum on ``instance``."""
        if isinstance(self.exact, bool):
            return self.exact
        predicate: Callable[[Instance], bool] = _resolve(self.exact)
        return bool(predicate(instance))


def _resolve(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


DEFAULT_SOLVER = "highs"
"""The backend of solver-based methods when none is named."""

METHODS: dict[str, MethodSpec] = {}
"""Every registered method by name."""


def register(spec: MethodSpec) -> MethodSpec:
    """Add ``spec`` to :data:`METHODS`; a duplicate name is an error."""
    if spec.name in METHODS:
        raise ValueError(f"method {spec.name!r} is registered twice")
    METHODS[spec.name] = spec
    return spec


def get_method(name: str) -> MethodSpec:
    """The method called ``name``.

    Raises
    ------
    UnknownNameError
        Listing the registered names.
    """
    try:
        return METHODS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown method {name!r}; known methods: {', '.join(sorted(METHODS))}"
        ) from None


def solve(
    instance: Instance,
    method: str,
    *,
    solver: str | None = None,
    time_limit_s: float | None = None,
    params: Mapping[str, Any] | None = None,
) -> Solution:
    """Run ``method`` on ``instance`` and evaluate its answer.

    Parameters
    ----------
    instance : Instance
        The instance.
    method : str
        A registered method name (see :data:`METHODS`).
    solver : str, optional
        The MILP backend for solver-based methods.
    time_limit_s : float, optional
        A time limit passed to the method.
    params : mapping, optional
        Method parameters (strings are converted by the parameter's type).

    Raises
    ------
    UnknownNameError, UsageError
        For an unknown method, an unknown or unavailable solver, a solver given to a
        method that uses none, or a bad parameter.

    Returns
    -------
    Solution
        The method's status and placement, with the objective, feasibility and
        violations recomputed by :func:`splitbench.evaluate.evaluate`. A method that
        raises or returns a malformed placement gives status ``error``, never an
        exception.
    """
    spec = get_method(method)
    if solver is not None:
        if not spec.uses_solver:
            raise UsageError(f"--solver {solver}: method {spec.name!r} uses no MILP solver")
        from splitbench.solvers import get_solver

        get_solver(solver)  # an unknown or missing solver is bad input, not a result
    options = RunOptions(
        solver=(solver or DEFAULT_SOLVER) if spec.uses_solver else None,
        time_limit_s=time_limit_s,
        params=parse_params(f"method {spec.name!r}", spec.params, params or {}),
    )
    run = spec.load()
    start = time.perf_counter()
    try:
        result = run(instance, options)
    except Exception as err:  # a run never raises: the failure becomes a result
        result = MethodResult(status=Status.ERROR, reason=f"{type(err).__name__}: {err}")
    elapsed = time.perf_counter() - start
    evaluation = None
    status = result.status
    reason = result.reason
    if result.placement is not None:
        try:
            evaluation = evaluate(instance, result.placement)
        except PlacementError as err:
            status, reason = Status.ERROR, f"malformed placement: {err}"
    return Solution(
        instance=instance.name or instance_id(instance),
        method=spec.name,
        solver=options.solver,
        status=status,
        placement=result.placement if evaluation is not None else None,
        evaluation=evaluation,
        bound=result.bound,
        build_time_s=result.build_time_s if result.build_time_s is not None else 0.0,
        solve_time_s=result.solve_time_s if result.solve_time_s is not None else elapsed,
        exact=spec.exact_on(instance),
        reason=reason,
        claimed_objective=result.claimed_objective,
        solver_time_s=result.solver_time_s,
        info=dict(result.info),
    )


_SOLVER_PARAMS = {
    "mip_rel_gap": Param(float, 1e-9, "relative MIP gap at which the solver stops"),
}

for _spec in (
    MethodSpec(
        name="assignment-milp",
        target="splitbench.formulations.methods:run_assignment_milp",
        description="classic assignment MILP (x, exit and McCormick pair variables; "
        "fixed cheapest routes)",
        params=_SOLVER_PARAMS,
        uses_solver=True,
        exact="splitbench.formulations.assignment:assignment_is_exact",
        formulation="assignment",
    ),
    MethodSpec(
        name="routing-milp",
        target="splitbench.formulations.methods:run_routing_milp",
        description="layered-graph routing MILP of Jung & Lee (arc flows)",
        params=_SOLVER_PARAMS,
        uses_solver=True,
        exact=True,
        formulation="routing",
    ),
    MethodSpec(
        name="routing-lp",
        target="splitbench.formulations.methods:run_routing_lp",
        description="LP relaxation of the routing MILP (optimal when the LP optimum is integral)",
        uses_solver=True,
        exact=True,
        formulation="routing",
    ),
    MethodSpec(
        name="exhaustive",
        target="splitbench.graphs.exhaustive:run_exhaustive",
        description="enumerate every placement, exit and simple route (exact oracle; "
        "declines large instances)",
        params={
            "max_candidates": Param(int, 200_000, "decline above this many evaluated candidates"),
            "max_routes": Param(
                int, 5_000, "decline when a node pair has more simple routes than this"
            ),
        },
        exact=True,
    ),
    MethodSpec(
        name="layered-sp",
        target="splitbench.graphs.shortest_path:run_layered_sp",
        description="one shortest path over the layered graph (exact for latency, and for "
        "energy without a binding deadline; declines otherwise)",
        exact=True,
    ),
    MethodSpec(
        name="fin",
        target="splitbench.graphs.fin:run_fin",
        description="FIN: latency-replicated feasible inference graph and one "
        "minimum-energy pass (always feasible)",
        params={
            "gamma": Param(int, 10, "latency levels (more: closer to the optimum, slower)"),
            "lambda": Param(int, -1, "proximity pruning width in levels (-1: no pruning)"),
        },
    ),
    MethodSpec(
        name="larac",
        target="splitbench.graphs.larac:run_larac",
        description="LARAC: Lagrangian relaxation of the deadline (feasible answer and a "
        "lower bound; optimal only when they meet)",
        params={"max_iterations": Param(int, 100, "Lagrange multiplier updates at most")},
        exact=True,
    ),
    MethodSpec(
        name="label-setting",
        target="splitbench.graphs.label_setting:run_label_setting",
        description="exact Pareto label setting over (cost, latency, memory)",
        params={"max_labels": Param(int, 2_000_000, "decline above this many labels")},
        exact=True,
    ),
    MethodSpec(
        name="device-only",
        target="splitbench.graphs.baselines:run_device_only",
        description="baseline: every block on the source device",
    ),
    MethodSpec(
        name="cloud-only",
        target="splitbench.graphs.baselines:run_cloud_only",
        description="baseline: every block on the fastest reachable node",
    ),
    MethodSpec(
        name="single-split",
        target="splitbench.graphs.baselines:run_single_split",
        description="baseline: best single split between the source and the fastest node "
        "(Neurosurgeon-style)",
    ),
    MethodSpec(
        name="mcp",
        target="splitbench.graphs.baselines:run_mcp",
        description="baseline: the FIN paper's latency-greedy cost-minimisation heuristic",
    ),
):
    register(_spec)
