"""The registry of every method: one :class:`MethodSpec` per name.

A spec holds the facts about a method once: its run function (a callable, so mypy
checks its signature), its parameters with their defaults (the module that
implements the method owns them), whether it uses a MILP solver, and when it is
exact. User methods join the same registry (:func:`register`, the entry-point group
``splitbench.methods`` or ``--plugin MODULE``).

Examples
--------
>>> from splitbench.instance import example_instance
>>> get_method("exhaustive").exact_on(example_instance())
True
>>> get_method("fin").params["gamma"].default
10
>>> get_method("routing-milp").default_solver
'highs'
>>> get_method("fnord")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
splitbench.errors.UnknownNameError: unknown method 'fnord'; known methods: assignment-milp, ...
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from splitbench.answer import MethodResult, RunOptions
from splitbench.formulations.assignment import assignment_is_exact
from splitbench.formulations.assignment_multi import assignment_multi_is_exact
from splitbench.graphs import fin, label_setting, larac, layered_sp
from splitbench.instance.model import Instance
from splitbench.instance.multi import MultiInstance
from splitbench.methods import (
    baselines,
    exhaustive,
    exhaustive_multi,
    fin_multi,
    lagrangian,
    mcp,
    milp,
    multi,
    rounding,
    sequential,
)
from splitbench.params import Param
from splitbench.registry import Registry
from splitbench.tolerances import MIP_REL_GAP

__all__ = [
    "DEFAULT_SOLVER",
    "METHODS",
    "SOLVER_PARAMS",
    "MethodSpec",
    "RunFunction",
    "RunMultiFunction",
    "get_method",
    "register",
]

RunFunction = Callable[[Instance, RunOptions], MethodResult]
"""What every method is: ``run(instance, options) -> MethodResult``."""

RunMultiFunction = Callable[[MultiInstance, RunOptions], MethodResult]
"""A method's answer to a format-2 instance: a result whose placement is a
:class:`~splitbench.placement.MultiPlacement`."""

DEFAULT_SOLVER = "highs"
"""The backend of solver-based methods when none is named."""

SOLVER_PARAMS: Mapping[str, Param] = {
    "mip_rel_gap": Param(float, MIP_REL_GAP, "relative MIP gap at which the solver stops"),
}
"""Parameters every solver-based method takes (the runner moves them into Settings)."""


@dataclass(frozen=True)
class MethodSpec:
    """A registered method.

    Attributes
    ----------
    name : str
        The name used on the command line and in results.
    run : callable
        ``run(instance, options) -> MethodResult``.
    description : str
        One line for ``splitbench list methods``.
    params : mapping of str to Param
        Accepted ``--param`` keys with their defaults.
    uses_solver : bool
        Whether ``--solver`` applies (then :data:`SOLVER_PARAMS` are accepted too).
    exact : bool or callable
        True when the method's ``optimal`` is always the instance's optimum, False
        when the method is a heuristic, or a predicate ``f(instance) -> bool`` for
        methods exact on some instances only (a fixed-routing restriction); a method
        with ``run_multi`` gets format-2 instances in its predicate too, and a
        predicate ``f(instance, params)`` gets the run's parameters.
    formulation : str or None
        The MILP formulation a solver-based method builds.
    guarantee : str
        What an answer of this method promises, in one sentence (for the docs and
        ``splitbench list methods``).
    guarantees_feasible : bool
        Whether every placement the method returns meets every limit; the harness's
        ``check`` fails a run whose answer the evaluator rejects. Exact methods
        always promise it; a heuristic may.
    run_multi : callable or None
        The method on a format-2 instance (many requests sharing capacity); None
        when it takes one request only (the runner then declines format 2).
    multi_params : mapping of str to Param
        Parameters only its format-2 form takes (``run_multi`` receives them with
        ``params``; ``run`` never sees them).
    """

    name: str
    run: RunFunction
    description: str
    params: Mapping[str, Param] = field(default_factory=dict)
    uses_solver: bool = False
    exact: bool | Callable[..., bool] = False
    formulation: str | None = None
    guarantee: str = ""
    guarantees_feasible: bool = False
    run_multi: RunMultiFunction | None = None
    multi_params: Mapping[str, Param] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.exact is True and not self.guarantees_feasible:
            object.__setattr__(self, "guarantees_feasible", True)

    @property
    def default_solver(self) -> str | None:
        """The backend used when none is named (None for methods without a solver)."""
        return DEFAULT_SOLVER if self.uses_solver else None

    @property
    def all_params(self) -> Mapping[str, Param]:
        """Every accepted parameter, the solver's and the format-2 ones included."""
        own = {**self.params, **self.multi_params}
        return {**own, **SOLVER_PARAMS} if self.uses_solver else own

    def exact_on(
        self, instance: Instance | MultiInstance, params: Mapping[str, Any] | None = None
    ) -> bool:
        """Whether an ``optimal`` answer of this method is the optimum of ``instance``
        with parameters ``params`` (never on a format-2 instance for a method without a
        format-2 form). A predicate that takes two arguments gets the parameters too."""
        if isinstance(self.exact, bool):
            return self.exact
        if isinstance(instance, MultiInstance) and self.run_multi is None:
            return False
        if _takes_params(self.exact):
            return bool(self.exact(instance, dict(params or {})))
        return bool(self.exact(instance))


