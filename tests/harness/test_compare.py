"""The regression gate ``splitbench compare`` (:mod:`splitbench.harness.compare`).

- identical sweeps pass; a slower B, a larger mean gap and fewer solved runs regress;
- runs are paired by instance, method, parameters, solver and repetition; runs on one
  side only and different environments are warnings;
- shifted geometric means with both shifts, unsolved runs counted at the time limit;
- results folders, the text table, bad thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from splitbench.errors import UsageError
from splitbench.harness.compare import (
    Comparison,
    compare_directories,
    compare_records,
    pair_key,
)
from splitbench.harness.metrics import SHIFT_MIPLIB_S, SHIFT_SMALL_S, shifted_geometric_mean
from splitbench.harness.record import Record


def run(
    run_id: str,
    method: str,
    instance: str,
    time_s: float,
    objective: float | None,
    **fields: Any,
) -> Record:
    """A solved run (optimal when exact) unless told otherwise."""
    exact = fields.pop("exact", False)
    base: dict[str, Any] = {
        "family": "fam",
        "exact": exact,
        "status": "optimal" if exact else "feasible",
        "feasible": objective is not None,
        "objective": objective,
        "build_time_s": 0.0,
        "solve_time_s": time_s,
        "time_limit_s": 60.0,
    }
    if objective is None:
        base["status"] = "none"
    base.update(fields)
    return Record(run_id=run_id, method=method, instance_id=instance, **base)


def sweep(scale: float = 1.0, gap: float = 0.1) -> list[Record]:
    """Two instances: an exact method and a heuristic with a gap on each."""
    out = []
    for k, (iid, optimum) in enumerate((("i1", 10.0), ("i2", 20.0))):
        out.append(run(f"m{k}", "milp", iid, 0.5 * (k + 1) * scale, optimum, exact=True))
        out.append(run(f"h{k}", "fin", iid, 0.01 * scale, optimum * (1 + gap)))
    return out


def rows(result: Comparison) -> dict[str, Any]:
    return {row.method: row for row in result.rows}


def test_identical_runs_pass() -> None:
    result = compare_records(sweep(), sweep())
    assert result.ok and result.regressions == () and result.warnings == ()
    milp = rows(result)["milp"]
    assert (milp.pairs, milp.solved_a, milp.solved_b) == (2, 2, 2)
    assert milp.time_ratio == pytest.approx(1.0) and milp.time_ratio_miplib == pytest.approx(1.0)
    fin = rows(result)["fin"]
    assert fin.gap_a == pytest.approx(0.1) and fin.gap_b == pytest.approx(0.1)
    assert fin.gap_pairs == 2
    assert result.summary().splitlines()[-1] == "no regression"


def test_a_slower_candidate_is_a_time_regression() -> None:
    result = compare_records(sweep(), sweep(scale=3.0))
    assert not result.ok
    assert [row.method for row in result.regressions] == ["fin", "milp"]
    milp = rows(result)["milp"]
    times_a, times_b = [0.5, 1.0], [1.5, 3.0]
    assert milp.time_a == pytest.approx(shifted_geometric_mean(times_a, SHIFT_SMALL_S))
    assert milp.time_b == pytest.approx(shifted_geometric_mean(times_b, SHIFT_SMALL_S))
    assert milp.time_ratio == pytest.approx(milp.time_b / milp.time_a)
    assert milp.time_a_miplib == pytest.approx(shifted_geometric_mean(times_a, SHIFT_MIPLIB_S))
    assert milp.time_ratio_miplib is not None and milp.time_ratio_miplib < milp.time_ratio
    assert any("time" in reason for reason in milp.reasons)
    # within the allowed ratio it passes
    assert compare_records(sweep(), sweep(scale=3.0), max_time_ratio=4.0).ok
    assert compare_records(sweep(), sweep(scale=1.9)).ok


def test_a_larger_mean_gap_is_a_regression() -> None:
    result = compare_records(sweep(gap=0.1), sweep(gap=0.12))
    assert [row.method for row in result.regressions] == ["fin"]
    (fin,) = result.regressions
    assert fin.gap_b == pytest.approx(0.12) and "gap" in fin.reasons[0]
    assert compare_records(sweep(gap=0.1), sweep(gap=0.12), max_gap_increase=0.05).ok
    assert compare_records(sweep(gap=0.12), sweep(gap=0.1)).ok  # an improvement


def test_fewer_solved_runs_are_a_regression_and_count_at_the_time_limit() -> None:
    b = sweep()
    b[3] = run("h1", "fin", "i2", 60.0, None, termination="time_limit")
    result = compare_records(sweep(), b)
    fin = rows(result)["fin"]
    assert (fin.solved_a, fin.solved_b) == (2, 1)
    assert fin.reasons and any("solved 2 -> 1" in r for r in fin.reasons)
    assert fin.time_b == pytest.approx(shifted_geometric_mean([0.01, 60.0], SHIFT_SMALL_S))
    assert fin.gap_pairs == 1  # the gap only where both runs have one


def test_runs_are_paired_by_method_parameters_solver_and_repetition() -> None:
    a = [run("a1", "milp", "i1", 1.0, 10.0, exact=True, solver="highs")]
    b = [run("b1", "milp", "i1", 1.0, 10.0, exact=True, solver="cbc")]
    result = compare_records(a, b)
    assert result.rows == ()
    assert sorted(result.warnings) == [
        "1 runs only in A, not compared (milp)",
        "1 runs only in B, not compared (milp)",
    ]
    assert pair_key(a[0]) == ("i1", "milp", "{}", "highs", 0)
    # another run id (a changed seed of the harness, say) pairs all the same
    same = [a[0].derive(run_id="other", solve_time_s=1.1)]
    assert compare_records(a, same).warnings == ()


def test_unpaired_runs_are_counted_in_a_warning() -> None:
    b = [*sweep(), run("x1", "larac", "i1", 0.1, 10.5), run("x2", "larac", "i2", 0.1, 21.0)]
    result = compare_records(sweep(), b)
    assert result.ok
    assert result.warnings == ("2 runs only in B, not compared (larac)",)
    assert "warning: 2 runs only in B" in result.summary()


def test_different_environments_are_warnings() -> None:
    env_a = {"python": "3.11.9", "packages": {"highspy": "1.7.0"}}
    env_b = {"python": "3.11.9", "packages": {"highspy": "1.8.0"}}
    result = compare_records(sweep(), sweep(), env_a=env_a, env_b=env_b)
    assert result.ok
    assert result.warnings == ("environments differ: highspy: 1.7.0 vs 1.8.0",)
    assert compare_records(sweep(), sweep(), env_a=env_a, env_b=env_a).warnings == ()


def test_the_summary_is_an_aligned_table() -> None:
    text = compare_records(sweep(), sweep(scale=3.0)).summary()
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["family", "method", "pairs"]
    start = lines[0].index("pairs")
    assert all(line[start:].split()[0] == "2" for line in lines[1:3])
    assert lines[-1].startswith("2 regressions")


@pytest.mark.parametrize(
    "thresholds",
    [{"max_time_ratio": 0.0}, {"max_time_ratio": math.nan}, {"max_gap_increase": -1.0}],
)
def test_bad_thresholds(thresholds: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        compare_records(sweep(), sweep(), **thresholds)


def write_folder(folder: Path, records: Sequence[Record], env: str = "{}") -> Path:
    folder.mkdir(parents=True)
    (folder / "records.jsonl").write_text("".join(r.to_json() + "\n" for r in records))
    (folder / "environment.json").write_text(env)
    return folder


def test_compare_directories(tmp_path: Path) -> None:
    a = write_folder(tmp_path / "a", sweep(), '{"python": "3.11.9"}')
    b = write_folder(tmp_path / "b", sweep(scale=5.0), '{"python": "3.12.1"}')
    result = compare_directories(a, b)
    assert not result.ok and {r.method for r in result.regressions} == {"fin", "milp"}
    assert result.warnings == ("environments differ: python: 3.11.9 vs 3.12.1",)
    assert compare_directories(a, a).ok
    assert compare_directories(a, b, max_time_ratio=10.0).ok
    with pytest.raises(UsageError):
        compare_directories(a, tmp_path / "nothing")
