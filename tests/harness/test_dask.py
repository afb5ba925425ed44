"""The Dask executor gives the same records as the local one (times aside)."""

from __future__ import annotations

from pathlib import Path

import pytest

from splitbench.harness.record import RECORD_TYPES
from splitbench.harness.runner import run_suite
from splitbench.harness.store import ResultStore
from splitbench.harness.suite import load_suite

pytest.importorskip("dask.distributed", reason="the dask extra is not installed")

VARYING = {
    "started_at",
    "build_time_s",
    "solve_time_s",
    "verify_time_s",
    "solver_time_s",
    "wall_time_s",
    "worker",
}
"""Fields that differ between two runs of the same thing."""


def _stable(folder: Path) -> dict[str, dict[str, object]]:
    out = {}
    for record in ResultStore(folder).read_records():
        data = record.to_dict()
        out[record.run_id] = {k: v for k, v in data.items() if k not in VARYING}
    return out


def test_dask_local_cluster_matches_local_executor_on_smoke(tmp_path: Path) -> None:
    suite = load_suite("smoke")
    local = run_suite(suite, tmp_path / "local", jobs=2)
    dask = run_suite(suite, tmp_path / "dask", jobs=2, executor="dask")
    assert dask.planned == local.planned and dask.ran == local.planned
    a, b = _stable(tmp_path / "local"), _stable(tmp_path / "dask")
    assert a.keys() == b.keys()
    differing = {
        (run_id, key)
        for run_id in a
        for key in RECORD_TYPES
        if key not in VARYING and a[run_id][key] != b[run_id][key]
    }
    # fin's and larac's records carry no clock-dependent field; every field must match
    assert not differing, sorted(differing)[:10]
    workers = {r.worker for r in ResultStore(tmp_path / "dask").read_records()}
    assert len({w.split(":")[1] for w in workers if w and ":" in w}) >= 2  # two processes ran
