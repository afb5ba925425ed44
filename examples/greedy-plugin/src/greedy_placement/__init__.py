"""An example splitbench plugin: method ``greedy``.

Block by block, from the request's source, put each block on the candidate node whose
step (the transfer of the previous tensor along the cheapest route, plus the block's
compute) costs least for the request's objective, and stop at the first exit that
meets the accuracy target (the final exit under the expected policy). It looks at
neither the deadline nor memory: splitbench's evaluator judges its answer, and the
runner reports ``invalid`` when it breaks a limit.

Installed, it joins splitbench through the entry point ``greedy`` in the group
``splitbench.methods`` (see ``pyproject.toml``): ``splitbench solve INSTANCE --method
greedy``. Without installing, ``splitbench solve INSTANCE --method greedy --plugin
greedy_placement`` with this folder's ``src`` on ``PYTHONPATH``.
"""

from __future__ import annotations

from splitbench.answer import MethodResult, RunOptions, Status
from splitbench.instance import ExitPolicy, Instance
from splitbench.methods import MethodSpec
from splitbench.placement import Placement
from splitbench.routes import cheapest_route, route_cost

__all__ = ["METHOD", "run_greedy"]


def _step_cost(instance: Instance, route: tuple[str, ...], size: float, node: str, ops: float) -> float:
    cost = route_cost(instance.network, route, size)
    compute = instance.network.node(node)
    seconds = ops / compute.ops_per_s
    if instance.request.objective.value == "latency":
        return cost.time_s + seconds
    return cost.energy_j + seconds * compute.power_w


def run_greedy(instance: Instance, options: RunOptions) -> MethodResult:
    """Place block after block on the cheapest next step."""
    del options
    net, dnn, req = instance.network, instance.dnn, instance.request
    if req.exit_policy is ExitPolicy.EXPECTED:
        last = dnn.n_blocks
    else:
        exits = instance.admissible_exits()
        if not exits:
            return MethodResult(Status.NONE, reason="no exit meets the accuracy target")
        last = exits[0].after_block
    here, nodes, routes = req.source, [], []
    for block in range(1, last + 1):
        size = dnn.handover_bytes(block - 1)
        best = None
        for node in instance.candidate_nodes(block):
            route = cheapest_route(net, here, node, size, req.objective)
            if route is None:
                continue
            cost = _step_cost(instance, route, size, node, dnn.block(block).ops)
            if best is None or cost < best[0]:
                best = (cost, node, route)
        if best is None:
            return MethodResult(Status.NONE, reason=f"no node can take block {block}")
        _, here, route = best
        nodes.append(here)
        routes.append(route)
    if req.destination is None:
        routes.append(None)
    else:
        back = cheapest_route(net, here, req.destination, dnn.exit_at(last).output_bytes, req.objective)
        if back is None:
            return MethodResult(Status.NONE, reason="the result cannot reach the destination")
        routes.append(back)
    placement = Placement(blocks=tuple(nodes), exit=last, routes=tuple(routes))
    return MethodResult(Status.FEASIBLE, placement=placement)


METHOD = MethodSpec(
    name="greedy",
    run=run_greedy,
    description="example plugin: cheapest next step, block by block",
    guarantee="none (a heuristic; it ignores the deadline and memory)",
)
"""The method this plugin offers (the entry point's object)."""

SPLITBENCH_METHODS = [METHOD]
"""What ``--plugin greedy_placement`` registers."""
