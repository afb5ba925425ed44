"""The command line: ``solve`` output (JSON contract and summary), usage errors, status."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from splitbench.answer import RunFacts
from splitbench.cli import main
from splitbench.evaluate import Placement, evaluate
from splitbench.instance import Instance, instance_to_dict

CONTRACT_KEYS = {
    "instance",
    "method",
    "solver",
    "status",
    "termination",
    "exact",
    "reason",
    "objective",
    "claimed_objective",
    "latency_s",
    "energy_j",
    "accuracy",
    "feasible",
    "violations",
    "bound",
    "build_time_s",
    "solve_time_s",
    "verify_time_s",
    "placement",
}
ALLOWED_EXTRA = {"solver_time_s", *RunFacts.__dataclass_fields__}
STATUSES = {"optimal", "feasible", "invalid", "infeasible", "none"}
TERMINATIONS = {"completed", "time_limit", "other_limit", "skipped", "error", "interrupted"}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def check_contract(data: dict[str, Any]) -> None:
    assert CONTRACT_KEYS <= set(data) <= CONTRACT_KEYS | ALLOWED_EXTRA, set(data)
    assert data["status"] in STATUSES
    assert data["termination"] in TERMINATIONS
    assert isinstance(data["exact"], bool)
    assert isinstance(data["violations"], list)
    assert isinstance(data["feasible"], bool)


@pytest.fixture
def infeasible_path(example_dict: dict[str, Any], write_json: Callable[[Any, str], Path]) -> Path:
    example_dict["request"]["deadline_s"] = 1e-9
    return write_json(example_dict, "impossible-deadline.json")


def test_solve_json_contract(
    example: Instance, example_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["solve", str(example_path), "--method", "exhaustive", "--json"], capsys)
    assert status == 0, err
    data = json.loads(out)
    check_contract(data)
    assert data["instance"] == example.name
    assert data["method"] == "exhaustive"
    assert data["solver"] is None
    assert data["status"] == "optimal"
    assert data["feasible"] is True and data["violations"] == []
    placement = Placement.from_dict(data["placement"])
    assert set(data["placement"]) == {"blocks", "exit", "routes"}
    ev = evaluate(example, placement)
    assert data["objective"] == pytest.approx(ev.objective, rel=1e-12)
    assert data["objective"] == pytest.approx(ev.energy_j, rel=1e-12)  # energy objective
    assert data["latency_s"] == pytest.approx(ev.latency_s, rel=1e-12)
    assert data["energy_j"] == pytest.approx(ev.energy_j, rel=1e-12)
    assert data["accuracy"] == pytest.approx(ev.accuracy, rel=1e-12)
    assert data["objective"] == pytest.approx(0.0856, abs=5e-5)
    assert data["build_time_s"] >= 0 and data["solve_time_s"] >= 0
    assert data["verify_time_s"] > 0  # the evaluator is timed
    assert data["termination"] == "completed" and data["exact"] is True
    assert len(data["placement"]["routes"]) == data["placement"]["exit"] + 1
    assert data["placement"]["routes"][-1] is None  # no destination


def test_solve_summary(example_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["solve", str(example_path), "--method", "exhaustive"], capsys)
    assert status == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["instance", "fin-b-alexnet-cifar10"]
    text = "\n".join(lines)
    assert "exhaustive" in text
    assert "optimal" in text
    assert "objective" in text and "(energy)" in text
    assert "md md md cs cs" in text
    assert "feasible     yes" in text
    assert "exact: yes" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_solve_summary_of_a_declined_instance(
    example_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        ["solve", str(example_path), "--method", "exhaustive", "--param", "max_candidates=3"],
        capsys,
    )
    assert status == 0, err
    assert "termination: skipped" in out
    assert "reason       more than 3 candidates" in out


def test_declined_json(example_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        [
            "solve",
            str(example_path),
            "--method",
            "exhaustive",
            "--param",
            "max_candidates=3",
            "--json",
        ],
        capsys,
    )
    assert status == 0, err
    data = json.loads(out)
    check_contract(data)
    assert data["status"] == "none"
    assert data["termination"] == "skipped"
    assert data["placement"] is None and data["objective"] is None
    assert data["reason"]


def test_unknown_method(example_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["solve", str(example_path), "--method", "magic"], capsys)
    assert status == 2
    line = one_line(err)
    assert "magic" in line
    assert out == ""


@pytest.mark.parametrize(
    ("param", "keyword"),
    [
        pytest.param("colour=blue", "colour", id="unknown-key"),
        pytest.param("max_candidates", "max_candidates", id="no-equals-sign"),
        pytest.param("=5", "=5", id="no-key"),
        pytest.param("max_candidates=many", "max_candidates", id="wrong-type"),
    ],
)
def test_bad_param(
    example_path: Path, param: str, keyword: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        ["solve", str(example_path), "--method", "exhaustive", "--param", param], capsys
    )
    assert status == 2
    assert keyword in one_line(err)
    assert out == ""


def test_solve_malformed_instance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "splitbench.instance/1"', encoding="utf-8")
    status, _, err = run(["solve", str(path), "--method", "exhaustive"], capsys)
    assert status == 2
    assert path.name in one_line(err)


def test_infeasible_instance_json(
    infeasible_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        ["solve", str(infeasible_path), "--method", "exhaustive", "--json"], capsys
    )
    assert status == 0, err
    data = json.loads(out)
    check_contract(data)
    assert data["status"] == "infeasible"
    assert data["placement"] is None
    assert data["feasible"] is False


def test_infeasible_instance_summary(
    infeasible_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["solve", str(infeasible_path), "--method", "exhaustive"], capsys)
    assert status == 0, err
    assert "infeasible" in out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["solve"])
    assert info.value.code == 2
    _, err = capsys.readouterr()
    one_line(err)


def test_solve_json_of_latency_instance(
    example: Instance, write_json: Callable[[Any, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data = instance_to_dict(example)
    data["request"]["objective"] = "latency"
    path = write_json(data, "latency.json")
    status, out, err = run(["solve", str(path), "--method", "exhaustive", "--json"], capsys)
    assert status == 0, err
    result = json.loads(out)
    assert result["objective"] == pytest.approx(result["latency_s"], rel=1e-12)
    assert result["objective"] < 0.005
