"""The methods' forms for format 2 (many requests sharing capacity).

``routing-milp`` on a format-2 instance builds the coupled routing model
(:func:`~splitbench.formulations.routing_multi.build_routing_multi`: one layered
graph per request, coupled by compute, link and shared-memory rows) and solves it
the same way as one request: the LP relaxation first (its bound recorded), then the
MILP in the time left. The runner judges the answer with the format-2 evaluator.

Examples
--------
>>> from splitbench.answer import RunOptions
>>> from splitbench.instance import MultiInstance, example_instance
>>> multi = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
>>> result = run_routing_milp_multi(multi, RunOptions())
>>> result.status.value, result.placement.ids, round(result.claimed_objective, 3)
('optimal', ('r1',), 1.712)
"""

from __future__ import annotations

from splitbench.answer import MethodResult, RunOptions
from splitbench.errors import UsageError
from splitbench.formulations.routing_multi import MultiFormulation, build_routing_multi
from splitbench.instance.multi import MultiInstance
from splitbench.methods.milp import milp_result

__all__ = ["run_routing_milp_multi"]


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
