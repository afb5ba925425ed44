"""The JSON Schemas of the instance file, held against the examples and the corpora.

``splitbench/data/schema/instance-1.schema.json`` expresses every per-field rule of
the format ``splitbench.instance/1`` (keys, types, minimums, enums, patterns), and
``instance-2.schema.json`` those of ``splitbench.instance/2`` (many requests; its
shared definitions are format 1's, word for word); the cross-field rules (a link to
an unknown node, probabilities summing to 1, an unknown DNN, ...) are left to
``splitbench validate`` and :func:`splitbench.instance.load_any`. These tests keep
the schemas and the readers in step, for each format against its own schema (a valid
file's by its ``format``, a malformed file's by its corpus: ``corpus/malformed`` is
format 1's, ``corpus/malformed-2`` format 2's):

- every shipped example, every valid corpus file and every generated instance
  passes the schema, in the form it was written and in splitbench's canonical form;
- every malformed corpus file whose rule a schema can express is rejected, with an
  error on the field splitbench's own message names (or an enclosing object);
- the malformed files a schema cannot reject are listed in :data:`BEYOND_SCHEMA`, each
  with its reason, and exactly those pass the schema, so the list cannot go stale;
- files that are not JSON at all are listed in :data:`NOT_JSON` (checked to be exactly
  the files a JSON parser refuses) and left out of the schema checks;
- the schema's documented defaults are the ones the reader fills in.
"""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from splitbench.instance import (
    FORMAT,
    FORMAT_2,
    InstanceError,
    MultiInstance,
    dumps_any,
    dumps_instance,
    instance_to_dict,
    load_any,
    multi_to_dict,
    parse_any,
    parse_instance,
)
from splitbench.instance.io import MAX_MAGNITUDE, MIN_MAGNITUDE

SCHEMA_DIR = resources.files("splitbench") / "data" / "schema"
# read with decimal numbers, so that their bounds are the numbers written in them
# (1e-30 as a float lies a little above 1e-30)
SCHEMA: dict[str, Any] = json.loads(
    (SCHEMA_DIR / "instance-1.schema.json").read_text(encoding="utf-8"), parse_float=Decimal
)
SCHEMA_2: dict[str, Any] = json.loads(
    (SCHEMA_DIR / "instance-2.schema.json").read_text(encoding="utf-8"), parse_float=Decimal
)
VALIDATOR = Draft202012Validator(SCHEMA)
VALIDATOR_2 = Draft202012Validator(SCHEMA_2)
SCHEMAS = {FORMAT: SCHEMA, FORMAT_2: SCHEMA_2}

EXAMPLES = Path(str(resources.files("splitbench") / "data" / "examples"))
CORPUS = Path(__file__).parent / "corpus"
MALFORMED = CORPUS / "malformed"
EXPECTED: dict[str, dict[str, str]] = json.loads(
    (MALFORMED / "expected.json").read_text(encoding="utf-8")
)
MALFORMED_2 = CORPUS / "malformed-2"
EXPECTED_2: dict[str, dict[str, str]] = json.loads(
    (MALFORMED_2 / "expected.json").read_text(encoding="utf-8")
)
VALID_FILES = sorted(EXAMPLES.glob("*.json")) + sorted((CORPUS / "valid").glob("*.json"))

NOT_JSON: dict[str, str] = {
    "empty-file.json": "an empty file is no JSON document",
    "whitespace-only.json": "white space alone is no JSON document",
    "trailing-comma.json": "a comma before a closing bracket is not JSON",
    "nan.json": "NaN is not a JSON number",
    "infinity.json": "Infinity is not a JSON number",
    "minus-infinity.json": "-Infinity is not a JSON number",
    "not-utf8.json": "JSON text is UTF-8 (RFC 8259, section 8.1); this file is not",
}
"""Malformed files that are not JSON: no schema applies (``splitbench validate``
reports them as invalid JSON or not UTF-8)."""

