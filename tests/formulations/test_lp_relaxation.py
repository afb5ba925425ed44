"""LP relaxations: the routing LP is integral without deadline or memory rows (its
matrix is a node-arc incidence matrix); the assignment LP is measurably weaker."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from milp_instances import COMBOS, chain_instance, small_instance

from splitbench.formulations import build_assignment, build_routing
from splitbench.instance import ExitPolicy, Instance, Objective
from splitbench.methods import solve
from splitbench.solvers import available_solvers, solve_milp
from splitbench.status import Status


def unconstrained(instance: Instance) -> Instance:
    """The instance without its deadline and memory limits."""
    network = replace(
        instance.network, nodes=tuple(replace(n, memory_bytes=None) for n in instance.network.nodes)
    )
    return replace(instance, network=network, request=replace(instance.request, deadline_s=None))


def lp_gaps(
    objective: Objective, policy: ExitPolicy, count: int, solver: str = "highs"
) -> dict[str, list[float]]:
    """Relative gaps (MILP optimum - LP optimum) / MILP optimum of both formulations
    on ``count`` unconstrained instances, checking the routing LP on the way."""
    gaps: dict[str, list[float]] = {"routing": [], "assignment": []}
    for seed in range(count):
        instance = unconstrained(small_instance(seed, objective, policy))
        optimum = solve(instance, "exhaustive")
        routing = build_routing(instance)
        assert not {"R2_deadline", "R3_memory"} & set(routing.milp.row_blocks)
        lp = solve_milp(routing.milp.relax(), solver)
        if optimum.status is Status.INFEASIBLE:
            assert lp.status is Status.INFEASIBLE, instance.name
            continue
        assert optimum.objective is not None
        assert lp.status is Status.OPTIMAL and lp.values is not None, instance.name
        assert np.abs(lp.values - np.round(lp.values)).max() <= 1e-7, instance.name
        assert lp.objective is not None
        assert math.isclose(lp.objective, optimum.objective, rel_tol=1e-6, abs_tol=1e-12)
        scale = max(abs(optimum.objective), 1e-12)
        gaps["routing"].append((optimum.objective - lp.objective) / scale)
        weak = solve_milp(build_assignment(instance).milp.relax(), solver)
        assert weak.status is Status.OPTIMAL and weak.objective is not None
        assert weak.objective <= optimum.objective * (1 + 1e-6) + 1e-12, instance.name
        gaps["assignment"].append((optimum.objective - weak.objective) / scale)
    return gaps


@pytest.mark.parametrize(("objective", "policy"), COMBOS, ids=lambda v: str(v))
def test_routing_lp_is_integral(objective: Objective, policy: ExitPolicy) -> None:
    gaps = lp_gaps(objective, policy, 50)
    assert max(abs(g) for g in gaps["routing"]) <= 1e-6
    assert min(gaps["assignment"]) >= -1e-6


def chain_gaps(instance: Instance) -> tuple[float, float]:
    """Relative LP gaps (routing, assignment) of an instance without deadline or memory."""
    optimum = solve_milp(build_routing(instance).milp, "highs").objective
    assert optimum is not None and optimum > 0
    out = []
    for build in (build_routing, build_assignment):
        lp = solve_milp(build(instance).milp.relax(), "highs").objective
        assert lp is not None
        out.append((optimum - lp) / optimum)
    return out[0], out[1]


@pytest.mark.parametrize("policy", list(ExitPolicy), ids=str)
def test_assignment_lp_is_weaker_where_splitting_pays(policy: ExitPolicy) -> None:
    # small random instances rarely split the chain, and then both LPs are tight;
    # on chains across a network the McCormick pairs let fractional x drop transfers
    gaps = [
        chain_gaps(chain_instance(10, 10, seed, Objective.LATENCY, policy)) for seed in range(8)
    ]
    assert max(abs(routing) for routing, _ in gaps) <= 1e-6
    weak = [assignment for _, assignment in gaps]
    assert min(weak) >= -1e-6
    assert sum(g > 1e-3 for g in weak) >= len(weak) // 2
    assert float(np.mean(weak)) > 0.1


@pytest.mark.slow
@pytest.mark.parametrize(("objective", "policy"), COMBOS, ids=lambda v: str(v))
def test_routing_lp_is_integral_on_200_instances(objective: Objective, policy: ExitPolicy) -> None:
    gaps = lp_gaps(objective, policy, 200)
    assert max(abs(g) for g in gaps["routing"]) <= 1e-6


@pytest.mark.parametrize(
    "solver", [s for s in available_solvers(pyomo_names=False) if s != "highs"]
)
def test_routing_lp_is_integral_on_other_backends(solver: str) -> None:
    for objective, policy in COMBOS:
        gaps = lp_gaps(objective, policy, 5, solver=solver)
        assert max(abs(g) for g in gaps["routing"]) <= 1e-6


def test_a_deadline_can_make_the_routing_lp_fractional(example: Instance) -> None:
    lp = solve(example, "routing-lp")
    assert lp.status is Status.NONE and lp.facts.lp_integral is False
    milp = solve(example, "routing-milp")
    assert lp.bound is not None and milp.objective is not None
    assert lp.bound < milp.objective
