"""Malformed instance files: each one must give one error naming the file and the field.

``corpus/malformed/expected.json`` maps each file to the field its error must name
(``""`` for whole-file problems such as invalid JSON) and a phrase the message must
contain. Every case is checked through :func:`splitbench.instance.load_instance` and
through ``splitbench validate`` (exit status 2, exactly one line on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from splitbench.cli import main
from splitbench.instance import InstanceError, load_instance

CORPUS = Path(__file__).parent / "corpus"
MALFORMED = CORPUS / "malformed"
EXPECTED: dict[str, dict[str, str]] = json.loads(
    (MALFORMED / "expected.json").read_text(encoding="utf-8")
)
VALID = CORPUS / "valid" / "corpus-base.json"


def stderr_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_corpus_is_complete() -> None:
    files = {p.name for p in MALFORMED.glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED)
    assert len(files) >= 35
    for name, expectation in EXPECTED.items():
        assert set(expectation) == {"field", "contains"}, name
        assert expectation["contains"], name


def test_corpus_base_is_valid() -> None:
    """Every malformed file is a small change of this one, which loads."""
    inst = load_instance(VALID)
    assert inst.name == "corpus-base"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_instance_names_file_and_field(name: str) -> None:
    path = MALFORMED / name
    expectation = EXPECTED[name]
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    err = info.value
    text = str(err)
    assert err.field == expectation["field"], text
    assert expectation["contains"] in err.message, text
    assert name in text
    if expectation["field"]:
        assert f": {expectation['field']}: " in text
    assert "\n" not in text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_validate_gives_one_line(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = MALFORMED / name
    expectation = EXPECTED[name]
    status = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert status == 2, err
    lines = stderr_lines(err)
    assert len(lines) == 1, err
    assert name in lines[0]
    assert expectation["field"] in lines[0]
    assert expectation["contains"] in lines[0]
    assert "Traceback" not in out + err
    assert "internal error" not in err
    assert out == ""


def test_cli_validate_valid_files(example_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(example_path), str(VALID)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 2
    assert "ok" in lines[0] and example_path.name in lines[0]
    assert "ok" in lines[1] and VALID.name in lines[1]


def test_cli_validate_mix(example_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = MALFORMED / "self-loop-link.json"
    worse = MALFORMED / "empty-file.json"
    assert main(["validate", str(example_path), str(bad), str(VALID), str(worse)]) == 2
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2
    lines = stderr_lines(err)
    assert len(lines) == 2
    assert bad.name in lines[0] and worse.name in lines[1]


def test_cli_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "does-not-exist.json"
    assert main(["validate", str(missing)]) == 2
    out, err = capsys.readouterr()
    lines = stderr_lines(err)
    assert len(lines) == 1
    assert missing.name in lines[0]
    assert "Traceback" not in out + err


def test_cli_validate_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path)]) == 2
    _, err = capsys.readouterr()
    assert len(stderr_lines(err)) == 1 and str(tmp_path) in err


def test_deeply_nested_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nesting deeper than Python's recursion limit is bad input, not an internal error."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert path.name in str(info.value)
    assert main(["validate", str(path)]) == 2
    _, err = capsys.readouterr()
    assert len(stderr_lines(err)) == 1 and path.name in err


def test_unknown_key_with_a_line_break_still_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data: dict[str, Any] = json.loads(VALID.read_text(encoding="utf-8"))
    data["network"]["nodes"][0]["ops\nper_s"] = 1
    path = tmp_path / "newline-key.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    _, err = capsys.readouterr()
    assert len(stderr_lines(err)) == 1, err
    assert "network.nodes[0]" in err and path.name in err


def test_errors_are_value_errors() -> None:
    """InstanceError is a ValueError, so callers that catch ValueError keep working."""
    with pytest.raises(ValueError, match="format"):
        load_instance(MALFORMED / "package-json.json")