BEYOND_SCHEMA: dict[str, str] = {
    "allowed-nodes-missing-block.json": "a block index beyond the number of blocks",
    "allowed-nodes-router.json": "the node's ops_per_s (0) sits in another object",
    "allowed-nodes-unknown-node.json": "a node id must name a node listed elsewhere",
    "duplicate-link.json": "two links over one direction: uniqueness of a field pair",
    "duplicate-link-directed.json": "two links over one direction: uniqueness of a field pair",
    "duplicate-node-id.json": "uniqueItems compares whole nodes, not their ids",
    "exit-after-block-past-last.json": "after_block beyond the number of blocks",
    "exit-probabilities-final-not-one.json": "a sum over the exits",
    "exit-probabilities-over-one.json": "a sum over the exits",
    "expected-policy-without-exit-probability.json": "which exits are early depends on "
    "the number of blocks",
    "link-unknown-source.json": "a link end must name a node listed elsewhere",
    "link-unknown-target.json": "a link end must name a node listed elsewhere",
    "no-exit-on-last-block.json": "the last block's index is the number of blocks",
    "request-unknown-destination.json": "the destination must name a node listed elsewhere",
    "request-unknown-source.json": "the source must name a node listed elsewhere",
    "self-loop-link.json": "source equal to target: two values of one object compared",
    "source-reaches-no-computing-node.json": "reachability along the links",
    "tier-order-unknown-tier.json": "a tier must be the tier of some node",
    "two-exits-one-block.json": "uniqueItems compares whole exits, not their after_block",
}
"""Malformed files whose rule is a cross-field one: the schema accepts them and
``splitbench validate`` rejects them."""

OTHER_FIELD: dict[str, str] = {
    "min-accuracy-with-unknown-accuracy.json": "the schema blames the exit's null "
    "accuracy, splitbench the min_accuracy that needs it",
}
"""Rejected files where the schema's error sits on another field than splitbench's."""

BEYOND_SCHEMA_2: dict[str, str] = {
    "dnn-no-exit-on-last-block.json": "the last block's index is the number of blocks",
    "dnn-two-exits-one-block.json": "uniqueItems compares whole exits, not their after_block",
    "duplicate-dnn-name.json": "uniqueItems compares whole DNNs, not their names",
    "duplicate-key.json": "a JSON Schema validator sees only the last of two equal keys",
    "duplicate-request-id.json": "uniqueItems compares whole requests, not their ids",
    "request-expected-without-exit-probability.json": "the exits are those of the DNN the "
    "request names, listed elsewhere",
    "request-min-accuracy-unknown-accuracy.json": "the accuracies are those of the DNN the "
    "request names, listed elsewhere",
    "request-unknown-source.json": "the source must name a node listed elsewhere",
    "unknown-dnn.json": "the dnn must name a DNN listed elsewhere",
}
"""Format-2 malformed files whose rule is a cross-field one: the schema accepts them and
:func:`splitbench.instance.load_any` rejects them."""


def strict_json(raw: bytes) -> Any:
    """Decode ``raw`` exactly as JSON: UTF-8, no NaN or Infinity, and every number
    with a fraction or exponent as a :class:`~decimal.Decimal` (1e400 stays 1e400,
    where a float would overflow to inf).

    Raises
    ------
    ValueError
        When ``raw`` is not JSON text.
    """

    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")

    return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=refuse)


def schema_errors(data: Any, validator: Draft202012Validator = VALIDATOR) -> list[tuple[str, str]]:
    """Each schema error as ``(field, message)``, the field written as splitbench
    writes it (``dnn.exits[1].accuracy``)."""
    return [(dotted(err.absolute_path), err.message) for err in validator.iter_errors(data)]


def validator_for(data: Any) -> Draft202012Validator:
    """The schema of the format ``data`` names (format 1's for anything else)."""
    is_2 = isinstance(data, dict) and data.get("format") == FORMAT_2
    return VALIDATOR_2 if is_2 else VALIDATOR


