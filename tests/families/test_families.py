"""Instance families: determinism, validity, parameters and the FIN scenario."""

from __future__ import annotations

import dataclasses

import pytest

from splitbench.cli import main
from splitbench.errors import UnknownNameError, UsageError
from splitbench.families import FAMILIES, generate
from splitbench.instance import example_instance, instance_id, load_instance

SMALL = {
    "fin-branchy": {},
    "tiered": {"n_blocks": 3},
    "topohub": {"n_blocks": 3, "topology": "polska"},
    "random-chain": {"blocks": 4, "nodes": 5, "exits": 1},
    "tiny": {"distribution": "graph", "memory": False},
    "multi-tiered": {"n_blocks": 3, "users_per_device": 1},
    "multi-topohub": {"n_blocks": 3, "requests": 3},
    "fin-multi": {"users": 2},
    "multi-tiny": {"binds": "memory"},
}


def test_every_family_is_exercised() -> None:
    assert set(SMALL) == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(SMALL))
def test_same_seed_same_instance(family: str) -> None:
    a = generate(family, SMALL[family], seed=5)
    b = generate(family, {k: str(v) for k, v in SMALL[family].items()}, seed=5)
    assert instance_id(a) == instance_id(b)


@pytest.mark.parametrize("family", ["tiered", "topohub", "random-chain", "tiny"])
def test_seed_changes_random_families(family: str) -> None:
    ids = {instance_id(generate(family, SMALL[family], seed=s)) for s in range(3)}
    assert len(ids) == 3


def test_fin_default_is_the_shipped_example() -> None:
    inst = generate("fin-branchy")
    example = example_instance()
    assert inst.network == example.network
    assert inst.dnn == example.dnn
    assert inst.request == example.request


@pytest.mark.parametrize(
    ("dnn", "blocks", "final_accuracy"),
    [("b-alexnet", 5, 0.8595), ("b-resnet", 5, 0.9370), ("b-lenet", 3, 0.9925)],
)
def test_fin_models(dnn: str, blocks: int, final_accuracy: float) -> None:
    inst = generate("fin-branchy", {"dnn": dnn})
    assert inst.dnn.n_blocks == blocks
    assert inst.dnn.final_exit.accuracy == final_accuracy
    assert inst.request.allowed_for(1) == frozenset({"md"})
    assert inst.request.tier_order == ("device", "edge", "cloud")


def test_fin_parameters_reach_the_request() -> None:
    inst = generate(
        "fin-branchy",
        {
            "deadline_s": "0.012",
            "min_accuracy": "0.3",
            "exit_policy": "expected",
        },
    )
    assert inst.request.deadline_s == 0.012
    assert inst.request.min_accuracy == 0.3
    assert inst.request.exit_policy.value == "expected"
    assert "deadline_s=0.012" in inst.name
    cifar100 = generate("fin-branchy", {"dataset": "cifar100"})
    assert cifar100.dnn.final_exit.accuracy == 0.6032


def test_none_removes_a_limit() -> None:
    inst = generate("fin-branchy", {"deadline_s": "none", "min_accuracy": "null"})
    assert inst.request.deadline_s is None and inst.request.min_accuracy is None


def test_tiered_counts_and_tier_order() -> None:
    inst = generate(
        "tiered", {"devices": 2, "edges": 3, "clouds": 1, "tier_order": "yes", "n_blocks": 3}
    )
    tiers = [n.tier for n in inst.network.nodes]
    assert (tiers.count("device"), tiers.count("edge"), tiers.count("cloud")) == (2, 3, 1)
    assert inst.request.tier_order == ("device", "edge", "cloud")
    assert inst.network.node(inst.request.source).tier == "device"


def test_random_chain_shape() -> None:
    inst = generate("random-chain", {"blocks": 7, "nodes": 6, "exits": 2}, seed=2)
    assert inst.dnn.n_blocks == 7 and len(inst.network.nodes) == 6
    assert len(inst.dnn.exits) == 3


def test_unknown_family_and_parameter() -> None:
    with pytest.raises(UnknownNameError, match="known families"):
        generate("nope")
    with pytest.raises(UsageError, match="no such parameter"):
        generate("tiered", {"blockz": 3})
    with pytest.raises(UsageError, match="expected one of"):
        generate("fin-branchy", {"dnn": "b-vgg"})
    with pytest.raises(UsageError, match="expected a int"):
        generate("tiered", {"n_blocks": "many"})


def test_generate_cli_round_trip(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "x.json"
    code = main(
        [
            "generate",
            "random-chain",
            "--param",
            "blocks=3",
            "--param",
            "nodes=4",
            "--seed",
            "9",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    inst = load_instance(out)
    assert inst == generate("random-chain", {"blocks": 3, "nodes": 4}, seed=9)
    assert main(["generate", "random-chain", "--param", "blocks"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_generated_instances_are_solvable() -> None:
    inst = generate("tiered", {"n_blocks": 2, "edges": 1})
    from splitbench.methods import solve

    sol = solve(dataclasses.replace(inst), "exhaustive")
    assert sol.status.value == "optimal" and sol.feasible
