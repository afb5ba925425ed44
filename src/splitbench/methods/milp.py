"""The MILP methods: ``assignment-milp``, ``routing-milp``, ``routing-lp``.

Each builds its formulation (the build phase, with the backend's translation of the
arrays into its own model), hands it to the backend named by ``options.solver``
with the run's :class:`~splitbench.answer.Settings` (the time left, the gap, the
threads), and decodes the answer into a placement; the runner then recomputes
everything with the evaluator. The MILP methods solve the LP relaxation first: its
optimum is recorded (``facts.lp_bound``, ``facts.lp_integral``), and when it is
integral it is the MILP's optimum, so the MILP is not handed to the solver at all
(the routing LP is integral without a deadline or memory rows: its constraint matrix
is totally unimodular, and HiGHS spent 3 to 33 times the LP's time on such MILPs).

The assignment model is exact only where fixed routes cannot matter
(:func:`~splitbench.formulations.assignment.assignment_is_exact`); elsewhere it is a
fixed-routing restriction: its optimum is a feasible answer, not a proven optimum
(the runner reports it ``feasible``), its dual bound bounds the restriction only
(kept in ``info["restricted_bound"]``), and its infeasibility proves nothing about
the instance (status ``none`` with the reason).

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.answer import RunOptions
>>> result = run_routing_lp(example_instance(), RunOptions())  # the deadline row binds
>>> result.status.value, result.facts.lp_integral, round(result.bound, 4)
('none', False, 0.0612)
>>> from dataclasses import replace
>>> inst = example_instance()
>>> no_deadline = replace(inst, request=replace(inst.request, deadline_s=None))
>>> run_routing_lp(no_deadline, RunOptions()).facts.lp_integral
True
>>> run_assignment_milp(example_instance(), RunOptions(solver="cbc")).placement.blocks
('md', 'md', 'md', 'cs', 'cs')
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from splitbench.answer import MethodResult, RunFacts, RunOptions, Status, Termination
from splitbench.errors import UsageError
from splitbench.formulations.assignment import build_assignment
from splitbench.formulations.routing import build_routing
from splitbench.formulations.routing_multi import build_routing_multi
from splitbench.instance.model import Instance
from splitbench.instance.multi import MultiInstance
from splitbench.milp import MILP
from splitbench.params import Param, parse_params
from splitbench.placement import MultiPlacement, Placement
from splitbench.solvers import SolverResult, solve_milp
from splitbench.tolerances import INTEGRALITY_TOL

__all__ = [
    "ASSIGNMENT_PARAMS",
    "Model",
    "lp_result",
    "milp_result",
    "pair_variables",
    "run_assignment_milp",
    "run_routing_lp",
    "run_routing_lp_multi",
    "run_routing_milp",
]

DEFAULT_SOLVER = "highs"

ASSIGNMENT_PARAMS = {
    "max_pairs": Param(
        int, 2_000_000, "decline when the model would have more McCormick pair variables"
    ),
}
"""The parameters of method ``assignment-milp`` (besides the solver's)."""


def pair_variables(instance: Instance) -> int:
    """The number of pair variables z_{l,n,m} the assignment model needs (counted before
    anything is built: about sum_l |C_l| |C_{l+1}| over the candidate nodes C_l).

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> pair_variables(example_instance())  # block 1 on md, then 3 x 3 per hand-over
    30
    """
    sizes = [len(instance.candidate_nodes(block)) for block in range(1, instance.dnn.n_blocks + 1)]
    return sum(a * b for a, b in itertools.pairwise(sizes))


class Model(Protocol):
    """What the MILP methods need of a formulation (single- or many-request)."""

    @property
    def name(self) -> str: ...
    @property
    def milp(self) -> MILP: ...
    @property
    def exact(self) -> bool: ...
    @property
    def note(self) -> str | None: ...
    def decode(self, values: npt.ArrayLike) -> Placement | MultiPlacement: ...
    def sizes(self) -> dict[str, int]: ...


InstanceT = TypeVar("InstanceT", Instance, MultiInstance)


def _solve(
    instance: InstanceT,
    options: RunOptions,
    builder: Callable[[InstanceT], Model],
    *,
    relax: bool,
) -> tuple[Model, SolverResult | None]:
    """Build, then solve in the time left (None when the build used it all)."""
    form = builder(instance)
    milp = form.milp.relax() if relax else form.milp
    clock = options.clock
    clock.mark_built()
    remaining = clock.remaining_s()
    if remaining is not None and remaining <= 0.0:
        return form, None
    settings = replace(options.settings, time_limit_s=remaining)
    result = solve_milp(milp, options.solver or DEFAULT_SOLVER, settings)
    clock.add_build_time(result.translate_time_s or 0.0)
    return form, result


def _facts(form: Model, result: SolverResult | None, **extra: Any) -> RunFacts:
    sizes = form.sizes()
    return RunFacts(
        formulation=form.name,
        n_vars=sizes["n_vars"],
        n_binaries=sizes["n_binaries"],
        n_rows=sizes["n_rows"],
        n_nonzeros=sizes["n_nonzeros"],
        nodes=result.nodes if result is not None else None,
        solver_version=result.solver_version if result is not None else None,
        **extra,
    )


def _out_of_time(form: Model) -> MethodResult:
    return MethodResult(
        Status.NONE,
        Termination.TIME_LIMIT,
        reason="the time limit passed while the model was built",
        facts=_facts(form, None),
    )


def _decode(
    form: Model, values: np.ndarray | None
) -> tuple[Placement | MultiPlacement | None, str | None]:
    if values is None:
        return None, None
    try:
        return form.decode(values), None
    except ValueError as err:
        return None, f"could not decode the solver's solution: {err}"


def _integral(values: np.ndarray) -> bool:
    return bool(np.all(np.abs(values - np.round(values)) <= INTEGRALITY_TOL))


def milp_result(
    instance: InstanceT,
    options: RunOptions,
    builder: Callable[[InstanceT], Model],
) -> MethodResult:
    """Solve the LP relaxation first: an integral LP optimum is the MILP's optimum (and
    the LP bound is recorded either way); otherwise hand the MILP to the backend in the
    time left."""
    form = builder(instance)
    clock = options.clock
    clock.mark_built()
    remaining = clock.remaining_s()
    if remaining is not None and remaining <= 0.0:
        return _out_of_time(form)
    backend = options.solver or DEFAULT_SOLVER
    lp = solve_milp(form.milp.relax(), backend, replace(options.settings, time_limit_s=remaining))
    clock.add_build_time(lp.translate_time_s or 0.0)
    lp_facts: dict[str, Any] = {}
    if lp.status is Status.OPTIMAL and lp.values is not None:
        lp_facts = {"lp_bound": lp.objective, "lp_integral": _integral(lp.values)}
    elif lp.status is Status.INFEASIBLE:
        lp_facts = {"lp_bound": None, "lp_integral": None}
    if lp_facts.get("lp_integral") or lp.status is Status.INFEASIBLE:
        result = replace(lp, nodes=0)  # the root LP settles it: no branching
    else:
        remaining = clock.remaining_s()
        if remaining is not None and remaining <= 0.0:
            return _out_of_time(form)
        result = solve_milp(form.milp, backend, replace(options.settings, time_limit_s=remaining))
        clock.add_build_time(result.translate_time_s or 0.0)
    info: dict[str, Any] = {"solver_message": result.message}
    status, termination = result.status, result.termination
    reason = None if status in (Status.OPTIMAL, Status.FEASIBLE) else result.message
    bound = result.bound
    # what a formulation that is not exact restricts (a coupled model may say)
    what, kept = "fixed-routing restriction", "routes fixed to the cheapest for the objective"
    restriction = getattr(form, "restriction", None)
    if isinstance(restriction, str):
        what, kept = "route restriction", restriction
    if status is Status.INFEASIBLE:
        reason = form.note or result.message
        bound = None
        if not form.exact and form.note is None:
            status = Status.NONE
            reason = f"the {what} is infeasible ({kept}); the instance itself may not be"
    if not form.exact:
        info["restricted_bound"] = bound
        bound = None
        if status is Status.OPTIMAL:
            reason = f"optimal for the {what} ({kept}), not proven optimal for the instance"
    placement = None
    if status.has_answer:
        placement, failure = _decode(form, result.values)
        if failure is not None:
            status, termination, reason = Status.NONE, Termination.ERROR, failure
    return MethodResult(
        status,
        termination,
        placement=placement,
        claimed_objective=result.objective,
        bound=bound,
        reason=reason,
        solver_time_s=(lp.solver_time_s or 0.0) + (result.solver_time_s or 0.0)
        if result is not lp
        else lp.solver_time_s,
        facts=_facts(form, result, **lp_facts),
        info=info,
    )


def run_assignment_milp(instance: Instance, options: RunOptions) -> MethodResult:
    """Method ``assignment-milp``: the assignment MILP on ``options.solver``.

    Returns
    -------
    MethodResult
        ``optimal`` when the model is the instance's (``form.exact``); otherwise
        the restriction's optimum as an answer whose optimality is not proven.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> from splitbench.answer import RunOptions
    >>> result = run_assignment_milp(example_instance(), RunOptions())
    >>> result.status.value, result.facts.formulation, result.facts.n_binaries
    ('optimal', 'assignment', 40)
    >>> run_assignment_milp(example_instance(), RunOptions(params={"max_pairs": 10})).reason
    'the assignment model needs 30 pair variables, more than max_pairs = 10: use routing-milp'
    """
    limit = parse_params("method 'assignment-milp'", ASSIGNMENT_PARAMS, options.params)
    pairs = pair_variables(instance)
    if pairs > limit["max_pairs"]:
        return MethodResult.skipped(
            f"the assignment model needs {pairs} pair variables, more than max_pairs = "
            f"{limit['max_pairs']}: use routing-milp"
        )
    return milp_result(instance, options, build_assignment)


def run_routing_milp(instance: Instance, options: RunOptions) -> MethodResult:
    """Method ``routing-milp``: the layered-graph routing MILP on ``options.solver``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> from splitbench.answer import RunOptions
    >>> result = run_routing_milp(example_instance(), RunOptions(solver="pyomo-highs"))
    >>> result.status.value, result.placement.exit
    ('optimal', 5)
    """
    return milp_result(instance, options, build_routing)


def run_routing_lp(instance: Instance, options: RunOptions) -> MethodResult:
    """Method ``routing-lp``: the LP relaxation of the routing MILP.

    When the LP optimum is integral (every value within :data:`INTEGRALITY_TOL` of
    an integer) it is a proven optimum of the MILP and is returned ``optimal``;
    otherwise the status is ``none`` with the LP value as the bound and
    ``facts.lp_integral`` False.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> from splitbench.answer import RunOptions
    >>> run_routing_lp(example_instance(), RunOptions()).facts.n_binaries
    0
    """
    return lp_result(instance, options, build_routing)


def lp_result(
    instance: InstanceT, options: RunOptions, builder: Callable[[InstanceT], Model]
) -> MethodResult:
    """Solve the LP relaxation of ``builder(instance)``: an integral optimum is the
    MILP's (``optimal``), a fractional one a bound (status ``none``)."""
    form, result = _solve(instance, options, builder, relax=True)
    if result is None:
        return _out_of_time(form)
    facts = replace(_facts(form, result), n_binaries=0)

    def answer(status: Status, termination: Termination, **fields: Any) -> MethodResult:
        return MethodResult(
            status,
            termination,
            solver_time_s=result.solver_time_s,
            info={"solver_message": result.message},
            **fields,
        )

    if result.status is Status.INFEASIBLE:
        return answer(
            Status.INFEASIBLE, result.termination, reason=form.note or result.message, facts=facts
        )
    if result.status is not Status.OPTIMAL or result.values is None:
        return answer(Status.NONE, result.termination, reason=result.message, facts=facts)
    values = result.values
    integral = _integral(values)
    facts = replace(facts, lp_bound=result.objective, lp_integral=integral)
    if not integral:
        return answer(
            Status.NONE,
            Termination.COMPLETED,
            bound=result.objective,
            reason="the LP optimum is fractional",
            facts=facts,
        )
    placement, failure = _decode(form, values)
    if failure is not None:
        return answer(
            Status.NONE, Termination.ERROR, reason=failure, bound=result.objective, facts=facts
        )
    return answer(
        Status.OPTIMAL,
        Termination.COMPLETED,
        placement=placement,
        claimed_objective=result.objective,
        bound=result.objective,
        facts=facts,
    )


def run_routing_lp_multi(instance: MultiInstance, options: RunOptions) -> MethodResult:
    """Method ``routing-lp`` on a format-2 instance: the LP relaxation of the coupled
    routing model (:func:`~splitbench.formulations.routing_multi.build_routing_multi`).

    Under load the relaxation is fractional in general (a request's flow splits over
    two routes or nodes to share a capacity); its optimum is a lower bound on the
    coupled optimum, and an integral optimum is the coupled optimum.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> one = MultiInstance.from_single(example_instance(), rate_per_s=150.0)
    >>> two = replace(one, requests=(one.requests[0], replace(one.requests[0], id="r2")))
    >>> lp = run_routing_lp_multi(two, RunOptions())
    >>> lp.status.value, lp.facts.lp_integral, round(lp.bound, 2)  # the optimum: 26.33 W
    ('none', False, 24.38)
    """

    def build(multi: MultiInstance) -> Model:
        return build_routing_multi(multi)

    try:
        return lp_result(instance, options, build)
    except UsageError as err:
        return MethodResult.skipped(str(err))
