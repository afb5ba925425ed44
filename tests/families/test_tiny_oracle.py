"""The least latency behind the tiny MILP deadlines equals the exhaustive oracle's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from splitbench.families.tiny import COMBOS, least_latency_s, milp_instance, random_instance
from splitbench.instance import ExitPolicy, Instance, Objective
from splitbench.methods import solve
from splitbench.status import Status


def oracle_latency(inst: Instance) -> float | None:
    fastest = solve(
        replace(inst, request=replace(inst.request, objective=Objective.LATENCY)), "exhaustive"
    )
    if fastest.status is not Status.OPTIMAL or fastest.evaluation is None:
        return None
    return fastest.evaluation.latency_s


@pytest.mark.parametrize(("objective", "policy"), COMBOS)
def test_least_latency_is_the_oracles(objective: Objective, policy: ExitPolicy) -> None:
    for seed in range(25):
        inst = milp_instance(seed, objective, policy)
        free = replace(inst, request=replace(inst.request, deadline_s=None))
        assert least_latency_s(free) == oracle_latency(free)


def test_least_latency_on_the_broad_distribution() -> None:
    for seed in range(40):
        inst = random_instance(seed)
        free = replace(inst, request=replace(inst.request, deadline_s=None))
        assert least_latency_s(free) == oracle_latency(free)
