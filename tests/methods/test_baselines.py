"""Baselines: the rule's cheapest placement (``feasible``, or ``invalid`` with the
violations when it breaks a limit), ``none`` with a reason only when the rule yields
no placement; MCP reproduces the FIN paper's placement on the B-AlexNet scenario."""

from __future__ import annotations

from dataclasses import replace

import pytest

from graphs.instances import cases, fin_sweeps, oracle
from splitbench.instance import Instance, Network, example_instance
from splitbench.methods import solve
from splitbench.solution import Solution
from splitbench.status import Status, Termination
from splitbench.topology import tiered_network

BASELINES = ("device-only", "cloud-only", "single-split", "mcp")
ANSWERS = (Status.FEASIBLE, Status.INVALID, Status.NONE)


def check_baseline(got: Solution) -> None:
    """A baseline completes with a feasible answer, an ``invalid`` one that lists its
    violations, or no answer with the reason."""
    assert got.termination is Termination.COMPLETED, (got.termination, got.reason)
    assert got.status in ANSWERS, (got.status, got.reason)
    if got.status is Status.NONE:
        assert got.placement is None and got.reason
    elif got.status is Status.INVALID:
        assert got.placement is not None and not got.feasible
        assert got.violations and got.reason
    else:
        assert got.feasible, got.violations


@pytest.mark.parametrize("method", BASELINES)
def test_baselines_answer_feasibly_or_say_why(method: str) -> None:
    answered = 0
    for instance in cases(120):
        got = solve(instance, method)
        check_baseline(got)
        if got.status is not Status.FEASIBLE:
            continue
        answered += 1
        ref = oracle(instance)
        assert got.feasible and ref.objective is not None and got.objective is not None
        assert got.objective >= ref.objective * (1 - 1e-9)
    assert answered >= 40


def test_mcp_reproduces_the_fin_scenario_whatever_the_targets() -> None:
    # with the latencies of the authors' code (latency_scale 10); with true latencies
    # (the default) the walk stops after block 1 where exit 1 meets the target
    for instance in fin_sweeps("b-alexnet"):
        got = solve(instance, "mcp", params={"latency_scale": 10})
        assert got.status is Status.FEASIBLE, (instance.name, got.reason)
        assert got.placement is not None and got.evaluation is not None
        assert got.placement.blocks == ("md", "es", "cs", "cs", "cs"), instance.name
        assert got.placement.exit == 5
        assert got.evaluation.energy_j == pytest.approx(0.199, abs=5e-4)


def test_mcp_ladder_follows_speed_without_tier_order() -> None:
    net = tiered_network({"device": 1, "edge": 2, "cloud": 1}, seed=3)
    inst = example_instance()
    request = replace(inst.request, source="device0", tier_order=None, allowed_nodes=())
    got = solve(replace(inst, network=net, request=request), "mcp")
    assert got.info["mcp_tiers"] == ["device", "edge", "cloud"]
    check_baseline(got)


def test_single_split_is_no_worse_than_device_only() -> None:
    for instance in cases(120):
        if instance.request.destination is not None:
            continue
        device = solve(instance, "device-only")
        split = solve(instance, "single-split")
        if device.status is Status.FEASIBLE:
            assert split.status is Status.FEASIBLE
            assert split.objective is not None and device.objective is not None
            assert split.objective <= device.objective * (1 + 1e-12)


def test_cloud_only_says_why_on_the_fin_scenario() -> None:
    # its rule's placement (all on cs) breaks the pin of block 1 to md: reported
    # invalid with that violation (it used to be no_solution with the reason)
    got = solve(example_instance(), "cloud-only")
    assert got.status is Status.INVALID and got.termination is Termination.COMPLETED
    assert got.placement is not None and set(got.placement.blocks) == {"cs"}
    assert any("allowed nodes" in v for v in got.violations), got.violations
    assert got.reason is not None and "allowed nodes" in got.reason


def test_device_only_picks_the_cheapest_feasible_exit() -> None:
    inst = example_instance()
    loose = replace(inst, request=replace(inst.request, deadline_s=1.0, min_accuracy=0.5))
    got = solve(loose, "device-only")
    assert got.status is Status.FEASIBLE and got.placement is not None
    assert got.placement.exit == 1 and got.placement.blocks == ("md",)


def test_baselines_without_computing_reach() -> None:
    inst = example_instance()
    lonely = Network(nodes=inst.network.nodes, links=())
    isolated: Instance = replace(
        inst, network=lonely, request=replace(inst.request, deadline_s=None, min_accuracy=None)
    )
    for method in BASELINES:
        check_baseline(solve(isolated, method))
