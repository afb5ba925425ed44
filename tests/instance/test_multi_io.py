"""Format 2 (many requests sharing one network): reading, writing, ids, validation.

``corpus/valid/multi-*.json`` are format-2 files that load. ``corpus/malformed-2``
holds small changes of ``corpus/valid/multi-base.json``, each giving one error; as in
``corpus/malformed``, its ``expected.json`` maps each file to the field the error must
name and a phrase the message must contain. They are read with
:func:`splitbench.instance.load_any` (``load_instance`` reads format 1 only).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from random_instances import random_instance
from splitbench.instance import (
    FORMAT,
    FORMAT_2,
    Exit,
    ExitPolicy,
    Instance,
    InstanceError,
    MultiInstance,
    Objective,
    any_from_dict,
    canonical_json,
    canonical_json_any,
    dumps_any,
    dumps_instance,
    instance_from_dict,
    instance_id,
    load_any,
    load_instance,
    multi_from_dict,
    multi_to_dict,
    parse_any,
    parse_instance,
    save_any,
    validate_any,
    validate_instance,
    validate_multi,
)
from splitbench.instance import io as instance_io

CORPUS = Path(__file__).parent / "corpus"
VALID = CORPUS / "valid"
BASE = VALID / "multi-base.json"
MULTI_FILES = sorted(VALID.glob("multi-*.json"))
SINGLE_FILES = sorted(set(VALID.glob("*.json")) - set(MULTI_FILES))
MALFORMED_2 = CORPUS / "malformed-2"
EXPECTED_2: dict[str, dict[str, str]] = json.loads(
    (MALFORMED_2 / "expected.json").read_text(encoding="utf-8")
)

PINNED_IDS = {
    "fin-b-alexnet-cifar10.json": "e8ee985ccc741c63",
    "corpus-base.json": "330fa102d2e3ec4d",
}
"""Format-1 ids as they were before format 2 existed: they must not move."""


def base_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BASE.read_text(encoding="utf-8"))
    return data


def load_multi(path: Path) -> MultiInstance:
    inst = load_any(path)
    assert isinstance(inst, MultiInstance), path
    return inst


def base() -> MultiInstance:
    return load_multi(BASE)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """The innermost places where two pieces of decoded JSON differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), k)]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y)]
    return [] if a == b and type(a) is type(b) else [path]


