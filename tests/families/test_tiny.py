"""The shared tiny instances: pinned ids, the family ``tiny``, and what each
distribution promises."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pytest

from splitbench.errors import UsageError
from splitbench.families import generate
from splitbench.families.tiny import (
    COMBOS,
    fin_sweeps,
    graph_cases,
    graph_chain,
    graph_instance,
    least_latency_s,
    milp_chain,
    milp_instance,
    random_instance,
    tiered_instances,
    with_deadline,
)
from splitbench.instance import (
    ExitPolicy,
    Instance,
    Objective,
    example_instance,
    instance_id,
    validate_instance,
)

SEEDS = range(20)

DRAWS: dict[str, Callable[[], Sequence[Instance]]] = {
    "random": lambda: [random_instance(s) for s in SEEDS],
    "random-5-nodes": lambda: [
        random_instance(s, min_nodes=3, max_nodes=5, max_blocks=3) for s in SEEDS
    ],
    **{
        f"milp-{o.value}-{p.value}": (lambda o=o, p=p: [milp_instance(s, o, p) for s in SEEDS])
        for o, p in COMBOS
    },
    "graph": lambda: [graph_instance(s) for s in SEEDS],
    "graph-binding-memory": lambda: [
        graph_instance(s, deadline="binding", memory=True) for s in SEEDS
    ],
    "graph-cases": lambda: graph_cases(20),
    "milp-chain": lambda: [milp_chain(10, 10, s) for s in range(5)],
    "graph-chain": lambda: [graph_chain(20, 20, s) for s in range(5)],
    "tiered": lambda: tiered_instances(6),
    "fin": lambda: fin_sweeps("b-alexnet"),
}

PINNED = {
    "random": "cfd10f78a946cad0",
    "random-5-nodes": "3a4e6d310b67a1c1",
    "milp-latency-select": "48d9bb0bccb6bb84",
    "milp-latency-expected": "81db4b795d0959a1",
    "milp-energy-select": "4db3b4bd35ac1e3d",
    "milp-energy-expected": "29713c312e98b444",
    "graph": "3bf6cd48a55b0682",
    "graph-binding-memory": "03549648d1495962",
    "graph-cases": "f00860b0560470b1",
    "milp-chain": "d3f531aeec653162",
    "graph-chain": "7990395dfcce8a71",
    "tiered": "c6df715cf860aeea",
    "fin": "6a6990a4c3533d59",
}
"""A digest of the instance ids of each draw, recorded when the generators moved here
from tests/ and benchmarks/ (the ids were compared with the old generators' then)."""


def digest(instances: Sequence[Instance]) -> str:
    ids = "\n".join(instance_id(inst) for inst in instances)
    return hashlib.sha256(ids.encode()).hexdigest()[:16]


def test_every_draw_is_pinned() -> None:
    assert set(DRAWS) == set(PINNED)


@pytest.mark.parametrize("draw", sorted(DRAWS))
def test_draws_are_pinned(draw: str) -> None:
    # a change here changes every test and benchmark instance: keep the draw order
    assert digest(DRAWS[draw]()) == PINNED[draw]


@pytest.mark.parametrize("draw", sorted(DRAWS))
def test_draws_are_valid(draw: str) -> None:
    for inst in DRAWS[draw]():
        validate_instance(inst)


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_the_family_serves_each_distribution(seed: int) -> None:
    assert generate("tiny", seed=seed) == random_instance(seed)
    shaped = generate("tiny", {"min_nodes": 5, "max_nodes": 6, "max_blocks": 2}, seed=seed)
    assert shaped == random_instance(seed, min_nodes=5, max_nodes=6, max_blocks=2)
    for objective, policy in COMBOS:
        params = {"distribution": "milp", "objective": objective, "exit_policy": policy}
        assert generate("tiny", params, seed=seed) == milp_instance(seed, objective, policy)
    assert generate("tiny", {"distribution": "graph"}, seed=seed) == graph_instance(seed)
    params = {"distribution": "graph", "deadline": "tight", "memory": "yes"}
    assert generate("tiny", params, seed=seed) == graph_instance(
        seed, deadline="tight", memory=True
    )


def test_the_family_refuses_knobs_of_another_distribution() -> None:
    with pytest.raises(UsageError, match="max_nodes: applies to distribution=random only"):
        generate("tiny", {"distribution": "milp", "max_nodes": 3})
    with pytest.raises(UsageError, match="deadline: applies to distribution=graph only"):
        generate("tiny", {"deadline": "tight"})
    with pytest.raises(UsageError, match="min_nodes=4: more than max_nodes=3"):
        generate("tiny", {"min_nodes": 4, "max_nodes": 3})
    with pytest.raises(UsageError, match="max_blocks=17"):
        generate("tiny", {"max_blocks": 17})


def test_random_instance_shapes() -> None:
    shapes = {(len(i.network.nodes), i.dnn.n_blocks) for i in map(random_instance, range(60))}
    assert {n for n, _ in shapes} == {2, 3, 4}
    assert {b for _, b in shapes} == {1, 2, 3, 4}
    assert len(random_instance(1, min_nodes=6, max_nodes=6).network.nodes) == 6


def test_milp_instance_promises() -> None:
    for objective, policy in COMBOS:
        for seed in range(10):
            inst = milp_instance(seed, objective, policy)
            assert inst.request.source == "n0"
            assert (inst.request.objective, inst.request.exit_policy) == (objective, policy)
            assert inst.name == f"small-{seed}-{objective.value}-{policy.value}"


def test_milp_deadlines_scale_the_least_latency() -> None:
    found = 0
    for seed in range(30):
        inst = milp_instance(seed, Objective.ENERGY, ExitPolicy.SELECT)
        if inst.request.deadline_s is None:
            continue
        found += 1
        base = least_latency_s(replace(inst, request=replace(inst.request, deadline_s=None)))
        assert base is not None
        assert 0.7 * base <= inst.request.deadline_s <= 2.5 * base
    assert found > 5


def test_least_latency_of_the_example() -> None:
    # the FIN example: the fastest feasible split is faster than running on the device
    assert least_latency_s(example_instance()) == pytest.approx(2.216e-3, abs=1e-6)


def test_deadline_modes_order() -> None:
    rng = np.random.default_rng(0)
    for seed in range(20):
        inst = graph_instance(seed, deadline="none")
        tight = with_deadline(inst, "tight", rng).request.deadline_s
        if tight is None:  # no placement, or the fastest one takes no time
            continue
        impossible = with_deadline(inst, "impossible", rng).request.deadline_s
        binding = with_deadline(inst, "binding", rng).request.deadline_s
        loose = with_deadline(inst, "loose", rng).request.deadline_s
        assert impossible is not None and binding is not None and loose is not None
        assert impossible < tight <= binding <= loose
        assert with_deadline(inst, "none", rng).request.deadline_s is None


def test_graph_cases_mix_two_distributions() -> None:
    cases = graph_cases(7)
    assert [c.name for c in cases] == [f"random-{s}" for s in range(4)] + [
        f"shared-{s}" for s in range(3)
    ]
    assert cases[0] == graph_instance(0)
    assert cases[4].network == random_instance(0).network


def test_chains() -> None:
    milp = milp_chain(9, 6, 2, Objective.ENERGY, ExitPolicy.EXPECTED)
    assert [ex.after_block for ex in milp.dnn.exits] == [3, 6, 9]
    assert milp.request.exit_policy is ExitPolicy.EXPECTED
    assert len(milp_chain(9, 6, 2, exits=False).dnn.exits) == 1
    graph = graph_chain(8, 6, 1)
    assert graph.request.deadline_s is not None and graph.dnn.name == "chain"
    bench = graph_chain(8, 6, 1, objective="latency", deadline=False, dnn_name="c")
    assert bench.request.deadline_s is None and bench.dnn.name == "c"
    assert bench.network == graph.network and bench.dnn.blocks == graph.dnn.blocks


def test_tiered_and_fin_sets() -> None:
    tiered = tiered_instances(3)
    assert [t.dnn.name for t in tiered] == ["b-alexnet", "b-resnet", "b-lenet"]
    assert all(t.request.allowed_for(1) == frozenset({"device0"}) for t in tiered)
    sweep = fin_sweeps("b-resnet")
    assert len(sweep) == 16 + 13
    assert {s.request.min_accuracy for s in sweep[16:]} == {0.8}
