"""The methods' forms for format 2 (many requests sharing capacity).

``routing-milp`` on a format-2 instance builds the coupled routing model
(:func:`~splitbench.formulations.routing_multi.build_routing_multi`: one layered
graph per request, coupled by compute, link and shared-memory rows) and solves it
the same way as one request: the LP relaxation first (its bound recorded), then the
MILP in the time left. ``assignment-milp`` does the same with the coupled assignment
model (:func:`~splitbench.formulations.assignment_multi.build_assignment_multi`:
per-request block, pair and route-choice variables, coupled by the same rows). The
runner judges the answer with the format-2 evaluator.

Examples
--------
>>> from splitbench.answer import RunOptions
>>> from splitbench.instance import MultiInstance, example_instance
>>> multi = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
>>> result = run_routing_milp_multi(multi, RunOptions())
>>> result.status.value, result.placement.ids, round(result.claimed_objective, 3)
('optimal', ('r1',), 1.712)
>>> same = run_assignment_milp_multi(multi, RunOptions())
>>> same.facts.formulation, round(same.claimed_objective, 3)
('assignment-multi', 1.712)
"""

from __future__ import annotations

from dataclasses import replace

from splitbench.answer import MethodResult, RunOptions, Status
from splitbench.errors import UsageError
from splitbench.formulations.assignment_multi import (
    DEFAULT_MAX_ROUTES,
    AssignmentMultiFormulation,
    build_assignment_multi,
    route_variables,
)
from splitbench.formulations.routing_multi import MultiFormulation, build_routing_multi
from splitbench.instance.multi import MultiInstance
from splitbench.methods.milp import ASSIGNMENT_PARAMS, milp_result, pair_variables
from splitbench.params import Param, parse_params

__all__ = [
    "ASSIGNMENT_MULTI_PARAMS",
    "MULTI_ONLY_PARAMS",
    "run_assignment_milp_multi",
    "run_routing_milp_multi",
]

MULTI_ONLY_PARAMS = {
    "max_routes": Param(
        int,
        DEFAULT_MAX_ROUTES,
        "simple routes kept per node pair and tensor, cheapest first (a pair with more "
        "makes the model a restriction)",
    ),
    "max_route_vars": Param(
        int, 5_000_000, "decline when the model would have more route variables"
    ),
}
"""The parameter of method ``assignment-milp`` that only its format-2 form takes."""

ASSIGNMENT_MULTI_PARAMS = {**ASSIGNMENT_PARAMS, **MULTI_ONLY_PARAMS}
"""The parameters of method ``assignment-milp`` on a format-2 instance (besides the
solver's): the single method's ``max_pairs`` (summed over the requests) and
``max_routes``."""


def run_routing_milp_multi(instance: MultiInstance, options: RunOptions) -> MethodResult:
    """Method ``routing-milp`` on a format-2 instance: the coupled routing MILP.

    A request the coupled model does not take yet (see
    :func:`~splitbench.formulations.routing_multi.build_routing_multi`) makes the
    method decline, with the reason.
    """

    def build(multi: MultiInstance) -> MultiFormulation:
        return build_routing_multi(multi)

    try:
        return milp_result(instance, options, build)
    except UsageError as err:
        return MethodResult.skipped(str(err))


def run_assignment_milp_multi(instance: MultiInstance, options: RunOptions) -> MethodResult:
    """Method ``assignment-milp`` on a format-2 instance: the coupled assignment MILP.

    Declines above ``max_pairs`` pair variables (over all requests, counted before
    anything is built) and for a request the model does not take (the expected exit
    policy). When a node pair has more than ``max_routes`` simple routes the model is
    a restriction: the answer is feasible but not proven optimal, and the reason says
    which routes were left out.

    Raises
    ------
    UsageError
        For an unknown parameter or a value of the wrong type.

    Examples
    --------
    >>> from splitbench.answer import RunOptions
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> multi = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
    >>> run_assignment_milp_multi(multi, RunOptions(params={"max_pairs": 10})).reason
    'the assignment model needs 30 pair variables, more than max_pairs = 10: use routing-milp'
    >>> cut = run_assignment_milp_multi(multi, RunOptions(params={"max_routes": 1}))
    >>> cut.status.value, cut.info["restricted_bound"] is not None, cut.bound is None
    ('feasible', True, True)
    >>> cut.reason  # doctest: +NORMALIZE_WHITESPACE
    'optimal for the route restriction (only the 1 cheapest simple routes of 1 node pairs
     (md->cs)), not proven optimal for the instance'
    """
    limit = parse_params("method 'assignment-milp'", ASSIGNMENT_MULTI_PARAMS, options.params)
    pairs = sum(pair_variables(single) for _, single in instance.singles())
    if pairs > limit["max_pairs"]:
        return MethodResult.skipped(
            f"the assignment model needs {pairs} pair variables, more than max_pairs = "
            f"{limit['max_pairs']}: use routing-milp"
        )
    routes = route_variables(instance, limit["max_routes"])
    if routes > limit["max_route_vars"]:
        return MethodResult.skipped(
            f"the assignment model needs {routes} route variables, more than "
            f"max_route_vars = {limit['max_route_vars']}: use routing-milp"
        )
    built: list[AssignmentMultiFormulation] = []

    def build(multi: MultiInstance) -> AssignmentMultiFormulation:
        form = build_assignment_multi(multi, max_routes=limit["max_routes"])
        built.append(form)
        return form

    try:
        result = milp_result(instance, options, build)
    except UsageError as err:
        return MethodResult.skipped(str(err))
    if built and not built[0].exact and result.status is Status.OPTIMAL:
        result = replace(result, status=Status.FEASIBLE)  # the restriction's optimum only
    return result
