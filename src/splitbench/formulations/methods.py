"""The MILP methods of the registry: ``assignment-milp``, ``routing-milp``, ``routing-lp``.

Each builds its formulation, hands it to the backend named by ``options.solver``
(``highs`` when None), and decodes the answer into a placement; the registry's
:func:`splitbench.methods.solve` then recomputes everything with the evaluator.
Time is measured in phases: ``build_time_s`` is the formulation plus the backend's
translation of the arrays into its own model, ``solve_time_s`` the solver call,
``solver_time_s`` the solver's own clock. The backend's package is imported before
any timer starts.

An ``infeasible`` answer of the assignment MILP when it is not exact (a
fixed-routing restriction) proves nothing about the instance: it is reported as
``no_solution`` with the reason, and its dual bound is kept in ``info`` only.

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.methods import RunOptions
>>> result = run_routing_lp(example_instance(), RunOptions())  # the deadline row binds
>>> result.status.value, result.info["lp_integral"], round(result.bound, 4)
('no_solution', False, 0.0612)
>>> from dataclasses import replace
>>> inst = example_instance()
>>> no_deadline = replace(inst, request=replace(inst.request, deadline_s=None))
>>> run_routing_lp(no_deadline, RunOptions()).info["lp_integral"]
True
>>> run_assignment_milp(example_instance(), RunOptions(solver="cbc")).placement.blocks
('md', 'md', 'md', 'cs', 'cs')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from splitbench.evaluate import Placement
from splitbench.formulations.assignment import build_assignment
from splitbench.formulations.milp import Formulation
from splitbench.formulations.routing import build_routing
from splitbench.instance.model import Instance
from splitbench.methods import RunOptions
from splitbench.solution import MethodResult, Status
from splitbench.solvers.base import SolverResult, get_solver, solve_milp

__all__ = ["INTEGRALITY_TOL", "run_assignment_milp", "run_routing_lp", "run_routing_milp"]

INTEGRALITY_TOL = 1e-7
"""An LP value this close to an integer counts as integral."""

DEFAULT_SOLVER = "highs"


def _solve(
    instance: Instance,
    options: RunOptions,
    builder: Callable[[Instance], Formulation],
    *,
    relax: bool,
) -> tuple[Formulation, SolverResult, float]:
    solver = options.solver or DEFAULT_SOLVER
    get_solver(solver).version()  # imports the solver package before any timer
    start = time.perf_counter()
    form = builder(instance)
    milp = form.milp.relax() if relax else form.milp
    built = time.perf_counter() - start
    gap = None if relax else options.params.get("mip_rel_gap")
    result = solve_milp(
        milp,
        solver,
        time_limit_s=options.time_limit_s,
        mip_rel_gap=float(gap) if gap is not None else None,
    )
    return form, result, built


def _info(form: Formulation, result: SolverResult) -> dict[str, Any]:
    return {
        "formulation": form.name,
        **form.sizes(),
        "nodes": result.nodes,
        "solver_version": result.solver_version,
        "solver_message": result.message,
    }


def _decode(form: Formulation, values: np.ndarray | None) -> tuple[Placement | None, str | None]:
    if values is None:
        return None, None
    try:
        return form.decode(values), None
    except ValueError as err:
        return None, f"could not decode the solver's solution: {err}"


def _milp_result(
    instance: Instance,
    options: RunOptions,
    builder: Callable[[Instance], Formulation],
) -> MethodResult:
    form, result, built = _solve(instance, options, builder, relax=False)
    info = _info(form, result)
    status = result.status
    reason = None if status in (Status.OPTIMAL, Status.FEASIBLE) else result.message
    bound = result.bound
    if status is Status.INFEASIBLE:
        reason = form.note or result.message
        bound = None
        if not form.exact and form.note is None:
            status = Status.NO_SOLUTION
            reason = (
                "the fixed-routing restriction is infeasible (routes fixed to the "
                "cheapest for the objective); the instance itself may not be"
            )
    if not form.exact:
        info["restricted_bound"] = bound
        bound = None
    placement = None
    if status.has_answer:
        placement, failure = _decode(form, result.values)
        if failure is not None:
            status, reason = Status.ERROR, failure
    return MethodResult(
        status=status,
        placement=placement,
        claimed_objective=result.objective,
        bound=bound,
        reason=reason,
        build_time_s=built + (result.translate_time_s or 0.0),
        solve_time_s=result.solve_time_s,
        solver_time_s=result.solver_time_s,
        info=info,
    )


def run_assignment_milp(instance: Instance, options: RunOptions) -> MethodResult:
    """Method ``assignment-milp``: the assignment MILP on ``options.solver``.

    Parameters
    ----------
    instance : Instance
        The instance.
    options : RunOptions
        ``solver`` (default ``highs``), ``time_limit_s``, ``params["mip_rel_gap"]``.

    Returns
    -------
    MethodResult
        ``optimal`` means optimal for the model; the model is the instance's
        optimum only when :func:`~splitbench.formulations.assignment_is_exact` holds.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> from splitbench.methods import RunOptions
    >>> result = run_assignment_milp(example_instance(), RunOptions())
    >>> result.status.value, result.info["formulation"], result.info["n_binaries"]
    ('optimal', 'assignment', 40)
    """
    return _milp_result(instance, options, build_assignment)


def run_routing_milp(instance: Instance, options: RunOptions) -> MethodResult:
    """Method ``routing-milp``: the layered-graph routing MILP on ``options.solver``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> from splitbench.methods import RunOptions
    >>> result = run_routing_milp(example_instance(), RunOptions(solver="pyomo-highs"))
    >>> result.status.value, result.placement.exit
    ('optimal', 5)
    """
    return _milp_result(instance, options, build_routing)


def run_routing_lp(instance: Instance, options: RunOptions) -> MethodResult:
    """Method ``routing-lp``: the LP relaxation of the routing MILP.

    When the LP optimum is integral (every value within :data:`INTEGRALITY_TOL` of
    an integer) it is a proven optimum of the MILP and is returned ``optimal``;
    otherwise the status is ``no_solution`` with the LP value as the bound and
    ``info["lp_integral"]`` False.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> from splitbench.methods import RunOptions
    >>> run_routing_lp(example_instance(), RunOptions()).info["n_binaries"]
    0
    """
    form, result, built = _solve(instance, options, build_routing, relax=True)
    info = _info(form, result)
    info["n_binaries"] = 0
    build_time = built + (result.translate_time_s or 0.0)

    def answer(status: Status, **fields: Any) -> MethodResult:
        return MethodResult(
            status=status,
            info=info,
            build_time_s=build_time,
            solve_time_s=result.solve_time_s,
            solver_time_s=result.solver_time_s,
            **fields,
        )

    if result.status is Status.INFEASIBLE:
        return answer(Status.INFEASIBLE, reason=form.note or result.message)
    if result.status is not Status.OPTIMAL or result.values is None:
        stopped = Status.NO_SOLUTION if result.status is Status.FEASIBLE else result.status
        return answer(stopped, reason=result.message)
    values = result.values
    integral = bool(np.all(np.abs(values - np.round(values)) <= INTEGRALITY_TOL))
    info["lp_bound"] = result.objective
    info["lp_integral"] = integral
    if not integral:
        return answer(
            Status.NO_SOLUTION, bound=result.objective, reason="the LP optimum is fractional"
        )
    placement, failure = _decode(form, values)
    if failure is not None:
        return answer(Status.ERROR, reason=failure, bound=result.objective)
    return answer(
        Status.OPTIMAL,
        placement=placement,
        claimed_objective=result.objective,
        bound=result.objective,
    )
