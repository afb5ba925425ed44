"""The FIN gap table: FIN's gap to the optimum for gamma 3, 10, 30, 100 (slow).

Families: the FIN scenario sweeps (MODEL.md section 6) of each BranchyNet model on
the three-tier network, tiered device-edge-cloud instances with 4 to 8 nodes (the
optimum: the exhaustive oracle's, which label-setting must match), and random
chains of 20 blocks on 20-node networks (the optimum: label-setting's). Run with
``pytest -m slow -s tests/graphs/test_fin_table.py`` to see the tables.
"""

from __future__ import annotations

import math
import statistics

import pytest

from splitbench.instance import Instance
from splitbench.methods import solve
from splitbench.status import Status

from .instances import chain_instance, fin_sweeps, oracle, tiered_instances

GAMMAS = (3, 10, 30, 100)
THINNING = (-1, 1, 3, 10)


def families() -> dict[str, list[Instance]]:
    return {
        "fin b-alexnet": fin_sweeps("b-alexnet"),
        "fin b-resnet": fin_sweeps("b-resnet"),
        "fin b-lenet": fin_sweeps("b-lenet"),
        "tiered 4-8 nodes": tiered_instances(30),
        "chain 20x20": [chain_instance(20, 20, seed) for seed in range(10)],
    }


def optimum(instance: Instance) -> float | None:
    """The optimum: the oracle's (checked against label-setting) on small instances,
    label-setting's on the chains."""
    exact = solve(instance, "label-setting")
    assert exact.status in (Status.OPTIMAL, Status.INFEASIBLE), exact.reason
    if instance.name.startswith("chain"):
        return exact.objective
    ref = oracle(instance)
    if ref.status is Status.OPTIMAL:
        assert exact.objective == pytest.approx(ref.objective, rel=1e-6)
    return ref.objective


def gap_row(instances: list[Instance], gamma: int, thinning: int = -1) -> dict[str, float]:
    """FIN's record on the instances that have an optimum."""
    gaps, times, fallbacks, total = [], [], 0, 0
    for instance in instances:
        best = optimum(instance)
        if best is None:
            continue
        total += 1
        got = solve(instance, "fin", params={"gamma": gamma, "lambda": thinning})
        fallbacks += bool(got.info.get("lambda_fallback"))
        if got.status is Status.FEASIBLE:
            assert got.feasible and got.objective is not None
            gaps.append((got.objective - best) / abs(best))
            times.append(got.solve_time_s)
        else:
            assert got.status is Status.NONE, got.reason
    return {
        "instances": total,
        "answered": len(gaps),
        "optimal": sum(g <= 1e-9 for g in gaps),
        "mean_gap": statistics.fmean(gaps) if gaps else math.nan,
        "max_gap": max(gaps) if gaps else math.nan,
        "ms": 1e3 * statistics.fmean(times) if times else math.nan,
        "fallbacks": fallbacks,
    }


def fmt(row: dict[str, float]) -> str:
    return (
        f"{row['answered']:>3.0f}/{row['instances']:<3.0f} {row['optimal']:>3.0f} "
        f"{100 * row['mean_gap']:>8.3f} {100 * row['max_gap']:>8.3f} {row['ms']:>7.2f}"
    )


@pytest.mark.slow
def test_fin_gap_table(capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        "FIN gap to the optimum (answered/instances, optimal, mean and max gap %, ms)",
        f"{'family':18s} {'gamma':>5s}  answered opt   mean %    max %      ms",
    ]
    table = {}
    for name, instances in families().items():
        table[name] = {gamma: gap_row(instances, gamma) for gamma in GAMMAS}
        for gamma, row in table[name].items():
            lines.append(f"{name:18s} {gamma:>5d}  {fmt(row)}")
    lines.append("")
    lines.append("lambda-thinning at gamma 100 (answered, optimal, gaps %, ms, fallbacks)")
    for name, instances in families().items():
        for thinning in THINNING:
            row = gap_row(instances, 100, thinning)
            lines.append(f"{name:18s} {thinning:>5d}  {fmt(row)} {row['fallbacks']:>4.0f}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    for rows in table.values():
        assert rows[100]["answered"] >= rows[10]["answered"] >= rows[3]["answered"]
        if rows[10]["answered"] == rows[100]["answered"]:
            assert rows[100]["mean_gap"] <= rows[10]["mean_gap"] + 1e-12
