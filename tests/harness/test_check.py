"""The CI gate ``splitbench check`` (:mod:`splitbench.harness.check`).

- every problem kind is found on hand-built records, and a clean set passes;
- a results folder where a heuristic is marked exact and misses the optimum fails, and
  so does one where a ``--max-gap`` threshold is crossed;
- reverify: a tampered stored objective (a real placement of the example instance) is
  found, and broken or missing instance files are problems, not crashes;
- the JUnit XML parses, has one test case per (method, family), failures where due;
- ``--max-gap`` parsing and its errors.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from splitbench.errors import UsageError
from splitbench.harness.check import (
    KINDS,
    MAX_LISTED,
    CheckResult,
    Problem,
    check_directory,
    check_records,
    parse_thresholds,
    write_junit,
)
from splitbench.harness.record import Record
from splitbench.instance import Instance, example_instance, instance_id, save_instance
from splitbench.methods import solve


def rec(run_id: str, method: str, instance: str = "i1", **fields: Any) -> Record:
    """A record with an answer unless told otherwise."""
    base: dict[str, Any] = {"family": "fam", "status": "feasible", "feasible": True}
    base.update(fields)
    return Record(run_id=run_id, method=method, instance_id=instance, **base)


def opt(run_id: str, method: str, objective: float, instance: str = "i1", **fields: Any) -> Record:
    """An exact method's optimum."""
    fields.setdefault("bound", objective)
    return rec(
        run_id, method, instance, exact=True, status="optimal", objective=objective, **fields
    )


def kinds(result: CheckResult) -> list[str]:
    return [p.kind for p in result.problems]


def clean() -> list[Record]:
    return [
        opt("m1", "milp", 10.0),
        opt("m2", "exhaustive", 10.0 * (1 + 1e-9)),
        rec("h1", "fin", objective=10.5, bound=9.0, guarantees_feasible=True),
        rec("b1", "device-only", status="invalid", feasible=False, objective=8.0),
        rec("t1", "larac", status="none", feasible=False, termination="time_limit"),
        rec("s1", "label-setting", status="none", feasible=False, termination="skipped"),
        opt("m3", "milp", 4.0, instance="i2", family="other"),
    ]


def test_a_clean_set_passes_and_counts() -> None:
    result = check_records(clean())
    assert result.ok, result.summary()
    assert (result.records, result.instances, result.with_reference) == (7, 2, 2)
    assert (result.methods, result.answers, result.invalid_baseline) == (6, 4, 1)
    assert (result.time_limits, result.skipped) == (1, 1)
    assert result.summary().splitlines()[-1] == "check passed"
    assert "1 invalid baseline answers" in result.summary()


def test_exact_methods_with_different_optima_disagree() -> None:
    result = check_records([opt("m1", "milp", 10.0), opt("m2", "exhaustive", 11.0, bound=None)])
    assert kinds(result) == ["disagreement"]
    # with its bound at its objective, the wrong optimum also has a bound above the reference
    result = check_records([opt("m1", "milp", 10.0), opt("m2", "exhaustive", 11.0)])
    assert kinds(result) == ["disagreement", "bound"]
    problem = result.problems[0]
    assert (problem.method, problem.run_id, problem.family) == ("exhaustive", "m2", "fam")
    assert "instance i1" in problem.message and "exhaustive" in problem.message


def test_a_proof_of_infeasibility_while_an_answer_exists_disagrees() -> None:
    proof = rec("m1", "milp", exact=True, status="infeasible", feasible=False)
    result = check_records([proof, rec("h1", "fin", objective=3.0)])
    assert kinds(result) == ["disagreement"]
    assert "infeasib" in result.problems[0].message


@pytest.mark.parametrize("status", ["optimal", "feasible"])
def test_a_heuristic_marked_exact_that_misses_the_optimum_fails(status: str) -> None:
    wrong = rec("h1", "fin", exact=True, status=status, objective=10.5)
    result = check_records([opt("m1", "milp", 10.0), wrong])
    assert kinds(result) == ["disagreement"]
    assert result.problems[0].run_id == "h1"


def test_an_exact_method_stopped_by_its_time_limit_may_miss_the_optimum() -> None:
    stopped = rec("m2", "exhaustive", exact=True, objective=10.5, termination="time_limit")
    assert check_records([opt("m1", "milp", 10.0), stopped]).ok


