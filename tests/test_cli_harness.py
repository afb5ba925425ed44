"""The harness commands end to end in a subprocess: run, check, compare, list suites."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from splitbench.harness.record import Record
from splitbench.harness.store import ResultStore

SUITE = """
description = "two tiny instances"
time-limit = 10
[[families]]
family = "tiny"
seed = [0, 1]
[[methods]]
method = ["exhaustive", "label-setting", "fin", "device-only"]
[[methods]]
method = "routing-milp"
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "splitbench", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "two.toml").write_text(SUITE)
    done = cli("run", str(folder / "two.toml"), "-o", str(folder / "out"), "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "10 runs: 10 run now" in done.stdout
    assert f"results: {folder / 'out' / 'results.parquet'}" in done.stdout
    assert f"HTML report: {folder / 'out' / 'report' / 'report.html'}" in done.stdout
    return folder / "out"


def test_run_writes_records_parquet_environment_and_instances(results: Path) -> None:
    lines = (results / "records.jsonl").read_text().splitlines()
    assert len(lines) == 10 and all(json.loads(line)["run_id"] for line in lines)
    env = json.loads((results / "environment.json").read_text())
    assert env["packages"]["highspy"] and env["python"]
    assert len(list((results / "instances").glob("*.json"))) == 2
    records, environment = ResultStore(results).read_records(), env
    assert {r.method for r in records} >= {"exhaustive", "fin", "routing-milp"}
    assert environment["suite_sha256"]


def test_check_passes_and_writes_junit(results: Path, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    done = cli("check", str(results), "--junit", str(junit))
    assert done.returncode == 0, done.stdout + done.stderr
    cases = ET.parse(junit).getroot().iter("testcase")
    names = {(c.get("classname"), c.get("name")) for c in cases}
    assert ("splitbench.tiny", "fin") in names and len(names) == 5


def test_check_fails_on_a_crossed_threshold(results: Path) -> None:
    done = cli("check", str(results), "--max-gap", "device-only=0")
    assert done.returncode == 1
    assert "device-only" in done.stdout and "threshold" in done.stdout


def test_check_fails_on_a_heuristic_marked_exact(results: Path, tmp_path: Path) -> None:
    out = tmp_path / "tampered"
    records = ResultStore(results).read_records()
    store = ResultStore(out)
    store.open(resume=False)
    for rec in records:
        if rec.method == "device-only" and rec.feasible:
            # a heuristic claiming to be exact, whose answer misses the optimum
            rec = rec.derive(exact=True, status="optimal", objective=(rec.objective or 0) * 2)
        store.append(rec)
    store.close()
    done = cli("check", str(out))
    assert done.returncode == 1
    assert "disagreement" in done.stdout


def test_compare_a_folder_with_itself_passes(results: Path) -> None:
    done = cli("compare", str(results), str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fin" in done.stdout


def test_report_writes_one_format_where_asked(results: Path, tmp_path: Path) -> None:
    done = cli("report", str(results), "--format", "md", "-o", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "report.md").is_file()
    assert not (tmp_path / "r" / "report.html").exists()
    assert list((tmp_path / "r" / "figures").glob("*.png"))
    assert f"Markdown report: {tmp_path / 'r' / 'report.md'}" in done.stdout


def test_report_needs_results(tmp_path: Path) -> None:
    done = cli("report", str(tmp_path))
    assert done.returncode == 2 and "no results here" in done.stderr


def test_list_suites_names_the_builtin_ones() -> None:
    done = cli("list", "suites")
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert {"smoke", "scaling"} <= set(names)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "nosuch"), "nosuch: no such suite file or built-in suite"),
        (("run", "smoke", "--jobs", "0"), "--jobs 0: must be at least 1"),
        (("run", "smoke", "--time-limit", "-1"), "must be a positive number"),
        (("check", "/nonexistent-folder"), "no results here"),
        (("check", "."), "no results here"),
        (("check", ".", "--max-gap", "fin=x"), "--max-gap"),
        (("run", "smoke", "--executor", "ray"), "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...], expected: str, tmp_path: Path
) -> None:
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_bad_suite_file_names_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SUITE.replace('"fin"', '"fni"'))
    done = cli("run", str(bad), "-o", str(tmp_path / "o"))
    assert done.returncode == 2
    assert f"{bad}: methods[0].method: unknown method 'fni'" in done.stderr


def test_check_reads_a_sweep_that_was_killed(results: Path, tmp_path: Path) -> None:
    # only the JSON lines, no parquet: check still derives the reference
    out = tmp_path / "partial"
    out.mkdir()
    lines = (results / "records.jsonl").read_text()
    (out / "records.jsonl").write_text(lines + lines.splitlines()[0][:40])  # a torn last line
    done = cli("check", str(out))
    assert done.returncode == 0, done.stdout + done.stderr


def test_record_fields_are_the_contract() -> None:
    required = [
        "run_id",
        "started_at",
        "suite",
        "family",
        "instance_id",
        "instance_params",
        "seed",
        "n_blocks",
        "n_nodes",
        "n_arcs",
        "method",
        "method_params",
        "formulation",
        "solver",
        "solver_version",
        "exact",
        "status",
        "termination",
        "reason",
        "feasible",
        "n_violations",
        "objective",
        "bound",
        "mip_gap",
        "reference",
        "gap_to_reference",
        "build_time_s",
        "solve_time_s",
        "solver_time_s",
        "verify_time_s",
        "n_vars",
        "n_binaries",
        "n_rows",
        "n_nonzeros",
        "lp_bound",
        "lp_integral",
        "nodes",
        "time_limit_s",
        "n_requests",
        "max_node_utilization",
        "max_arc_utilization",
    ]
    assert set(required) <= set(Record.__dataclass_fields__)