def _takes_params(predicate: Callable[..., bool]) -> bool:
    """Whether an exactness predicate takes the parameters as a second argument."""
    try:
        signature = inspect.signature(predicate)
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in positional)


METHODS = Registry[MethodSpec]("method")
"""Every registered method by name."""


def _assignment_exact(instance: Instance | MultiInstance, params: Mapping[str, Any]) -> bool:
    """Whether the assignment model (coupled on format 2, with its ``max_routes``) is
    the instance's own."""
    if isinstance(instance, MultiInstance):
        most = params.get("max_routes", multi.MULTI_ONLY_PARAMS["max_routes"].default)
        return assignment_multi_is_exact(instance, int(most))
    return assignment_is_exact(instance)


def register(spec: MethodSpec) -> MethodSpec:
    """Add ``spec`` to :data:`METHODS` and return it.

    Registering the same spec again (a module imported twice) changes nothing; another
    method under a registered name is refused with
    :class:`~splitbench.errors.DuplicateNameError`.
    """
    if spec.name in METHODS and METHODS.get(spec.name) == spec:
        return spec
    return METHODS.register(spec.name, spec)


def get_method(name: str) -> MethodSpec:
    """The method called ``name`` (an unknown name lists the registered ones)."""
    return METHODS.get(name)


register(
    MethodSpec(
        name="assignment-milp",
        run=milp.run_assignment_milp,
        description="classic assignment MILP (x, exit and McCormick pair variables; "
        "fixed cheapest routes)",
        params=milp.ASSIGNMENT_PARAMS,
        multi_params=multi.MULTI_ONLY_PARAMS,
        uses_solver=True,
        exact=_assignment_exact,
        formulation="assignment",
        guarantees_feasible=True,
        guarantee="exact for latency and where routes cannot matter; otherwise a "
        "fixed-routing restriction whose answer is feasible but not proven optimal "
        "(format 2: every simple route up to max_routes per node pair, exact when none "
        "is left out)",
        run_multi=multi.run_assignment_milp_multi,
    )
)
register(
    MethodSpec(
        name="routing-milp",
        run=milp.run_routing_milp,
        description="layered-graph routing MILP of Jung & Lee (arc flows)",
        uses_solver=True,
        exact=True,
        formulation="routing",
        guarantee="exact",
        run_multi=multi.run_routing_milp_multi,
    )
)
register(
    MethodSpec(
        name="routing-lp",
        run=milp.run_routing_lp,
        description="LP relaxation of the routing MILP (optimal when the LP optimum is integral)",
        uses_solver=True,
        exact=True,
        formulation="routing",
        guarantee="a lower bound; an answer only when the LP optimum is integral, then optimal",
        run_multi=milp.run_routing_lp_multi,
    )
)
register(
    MethodSpec(
        name="exhaustive",
        run=exhaustive.run_exhaustive,
        run_multi=exhaustive_multi.run_exhaustive_multi,
        description="enumerate every placement, exit and simple route (exact oracle; "
        "declines large instances)",
        params=exhaustive.PARAMS,
        multi_params={
            k: p for k, p in exhaustive_multi.PARAMS.items() if k not in exhaustive.PARAMS
        },
        exact=True,
        guarantee="exact (declines instances above its size limits)",
    )
)
register(
    MethodSpec(
        name="layered-sp",
        run=layered_sp.run_layered_sp,
        description="one shortest path over the layered graph (exact for latency, and for "
        "energy without a binding deadline; declines otherwise)",
        exact=True,
        guarantee="exact where it answers; declines a binding deadline or memory limit",
    )
)
register(
    MethodSpec(
        name="fin",
        run=fin.run_fin,
        description="FIN: latency-replicated feasible inference graph and one "
        "minimum-energy pass (always feasible)",
        params=fin.PARAMS,
        multi_params=fin_multi.MULTI_PARAMS,
        guarantees_feasible=True,
        guarantee="every answer meets the deadline; optimal as gamma grows (and without a "
        "deadline); on format 2, FIN per request on the capacity the others left, every "
        "answer meeting every limit",
        run_multi=fin_multi.run_fin_multi,
    )
)
register(
    MethodSpec(
        name="larac",
        run=larac.run_larac,
        description="LARAC: Lagrangian relaxation of the deadline (feasible answer and a "
        "lower bound; optimal only when they meet)",
        params=larac.PARAMS,
        exact=False,
        guarantees_feasible=True,
        guarantee="a feasible answer and a certified lower bound; optimal only when they meet",
    )
)
register(
    MethodSpec(
        name="label-setting",
        run=label_setting.run_label_setting,
        description="exact Pareto label setting over (cost, latency, memory)",
        params=label_setting.PARAMS,
        exact=True,
        guarantee="exact (stops without an answer above its label limit)",
    )
)
register(
    MethodSpec(
        name="device-only",
        run=baselines.run_device_only,
        description="baseline: every block on the source device",
        guarantee="none (a baseline)",
    )
)
register(
    MethodSpec(
        name="cloud-only",
        run=baselines.run_cloud_only,
        description="baseline: every block on the fastest reachable node",
        guarantee="none (a baseline)",
    )
)
register(
    MethodSpec(
        name="single-split",
        run=baselines.run_single_split,
        description="baseline: best single split between the source and the fastest node "
        "(Neurosurgeon-style)",
        guarantee="none (a baseline)",
    )
)
register(
    MethodSpec(
        name="mcp",
        run=mcp.run_mcp,
        description="baseline: the FIN paper's cost-minimisation walk (latency-driven, "
        "stops when the score allows)",
        params=mcp.PARAMS,
        guarantee="none (a baseline; it ignores energy and does not check the deadline; on "
        "format 2 each request walks alone, ignoring the shared capacity)",
        run_multi=mcp.run_mcp_multi,
    )
)
register(
    MethodSpec(
        name="sequential",
        run=sequential.run_sequential,
        description="requests one by one (largest demand first), each the cheapest "
        "placement on the residual capacity (label setting)",
        params=sequential.PARAMS,
        guarantees_feasible=True,
        guarantee="every answer meets every limit; no optimality claim; a request that "
        "fits nowhere gives none, not infeasible",
        run_multi=sequential.run_sequential_multi,
    )
)
register(
    MethodSpec(
        name="lp-rounding",
        run=rounding.run_lp_rounding,
        description="LP relaxation of the coupled routing model, each request rounded to "
        "its heaviest flow path, repaired on the residual capacity",
        params=rounding.PARAMS,
        uses_solver=True,
        guarantees_feasible=True,
        guarantee="every answer meets every limit; its bound is the LP optimum; "
        "infeasible only when the LP is",
        run_multi=rounding.run_lp_rounding_multi,
    )
)
register(
    MethodSpec(
        name="lagrangian",
        run=lagrangian.run_lagrangian,
        description="Lagrangian relaxation of the coupling rows (compute, link, shared "
        "memory) by subgradient; label-setting subproblems; repair on residual capacity",
        params=lagrangian.PARAMS,
        guarantees_feasible=True,
        guarantee="a certified lower bound and, when the repair fits, a feasible answer; "
        "optimal only when they meet",
        run_multi=lagrangian.run_lagrangian_multi,
    )
)