def test_an_answer_below_the_reference() -> None:
    result = check_records([opt("m1", "milp", 10.0), rec("h1", "fin", objective=9.0)])
    # the exact method is contradicted too: its "optimum" and its bound lie above an answer
    assert kinds(result) == ["disagreement", "below-reference", "bound"]
    below = next(p for p in result.problems if p.kind == "below-reference")
    assert (below.method, below.run_id) == ("fin", "h1")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"guarantees_feasible": True}, True),
        ({"exact": True}, True),
        ({}, False),
    ],
)
def test_invalid_answers(fields: dict[str, Any], problem: bool) -> None:
    bad = rec("x1", "fin", status="invalid", feasible=False, objective=3.0, **fields)
    result = check_records([opt("m1", "milp", 10.0), bad])
    assert kinds(result) == (["invalid"] if problem else [])
    assert result.invalid_baseline == (0 if problem else 1)


def test_a_bound_above_the_reference_or_the_best_known_answer() -> None:
    above_ref = rec("h1", "fin", objective=10.5, bound=10.2)
    result = check_records([opt("m1", "milp", 10.0), above_ref])
    assert kinds(result) == ["bound"] and "reference" in result.problems[0].message
    no_reference = [rec("h1", "fin", objective=5.0), rec("h2", "larac", objective=6.0, bound=5.5)]
    result = check_records(no_reference)
    assert kinds(result) == ["bound"] and "best known" in result.problems[0].message
    within = rec("h1", "fin", objective=10.5, bound=10.0 * (1 + 1e-8))
    assert check_records([opt("m1", "milp", 10.0), within]).ok


@pytest.mark.parametrize(("bound", "problem"), [(None, True), (9.0, True), (10.0 - 1e-9, False)])
def test_optimal_from_a_method_that_is_not_exact(bound: float | None, problem: bool) -> None:
    claim = rec("h1", "fin", status="optimal", objective=10.0, bound=bound)
    result = check_records([claim])
    assert kinds(result) == (["not-exact-optimal"] if problem else [])


def test_errors_fail_unless_allowed() -> None:
    crashed = rec(
        "e1",
        "fin",
        status="none",
        feasible=False,
        termination="error",
        reason="worker died\nwith signal 9",
    )
    result = check_records([crashed])
    assert kinds(result) == ["error"]
    assert "\n" not in result.problems[0].message and "signal 9" in result.problems[0].message
    assert check_records([crashed], allow_errors=True).ok


def test_a_threshold_crossed_by_a_gap() -> None:
    records = [opt("m1", "milp", 10.0), rec("h1", "fin", objective=11.0)]
    assert check_records(records, max_gap={"fin": 0.2}).ok
    result = check_records(records, max_gap={"fin": 0.05})
    assert kinds(result) == ["threshold"]
    problem = result.problems[0]
    assert (problem.method, problem.family, problem.run_id) == ("fin", "fam", None)
    assert "instance i1" in problem.message and "0.1" in problem.message


def test_a_run_without_an_answer_crosses_the_threshold() -> None:
    records = [
        opt("m1", "milp", 10.0),
        rec("h1", "fin", objective=10.0),
        rec("h2", "fin", instance="i2", status="none", feasible=False),  # no reference: ignored
        rec("h3", "fin", status="none", feasible=False, termination="time_limit"),
        opt("m2", "milp", 4.0, instance="i3"),
        rec("h4", "fin", instance="i3", status="invalid", feasible=False, objective=1.0),
        rec("h5", "fin", instance="i3", status="none", feasible=False, termination="skipped"),
    ]
    result = check_records(records, max_gap={"fin": 0.5})
    assert kinds(result) == ["threshold"]
    assert "3 runs without an answer (1 skipped)" in result.problems[0].message


def test_the_star_threshold_covers_every_method_that_is_not_exact() -> None:
    records = [
        opt("m1", "milp", 10.0),
        opt("m2", "exhaustive", 10.0),
        rec("h1", "fin", objective=12.0),
        rec("h2", "larac", objective=10.1),
    ]
    result = check_records(records, max_gap={"*": 0.05})
    assert [(p.kind, p.method) for p in result.problems] == [("threshold", "fin")]
    # a method's own limit wins over the star
    assert check_records(records, max_gap={"*": 0.05, "fin": 0.3}).ok


def test_a_threshold_naming_an_absent_method_is_a_problem() -> None:
    result = check_records(clean(), max_gap={"fn": 0.1})
    assert kinds(result) == ["threshold"]
    assert "'fn'" in result.problems[0].message
    cases = result.cases()
    assert cases[-1].method == "check" and cases[-1].problems == result.problems


def test_the_summary_lists_twenty_problems_then_counts_the_rest() -> None:
    records = [
        rec(f"e{k}", "fin", termination="error", status="none", feasible=False)
        for k in range(MAX_LISTED + 5)
    ]
    lines = check_records(records).summary().splitlines()
    assert lines[1] == f"check failed: {MAX_LISTED + 5} problems"
    assert len(lines) == 2 + MAX_LISTED + 1
    assert lines[-1].strip() == "... and 5 more"


