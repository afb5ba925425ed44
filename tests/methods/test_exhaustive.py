"""The exhaustive oracle: optimal on the example, declines, infeasible, and exact.

Exactness is checked against a naive brute force written here: every exit, every
node (computing or not) for every block, and every simple route for every hand-over,
with no pruning at all, each scored by :func:`splitbench.evaluate.evaluate`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest

from random_instances import all_simple_routes, random_instance
from splitbench.answer import RunOptions
from splitbench.evaluate import evaluate
from splitbench.instance import ExitPolicy, Instance
from splitbench.methods import solve
from splitbench.methods.exhaustive import run_exhaustive
from splitbench.placement import Placement
from splitbench.status import Status, Termination


def brute_force(instance: Instance) -> tuple[float, Placement] | None:
    """The best feasible (objective, placement), or None when nothing is feasible."""
    network = instance.network
    req = instance.request
    ids = [node.id for node in network.nodes]
    routes = {(u, v): all_simple_routes(network, u, v) for u in ids for v in ids}
    if req.exit_policy is ExitPolicy.EXPECTED:
        exits = [instance.dnn.n_blocks]
    else:
        exits = [ex.after_block for ex in instance.dnn.exits]
    best: tuple[float, Placement] | None = None
    for exit_block in exits:
        for blocks in itertools.product(ids, repeat=exit_block):
            ends = [req.source, *blocks]
            options: list[list[tuple[str, ...] | None]] = [
                list(routes[ends[k], ends[k + 1]]) for k in range(exit_block)
            ]
            options.append(
                [None] if req.destination is None else list(routes[blocks[-1], req.destination])
            )
            for chosen in itertools.product(*options):
                placement = Placement(tuple(blocks), exit_block, tuple(chosen))
                ev = evaluate(instance, placement)
                if ev.feasible and (best is None or ev.objective < best[0]):
                    best = (ev.objective, placement)
    return best


def test_example_is_optimal_and_feasible(example: Instance) -> None:
    result = run_exhaustive(example, RunOptions())
    assert result.status is Status.OPTIMAL
    assert result.placement is not None
    ev = evaluate(example, result.placement)
    assert ev.feasible, ev.violations
    assert result.claimed_objective == pytest.approx(ev.objective, rel=1e-12)
    reference = brute_force(example)
    assert reference is not None
    assert ev.objective == pytest.approx(reference[0], rel=1e-9)
    # md runs blocks 1-3, cs runs 4-5 (exit 5): 0.0856 J, 3.69 ms
    assert result.placement.blocks == ("md", "md", "md", "cs", "cs")
    assert ev.objective == pytest.approx(0.0856, abs=5e-5)


def test_example_optimum_beats_the_fin_baselines(example: Instance) -> None:
    """The optimum is at most MCP's 0.199 J placement, and all-on-device is infeasible."""
    sol = solve(example, "exhaustive")
    assert sol.status is Status.OPTIMAL and sol.feasible
    assert sol.objective is not None and sol.objective < 0.199
    assert sol.evaluation is not None
    assert sol.evaluation.accuracy is not None and sol.evaluation.accuracy >= 0.8
    assert sol.evaluation.latency_s <= 0.005


def test_declines_above_max_candidates(example: Instance) -> None:
    result = run_exhaustive(example, RunOptions(params={"max_candidates": 10}))
    assert result.status is Status.NONE and result.termination is Termination.SKIPPED
    assert result.placement is None
    assert result.reason and "10" in result.reason


def test_declines_through_solve(example: Instance) -> None:
    sol = solve(example, "exhaustive", params={"max_candidates": "5"})
    assert sol.status is Status.NONE and sol.termination is Termination.SKIPPED
    assert sol.reason
    assert sol.objective is None and not sol.feasible


def test_declines_when_routes_are_too_many() -> None:
    inst = next(
        i
        for i in map(random_instance, range(1000))
        if len(i.network.nodes) == 4 and len(i.network.links) >= 5
    )
    result = run_exhaustive(inst, RunOptions(params={"max_routes": 1}))
    assert result.status is Status.NONE and result.termination is Termination.SKIPPED
    assert result.reason


def test_impossible_deadline_is_infeasible(example: Instance) -> None:
    tight = replace(example, request=replace(example.request, deadline_s=1e-9))
    result = run_exhaustive(tight, RunOptions())
    assert result.status is Status.INFEASIBLE
    assert result.placement is None
    assert brute_force(tight) is None


def test_unreachable_accuracy_is_infeasible(example: Instance) -> None:
    greedy = replace(example, request=replace(example.request, min_accuracy=0.99))
    assert run_exhaustive(greedy, RunOptions()).status is Status.INFEASIBLE


TINY = [(seed, {"max_nodes": 3, "max_blocks": 3}) for seed in range(40)] + [
    (seed, {"min_nodes": 4, "max_nodes": 4, "max_blocks": 2}) for seed in range(1000, 1010)
]


@pytest.mark.parametrize(("seed", "shape"), TINY)
def test_equals_brute_force_on_tiny_instances(seed: int, shape: dict[str, int]) -> None:
    inst = random_instance(seed, **shape)
    result = run_exhaustive(inst, RunOptions())
    reference = brute_force(inst)
    if reference is None:
        assert result.status is Status.INFEASIBLE, result
        return
    assert result.status is Status.OPTIMAL, (result, reference)
    assert result.placement is not None
    ev = evaluate(inst, result.placement)
    assert ev.feasible, ev.violations
    assert math.isclose(ev.objective, reference[0], rel_tol=1e-9, abs_tol=1e-15), (
        ev.objective,
        reference,
    )