def dotted(path: Any) -> str:
    """A JSON path as splitbench's field names: ``network.links[0].source``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def encloses(outer: str, field: str) -> bool:
    """Whether ``outer`` is ``field`` or an object or list that holds it."""
    return outer == "" or field == outer or field.startswith((f"{outer}.", f"{outer}["))


def malformed_files(folder: Path = MALFORMED) -> list[str]:
    return sorted(p.name for p in folder.glob("*.json") if p.name != "expected.json")


@pytest.mark.parametrize("fmt", [FORMAT, FORMAT_2])
def test_schema_is_a_draft_2020_12_schema(fmt: str) -> None:
    schema = SCHEMAS[fmt]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["format"]["const"] == fmt


@pytest.mark.parametrize("fmt", [FORMAT, FORMAT_2])
def test_number_bounds_are_the_readers(fmt: str) -> None:
    """The schema's smallest and largest numbers are the ones the reader accepts."""
    defs = SCHEMAS[fmt]["$defs"]
    span = defs["magnitude"]["anyOf"][1]
    assert float(span["minimum"]) == MIN_MAGNITUDE == float(defs["positive"]["minimum"])
    assert float(span["maximum"]) == MAX_MAGNITUDE == float(defs["positive"]["maximum"])
    assert float(defs["fraction"]["anyOf"][1]["minimum"]) == MIN_MAGNITUDE


def test_format_2_shares_format_1s_definitions() -> None:
    """Format 2's network, DNN, node, link, block and exit are format 1's, word for word;
    its request is format 1's without objective, plus id, dnn and rate_per_s."""
    defs_1, defs_2 = SCHEMA["$defs"], SCHEMA_2["$defs"]
    assert set(defs_2) == set(defs_1)
    for key in set(defs_1) - {"request"}:
        assert defs_2[key] == defs_1[key], key
    req_1, req_2 = defs_1["request"], defs_2["request"]
    props_1 = {k: v for k, v in req_1["properties"].items() if k != "objective"}
    new = ("id", "dnn", "rate_per_s")
    assert {k: v for k, v in req_2["properties"].items() if k not in new} == props_1
    assert set(req_2["required"]) == {*req_1["required"], *new[:2]} - {"objective"}
    assert req_2["additionalProperties"] is False
    assert SCHEMA_2["properties"]["objective"]["enum"] == req_1["properties"]["objective"]["enum"]


@pytest.mark.parametrize(
    ("where", "value"),
    [(("requests", 0, "rate_per_s"), v) for v in (0, 1e-31, 1e-30, 1e30, 1e31, -1, None)]
    + [(("max_utilization",), v) for v in (0, -0.0, 1e-31, 1e-30, 0.5, 1, 1.0, 1.0001, 2, None)]
    + [(("dnns", 1, "blocks", 0, "ops"), v) for v in (0, 1e-31, 1e-30, 1e30, 1e31)],
)
def test_reader_and_schema_agree_on_format_2_numbers(where: tuple[Any, ...], value: Any) -> None:
    """Format-2 numbers at the edges of the allowed range: accepted by both or neither."""
    data = json.loads((CORPUS / "valid" / "multi-base.json").read_text(encoding="utf-8"))
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    text = json.dumps(data)
    try:
        parse_any(text)
    except InstanceError:
        accepted = False
    else:
        accepted = True
    assert (schema_errors(strict_json(text.encode("utf-8")), VALIDATOR_2) == []) == accepted


@pytest.mark.parametrize(
    ("where", "value"),
    [(("dnn", "blocks", 0, "ops"), value) for value in (0, -0.0, 1e-30, 1e-31, 1e30, 1e31, -1e-30)]
    + [(("network", "links", 0, "bandwidth_bps"), value) for value in (0, 1e-30, 1e-31, 1e30)]
    + [(("request", "deadline_s"), value) for value in (0, 1e-30, 1e-31, 1e31, None)]
    + [(("dnn", "exits", 0, "accuracy"), value) for value in (0, 1e-31, 1e-30, 1, 1.0001, None)],
)
def test_reader_and_schema_agree_on_numbers(where: tuple[Any, ...], value: Any) -> None:
    """Numbers at the edges of the allowed range: accepted by both or by neither."""
    data = json.loads((CORPUS / "valid" / "corpus-base.json").read_text(encoding="utf-8"))
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    text = json.dumps(data)
    try:
        parse_instance(text)
    except InstanceError:
        accepted = False
    else:
        accepted = True
    assert (schema_errors(strict_json(text.encode("utf-8"))) == []) == accepted