def test_problems_come_in_the_order_of_their_kinds_and_a_typo_in_a_kind_is_a_bug() -> None:
    records = [
        rec("e1", "fin", termination="error", status="none", feasible=False),
        opt("m1", "milp", 10.0),
        opt("m2", "exhaustive", 12.0, bound=None),
        rec("h1", "larac", status="optimal", objective=13.0),
    ]
    result = check_records(records)
    assert kinds(result) == ["disagreement", "not-exact-optimal", "error"]
    assert list(KINDS)[:2] == ["disagreement", "below-reference"]
    with pytest.raises(ValueError, match="unknown problem kind"):
        Problem("fin", "fam", None, "wrong", "text")


# --- results folders -------------------------------------------------------------


def write_folder(
    folder: Path, records: Sequence[Record], instances: Sequence[Instance] = ()
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(r.to_json() + "\n" for r in records)
    (folder / "records.jsonl").write_text(lines, encoding="utf-8")
    (folder / "environment.json").write_text("{}", encoding="utf-8")
    if instances:
        (folder / "instances").mkdir()
        for instance in instances:
            save_instance(instance, folder / "instances" / f"{instance_id(instance)}.json")
    return folder


@pytest.fixture(scope="module")
def solved() -> tuple[Instance, Record, Record]:
    """The example instance, the exhaustive optimum and a FIN answer on it, as records."""
    instance = example_instance()
    iid = instance_id(instance)
    out = []
    for run_id, method in (("m1", "exhaustive"), ("h1", "fin")):
        sol = solve(instance, method)
        assert sol.placement is not None and sol.objective is not None
        out.append(
            Record(
                run_id=run_id,
                family="file",
                instance_id=iid,
                method=method,
                exact=sol.exact,
                guarantees_feasible=method == "fin",
                status=sol.status.value,
                termination=sol.termination.value,
                feasible=sol.feasible,
                objective=sol.objective,
                bound=sol.bound,
                placement=json.dumps(sol.placement.to_dict()),
            )
        )
    return instance, out[0], out[1]


def test_a_folder_of_real_runs_passes(
    tmp_path: Path, solved: tuple[Instance, Record, Record]
) -> None:
    instance, exact, heuristic = solved
    folder = write_folder(tmp_path / "out", [exact, heuristic], [instance])
    result = check_directory(folder)
    assert result.ok, result.summary()
    assert check_directory(folder, max_gap={"fin": 0.1}).ok


def test_a_folder_where_a_heuristic_is_marked_exact_fails(
    tmp_path: Path, solved: tuple[Instance, Record, Record]
) -> None:
    instance, exact, heuristic = solved
    assert heuristic.objective is not None and exact.objective is not None
    assert heuristic.objective > exact.objective * (1 + 1e-3)  # FIN misses the optimum here
    marked = heuristic.derive(exact=True, status="optimal")
    folder = write_folder(tmp_path / "out", [exact, marked], [instance])
    result = check_directory(folder)
    assert not result.ok
    assert [(p.kind, p.method) for p in result.problems] == [("disagreement", "fin")]


def test_a_folder_where_a_max_gap_threshold_is_crossed_fails(
    tmp_path: Path, solved: tuple[Instance, Record, Record]
) -> None:
    instance, exact, heuristic = solved
    folder = write_folder(tmp_path / "out", [exact, heuristic], [instance])
    limits = parse_thresholds(["fin=0.01"])
    result = check_directory(folder, max_gap=limits)
    assert kinds(result) == ["threshold"]
    assert "fin on family file" in result.problems[0].message


def test_reverify_finds_a_tampered_objective(
    tmp_path: Path, solved: tuple[Instance, Record, Record]
) -> None:
    instance, exact, heuristic = solved
    assert exact.objective is not None
    tampered = heuristic.derive(objective=exact.objective * 1.001)
    folder = write_folder(tmp_path / "out", [exact, tampered], [instance])
    result = check_directory(folder)
    assert [(p.kind, p.run_id) for p in result.problems] == [("reverify", "h1")]
    assert "evaluator" in result.problems[0].message
    assert check_directory(folder, reverify=False).ok
    # the same through check_records with the instances given
    assert kinds(check_records([exact, tampered], instances={exact.instance_id: instance})) == [
        "reverify"
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"feasible": False, "status": "invalid", "guarantees_feasible": False},
        {"placement": "not json"},
        {"placement": json.dumps({"blocks": ["nowhere"], "exit": 1, "routes": [None, None]})},
        {"placement": json.dumps([1, 2])},
        {"placement": None},
    ],
)
def test_reverify_finds_other_tampering(
    solved: tuple[Instance, Record, Record], change: dict[str, Any]
) -> None:
    instance, exact, heuristic = solved
    result = check_records(
        [exact, heuristic.derive(**change)], instances={exact.instance_id: instance}
    )
    assert [(p.kind, p.run_id) for p in result.problems] == [("reverify", "h1")]


