"""Benchmarks of the MILP formulations: routing against assignment, build time, sizes.

Instances: random chains of blocks (ops 1e8..1e10, outputs 1 KB..1 MB, a 150 KB
input) on random networks (:func:`splitbench.families.tiny.milp_chain`), latency
objective, select policy, no deadline, from the first node.

- solve, 30 blocks x 30 nodes (arc density 0.1, 88 arcs), seeds 0-2: the routing
  and the assignment MILP on HiGHS (threads 1); target: routing at least 10 times
  faster, same optimum;
- build, 100 blocks x 100 nodes x 400 arcs: the routing model (layered graph and
  MILP arrays; target under 0.5 s) and its hand-over to HiGHS;
- build and size of both formulations as the instance grows.

Timings with pytest-benchmark::

    pytest benchmarks/test_milp.py --benchmark-enable -p no:cacheprovider

Ratios and sizes measured side by side in one process, printed as tables::

    pytest benchmarks/test_milp.py -k "ratios or sizes" -s -p no:cacheprovider
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest

from splitbench.answer import Settings
from splitbench.families.tiny import milp_chain
from splitbench.formulations import Formulation, build_assignment, build_routing
from splitbench.instance import Instance
from splitbench.solvers import SolverResult, solve_milp
from splitbench.solvers.highs import highs_from_milp
from splitbench.status import Status

SOLVE_SEEDS = (0, 1, 2)
TIME_LIMIT_S = 600.0
BUILDERS = {"routing": build_routing, "assignment": build_assignment}


def chain(n_blocks: int, n_nodes: int, seed: int, density: float) -> Instance:
    """A latency chain of random blocks on a random network (no early exits)."""
    return milp_chain(n_blocks, n_nodes, seed, density=density, exits=False)


def _solve(form: Formulation) -> SolverResult:
    result = solve_milp(form.milp, "highs", Settings(time_limit_s=TIME_LIMIT_S))
    assert result.status is Status.OPTIMAL, result.message
    return result


@pytest.mark.parametrize("seed", SOLVE_SEEDS)
@pytest.mark.parametrize("formulation", list(BUILDERS))
def test_solve_30_blocks_30_nodes(benchmark: Any, formulation: str, seed: int) -> None:
    benchmark.group = "solve 30 blocks x 30 nodes (HiGHS)"
    form = BUILDERS[formulation](chain(30, 30, seed, 0.1))
    rounds = 5 if formulation == "routing" else 1
    result = benchmark.pedantic(_solve, args=(form,), rounds=rounds, iterations=1)
    benchmark.extra_info.update(form.sizes())
    benchmark.extra_info.update(objective=result.objective, nodes=result.nodes)


def test_build_routing_100_blocks_100_nodes_400_arcs(benchmark: Any) -> None:
    benchmark.group = "build routing 100 x 100 x 400"
    instance = chain(100, 100, 0, 400 / (100 * 99))
    assert len(instance.network.arcs) == 400
    form = benchmark(build_routing, instance)
    benchmark.extra_info.update(form.sizes())
    if benchmark.stats is not None:  # None under --benchmark-disable (the default)
        assert benchmark.stats.stats.median < 0.5


def test_hand_over_routing_100_blocks_to_highs(benchmark: Any) -> None:
    benchmark.group = "build routing 100 x 100 x 400"
    milp = build_routing(chain(100, 100, 0, 400 / (100 * 99))).milp
    benchmark(highs_from_milp, milp, Settings())


@pytest.mark.parametrize("size", [5, 10, 20, 30, 50])
@pytest.mark.parametrize("formulation", list(BUILDERS))
def test_build_as_the_instance_grows(benchmark: Any, formulation: str, size: int) -> None:
    benchmark.group = f"build {size} blocks x {size} nodes"
    form = benchmark(BUILDERS[formulation], chain(size, size, 0, 0.1))
    benchmark.extra_info.update(form.sizes())


def _best(fn: Any, repeats: int) -> tuple[float, Any]:
    best, value = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def test_ratios() -> None:
    """Routing against assignment on HiGHS, side by side; prints a table."""
    print(
        "\nseed  routing solve  assignment solve  ratio  | routing total  assignment total"
        "  ratio | same optimum"
    )
    ratios = []
    for seed in SOLVE_SEEDS:
        instance = chain(30, 30, seed, 0.1)
        row: dict[str, tuple[float, float, SolverResult]] = {}
        for name, build in BUILDERS.items():
            repeats = 5 if name == "routing" else 1
            built, form = _best(lambda b=build, i=instance: b(i), repeats)
            _, result = _best(lambda f=form: _solve(f), repeats)
            row[name] = (built + (result.translate_time_s or 0.0), result.solve_time_s, result)
        (rb, rs, rr), (ab, as_, ar) = row["routing"], row["assignment"]
        same = math.isclose(rr.objective, ar.objective, rel_tol=1e-6)
        ratios.append(as_ / rs)
        print(
            f"{seed:4d}  {rs:12.4f}s  {as_:15.3f}s  {as_ / rs:5.0f}x | {rb + rs:12.4f}s  "
            f"{ab + as_:15.3f}s  {(ab + as_) / (rb + rs):5.0f}x | {same}"
        )
        assert same
    print(f"geometric mean of the solve-time ratios: {math.exp(np.mean(np.log(ratios))):.0f}x")
    assert min(ratios) >= 10


def test_sizes() -> None:
    """Model sizes of both formulations as the instance grows; prints a table."""
    print("\nL = |N|  arcs | formulation  n_vars  n_binaries  n_rows  n_nonzeros  build")
    for size in (5, 10, 20, 30, 50, 100):
        instance = chain(size, size, 0, 0.1)
        for name, build in BUILDERS.items():
            if name == "assignment" and size > 50:
                continue
            built, form = _best(lambda b=build, i=instance: b(i), 3)
            s = form.sizes()
            print(
                f"{size:7d} {len(instance.network.arcs):5d} | {name:11s} {s['n_vars']:7d} "
                f"{s['n_binaries']:11d} {s['n_rows']:7d} {s['n_nonzeros']:11d}  "
                f"{built:.4f}s"
            )
