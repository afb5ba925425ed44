"""Method ``mcp``: the FIN paper's "state-of-the-art cost minimisation" baseline.

The walk the FIN authors evaluate their method against ([FIN], section VI; probable
origin: H_MCOP, Korkmaz & Krunz, INFOCOM 2001), reconstructed from the behaviour of
their published code on their scenario and generalised to any network:

- the tiers form a ladder: ``tier_order`` when given, otherwise the tiers of the
  computing nodes by increasing top speed;
- block 1 runs where the input is (the source; if block 1 may not run there, it is
  placed by the rule below);
- for each later block i, the *step latency* of a candidate node is the transfer of
  block i-1's output along the minimum-latency route plus block i's compute time
  there; the candidates are the current node and the admissible nodes of the tiers
  above it. The score is::

      score = max(0.5 * latency_scale * (D + cheapest step) / T, 0.5 * A / a_i)

  with D the latency so far, T the deadline, A the accuracy target and a_i the
  accuracy of the deepest exit the deployed blocks 1..i-1 reach (a term is 0 when
  its target is unset). The accuracy term carries the same weight as the latency term: with an
  unweighted A / a_i the walk could not stop at targets of 50-55 % on B-AlexNet,
  which the authors' runs do;
- if the score exceeds :data:`MCP_THRESHOLD` (0.85), or the exit reached so far
  cannot meet A, block i is deployed: on the fastest node of the next tier up when
  it beats staying (the authors' branch order prefers the edge over the cloud when
  the edge beats the device), otherwise on the fastest candidate;
- otherwise the walk **stops**: block i and every later block stay undeployed, and
  the operating exit is the deepest exit among the deployed blocks. Under the
  ``expected`` policy every block is deployed, so the walk never stops.

It ignores energy and does not check the final latency against T: a placement that
breaks the deadline is returned, and the evaluator reports it ``invalid``.

``latency_scale``
    1 (the default) scores true latencies. The authors' code computes the score's
    latencies ten times too large; ``latency_scale = 10`` reproduces it, and with it
    the walk never stops on their B-AlexNet sweeps (T <= 12 ms): MD, ES, CS, CS, CS
    with the final exit, 0.199 J, the baseline their savings are measured against.

Examples
--------
>>> from splitbench.instance import example_instance
>>> from splitbench.methods import solve
>>> sol = solve(example_instance(), "mcp")  # A = 80 %: exit 1 (56 %) cannot meet it
>>> sol.placement.blocks, sol.placement.exit, round(sol.objective, 3)
(('md', 'es', 'cs', 'cs', 'cs'), 5, 0.199)
>>> from dataclasses import replace
>>> inst = example_instance()
>>> loose = replace(inst, request=replace(inst.request, min_accuracy=0.5, deadline_s=0.013))
>>> true_scale = solve(loose, "mcp")  # the walk stops after block 1
>>> true_scale.placement.blocks, round(true_scale.objective * 1e3, 2)
(('md',), 12.34)
>>> authors = solve(loose, "mcp", params={"latency_scale": 10})
>>> authors.placement.blocks, round(authors.objective * 1e3, 2)
(('md',), 12.34)
>>> tight = replace(loose, request=replace(loose.request, deadline_s=0.012))
>>> solve(tight, "mcp", params={"latency_scale": 10}).placement.blocks
('md', 'es', 'cs', 'cs', 'cs')
"""

from __future__ import annotations

import math
from typing import Any

from splitbench.answer import MethodResult, RunOptions, Status
from splitbench.instance.model import ExitPolicy, Instance, Objective
from splitbench.instance.multi import MultiInstance
from splitbench.methods.baselines import router, tier_ladder, with_routes
from splitbench.params import Param, parse_params
from splitbench.placement import MultiPlacement, Placement
from splitbench.routes import route_tree

__all__ = ["MCP_THRESHOLD", "PARAMS", "run_mcp", "run_mcp_multi"]

MCP_THRESHOLD = 0.85
"""Score above which the walk deploys the next block (the authors' value)."""

PARAMS = {
    "latency_scale": Param(
        float, 1.0, "factor on the score's latencies (1: true; 10: as the authors' code)"
    ),
}
"""The parameters of method ``mcp``."""


def _exit_accuracy(instance: Instance, block: int) -> float | None:
    """The accuracy of the deepest exit after ``block`` or an earlier block (None: no
    exit yet)."""
    found = None
    for ex in instance.dnn.exits:
        if ex.after_block <= block:
            found = ex.accuracy if ex.accuracy is not None else 1.0
    return found