def test_reverify_without_the_instance_is_a_problem(
    solved: tuple[Instance, Record, Record],
) -> None:
    _, exact, heuristic = solved
    result = check_records([exact, heuristic], instances={})
    assert kinds(result) == ["reverify", "reverify"]
    assert all(p.run_id is None and "cannot be reverified" in p.message for p in result.problems)


def test_a_broken_or_missing_instance_file_is_a_problem_not_a_crash(
    tmp_path: Path, solved: tuple[Instance, Record, Record]
) -> None:
    instance, exact, heuristic = solved
    folder = write_folder(tmp_path / "out", [exact, heuristic], [instance])
    path = folder / "instances" / f"{exact.instance_id}.json"
    path.write_text("{ not an instance", encoding="utf-8")
    result = check_directory(folder)
    assert kinds(result) == ["reverify", "reverify"]
    assert all("does not load" in p.message for p in result.problems)
    path.unlink()
    result = check_directory(folder)
    assert kinds(result) == ["reverify", "reverify"]
    assert all("no file" in p.message for p in result.problems)


def test_a_file_holding_another_instance_is_a_problem(
    tmp_path: Path, solved: tuple[Instance, Record, Record]
) -> None:
    instance, exact, heuristic = solved
    moved = [r.derive(instance_id="0123456789abcdef") for r in (exact, heuristic)]
    folder = write_folder(tmp_path / "out", moved)
    (folder / "instances").mkdir()
    save_instance(instance, folder / "instances" / "0123456789abcdef.json")
    result = check_directory(folder)
    assert kinds(result) == ["reverify", "reverify"]
    assert "holds another instance" in result.problems[0].message


def test_a_folder_without_results_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        check_directory(tmp_path)


# --- JUnit -------------------------------------------------------------------------


def test_junit_has_one_case_per_method_and_family(tmp_path: Path) -> None:
    records = [*clean(), opt("m9", "exhaustive", 12.0)]  # exhaustive disagrees on i1
    result = check_records(records, max_gap={"fin": 0.01})
    path = tmp_path / "check.xml"
    write_junit(result, path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    pairs = {(c.get("classname"), c.get("name")) for c in cases}
    expected = {(f"splitbench.{r.family}", r.method) for r in records}
    assert len(cases) == len(expected) and pairs == expected
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == {"exhaustive", "fin"}
    assert suite.get("tests") == str(len(cases)) and suite.get("failures") == "2"
    assert root.get("failures") == "2"
    fin = failed["fin"]
    assert fin is not None and fin.get("type") == "threshold"
    assert "fin" in (fin.get("message") or "") and "threshold" in (fin.text or "")
    runs = {
        c.get("name"): c.findtext("system-out")
        for c in cases
        if c.get("classname") == "splitbench.fam"
    }
    assert runs["exhaustive"] is not None and runs["exhaustive"].startswith("2 runs")


def test_junit_of_a_passing_check_has_no_failure(tmp_path: Path) -> None:
    path = tmp_path / "check.xml"
    write_junit(check_records(clean()), path, name="nightly")
    root = ET.parse(path).getroot()
    assert root.get("name") == "nightly" and root.find("testsuite/testcase/failure") is None
    assert path.read_bytes().startswith(b"<?xml")


def test_junit_carries_text_that_xml_cannot(tmp_path: Path) -> None:
    crashed = rec(
        "e1",
        "fin",
        termination="error",
        status="none",
        feasible=False,
        reason="bad \x00 byte \x1b[31m and <tags> & 'quotes'",
    )
    path = tmp_path / "check.xml"
    write_junit(check_records([crashed]), path)
    failure = ET.parse(path).getroot().find("testsuite/testcase/failure")
    assert failure is not None and "<tags> & 'quotes'" in (failure.get("message") or "")


# --- --max-gap ---------------------------------------------------------------------


def test_parse_thresholds() -> None:
    assert parse_thresholds([]) == {}
    assert parse_thresholds(["fin=0.05", " larac = 0 ", "1e-2"]) == {
        "fin": 0.05,
        "larac": 0.0,
        "*": 0.01,
    }


@pytest.mark.parametrize(
    "pair", ["fin=", "fin=lots", "=0.1", "fin=-0.1", "fin=nan", "fin=inf", "", "fin"]
)
def test_a_bad_threshold_names_the_option_and_the_pair(pair: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_thresholds([pair])
    assert "--max-gap" in str(info.value) and repr(pair) in str(info.value)


def test_a_threshold_given_twice_is_an_error() -> None:
    with pytest.raises(UsageError, match="twice"):
        parse_thresholds(["fin=0.1", "fin=0.2"])
    with pytest.raises(UsageError, match="twice"):
        parse_thresholds(["0.1", "*=0.2"])
