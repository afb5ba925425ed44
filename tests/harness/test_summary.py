"""The report's tables (:mod:`splitbench.harness.summary`) on hand-built records.

- agreement: exact methods over their optimal answers, the others over the instances
  with a reference (no answer counts as not agreeing);
- gaps (mean, max, an infinite one at a zero optimum), no answer, best and fastest
  with ties, solved and feasible shares;
- None where nothing applies: a family without a reference, a method only skipped;
- one row per (family, label), labels with solvers and parameters, the order;
- failures, problems and the overview.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from splitbench.harness import metrics
from splitbench.harness.plots import label
from splitbench.harness.record import Record
from splitbench.harness.summary import (
    ENVIRONMENT_KEYS,
    MethodRow,
    failures,
    method_table,
    overview,
    problems,
)


def rec(run_id: str, method: str, instance: str, objective: float | None, **fields: Any) -> Record:
    """A completed run with an answer (``optimal`` when exact) unless told otherwise."""
    exact = fields.pop("exact", False)
    base: dict[str, Any] = {
        "suite": "hand",
        "family": "fam",
        "instance_name": f"name-{instance}",
        "exact": exact,
        "status": "optimal" if exact else "feasible",
        "feasible": objective is not None,
        "objective": objective,
        "build_time_s": 0.0,
        "solve_time_s": 1.0,
        "time_limit_s": 60.0,
    }
    if objective is None:
        base["status"] = "none"
    base.update(fields)
    return Record(run_id=run_id, method=method, instance_id=instance, **base)


def sweep() -> list[Record]:
    """Instances x and y have a reference (10 and 20); z has none (no exact method).

    milp agrees on both; exh claims 21 on y (a disagreement); greedy finds 10 on x,
    25 on y, and answers z; slow finds nothing on y.
    """
    return [
        rec("m-x", "milp", "x", 10.0, exact=True, solver="highs", solve_time_s=2.0),
        rec("m-y", "milp", "y", 20.0, exact=True, solver="highs", solve_time_s=2.0),
        rec("e-x", "exh", "x", 10.0, exact=True, solve_time_s=0.5),
        rec("e-y", "exh", "y", 21.0, exact=True, solve_time_s=0.5),
        rec("g-x", "greedy", "x", 10.0, solve_time_s=0.5),
        rec("g-y", "greedy", "y", 25.0, solve_time_s=0.1),
        rec("g-z", "greedy", "z", 7.0, solve_time_s=0.1),
        rec("s-x", "slow", "x", 12.0, solve_time_s=3.0),
        rec("s-y", "slow", "y", None, termination="time_limit", solve_time_s=60.0),
    ]


def rows_by_label(records: list[Record]) -> dict[str, MethodRow]:
    rows = method_table(records)
    out = {row.label: row for row in rows}
    assert len(out) == len(rows), "one row per (family, label)"
    return out


def test_agreement_of_exact_methods_is_over_their_optimal_answers() -> None:
    rows = rows_by_label(sweep())
    milp, exh = rows["milp (highs)"], rows["exh"]
    assert (milp.exact, milp.agreement, milp.agreement_base) == (True, 1.0, 2)
    assert (exh.exact, exh.agreement, exh.agreement_base) == (True, 0.5, 2)


def test_agreement_of_other_methods_is_over_instances_with_a_reference() -> None:
    rows = rows_by_label(sweep())
    greedy, slow = rows["greedy"], rows["slow"]
    assert (greedy.agreement, greedy.agreement_base) == (0.5, 2)  # z has no reference
    assert (slow.agreement, slow.agreement_base) == (0.0, 2)  # 12 on x, nothing on y
    assert slow.no_answer == 1 and greedy.no_answer == 0


def test_agreement_uses_the_tolerance() -> None:
    records = [
        rec("m", "milp", "x", 10.0, exact=True),
        rec("g", "greedy", "x", 10.0 * (1 + 1e-9)),
        rec("h", "near", "x", 10.0 * (1 + 1e-4)),
    ]
    rows = rows_by_label(records)
    assert rows["greedy"].agreement == 1.0
    assert rows["near"].agreement == 0.0


def test_gaps_are_over_answered_runs_with_a_reference() -> None:
    rows = rows_by_label(sweep())
    greedy, slow, exh = rows["greedy"], rows["slow"], rows["exh"]
    assert greedy.mean_gap == pytest.approx(0.125)  # 0 on x, 0.25 on y; z not counted
    assert greedy.max_gap == pytest.approx(0.25)
    assert slow.mean_gap == pytest.approx(0.2) and slow.max_gap == pytest.approx(0.2)
    assert exh.max_gap == pytest.approx(0.05)


def test_an_infinite_gap_at_a_zero_optimum() -> None:
    records = [rec("m", "milp", "x", 0.0, exact=True), rec("g", "greedy", "x", 1.0)]
    greedy = rows_by_label(records)["greedy"]
    assert greedy.max_gap == math.inf and greedy.mean_gap == math.inf


def test_best_counts_ties_and_fastest_needs_a_solved_run() -> None:
    rows = rows_by_label(sweep())
    # best known: x 10 (milp, exh, greedy tie), y 20 (milp), z 7 (greedy)
    assert rows["milp (highs)"].best == 2
    assert rows["exh"].best == 1
    assert rows["greedy"].best == 2
    assert rows["slow"].best == 0
    # x: exh and greedy tie at 0.5 s; y: greedy 0.1 s (slow's time limit does not count)
    assert rows["exh"].fastest == 1
    assert rows["greedy"].fastest == 3  # x (tie), y, z
    assert rows["milp (highs)"].fastest == 0 and rows["slow"].fastest == 0


def test_fastest_ignores_faster_unsolved_runs() -> None:
    records = [
        rec("a", "milp", "x", 1.0, exact=True, solve_time_s=5.0),
        rec("b", "broken", "x", None, status="none", solve_time_s=0.001, time_limit_s=None),
    ]
    rows = rows_by_label(records)
    assert rows["milp"].fastest == 1 and rows["broken"].fastest == 0


def test_shares_count_solved_and_feasible_runs() -> None:
    records = [
        rec("a", "greedy", "x", 1.0),
        rec("b", "greedy", "y", 2.0, termination="time_limit"),  # an answer, not solved
        rec("c", "greedy", "z", 3.0, status="invalid", feasible=False),
        rec("d", "greedy", "w", None),
    ]
    row = rows_by_label(records)["greedy"]
    assert (row.runs, row.instances) == (4, 4)
    assert row.solved_share == pytest.approx(0.25)
    assert row.feasible_share == pytest.approx(0.5)


def test_times_are_shifted_geometric_means_of_effective_times() -> None:
    rows = rows_by_label(sweep())
    slow = rows["slow"]
    times = [3.0, 60.0]  # the unsolved run counts at its time limit
    assert slow.timed_runs == 2
    assert slow.sgm_time_small == pytest.approx(
        metrics.shifted_geometric_mean(times, metrics.SHIFT_SMALL_S)
    )
    assert slow.sgm_time_miplib == pytest.approx(
        metrics.shifted_geometric_mean(times, metrics.SHIFT_MIPLIB_S)
    )
    assert slow.sgm_time_small != slow.sgm_time_miplib


def test_a_family_without_a_reference_has_no_agreement_and_no_gaps() -> None:
    records = [
        rec("g", "greedy", "q", 3.0, family="open"),
        rec("h", "other", "q", 4.0, family="open"),
        rec("m", "milp", "q", None, family="open", exact=True, status="none",
            termination="time_limit"),
    ]  # fmt: skip
    rows = rows_by_label(records)
    for row in rows.values():
        assert row.mean_gap is None and row.max_gap is None and row.no_answer == 0
        assert row.agreement is None and row.agreement_base == 0
    assert rows["greedy"].best == 1 and rows["other"].best == 0
    assert rows["milp"].solved_share == 0.0 and rows["milp"].best == 0


def test_a_method_only_skipped_has_no_times() -> None:
    records = [
        rec("m", "milp", "x", 1.0, exact=True),
        rec("s", "milp", "x", None, exact=True, solver="scip", status="none",
            termination="skipped", build_time_s=None, solve_time_s=None),
    ]  # fmt: skip
    row = rows_by_label(records)["milp (scip)"]
    assert row.sgm_time_small is None and row.sgm_time_miplib is None and row.timed_runs == 0
    assert row.agreement is None and row.no_answer == 1 and row.fastest == 0


def test_one_row_per_family_and_label_exact_first() -> None:
    records = [
        *sweep(),
        rec("f1", "fin", "x", 10.0, method_params='{"gamma":3}'),
        rec("f2", "fin", "x", 10.0),
        rec("o1", "milp", "o", 5.0, family="another", exact=True, solver="highs"),
        rec("o2", "milp", "o", 5.0, family="another", exact=True, solver="cbc"),
    ]
    rows = method_table(records)
    keys = [(row.family, row.label) for row in rows]
    assert len(keys) == len(set(keys)) == len({(r.family, label(r)) for r in records})
    assert [row.family for row in rows] == sorted(row.family for row in rows)
    fam = [row for row in rows if row.family == "fam"]
    assert [row.exact for row in fam] == sorted((row.exact for row in fam), reverse=True)
    assert {row.label for row in rows if row.method == "fin"} == {
        label(records[-4]),
        label(records[-3]),
    }
    assert {row.solver for row in rows if row.family == "another"} == {"highs", "cbc"}
    assert sum(row.runs for row in rows) == len(records)


def test_derived_and_underived_records_give_the_same_table() -> None:
    assert method_table(metrics.derive(sweep())) == method_table(sweep())
    assert method_table([]) == []


def test_failures_list_errors_and_time_limits() -> None:
    records = [
        *sweep(),
        rec("err", "greedy", "x", None, termination="error", reason="worker died: SIGKILL"),
        rec("noreason", "greedy", "y", None, termination="error"),
    ]
    found = failures(records)
    assert [(f.run_id, f.termination) for f in found] == [
        ("s-y", "time_limit"),
        ("err", "error"),
        ("noreason", "error"),
    ]
    assert found[1].reason == "worker died: SIGKILL" and found[1].instance_name == "name-x"
    assert found[2].reason  # a placeholder, never empty
    assert failures(sweep()[:4]) == []


def test_problems_come_from_the_check() -> None:
    found = problems(sweep())
    assert [(p.kind, p.run_id) for p in found] == [("disagreement", "e-y")]
    assert problems(sweep()[:3]) == []


def test_overview_counts_and_environment() -> None:
    env = {"python": "3.11.7", "cpu_count": 2, "packages": {"numpy": "2.0"}, "resumed": [{}]}
    info = overview(sweep(), env)
    assert info["suite"] == "hand"
    assert (info["runs"], info["instances"], info["with_reference"]) == (9, 3, 2)
    assert (info["methods"], info["labels"], info["families"]) == (4, 4, 1)
    assert (info["time_limits"], info["errors"], info["skipped"]) == (1, 0, 0)
    assert info["answers"] == 8 and info["solved"] == 8
    assert set(info["environment"]) == {*ENVIRONMENT_KEYS, "packages", "resumed"}
    assert info["environment"]["python"] == "3.11.7"
    assert info["environment"]["cpu"] is None  # missing entries are None
    assert info["environment"]["packages"] == {"numpy": "2.0"}
    assert info["environment"]["resumed"] == 1
    empty = overview([], {})
    assert empty["runs"] == 0 and empty["suite"] == "" and empty["environment"]["packages"] == {}