def run_mcp(instance: Instance, options: RunOptions) -> MethodResult:
    """The MCP baseline (method ``mcp``); see the module docstring.

    Returns
    -------
    MethodResult
        ``feasible`` with the walk's placement (the runner reports ``invalid`` when
        it breaks a limit), or ``none`` when no node can take a block. ``info`` has
        the tier ladder, the score at each block and where the walk stopped.
    """
    scale = parse_params("method 'mcp'", PARAMS, options.params)["latency_scale"]
    net, dnn, req = instance.network, instance.dnn, instance.request
    ladder = tier_ladder(instance)
    rank = {tier: i for i, tier in enumerate(ladder)}
    route = router(instance, Objective.LATENCY)  # for the final placement's routes
    deadline = req.deadline_s
    target = req.min_accuracy
    never_stop = req.exit_policy is ExitPolicy.EXPECTED
    current, latency_so_far = req.source, 0.0
    nodes: list[str] = []
    scores: list[float | None] = []
    stopped_before: int | None = None
    for block in range(1, dnn.n_blocks + 1):
        size = dnn.handover_bytes(block - 1)
        here = rank.get(net.node(current).tier, -1)
        tree = route_tree(net, current, size, Objective.LATENCY)  # one search per block
        steps: list[tuple[float, int, int, str]] = []  # (latency, tier rank, order, node)
        for node_id in instance.candidate_nodes(block):
            node = net.node(node_id)
            level = rank.get(node.tier, -1)
            if node_id != current and level <= here:
                continue  # the same node, or up the ladder
            transfer = tree.cost_to(node_id)
            if math.isfinite(transfer):
                step = transfer + dnn.block(block).ops / node.ops_per_s
                steps.append((step, level, net.node_index[node_id], node_id))
        if not steps:
            return MethodResult(
                Status.NONE,
                reason=f"no node on or above tier {net.node(current).tier!r} can take block "
                f"{block}",
                info={"mcp_tiers": ladder, "mcp_scores": scores},
            )
        if block == 1 and any(node == current for *_, node in steps):
            choice = next(s for s in steps if s[3] == current)
            scores.append(None)
        else:
            cheapest = min(steps)[0]
            accuracy = _exit_accuracy(instance, block - 1)  # reached by the deployed blocks
            latency_term = 0.5 * scale * (latency_so_far + cheapest) / deadline if deadline else 0.0
            accuracy_term = 0.5 * target / accuracy if target and accuracy else 0.0
            score = max(latency_term, accuracy_term)
            scores.append(score)
            # no exit reached yet, or the one reached cannot meet the target: deploy
            exit_short = accuracy is None or (target is not None and accuracy < target)
            if not never_stop and block > 1 and not (score > MCP_THRESHOLD or exit_short):
                stopped_before = block
                break
            stay = [s for s in steps if s[3] == current]
            above = [s for s in steps if s[1] > here]
            next_tier = [s for s in above if s[1] == min(a[1] for a in above)]
            if next_tier and (not stay or min(next_tier)[0] < stay[0][0]):
                choice = min(next_tier)
            else:
                choice = min(steps)
        latency_so_far += choice[0]
        current = choice[3]
        nodes.append(current)
    deployed = len(nodes)
    exits = [ex.after_block for ex in dnn.exits if ex.after_block <= deployed]
    info: dict[str, Any] = {
        "mcp_tiers": ladder,
        "mcp_scores": scores,
        "mcp_stopped_before_block": stopped_before,
    }
    if not exits:
        return MethodResult(
            Status.NONE, reason="the walk deployed no block with an exit", info=info
        )
    exit_block = exits[-1]
    placement = with_routes(instance, nodes[:exit_block], exit_block, route)
    if placement is None:
        return MethodResult(
            Status.NONE, reason="the result cannot reach the destination", info=info
        )
    return MethodResult(Status.FEASIBLE, placement=placement, info=info)


def run_mcp_multi(instance: MultiInstance, options: RunOptions) -> MethodResult:
    """Method ``mcp`` on a format-2 instance: every request's own MCP walk, as the FIN
    authors' multi-application code runs its baseline (each user alone).

    The walk ignores the shared capacity (and energy), so the joint answer may break a
    load limit; the runner then reports it ``invalid`` with the violations, and its
    objective is still the evaluated one. A request without an answer leaves the run
    without one.

    Examples
    --------
    >>> from splitbench.families import generate
    >>> inst = generate("fin-multi", {"users": 2, "dnns": "b-alexnet"})
    >>> result = run_mcp_multi(inst, RunOptions(params={"latency_scale": 10}))
    >>> [result.placement[rid].blocks for rid in inst.request_ids][0]
    ('md1', 'es', 'cs', 'cs', 'cs')
    """
    placements: list[tuple[str, Placement]] = []
    for req, single in instance.singles():
        own = run_mcp(single, options)
        if own.placement is None or not isinstance(own.placement, Placement):
            return MethodResult(Status.NONE, reason=f"request {req.id}: {own.reason}")
        placements.append((req.id, own.placement))
    return MethodResult(Status.FEASIBLE, placement=MultiPlacement(tuple(placements)))
