"""Instance files: round trips, the canonical form and its id, defaults, Python-built checks."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from random_instances import random_instance
from splitbench.errors import InstanceError
from splitbench.instance import (
    DNN,
    Block,
    Exit,
    ExitPolicy,
    Instance,
    Network,
    Node,
    Objective,
    Request,
    canonical_json,
    dumps_instance,
    example_instance,
    instance_from_dict,
    instance_id,
    instance_to_dict,
    load_instance,
    parse_instance,
    save_instance,
    validate_instance,
)

MINIMAL: dict[str, Any] = {
    "format": "splitbench.instance/1",
    "name": "minimal",
    "network": {
        "nodes": [
            {"id": "a", "tier": "device", "ops_per_s": 1e9},
            {"id": "b", "tier": "cloud", "ops_per_s": 1e10},
        ],
        "links": [{"source": "a", "target": "b", "bandwidth_bps": 1e6}],
    },
    "dnn": {
        "name": "net",
        "input_bytes": 100,
        "blocks": [{"name": "b1", "ops": 1e6, "output_bytes": 10}],
    },
    "request": {"source": "a", "objective": "latency"},
}


def minimal() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(MINIMAL))
    return result


def shuffled(value: Any, rng: random.Random) -> Any:
    """``value`` with the keys of every object in a random order (lists keep theirs)."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: shuffled(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def float_leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of every float in decoded JSON."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from float_leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from float_leaves(item, (*path, i))
    elif isinstance(value, float):
        yield path


