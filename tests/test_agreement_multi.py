"""Format 2: the exact methods agree, and bounds and heuristics are judged, through the
harness on the ``multi-agreement`` suite's instances (family ``multi-tiny``).

The default run takes the suite's methods on its first seeds; the full suite (201
instances, about two minutes on two cores) is marked slow and also runs in CI as
``splitbench run multi-agreement`` followed by ``splitbench check``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import pytest

from splitbench.harness.check import check_directory
from splitbench.harness.record import Record
from splitbench.harness.runner import run_suite
from splitbench.harness.store import load_records
from splitbench.harness.suite import builtin_suites, parse_suite
from splitbench.tolerances import AGREEMENT_RTOL

EXACT = {
    "routing-milp (highs)",
    "routing-milp (cbc)",
    "assignment-milp (highs)",
    "assignment-milp (cbc)",
    "exhaustive",
}
BOUNDS = {"lagrangian", "routing-lp (highs)", "lp-rounding (highs)"}
HEURISTICS = {"lagrangian", "sequential", "fin", "lp-rounding (highs)"}


def label(r: Record) -> str:
    return f"{r.method} ({r.solver})" if r.solver else r.method


def suite_text(count: int | None) -> str:
    text = builtin_suites()["multi-agreement"].read_text(encoding="utf-8")
    if count is None:
        return text
    return re.sub(r"count = \d+", f"count = {count}", text)


def sweep(tmp_path: Path, count: int | None) -> list[Record]:
    suite = parse_suite(suite_text(count), str(tmp_path / "multi-agreement.toml"))
    folder = tmp_path / "results"
    summary = run_suite(suite, folder, jobs=2)
    assert summary.errors == 0
    result = check_directory(folder)
    assert result.ok, [p.text for p in result.problems]
    records, _ = load_records(folder)
    return records


def judge(records: list[Record]) -> Counter[str]:
    """Every claim of the issue, from the records; returns what was seen."""
    seen: Counter[str] = Counter()
    by_instance: dict[str, list[Record]] = {}
    for r in records:
        by_instance.setdefault(r.instance_id, []).append(r)
    for runs in by_instance.values():
        exact = {label(r): r for r in runs if label(r) in EXACT}
        assert set(exact) == EXACT
        statuses = {r.status for r in exact.values()}
        if "infeasible" in statuses:  # every exact method proves it
            assert statuses == {"infeasible"}, {k: r.status for k, r in exact.items()}
            assert not any(r.placement for r in runs)
            seen["infeasible"] += 1
            continue
        assert statuses == {"optimal"}, {k: (r.status, r.reason) for k, r in exact.items()}
        values = [r.objective for r in exact.values()]
        assert all(v is not None for v in values)
        optimum = min(v for v in values if v is not None)
        for v in values:
            assert v is not None and math.isclose(v, optimum, rel_tol=AGREEMENT_RTOL)
        seen["optimal"] += 1
        for r in runs:
            if label(r) in HEURISTICS and r.placement is not None:
                assert r.feasible and r.status in ("feasible", "optimal"), (label(r), r.reason)
                assert r.objective is not None
                assert r.objective >= optimum * (1 - AGREEMENT_RTOL)
                seen[f"answer {label(r)}"] += 1
            if label(r) in BOUNDS and r.bound is not None and math.isfinite(r.bound):
                assert r.bound <= optimum * (1 + AGREEMENT_RTOL) + 1e-15, (label(r), r.bound)
                seen[f"bound {label(r)}"] += 1
    binds = Counter(r.instance_name.split("-")[2] for r in records if r.method == "exhaustive")
    assert set(binds) == {"compute", "link", "memory"}
    return seen


def test_the_first_seeds_of_each_kind(tmp_path: Path) -> None:
    seen = judge(sweep(tmp_path, 5))
    assert seen["optimal"] >= 5 and seen["infeasible"] >= 3, seen
    assert seen["bound lagrangian"] >= 5 and seen["answer sequential"] >= 3, seen


@pytest.mark.slow
def test_the_whole_suite(tmp_path: Path) -> None:
    seen = judge(sweep(tmp_path, None))
    assert seen["optimal"] + seen["infeasible"] == 201
    assert seen["optimal"] >= 90 and seen["infeasible"] >= 60, seen
