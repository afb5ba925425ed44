"""Exact methods stay exact when every time or every energy of an instance is scaled.

Multiplying all times by t (compute rates and bandwidths divided by t, delays and the
deadline multiplied by t) and all energies by e (powers and energies per bit scaled so
that every cost is e times as large) leaves the optimal placement where it was and
scales the optimum by t (latency) or e (energy). Solvers have absolute tolerances, so
an exact method that agrees with the oracle at one scale but not at another has let
a tolerance decide its answer (B-LeNet's 1e-5 s latencies once gave a wrong optimum).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from splitbench.families.tiny import milp_instance
from splitbench.instance import ExitPolicy, Instance, Objective
from splitbench.methods import solve
from splitbench.status import Status

SEEDS = range(12)
FACTORS = (1e-3, 1e3)
EXACT = [
    ("routing-milp", "highs"),
    ("routing-milp", "cbc"),
    ("assignment-milp", "highs"),
    ("label-setting", None),
]


def scaled(instance: Instance, time: float, energy: float) -> Instance:
    """``instance`` with every time times ``time`` and every energy times ``energy``."""
    net = instance.network
    nodes = tuple(
        replace(n, ops_per_s=n.ops_per_s / time, power_w=n.power_w * energy / time)
        for n in net.nodes
    )
    links = tuple(
        replace(
            link,
            bandwidth_bps=link.bandwidth_bps / time,
            delay_s=link.delay_s * time,
            energy_per_bit_j=link.energy_per_bit_j * energy,
        )
        for link in net.links
    )
    req = instance.request
    deadline = req.deadline_s * time if req.deadline_s is not None else None
    return replace(
        instance,
        network=replace(net, nodes=nodes, links=links),
        request=replace(req, deadline_s=deadline),
    )


def cases() -> list[tuple[int, Objective, ExitPolicy]]:
    return [
        (seed, objective, policy)
        for seed in SEEDS
        for objective in Objective
        for policy in ExitPolicy
    ]


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize(("method", "solver"), EXACT)
def test_exact_methods_agree_with_the_oracle_at_every_scale(
    method: str, solver: str | None, factor: float
) -> None:
    checked = 0
    for seed, objective, policy in cases():
        original = milp_instance(seed, objective, policy)
        time_factor = factor if objective is Objective.LATENCY else 1.0
        energy_factor = factor if objective is Objective.ENERGY else 1.0
        instance = scaled(original, time_factor, energy_factor)
        reference = solve(original, "exhaustive")
        got = solve(instance, method, solver=solver)
        context = f"{method}/{solver} x{factor:g} on seed {seed} {objective} {policy}: {got.reason}"
        if reference.status is Status.INFEASIBLE:
            assert got.status in (Status.INFEASIBLE, Status.NONE), context
            continue
        assert reference.status is Status.OPTIMAL and reference.objective is not None
        if got.status is Status.OPTIMAL:
            assert got.objective is not None
            expected = reference.objective * factor
            assert math.isclose(got.objective, expected, rel_tol=1e-6, abs_tol=1e-12 * factor), (
                f"{context}: {got.objective} against {expected}"
            )
            checked += 1
        else:
            assert not got.exact, context  # only a restriction may miss the proof
    assert checked >= len(SEEDS)
