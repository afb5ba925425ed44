"""A hard instance with a 2 s limit: every backend stops within the guard, and what
it found (an incumbent, a bound) is in the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from splitbench.harness.executors import guard_s
from splitbench.harness.record import Record
from splitbench.harness.runner import run_suite
from splitbench.harness.store import ResultStore
from splitbench.harness.suite import parse_suite
from splitbench.solvers import available_solvers

BACKENDS = [
    s
    for s in ("highs", "pyomo-highs", "cbc", "pyomo:cbc", "scip")
    if s in available_solvers(pyomo_names=True)
]

SUITE = f"""
time-limit = 2
[[families]]
family = "random-chain"
param = {{ blocks = 24, nodes = 24 }}
seed = 2
[[methods]]
method = "assignment-milp"
solver = {BACKENDS!r}
""".replace("'", '"')


def _records(folder: Path) -> dict[str | None, Record]:
    run_suite(parse_suite(SUITE, "hard.toml"), folder, jobs=2)
    return {r.solver: r for r in ResultStore(folder).read_records()}


def test_every_backend_stops_at_the_limit_with_what_it_found(tmp_path: Path) -> None:
    records = _records(tmp_path / "out")
    assert set(records) == set(BACKENDS)
    for solver, rec in records.items():
        assert rec.termination == "time_limit", (solver, rec.reason)
        assert rec.wall_time_s is not None and rec.wall_time_s < guard_s(2.0)
        assert rec.status in ("feasible", "none"), solver
        if rec.objective is not None:
            assert rec.feasible and rec.status == "feasible"
        if rec.bound is not None and rec.objective is not None:
            assert rec.bound <= rec.objective
            assert rec.mip_gap is not None and rec.mip_gap > 0


@pytest.mark.slow
def test_highs_records_an_incumbent_and_a_bound(tmp_path: Path) -> None:
    # about 2 s of HiGHS work: on a loaded machine it may not get there (so: slow)
    highs = _records(tmp_path / "out")["highs"]
    assert highs.objective is not None and highs.bound is not None and highs.bound > 0
