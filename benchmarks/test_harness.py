"""Benchmark of the harness's own overhead: many millisecond runs through workers.

500 ``layered-sp`` runs on seeded tiny instances (2-4 nodes, 1-4 blocks) with
``--jobs 2``, through the isolated worker processes, the batching and the record
files. Target: the whole sweep (instance generation, worker start-up, records,
parquet) within 1.5 times the sum of the methods' own times (build, solve and
evaluator) plus 10 s. Printed as a table::

    pytest benchmarks/test_harness.py -s -p no:cacheprovider
"""

from __future__ import annotations

import time
from pathlib import Path

from splitbench.harness.runner import run_suite
from splitbench.harness.store import ResultStore
from splitbench.harness.suite import parse_suite

SUITE = """
time-limit = 10
[[families]]
family = "tiny"
param = { distribution = "graph" }
seed = { start = 0, count = 500 }
[[methods]]
method = "layered-sp"
"""


def test_overhead_of_500_layered_sp_runs(tmp_path: Path) -> None:
    suite = parse_suite(SUITE, "overhead.toml")
    start = time.perf_counter()
    summary = run_suite(suite, tmp_path / "out", jobs=2)
    wall = time.perf_counter() - start
    records = ResultStore(tmp_path / "out").read_records()
    assert summary.planned == len(records) == 500
    own = sum((r.run_time_s or 0.0) + (r.verify_time_s or 0.0) for r in records)
    in_worker = sum(r.wall_time_s or 0.0 for r in records)
    limit = 1.5 * own + 10.0
    print(
        f"\n500 layered-sp runs, --jobs 2: sweep {wall:.2f} s; methods' own time "
        f"{own:.3f} s (in-worker wall {in_worker:.3f} s); target {limit:.2f} s; "
        f"sweep / target {wall / limit:.2f}"
    )
    assert wall <= limit
