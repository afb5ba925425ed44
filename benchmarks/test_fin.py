"""Benchmarks of FIN's two roundings (``arc`` and ``step``) at gamma 30 and 100.

Two instances, each with label-setting (exact) in the same group for reference:

- a random chain of 20 blocks on a 20-node network, energy with a binding deadline
  (:func:`splitbench.families.tiny.graph_chain`);
- the B-AlexNet scenario (:func:`splitbench.instance.example_instance`: five blocks
  on the three-tier network, 5 ms, 80 %).

Timings with pytest-benchmark (grouped by instance; benchmarks report, they do not
assert timings)::

    pytest benchmarks/test_fin.py --benchmark-enable --benchmark-columns=min,median,rounds

Where the time goes (``info["fin_times_s"]``: graph, step graph, passes, lower
bound), printed side by side with label-setting::

    pytest benchmarks/test_fin.py -k phases -s
"""

from __future__ import annotations

from typing import Any

import pytest

from splitbench.families.tiny import graph_chain
from splitbench.instance import Instance, example_instance
from splitbench.methods import solve
from splitbench.status import Status

INSTANCES = {"chain 20x20": lambda: graph_chain(20, 20, 0), "b-alexnet": example_instance}
FIN = [
    pytest.param(rounding, gamma, id=f"{rounding}-{gamma}")
    for rounding in ("arc", "step")
    for gamma in (30, 100)
]


def instance(name: str) -> Instance:
    return INSTANCES[name]()


@pytest.mark.benchmark(group="fin chain 20x20")
@pytest.mark.parametrize(("rounding", "gamma"), FIN)
def test_fin_chain(benchmark: Any, rounding: str, gamma: int) -> None:
    inst = instance("chain 20x20")
    sol = benchmark(solve, inst, "fin", params={"gamma": gamma, "rounding": rounding})
    assert sol.status is Status.FEASIBLE and sol.feasible


@pytest.mark.benchmark(group="fin chain 20x20")
def test_label_setting_chain(benchmark: Any) -> None:
    assert benchmark(solve, instance("chain 20x20"), "label-setting").status is Status.OPTIMAL


@pytest.mark.benchmark(group="fin b-alexnet")
@pytest.mark.parametrize(("rounding", "gamma"), FIN)
def test_fin_b_alexnet(benchmark: Any, rounding: str, gamma: int) -> None:
    inst = instance("b-alexnet")
    sol = benchmark(solve, inst, "fin", params={"gamma": gamma, "rounding": rounding})
    assert sol.status is Status.FEASIBLE and sol.feasible


@pytest.mark.benchmark(group="fin b-alexnet")
def test_label_setting_b_alexnet(benchmark: Any) -> None:
    assert benchmark(solve, instance("b-alexnet"), "label-setting").status is Status.OPTIMAL


def test_phases() -> None:
    """FIN's phases (ms, best of 5) next to label-setting on the same instances."""
    phases = ("graph", "steps", "pass", "retries", "bound")
    print("\nFIN phases (ms, best of 5): " + ", ".join(phases) + " | total | label-setting")
    for name in INSTANCES:
        inst = instance(name)
        exact = min(
            (solve(inst, "label-setting") for _ in range(5)),
            key=lambda s: (s.build_time_s or 0.0) + (s.solve_time_s or 0.0),
        )
        t_exact = (exact.build_time_s or 0.0) + (exact.solve_time_s or 0.0)
        for rounding in ("arc", "step"):
            for gamma in (30, 100):
                params = {"gamma": gamma, "rounding": rounding}
                sol = min(
                    (solve(inst, "fin", params=params) for _ in range(5)),
                    key=lambda s: (s.build_time_s or 0.0) + (s.solve_time_s or 0.0),
                )
                total = (sol.build_time_s or 0.0) + (sol.solve_time_s or 0.0)
                times = sol.info["fin_times_s"]
                split = " ".join(f"{1e3 * times.get(p, 0.0):6.2f}" for p in phases)
                gammas = sol.info["fin_gammas"]
                print(
                    f"{name:12s} {rounding:4s} {gamma:>3d}  {split} | {1e3 * total:7.2f} | "
                    f"{1e3 * t_exact:6.2f}  (x{total / t_exact:.1f}, gammas {gammas})"
                )
