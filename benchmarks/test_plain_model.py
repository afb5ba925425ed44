"""routing-milp against the arc-flow model a researcher would write by hand in Pyomo.

The plain model of a chain without early exits, destination, tier order or memory
limits: binary ``x[k, a]`` (hand-over k crosses arc a) and ``y[l, n]`` (block l runs
on node n), flow conservation per hand-over and node (what arrives at n, plus what is
produced there, equals what block k + 1 consumes there), energy as the objective, one
deadline row. It is solved by the same HiGHS through Pyomo (one thread, relative gap
1e-9, absolute gap 0), side by side with ``routing-milp`` on the same instances in one
run; both optima must agree.

Run: ``python -m pytest benchmarks/test_plain_model.py -s -p no:cacheprovider``.
Timings are reported, not asserted (the machines are shared and noisy).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from splitbench.families.tiny import graph_chain
from splitbench.instance import Instance
from splitbench.methods import solve
from splitbench.status import Status

pyo = pytest.importorskip("pyomo.environ")

SIZES = (30, 50)
SEEDS = range(3)


def plain_model(inst: Instance) -> Any:
    """The hand-written arc-flow MILP of ``inst`` (energy objective, a deadline)."""
    net, dnn, req = inst.network, inst.dnn, inst.request
    assert req.destination is None and req.tier_order is None and len(dnn.exits) == 1
    nodes = [n.id for n in net.nodes if n.ops_per_s > 0]
    arcs = [(a.source, a.target) for a in net.arcs]
    arc = net.arc_map
    blocks = range(1, dnn.n_blocks + 1)
    handovers = range(dnn.n_blocks)  # hand-over k carries tensor k into block k + 1
    m = pyo.ConcreteModel()
    m.x = pyo.Var(handovers, arcs, domain=pyo.Binary)
    m.y = pyo.Var(blocks, nodes, domain=pyo.Binary)

    def compute(l: int, n: str) -> tuple[float, float]:
        node = net.node(n)
        seconds = dnn.block(l).ops / node.ops_per_s
        return seconds, seconds * node.power_w

    def conservation(model: Any, k: int, n: str) -> Any:
        supply = (1 if n == req.source else 0) if k == 0 else model.y[k, n]
        inflow = sum(model.x[k, (u, v)] for (u, v) in arcs if v == n)
        outflow = sum(model.x[k, (u, v)] for (u, v) in arcs if u == n)
        return supply + inflow - outflow == model.y[k + 1, n]

    m.flow = pyo.Constraint(handovers, nodes, rule=conservation)
    bits = {k: 8.0 * dnn.handover_bytes(k) for k in handovers}
    m.energy = pyo.Objective(
        expr=sum(compute(l, n)[1] * m.y[l, n] for l in blocks for n in nodes)
        + sum(bits[k] * arc[a].energy_per_bit_j * m.x[k, a] for k in handovers for a in arcs)
    )
    m.deadline = pyo.Constraint(
        expr=sum(compute(l, n)[0] * m.y[l, n] for l in blocks for n in nodes)
        + sum(
            (bits[k] / arc[a].bandwidth_bps + arc[a].delay_s) * m.x[k, a]
            for k in handovers
            for a in arcs
        )
        <= req.deadline_s
    )
    return m


def solve_plain(inst: Instance) -> tuple[float, float, float]:
    """(build s, solve s, objective) of the plain model on HiGHS through Pyomo."""
    start = time.perf_counter()
    model = plain_model(inst)
    built = time.perf_counter()
    solver = pyo.SolverFactory("highs")
    solver.solve(
        model, options={"threads": 1, "mip_rel_gap": 1e-9, "mip_abs_gap": 0.0, "output_flag": False}
    )
    done = time.perf_counter()
    return built - start, done - built, float(pyo.value(model.energy))


def test_routing_milp_is_at_least_as_fast_as_a_plain_model() -> None:
    print("\nenergy with a binding deadline (seconds; routing-milp through highspy)")
    print("size seed | plain build  plain solve | ours build  ours solve | plain / ours")
    ratios = []
    for size in SIZES:
        for seed in SEEDS:
            inst = graph_chain(size, size, seed)
            p_build, p_solve, p_obj = solve_plain(inst)
            ours = solve(inst, "routing-milp")
            assert ours.status is Status.OPTIMAL and ours.objective is not None
            assert ours.objective == pytest.approx(p_obj, rel=1e-6)
            ours_total = ours.build_time_s + ours.solve_time_s
            ratio = (p_build + p_solve) / ours_total
            ratios.append(ratio)
            print(
                f"{size:>4d} {seed:>4d} | {p_build:>11.2f} {p_solve:>12.2f} | "
                f"{ours.build_time_s:>10.2f} {ours.solve_time_s:>11.2f} | {ratio:>12.2f}"
            )
    verdict = "meets" if min(ratios) >= 1.0 else "MISSES"
    print(f"{verdict} the target: routing-milp at least as fast as the plain model everywhere")