def test_lists_name_corpus_files() -> None:
    names = set(malformed_files())
    assert set(EXPECTED) == names
    for listed in (NOT_JSON, BEYOND_SCHEMA, OTHER_FIELD):
        assert set(listed) <= names, sorted(set(listed) - names)
        assert all(reason.strip() for reason in listed.values())
    assert not set(NOT_JSON) & set(BEYOND_SCHEMA)
    assert not set(OTHER_FIELD) & (set(NOT_JSON) | set(BEYOND_SCHEMA))
    names_2 = set(malformed_files(MALFORMED_2))
    assert set(EXPECTED_2) == names_2
    assert set(BEYOND_SCHEMA_2) <= names_2, sorted(set(BEYOND_SCHEMA_2) - names_2)
    assert all(reason.strip() for reason in BEYOND_SCHEMA_2.values())


def test_not_json_files_are_exactly_the_listed_ones() -> None:
    not_json = set()
    for name in malformed_files():
        try:
            strict_json((MALFORMED / name).read_bytes())
        except ValueError:
            not_json.add(name)
    assert not_json == set(NOT_JSON)
    for name in malformed_files(MALFORMED_2):  # format 2's are all JSON
        strict_json((MALFORMED_2 / name).read_bytes())


def test_valid_files_hold_both_formats() -> None:
    formats = [strict_json(path.read_bytes())["format"] for path in VALID_FILES]
    assert formats.count(FORMAT) >= 2 and formats.count(FORMAT_2) >= 3


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: p.name)
def test_valid_files_pass(path: Path) -> None:
    data = strict_json(path.read_bytes())
    assert schema_errors(data, validator_for(data)) == []


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: p.name)
def test_canonical_form_passes(path: Path) -> None:
    """splitbench writes every default out, nulls included: the schema takes them."""
    canonical = json.loads(dumps_any(load_any(path)))
    assert schema_errors(canonical, validator_for(canonical)) == []


@pytest.mark.parametrize("seed", range(40))
def test_generated_instances_pass(seed: int) -> None:
    from splitbench.families.tiny import random_instance  # the broadest tiny distribution

    data = strict_json(dumps_instance(random_instance(seed)).encode("utf-8"))
    assert schema_errors(data) == []


@pytest.mark.parametrize("seed", range(10))
def test_generated_format_2_instances_pass(seed: int) -> None:
    from splitbench.families.tiny import random_instance

    multi = MultiInstance.from_single(random_instance(seed), rate_per_s=1.0 + seed)
    assert schema_errors(strict_json(dumps_any(multi).encode("utf-8")), VALIDATOR_2) == []


@pytest.mark.parametrize("name", [n for n in malformed_files() if n not in NOT_JSON])
def test_malformed_file(name: str) -> None:
    errors = schema_errors(strict_json((MALFORMED / name).read_bytes()))
    if name in BEYOND_SCHEMA:
        assert errors == [], f"now rejected by the schema: drop it from BEYOND_SCHEMA: {errors}"
        return
    assert errors, "the schema accepts it; splitbench validate does not"
    if name not in OTHER_FIELD:
        field = EXPECTED[name]["field"]
        assert any(encloses(where, field) for where, _ in errors), (field, errors)


@pytest.mark.parametrize("name", malformed_files(MALFORMED_2))
def test_malformed_format_2_file(name: str) -> None:
    """Rejected by format 2's schema on the field load_any names (or an enclosing
    object), or listed in :data:`BEYOND_SCHEMA_2` and then accepted by the schema."""
    errors = schema_errors(strict_json((MALFORMED_2 / name).read_bytes()), VALIDATOR_2)
    if name in BEYOND_SCHEMA_2:
        assert errors == [], f"now rejected by the schema: drop it from BEYOND_SCHEMA_2: {errors}"
        return
    assert errors, "the schema accepts it; load_any does not"
    field = EXPECTED_2[name]["field"]
    assert any(encloses(where, field) for where, _ in errors), (field, errors)