def set_at(data: Any, path: tuple[Any, ...], new: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = new


def get_at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


# --- round trips ------------------------------------------------------------------------


def test_example_round_trip(example: Instance, example_path: Path, tmp_path: Path) -> None:
    assert parse_instance(dumps_instance(example)) == example
    assert instance_from_dict(instance_to_dict(example)) == example
    assert example_instance() == example
    out = tmp_path / "copy.json"
    save_instance(example, out)
    assert load_instance(out) == example
    assert instance_id(load_instance(out)) == instance_id(example)
    # the shipped file is already in canonical (every default written) form
    assert json.loads(example_path.read_text()) == instance_to_dict(example)


@pytest.mark.parametrize("seed", range(40))
def test_random_round_trip(seed: int) -> None:
    inst = random_instance(seed)
    text = dumps_instance(inst)
    again = parse_instance(text)
    assert again == inst
    assert dumps_instance(again) == text
    assert canonical_json(again) == canonical_json(inst)
    assert instance_id(again) == instance_id(inst)
    assert parse_instance(dumps_instance(inst, indent=None)) == inst


# --- canonical form and id --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_key_order_is_irrelevant(example: Instance, seed: int) -> None:
    data = shuffled(instance_to_dict(example), random.Random(seed))
    assert json.dumps(data) != json.dumps(instance_to_dict(example))
    again = parse_instance(json.dumps(data))
    assert again == example
    assert canonical_json(again) == canonical_json(example)
    assert instance_id(again) == instance_id(example)


def test_key_order_is_irrelevant_for_random_instances() -> None:
    rng = random.Random(7)
    for seed in range(20):
        inst = random_instance(seed)
        data = shuffled(instance_to_dict(inst), rng)
        assert instance_id(parse_instance(json.dumps(data))) == instance_id(inst)


def test_exit_order_and_number_spelling_are_irrelevant(example_dict: dict[str, Any]) -> None:
    reference = instance_id(instance_from_dict(example_dict))
    example_dict["dnn"]["exits"].reverse()
    example_dict["dnn"]["input_bytes"] = 3072  # an integer instead of 3072.0
    example_dict["network"]["nodes"][0]["power_w"] = 6
    assert instance_id(instance_from_dict(example_dict)) == reference


def test_defaults_written_out_give_the_same_id() -> None:
    sparse = instance_from_dict(minimal())
    full = instance_from_dict(json.loads(json.dumps(instance_to_dict(sparse))))
    assert full == sparse
    assert instance_id(full) == instance_id(sparse)


def test_instance_id_form(example: Instance) -> None:
    ident = instance_id(example)
    assert len(ident) == 16
    int(ident, 16)
    assert ident == instance_id(example_instance())


def test_equal_instances_have_equal_ids(example_dict: dict[str, Any]) -> None:
    """The canonical text of equal instances is equal, even for a zero written -0.0."""
    reference = instance_from_dict(example_dict)
    example_dict["network"]["links"][0]["delay_s"] = -0.0
    negative_zero = instance_from_dict(example_dict)
    assert negative_zero == reference
    assert canonical_json(negative_zero) == canonical_json(reference)
    assert instance_id(negative_zero) == instance_id(reference)


def _changed_number(path: tuple[Any, ...], old: float) -> float:
    if path[-1] in ("accuracy", "exit_probability", "min_accuracy"):
        return old / 2 if old else 0.125
    return old * 1.5 if old else 0.25


@pytest.mark.parametrize("which", ["example", "random-3", "random-11"])
def test_instance_id_changes_when_any_number_changes(which: str, example: Instance) -> None:
    inst = example if which == "example" else random_instance(int(which.split("-")[1]))
    base = instance_to_dict(inst)
    reference = instance_id(inst)
    paths = list(float_leaves(base))
    assert len(paths) >= 20
    seen = {reference}
    for path in paths:
        data = json.loads(json.dumps(base))
        set_at(data, path, _changed_number(path, get_at(data, path)))
        changed = instance_id(instance_from_dict(data))
        assert changed != reference, path
        seen.add(changed)
    assert len(seen) == len(paths) + 1


def test_instance_id_changes_with_structure(example_dict: dict[str, Any]) -> None:
    reference = instance_id(instance_from_dict(example_dict))
    changes: list[Callable[[dict[str, Any]], None]] = [
        lambda d: d["network"]["links"][0].update(directed=False),
        lambda d: d["request"].update(destination="cs"),
        lambda d: d["request"].update(objective="latency"),
        lambda d: d["request"].update(exit_policy="expected"),
        lambda d: d["request"].update(tier_order=None),
        lambda d: d["request"].update(allowed_nodes=None),
        lambda d: (
            d["network"]["nodes"][1].update(tier="fog"),
            d["request"].update(tier_order=["device", "fog", "cloud"]),
        ),
        lambda d: d.update(name="other"),
        lambda d: d["dnn"]["blocks"][0].update(name="first"),
    ]
    for change in changes:
        data = json.loads(json.dumps(example_dict))
        change(data)
        assert instance_id(instance_from_dict(data)) != reference


# --- defaults ---------------------------------------------------------------------------


def test_defaults_are_applied() -> None:
    inst = instance_from_dict(minimal())
    a = inst.network.nodes[0]
    assert a.power_w == 0.0 and a.memory_bytes is None
    (link,) = inst.network.links
    assert link.directed is False
    assert link.delay_s == 0.0 and link.energy_per_bit_j == 0.0
    # an undirected link is two arcs, with the same numbers
    assert sorted((arc.source, arc.target) for arc in inst.network.arcs) == [
        ("a", "b"),
        ("b", "a"),
    ]
    assert all(arc.bandwidth_bps == 1e6 and arc.delay_s == 0.0 for arc in inst.network.arcs)
    (block,) = inst.dnn.blocks
    assert block.memory_bytes == 0.0
    req = inst.request
    assert req.destination is None
    assert req.deadline_s is None and req.min_accuracy is None
    assert req.exit_policy is ExitPolicy.SELECT
    assert req.objective is Objective.LATENCY
    assert req.tier_order is None and req.allowed_nodes == ()
    assert req.allowed_for(1) is None


def test_directed_link_is_one_arc() -> None:
    data = minimal()
    data["network"]["links"][0]["directed"] = True
    inst = instance_from_dict(data)
    assert [(arc.source, arc.target) for arc in inst.network.arcs] == [("a", "b")]
    assert inst.network.reachable_from("b") == frozenset({"b"})


def test_dnn_without_exits_gets_a_final_exit() -> None:
    inst = instance_from_dict(minimal())
    (final,) = inst.dnn.exits
    assert final.after_block == 1
    assert final.accuracy is None
    assert final.ops == 0.0 and final.output_bytes == 0.0 and final.exit_probability is None
    data = minimal()
    data["dnn"]["blocks"].append({"name": "b2", "ops": 1.0, "output_bytes": 1.0})
    data["dnn"]["exits"] = []
    two = instance_from_dict(data)
    assert [ex.after_block for ex in two.dnn.exits] == [2]
    assert two.dnn.exits[0].accuracy is None


def test_dnn_without_exits_refuses_min_accuracy() -> None:
    data = minimal()
    data["request"]["min_accuracy"] = 0.5
    with pytest.raises(InstanceError) as info:
        instance_from_dict(data)
    assert info.value.field == "request.min_accuracy"


def test_exits_are_sorted(example_dict: dict[str, Any]) -> None:
    example_dict["dnn"]["exits"].reverse()
    inst = instance_from_dict(example_dict)
    assert [ex.after_block for ex in inst.dnn.exits] == [1, 3, 5]
    assert inst.dnn.final_exit.accuracy == 0.8595


def test_exit_and_reach_shares(example: Instance) -> None:
    assert example.dnn.exit_shares() == pytest.approx((0.656, 0.252, 0.092))
    assert example.dnn.reach_shares() == pytest.approx((1.0, 0.344, 0.344, 0.092, 0.092))


# --- errors from files and from Python ---------------------------------------------------


def test_parse_error_names_the_source() -> None:
    data = minimal()
    data["network"]["links"][0]["target"] = "zz"
    with pytest.raises(InstanceError) as info:
        parse_instance(json.dumps(data), source="here.json")
    assert str(info.value).startswith("here.json: network.links[0].target: ")
    assert info.value.field == "network.links[0].target"
    assert info.value.source == "here.json"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert str(path) in str(info.value)


def _python_instance(**request: Any) -> Instance:
    network = Network((Node("a", "device", 1e9), Node("b", "cloud", 1e10)))
    dnn = DNN("d", 1.0, (Block("b1", 1.0, 1.0), Block("b2", 1.0, 1.0)), (Exit(2, 0.9),))
    fields: dict[str, Any] = {"source": "a", "objective": "latency", **request}
    return Instance("py", network, dnn, Request(**fields))


def test_validate_accepts_a_good_python_instance() -> None:
    inst = _python_instance(tier_order=("device", "cloud"), allowed_nodes=((1, ("a",)),))
    validate_instance(inst)


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        pytest.param({"source": "zz"}, "request.source", id="unknown-source"),
        pytest.param({"tier_order": ("device", "fog")}, "request.tier_order[1]", id="unknown-tier"),
        pytest.param(
            {"tier_order": ("device", "cloud", "device")}, "request.tier_order", id="tier-twice"
        ),
        pytest.param(
            {"allowed_nodes": ((3, ("a",)),)}, "request.allowed_nodes.3", id="block-past-last"
        ),
        pytest.param({"allowed_nodes": ((0, ("a",)),)}, "request.allowed_nodes.0", id="block-zero"),
        pytest.param({"min_accuracy": 1.5}, "request.min_accuracy", id="min-accuracy"),
        pytest.param({"deadline_s": 0.0}, "request.deadline_s", id="zero-deadline"),
    ],
)
def test_validate_rejects_python_instances(request_fields: dict[str, Any], field: str) -> None:
    """Instances built in Python get the same cross-field checks as files."""
    with pytest.raises(InstanceError) as info:
        validate_instance(_python_instance(**request_fields))
    assert info.value.field == field


def test_validate_rejects_python_network_problems() -> None:
    good = _python_instance()
    duplicate = replace(good, network=Network((Node("a", "device", 1e9), Node("a", "cloud", 1e10))))
    with pytest.raises(InstanceError) as info:
        validate_instance(duplicate)
    assert info.value.field == "network.nodes[1].id"
    nan_speed = replace(good, network=Network((Node("a", "device", float("nan")),)))
    with pytest.raises(InstanceError) as info:
        validate_instance(nan_speed)
    assert info.value.field == "network.nodes[0].ops_per_s"
