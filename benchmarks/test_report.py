"""Benchmark of the report on 10,000 records: load, derive, tables, figures, files.

The smoke suite is run once (not timed); its records are replicated with new run ids
and instance ids (``Record.derive``), so that each copy of an instance keeps its own
reference, up to 10,000 records, written as ``records.jsonl`` alone (the report then
derives the references itself, as for a killed sweep). :func:`write_report` is timed
as a whole; then each part is timed on its own, to show where the time goes.
Target: under 30 s. Run::

    python -m pytest benchmarks/test_report.py -s -p no:cacheprovider
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from splitbench.harness import plots, summary
from splitbench.harness.record import Record
from splitbench.harness.report import write_report
from splitbench.harness.results import load_records
from splitbench.harness.runner import run_suite
from splitbench.harness.store import ResultStore
from splitbench.harness.suite import load_suite

RECORDS = 10_000
TARGET_S = 30.0


def replicate(records: list[Record], n: int) -> list[Record]:
    """``n`` records: copies of ``records`` with new run and instance ids, underived."""
    out: list[Record] = []
    copy = 0
    while len(out) < n:
        for r in records[: n - len(out)]:
            out.append(
                r.derive(
                    run_id=f"{r.run_id}-{copy}",
                    instance_id=f"{r.instance_id}-{copy}",
                    reference=None,
                    gap_to_reference=None,
                    primal_gap=None,
                    disagreement=False,
                )
            )
        copy += 1
    return out


def timed(what: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = what()
    return time.perf_counter() - start, value


def test_report_of_10000_records(tmp_path: Path) -> None:
    smoke = tmp_path / "smoke"
    run_suite(load_suite("smoke"), smoke, jobs=2)
    records, _ = load_records(smoke)
    big = tmp_path / "big"
    with ResultStore(big) as store:
        store.open(resume=False)
        for record in replicate(records, RECORDS):
            store.append(record)
    for name in ("environment.json", "suite.toml"):
        shutil.copy2(smoke / name, big / name)

    wall, files = timed(lambda: write_report(big, out=tmp_path / "report"))
    assert files.html is not None and files.md is not None and files.figures

    load_s, (loaded, env) = timed(lambda: load_records(big))
    assert len(loaded) == RECORDS
    parts = {
        "load + derive (results.load_records)": load_s,
        "method_table": timed(lambda: summary.method_table(loaded))[0],
        "problems (check.check_records)": timed(lambda: summary.problems(loaded))[0],
        "failures + overview": timed(
            lambda: (summary.failures(loaded), summary.overview(loaded, env))
        )[0],
    }
    made_s, made = timed(lambda: plots.figures(loaded))
    parts["plots.figures"] = made_s
    out = tmp_path / "figures"
    parts["plots.save (PNG + SVG)"] = timed(lambda: [plots.save(f, out) for f in made])[0]
    rest = wall - sum(parts.values())
    size = files.html.stat().st_size / 1e6
    lines = [f"\nreport of {RECORDS} records: write_report {wall:.2f} s (target {TARGET_S:g} s)"]
    lines += [f"  {name:40s} {seconds:6.2f} s" for name, seconds in parts.items()]
    lines.append(f"  {'the rest (templates, files, warm-up)':40s} {rest:6.2f} s")
    lines.append(f"  {len(made)} figures; report.html {size:.1f} MB")
    print("\n".join(lines))
    assert wall < TARGET_S