def _documented_defaults(root: dict[str, Any] = SCHEMA) -> set[tuple[int, str]]:
    """``(id of the object schema, key)`` of every property that has a default."""
    found: set[tuple[int, str]] = set()

    def walk(schema: Any) -> None:
        if isinstance(schema, dict):
            for key, sub in schema.get("properties", {}).items():
                if isinstance(sub, dict) and "default" in sub:
                    found.add((id(schema), key))
            for sub in schema.values():
                walk(sub)
        elif isinstance(schema, list):
            for sub in schema:
                walk(sub)

    walk(root)
    return found


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    assert ref.startswith("#/$defs/"), ref
    return _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)


def _check_defaults(
    schema: dict[str, Any],
    written: Any,
    given: Any,
    seen: set[tuple[int, str]],
    where: str,
    root: dict[str, Any] = SCHEMA,
) -> None:
    """Compare each documented default with what the reader wrote for a key the
    input left out (``given``: the input at the same place)."""
    schema = _resolve(schema, root)
    if isinstance(written, dict):
        for key, sub in schema.get("properties", {}).items():
            if key not in written:
                continue
            left_out = not isinstance(given, dict) or key not in given
            if "default" in sub and left_out:
                assert written[key] == sub["default"], f"{where}.{key}: {written[key]!r}"
                seen.add((id(schema), key))
            inner = None if left_out else given[key]
            _check_defaults(sub, written[key], inner, seen, f"{where}.{key}", root)
    elif isinstance(written, list) and "items" in schema:
        for i, item in enumerate(written):
            inner = given[i] if isinstance(given, list) and i < len(given) else None
            _check_defaults(schema["items"], item, inner, seen, f"{where}[{i}]", root)


def test_documented_defaults_are_the_readers() -> None:
    """Read files with only the required keys: every default the schema documents is
    the value splitbench fills in."""
    nodes = [
        {"id": "a", "tier": "device", "ops_per_s": 1e9},
        {"id": "b", "tier": "edge", "ops_per_s": 1e10},
    ]
    linked = {
        "format": FORMAT,
        "name": "minimal",
        "network": {
            "nodes": nodes,
            "links": [{"source": "a", "target": "b", "bandwidth_bps": 1e6}],
        },
        "dnn": {
            "name": "d",
            "input_bytes": 1,
            "blocks": [{"name": "b1", "ops": 1, "output_bytes": 1}],
            "exits": [{"after_block": 1}],
        },
        "request": {"source": "a", "objective": "latency"},
    }
    unlinked = {**linked, "network": {"nodes": nodes}}
    seen: set[tuple[int, str]] = set()
    for given in (linked, unlinked):
        assert schema_errors(given) == []
        written = instance_to_dict(parse_instance(json.dumps(given), source="minimal"))
        _check_defaults(SCHEMA, written, given, seen, "")
    assert seen == _documented_defaults()


def test_documented_format_2_defaults_are_the_readers() -> None:
    """As above for format 2: files with only the required keys, read by load_any."""
    nodes = [
        {"id": "a", "tier": "device", "ops_per_s": 1e9},
        {"id": "b", "tier": "edge", "ops_per_s": 1e10},
    ]
    linked = {
        "format": FORMAT_2,
        "name": "minimal",
        "network": {
            "nodes": nodes,
            "links": [{"source": "a", "target": "b", "bandwidth_bps": 1e6}],
        },
        "dnns": [
            {
                "name": "d",
                "input_bytes": 1,
                "blocks": [{"name": "b1", "ops": 1, "output_bytes": 1}],
                "exits": [{"after_block": 1}],
            }
        ],
        "requests": [{"id": "r", "dnn": "d", "source": "a"}],
        "objective": "latency",
    }
    unlinked = {**linked, "network": {"nodes": nodes}}
    seen: set[tuple[int, str]] = set()
    for given in (linked, unlinked):
        assert schema_errors(given, VALIDATOR_2) == []
        read = parse_any(json.dumps(given), source="minimal")
        assert isinstance(read, MultiInstance)
        _check_defaults(SCHEMA_2, multi_to_dict(read), given, seen, "", SCHEMA_2)
    assert seen == _documented_defaults(SCHEMA_2)