def shuffled(value: Any, rng: random.Random) -> Any:
    """``value`` with the keys of every object in a random order (lists keep theirs)."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: shuffled(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


# --- the malformed corpus ----------------------------------------------------------------


def test_malformed_corpus_is_complete() -> None:
    files = {p.name for p in MALFORMED_2.glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED_2)
    assert len(files) >= 12
    for name, expectation in EXPECTED_2.items():
        assert set(expectation) == {"field", "contains"}, name
        assert expectation["field"] and expectation["contains"], name
    # the cases format 2 adds, each present
    wanted = {
        "unknown-dnn.json",
        "duplicate-request-id.json",
        "duplicate-dnn-name.json",
        "rate-zero.json",
        "rate-negative.json",
        "utilization-zero.json",
        "utilization-above-one.json",
        "objective-in-request.json",
        "missing-objective.json",
        "empty-requests.json",
        "empty-dnns.json",
        "unknown-key-top.json",
        "request-unknown-source.json",
        "dnn-negative-ops.json",
    }
    assert wanted <= files, sorted(wanted - files)


@pytest.mark.parametrize("name", sorted(EXPECTED_2))
def test_load_any_names_file_and_field(name: str) -> None:
    path = MALFORMED_2 / name
    expectation = EXPECTED_2[name]
    with pytest.raises(InstanceError) as info:
        load_any(path)
    err = info.value
    text = str(err)
    assert err.field == expectation["field"], text
    assert expectation["contains"] in err.message, text
    assert name in text
    assert f": {expectation['field']}: " in text
    assert "\n" not in text


def test_malformed_files_are_small_changes_of_the_base() -> None:
    """Each malformed file differs from the base in one place (a key, a value, a list)."""
    reference = base_dict()
    for name in EXPECTED_2:
        raw = (MALFORMED_2 / name).read_text(encoding="utf-8")
        data = json.loads(raw)  # the duplicate key one too: the last key wins here
        assert len(differences(reference, data)) == 1, (name, differences(reference, data))


def test_the_messages_of_the_contract() -> None:
    """The messages MULTI.md and the docs quote."""
    messages = {name: str(_load_error(name)) for name in EXPECTED_2}
    assert (
        "requests[2].dnn: unknown DNN 'b-vgg' (known: mini, tiny)" in messages["unknown-dnn.json"]
    )
    assert "dnns[1].name: duplicate DNN name 'tiny'" in messages["duplicate-dnn-name.json"]
    assert "requests[2].id: duplicate request id 'u1'" in messages["duplicate-request-id.json"]
    assert "requests[0].rate_per_s: must be > 0" in messages["rate-zero.json"]
    assert "max_utilization: must be in (0, 1]" in messages["utilization-zero.json"]
    assert "max_utilization: must be in (0, 1]" in messages["utilization-above-one.json"]
    # a DNN error cites the other exit at its format-2 position
    assert "(dnns[0].exits[0])" in messages["dnn-two-exits-one-block.json"]


def _load_error(name: str) -> InstanceError:
    with pytest.raises(InstanceError) as info:
        load_any(MALFORMED_2 / name)
    return info.value


# --- valid files and round trips ----------------------------------------------------------


def test_valid_corpus_has_the_cases() -> None:
    names = {p.name for p in MULTI_FILES}
    assert {"multi-base.json", "multi-expected-destination.json", "multi-one-request.json"} <= names
    multis = [load_multi(p) for p in MULTI_FILES]
    assert any(len(m.dnns) >= 2 and len(m.requests) >= 3 for m in multis)
    assert any(len(m.requests) == 1 for m in multis)
    assert all(len({r.rate_per_s for r in m.requests}) == len(m.requests) for m in multis)
    expected_with_destination = [
        r
        for m in multis
        for r in m.requests
        if r.request.exit_policy is ExitPolicy.EXPECTED and r.request.destination is not None
    ]
    assert expected_with_destination


@pytest.mark.parametrize("path", MULTI_FILES, ids=lambda p: p.name)
def test_round_trip(path: Path, tmp_path: Path) -> None:
    inst = load_multi(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert multi_from_dict(data) == inst == any_from_dict(data)
    text = dumps_any(inst)
    again = parse_any(text)
    assert again == inst
    assert dumps_any(again) == text
    assert parse_any(dumps_any(inst, indent=None)) == inst
    assert multi_from_dict(multi_to_dict(inst)) == inst
    out = tmp_path / "copy.json"
    save_any(inst, out)
    assert load_any(out) == inst
    assert out.read_text(encoding="utf-8") == text + "\n"
    assert canonical_json_any(load_any(out)) == canonical_json_any(inst)
    assert instance_id(load_any(out)) == instance_id(inst)


@pytest.mark.parametrize("path", MULTI_FILES, ids=lambda p: p.name)
def test_canonical_form_writes_every_default(path: Path) -> None:
    data = multi_to_dict(load_multi(path))
    assert data["format"] == FORMAT_2
    assert set(data) == {
        "format",
        "name",
        "network",
        "dnns",
        "requests",
        "objective",
        "max_utilization",
    }
    for request in data["requests"]:
        assert "objective" not in request
        assert set(request) == {
            "id",
            "dnn",
            "rate_per_s",
            "source",
            "destination",
            "deadline_s",
            "min_accuracy",
            "exit_policy",
            "tier_order",
            "allowed_nodes",
        }


def test_base_contents() -> None:
    inst = base()
    assert inst.name == "multi-base"
    assert [d.name for d in inst.dnns] == ["tiny", "mini"]
    assert inst.request_ids == ("u1", "u2", "u3")
    assert [r.rate_per_s for r in inst.requests] == [20.0, 50.0, 5.0]
    assert all(isinstance(r.rate_per_s, float) for r in inst.requests)
    assert inst.total_rate == 75.0
    assert inst.objective is Objective.ENERGY and inst.max_utilization == 0.8
    # every request carries the instance's objective
    assert all(r.request.objective is Objective.ENERGY for r in inst.requests)
    u3 = inst.request("u3")
    assert u3.request.exit_policy is ExitPolicy.EXPECTED and u3.request.destination == "dev"
    assert u3.request.allowed_for(1) == frozenset({"dev2", "cld"})
    single = inst.single("u2")
    assert single.dnn.name == "mini" and single.request.destination == "dev2"
    validate_instance(single)


def test_defaults_are_applied() -> None:
    inst = load_multi(VALID / "multi-one-request.json")
    assert inst.max_utilization == 1.0
    (req,) = inst.requests
    assert req.rate_per_s == 1.0
    r = req.request
    assert r.destination is None and r.deadline_s is None and r.min_accuracy is None
    assert r.exit_policy is ExitPolicy.SELECT and r.tier_order is None and r.allowed_nodes == ()
    assert r.objective is Objective.LATENCY
    assert inst.network.links == ()
    assert inst.dnns[0].exits == (Exit(1),)
    # written out, every default is there, and it reads back the same
    full = json.loads(dumps_any(inst))
    assert full["max_utilization"] == 1.0 and full["requests"][0]["rate_per_s"] == 1.0
    assert multi_from_dict(full) == inst
    assert instance_id(multi_from_dict(full)) == instance_id(inst)


# --- ids ---------------------------------------------------------------------------------


def test_ids_are_stable_and_distinct() -> None:
    ids = {}
    for path in MULTI_FILES + SINGLE_FILES:
        inst = load_any(path)
        ident = instance_id(inst)
        assert len(ident) == 16
        int(ident, 16)
        assert ident == instance_id(load_any(path))
        ids[path.name] = ident
    assert len(set(ids.values())) == len(ids), ids


@pytest.mark.parametrize("seed", range(5))
def test_key_order_is_irrelevant(seed: int) -> None:
    inst = base()
    data = shuffled(multi_to_dict(inst), random.Random(seed))
    assert json.dumps(data) != json.dumps(multi_to_dict(inst))
    again = parse_any(json.dumps(data))
    assert again == inst
    assert canonical_json_any(again) == canonical_json_any(inst)
    assert instance_id(again) == instance_id(inst)


def test_number_spelling_and_negative_zero_are_irrelevant() -> None:
    reference = instance_id(base())
    data = base_dict()
    data["requests"][0]["rate_per_s"] = 20  # an integer for 20.0
    data["max_utilization"] = 0.80
    data["network"]["links"][2]["delay_s"] = -0.0
    assert instance_id(multi_from_dict(data)) == reference


def test_ids_change_with_any_field() -> None:
    reference = instance_id(base())
    changes: list[Callable[[dict[str, Any]], object]] = [
        lambda d: d["requests"][0].update(rate_per_s=21.0),
        lambda d: d.update(max_utilization=0.9),
        lambda d: d.update(objective="latency"),
        lambda d: d["requests"][1].update(id="u9"),
        lambda d: d["requests"].reverse(),
        lambda d: d["dnns"].reverse(),
        lambda d: d["requests"][2].update(exit_policy="select"),
        lambda d: d["requests"][1].update(destination=None),
        lambda d: d["requests"][0].update(deadline_s=2.0),
        lambda d: d["requests"][0].update(dnn="mini", min_accuracy=None, tier_order=None),
        lambda d: d["dnns"][1]["blocks"][0].update(ops=6e6),
        lambda d: d.update(name="other"),
    ]
    seen = {reference}
    for change in changes:
        data = base_dict()
        change(data)
        changed = instance_id(multi_from_dict(data))
        assert changed != reference
        seen.add(changed)
    assert len(seen) == len(changes) + 1


# --- format 1 stays as it was -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PINNED_IDS))
def test_format_1_ids_unchanged(name: str, example_path: Path) -> None:
    path = example_path if name == example_path.name else VALID / name
    inst = load_instance(path)
    assert instance_id(inst) == PINNED_IDS[name]
    assert load_any(path) == inst
    assert canonical_json_any(inst) == canonical_json(inst)


def test_format_1_through_the_any_functions(example: Instance, tmp_path: Path) -> None:
    assert dumps_any(example) == dumps_instance(example)
    out = tmp_path / "one.json"
    save_any(example, out)
    assert load_instance(out) == example == load_any(out)
    assert any_from_dict(json.loads(dumps_instance(example))) == example
    validate_any(example)


@pytest.mark.parametrize("seed", range(10))
def test_random_format_1_instances_unchanged(seed: int) -> None:
    inst = random_instance(seed)
    text = dumps_instance(inst)
    assert parse_any(text) == inst == parse_instance(text)
    assert dumps_any(inst) == text


@pytest.mark.parametrize("path", MULTI_FILES, ids=lambda p: p.name)
def test_load_instance_refuses_format_2(path: Path) -> None:
    readers: list[Callable[[], Instance]] = [
        lambda: load_instance(path),
        lambda: parse_instance(path.read_text(encoding="utf-8"), source=path.name),
        lambda: instance_from_dict(json.loads(path.read_text(encoding="utf-8"))),
    ]
    for read in readers:
        with pytest.raises(InstanceError) as info:
            read()
        err = info.value
        assert err.field == "format"
        assert "many-request" in err.message and "load_any" in err.message
        assert FORMAT in err.message  # what load_instance does read
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert path.name in str(info.value)


def test_multi_from_dict_refuses_format_1(example: Instance) -> None:
    with pytest.raises(InstanceError) as info:
        multi_from_dict(json.loads(dumps_instance(example)))
    assert info.value.field == "format" and FORMAT_2 in info.value.message


@pytest.mark.parametrize(
    ("data", "field", "phrase"),
    [
        pytest.param([1, 2], "", "must be an object", id="list"),
        pytest.param({"name": "x"}, "format", "is missing", id="no-format"),
        pytest.param({"format": None}, "format", "is missing", id="null-format"),
        pytest.param({"format": 2}, "format", "'splitbench.instance/2', got", id="number"),
        pytest.param({"format": "splitbench.instance/3"}, "format", "must be", id="version-3"),
    ],
)
def test_any_from_dict_names_format(data: Any, field: str, phrase: str) -> None:
    with pytest.raises(InstanceError) as info:
        any_from_dict(data)
    assert info.value.field == field
    assert phrase in info.value.message


# --- from_single ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [None, *range(12)])
def test_from_single_dumps_and_reloads(seed: int | None, example: Instance) -> None:
    one = example if seed is None else random_instance(seed)
    multi = MultiInstance.from_single(one, rate_per_s=2.5, request_id="only")
    validate_multi(multi)
    again = parse_any(dumps_any(multi))
    assert again == multi
    assert isinstance(again, MultiInstance)
    assert again.single("only") == Instance(f"{one.name}/only", one.network, one.dnn, one.request)
    assert instance_id(again) == instance_id(multi) != instance_id(one)
    data = multi_to_dict(multi)
    assert data["requests"][0]["rate_per_s"] == 2.5 and data["max_utilization"] == 1.0


# --- file guards --------------------------------------------------------------------------


def test_file_guards_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InstanceError) as info:
        load_any(tmp_path)
    assert "not a regular file" in info.value.message
    raw = BASE.read_bytes()
    latin = tmp_path / "latin.json"
    latin.write_bytes(raw.replace(b'"multi-base"', b'"multi-b\xe4se"'))
    with pytest.raises(InstanceError) as info:
        load_any(latin)
    assert "not UTF-8" in info.value.message
    monkeypatch.setattr(instance_io, "MAX_FILE_BYTES", len(raw) - 1)
    with pytest.raises(InstanceError) as info:
        load_any(BASE)
    assert "more than" in info.value.message and BASE.name in str(info.value)


@pytest.mark.parametrize(
    ("text_change", "field", "phrase"),
    [
        pytest.param(("20.0", "NaN"), "requests[0].rate_per_s", "finite", id="nan-rate"),
        pytest.param(("20.0", "1e400"), "requests[0].rate_per_s", "finite", id="huge-rate"),
        pytest.param(("20.0", "1e-31"), "requests[0].rate_per_s", "1e-30", id="tiny-rate"),
        pytest.param(("0.8", "1e-31"), "max_utilization", "1e-30", id="tiny-u"),
        pytest.param(("0.8", "true"), "max_utilization", "must be a number", id="bool-u"),
        pytest.param(("0.8", "NaN"), "max_utilization", "(0, 1]", id="nan-u"),
    ],
)
def test_numbers_are_guarded(text_change: tuple[str, str], field: str, phrase: str) -> None:
    old, new = text_change
    text = BASE.read_text(encoding="utf-8")
    assert text.count(f": {old}") == 1
    with pytest.raises(InstanceError) as info:
        parse_any(text.replace(f": {old}", f": {new}"), source="x.json")
    assert info.value.field == field, str(info.value)
    assert phrase in info.value.message
    assert str(info.value).startswith(f"x.json: {field}: ")
