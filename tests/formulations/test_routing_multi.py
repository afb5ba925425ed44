"""The coupled routing MILP of many requests (format 2) against an independent brute force.

Cases are two or three requests on the network of a seeded tiny instance
(:func:`~splitbench.families.tiny.milp_instance`, select policy): the instance's own
request, variants of it, and requests of a second DNN. Their rates are set from the
*uncoupled* optimum (each request's cheapest placement alone) so that it breaks the
compute limit of a node or the bandwidth of an arc by 10-40 %, or (with block weights
and node memory set) a node's memory; ``overload`` cases break them fourfold, and
many of them are infeasible.

The brute force shares no code with the formulation: for each request it lists every
placement of every admissible exit, node assignment and simple route per hand-over
(as the exhaustive oracle does, but with every simple route, since under a bandwidth
limit a slower, costlier route can be the one that fits), keeps those the
single-request evaluator accepts, and searches the combinations, with loads computed
here from the rules of MULTI.md ("Cost of a solution"). Every decoded answer is also
checked by the format-2 evaluator (:func:`~splitbench.evaluate_multi.evaluate_multi`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np
import pytest

import splitbench.formulations.routing_multi as routing_multi_module
from splitbench.answer import Settings
from splitbench.errors import UsageError
from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import evaluate_multi
from splitbench.families.tiny import milp_instance
from splitbench.formulations import build_routing
from splitbench.formulations.routing import add_routing_flow
from splitbench.formulations.routing_multi import (
    SYMMETRY,
    build_routing_multi,
    interchangeable_classes,
)
from splitbench.graphs.layered import build_layered_graph
from splitbench.instance import (
    DNN,
    Block,
    ExitPolicy,
    Instance,
    Link,
    MultiInstance,
    MultiRequest,
    Network,
    Node,
    Objective,
    Request,
    example_instance,
)
from splitbench.methods.exhaustive import _exit_blocks
from splitbench.milp import MILPBuilder
from splitbench.placement import MultiPlacement, Placement
from splitbench.routes import simple_routes
from splitbench.solvers import available_solvers, solve_milp
from splitbench.status import Status

RTOL = 1e-6
KINDS = ("compute", "link", "memory", "overload")
CASES_PER_KIND = 10
MAX_CANDIDATES = 800
"""Seeds whose requests have more candidate placements than this are left out."""


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)


# --- loads and costs from MULTI.md ---


@dataclass(frozen=True)
class Load:
    """One request's placement: its share of the objective and of every resource."""

    cost: float
    ops: tuple[float, ...]
    bits: tuple[float, ...]
    weights: frozenset[tuple[int, str, int]]

    def dominates(self, other: Load) -> bool:
        return (
            self.cost <= other.cost
            and all(a <= b for a, b in zip(self.ops, other.ops, strict=True))
            and all(a <= b for a, b in zip(self.bits, other.bits, strict=True))
            and self.weights <= other.weights
        )


def load_of(multi: MultiInstance, req: MultiRequest, placement: Placement) -> Load:
    """The request's load under the select policy, and its objective share (evaluator)."""
    net = multi.network
    dnn = multi.dnn(req.dnn)
    arc_index = {(a.source, a.target): i for i, a in enumerate(net.arcs)}
    ops = [0.0] * len(net.nodes)
    bits = [0.0] * len(net.arcs)
    weights: set[tuple[int, str, int]] = set()
    for block, node in enumerate(placement.blocks, start=1):
        n = net.node_index[node]
        ops[n] += req.rate_per_s * dnn.block(block).ops
        if dnn.block(block).memory_bytes > 0:
            weights.add((n, dnn.name, block))
    exit_node = net.node_index[placement.blocks[placement.exit - 1]]
    ops[exit_node] += req.rate_per_s * dnn.exit_at(placement.exit).ops
    for k, route in enumerate(placement.routes):
        if route is None:
            continue
        size = (
            dnn.handover_bytes(k)
            if k < placement.exit
            else dnn.exit_at(placement.exit).output_bytes
        )
        for u, v in itertools.pairwise(route):
            bits[arc_index[(u, v)]] += req.rate_per_s * 8.0 * size
    value = evaluate(multi.single(req.id), placement).objective
    share = (
        req.rate_per_s if multi.objective is Objective.ENERGY else req.rate_per_s / multi.total_rate
    )
    return Load(share * value, tuple(ops), tuple(bits), frozenset(weights))


def violations(multi: MultiInstance, loads: Sequence[Load], rtol: float = 1e-9) -> set[str]:
    """The kinds of coupled limit the loads break: compute, link, memory."""
    net, u = multi.network, multi.max_utilization
    out = set()
    ops = np.sum([load.ops for load in loads], axis=0)
    if any(o > u * n.ops_per_s * (1 + rtol) for o, n in zip(ops, net.nodes, strict=True)):
        out.add("compute")
    bits = np.sum([load.bits for load in loads], axis=0)
    if any(b > u * a.bandwidth_bps * (1 + rtol) for b, a in zip(bits, net.arcs, strict=True)):
        out.add("link")
    weights = set().union(*(load.weights for load in loads))
    for n, node in enumerate(net.nodes):
        used = sum(multi.dnn(d).block(l).memory_bytes for m, d, l in weights if m == n)
        if node.memory_bytes is not None and used > node.memory_bytes * (1 + rtol):
            out.add("memory")
    return out


# --- the brute force ---


def count_candidates(single: Instance) -> int:
    net, req = single.network, single.request
    routes = {
        (a.id, b.id): sum(1 for _ in simple_routes(net, a.id, b.id))
        for a in net.nodes
        for b in net.nodes
    }
    total = 0
    for exit_block in _exit_blocks(single):
        for nodes in itertools.product(
            *(single.candidate_nodes(l) for l in range(1, exit_block + 1))
        ):
            ends = [req.source, *nodes]
            count = math.prod(routes[(ends[k], ends[k + 1])] for k in range(exit_block))
            if req.destination is not None:
                count *= routes[(nodes[-1], req.destination)]
            total += count
    return total


def options(multi: MultiInstance, req: MultiRequest) -> list[tuple[Placement, Load]]:
    """Every placement the request meets its own limits with, none dominated."""
    single = multi.single(req.id)
    net, request = single.network, single.request
    found: list[tuple[Placement, Load]] = []
    for exit_block in _exit_blocks(single):
        for nodes in itertools.product(
            *(single.candidate_nodes(l) for l in range(1, exit_block + 1))
        ):
            ends = [request.source, *nodes]
            per: list[list[tuple[str, ...] | None]] = [
                list(simple_routes(net, ends[k], ends[k + 1])) for k in range(exit_block)
            ]
            if request.destination is None:
                per.append([None])
            else:
                per.append(list(simple_routes(net, nodes[-1], request.destination)))
            for routes in itertools.product(*per):
                placement = Placement(tuple(nodes), exit_block, tuple(routes))
                if evaluate(single, placement).feasible:
                    found.append((placement, load_of(multi, req, placement)))
    found.sort(key=lambda item: item[1].cost)
    kept: list[tuple[Placement, Load]] = []
    for placement, load in found:
        if not any(other.dominates(load) for _, other in kept):
            kept.append((placement, load))
    return kept


@dataclass(frozen=True)
class Optimum:
    cost: float
    placements: tuple[Placement, ...]
    loads: tuple[Load, ...]


@cache
def brute_force(multi: MultiInstance) -> Optimum | None:
    """The cheapest combination of per-request placements meeting the coupled limits."""
    per = [options(multi, req) for req in multi.requests]
    if any(not opts for opts in per):
        return None
    rest = [sum(opts[0][1].cost for opts in per[i:]) for i in range(len(per) + 1)]
    best: list[Any] = [math.inf, None]

    def search(i: int, chosen: list[tuple[Placement, Load]], cost: float) -> None:
        if cost + rest[i] >= best[0]:
            return
        if i == len(per):
            best[0], best[1] = cost, list(chosen)
            return
        for option in per[i]:
            loads = [load for _, load in chosen] + [option[1]]
            if violations(multi, loads):
                continue
            search(i + 1, [*chosen, option], cost + option[1].cost)

    search(0, [], 0.0)
    if best[1] is None:
        return None
    return Optimum(best[0], tuple(p for p, _ in best[1]), tuple(load for _, load in best[1]))


def uncoupled(multi: MultiInstance) -> Optimum | None:
    """Each request's cheapest placement alone (the coupled limits ignored)."""
    per = [options(multi, req) for req in multi.requests]
    if any(not opts for opts in per):
        return None
    return Optimum(
        sum(opts[0][1].cost for opts in per),
        tuple(opts[0][0] for opts in per),
        tuple(opts[0][1] for opts in per),
    )


# --- the cases ---


def other_dnn(dnn: DNN, rng: np.random.Generator) -> DNN:
    """A second model of the same shape: ops and sizes scaled by 0.5-2."""
    blocks = tuple(
        replace(
            b,
            name=f"o{i}",
            ops=b.ops * rng.uniform(0.5, 2),
            output_bytes=b.output_bytes * rng.uniform(0.5, 2),
        )
        for i, b in enumerate(dnn.blocks, start=1)
    )
    return replace(
        dnn, name="other", input_bytes=dnn.input_bytes * rng.uniform(0.5, 2), blocks=blocks
    )


def utilisation(multi: MultiInstance, loads: Sequence[Load], kind: str) -> float:
    u = multi.max_utilization
    if kind == "compute":
        ops = np.sum([load.ops for load in loads], axis=0)
        return max(
            (
                o / (u * n.ops_per_s)
                for o, n in zip(ops, multi.network.nodes, strict=True)
                if n.ops_per_s > 0
            ),
            default=0.0,
        )
    bits = np.sum([load.bits for load in loads], axis=0)
    return max(
        (b / (u * a.bandwidth_bps) for b, a in zip(bits, multi.network.arcs, strict=True)),
        default=0.0,
    )


def with_rates(multi: MultiInstance, factor: float) -> MultiInstance:
    requests = tuple(replace(r, rate_per_s=r.rate_per_s * factor) for r in multi.requests)
    return replace(multi, requests=requests)


@cache
def case(seed: int, kind: str) -> MultiInstance | None:
    """Case ``seed`` of ``kind`` (see the module docstring), or None when the seed does
    not give one (too many candidates, no uncoupled optimum, nothing to bind)."""
    objective = (Objective.ENERGY, Objective.LATENCY)[seed % 2]
    base = milp_instance(seed, objective, ExitPolicy.SELECT)
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    second = other_dnn(base.dnn, rng)
    dnns = (base.dnn, second)
    if kind == "memory":
        dnns = tuple(
            replace(
                d,
                blocks=tuple(
                    replace(b, memory_bytes=float(rng.integers(1, 5)) * 1e5) for b in d.blocks
                ),
            )
            for d in dnns
        )
        free = tuple(replace(n, memory_bytes=None) for n in base.network.nodes)
        base = replace(base, network=replace(base.network, nodes=free), dnn=dnns[0])
    requests = [MultiRequest("a", base.dnn.name, float(rng.uniform(0.5, 2)), base.request)]
    for i in range(1, int(rng.integers(2, 4))):
        draw = rng.random()
        if draw < 0.3:  # interchangeable with "a"
            requests.append(replace(requests[0], id=f"r{i}"))
            continue
        source = str(rng.choice([n.id for n in base.network.nodes]))
        request = replace(base.request, source=source, deadline_s=None)
        dnn = base.dnn.name if draw < 0.6 else second.name
        requests.append(MultiRequest(f"r{i}", dnn, float(rng.uniform(0.5, 2)), request))
    multi = MultiInstance(
        f"case-{kind}-{seed}",
        base.network,
        dnns,
        tuple(requests),
        objective,
        max_utilization=0.8 if seed % 3 == 0 else 1.0,
    )
    if any(count_candidates(multi.single(r.id)) > MAX_CANDIDATES for r in multi.requests):
        return None
    alone = uncoupled(multi)
    if alone is None:
        return None
    peak = max(utilisation(multi, alone.loads, "compute"), utilisation(multi, alone.loads, "link"))
    if kind in ("compute", "link"):
        load = utilisation(multi, alone.loads, kind)
        return with_rates(multi, float(rng.uniform(1.1, 1.4)) / load) if load > 0 else None
    if kind == "overload":
        return with_rates(multi, 4.0 / peak) if peak > 0 else None
    multi = with_rates(multi, 0.3 / peak) if peak > 0 else multi
    weights = set().union(*(load.weights for load in alone.loads))
    nodes = list(multi.network.nodes)
    for n, node in enumerate(nodes):
        own = [
            sum(multi.dnn(d).block(l).memory_bytes for m, d, l in load.weights if m == n)
            for load in alone.loads
        ]
        union = sum(multi.dnn(d).block(l).memory_bytes for m, d, l in weights if m == n)
        if union > max(own):
            nodes[n] = replace(node, memory_bytes=max(own))
    if nodes == list(multi.network.nodes):
        return None
    return replace(multi, network=replace(multi.network, nodes=tuple(nodes)))


@cache
def cases(kind: str) -> tuple[MultiInstance, ...]:
    found = []
    for seed in itertools.count():
        multi = case(seed, kind)
        if multi is not None:
            found.append(multi)
        if len(found) == CASES_PER_KIND or seed > 200:
            return tuple(found)
    raise AssertionError("unreachable")


# --- checks ---


def check_answer(multi: MultiInstance, placement: MultiPlacement, objective: float) -> None:
    """A decoded answer meets every limit and costs what the MILP says."""
    assert placement.ids == multi.request_ids
    loads = []
    for req in multi.requests:
        assert evaluate(multi.single(req.id), placement[req.id]).feasible, req.id
        loads.append(load_of(multi, req, placement[req.id]))
    assert not violations(multi, loads, rtol=RTOL), multi.name
    assert close(sum(load.cost for load in loads), objective), multi.name
    official = evaluate_multi(multi, placement)
    assert official.feasible, (multi.name, official.violations)
    assert close(official.objective, objective), multi.name


def solve_case(multi: MultiInstance, solver: str = "highs", **options: Any) -> Any:
    form = build_routing_multi(multi, **options)
    return form, solve_milp(form.milp, solver, Settings())


@pytest.mark.parametrize("index", range(CASES_PER_KIND))
@pytest.mark.parametrize("kind", KINDS)
def test_coupled_optimum_is_the_brute_force_optimum(kind: str, index: int) -> None:
    found = cases(kind)
    if index >= len(found):
        pytest.skip(f"only {len(found)} {kind} cases")
    multi = found[index]
    reference = brute_force(multi)
    form, result = solve_case(multi)
    if reference is None:
        assert result.status is Status.INFEASIBLE, (multi.name, result.status, result.message)
        return
    assert result.status is Status.OPTIMAL, (multi.name, result.status, result.message)
    assert close(result.objective, reference.cost), (multi.name, result.objective, reference.cost)
    check_answer(multi, form.decode(result.values), result.objective)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_coupling_binds_somewhere(kind: str) -> None:
    """The uncoupled optimum breaks the kind's limit (by construction) and the coupled
    optimum costs more, or (overload) does not exist."""
    found = cases(kind)
    assert len(found) == CASES_PER_KIND
    binding = infeasible = 0
    for multi in found:
        alone = uncoupled(multi)
        assert alone is not None
        assert kind == "overload" or kind in violations(multi, alone.loads)
        reference = brute_force(multi)
        if reference is None:
            infeasible += 1
        elif reference.cost > alone.cost * (1 + RTOL):
            binding += 1
    assert binding >= 2, kind
    if kind == "overload":
        assert infeasible >= 2


@pytest.mark.parametrize("kind", KINDS)
def test_lp_relaxation_is_a_lower_bound(kind: str) -> None:
    for multi in cases(kind):
        reference = brute_force(multi)
        lp = solve_milp(build_routing_multi(multi, relax=True).milp, "highs")
        assert lp.status in (Status.OPTIMAL, Status.INFEASIBLE), multi.name
        if lp.status is Status.INFEASIBLE:
            assert reference is None, multi.name
        elif reference is not None:
            assert lp.objective <= reference.cost * (1 + RTOL) + 1e-12, multi.name


def test_every_symmetry_treatment_keeps_the_optimum() -> None:
    """Aggregated, ordered or left alone, interchangeable requests get the same optimum,
    and every decoded answer (aggregated flows split into paths) is right."""
    checked = aggregated = 0
    for kind in KINDS:
        for multi in cases(kind):
            classes = interchangeable_classes(multi)
            results = {}
            for mode in SYMMETRY:
                form, result = solve_case(multi, symmetry=mode)
                free = [c for c in classes if multi.requests[c[0]].request.deadline_s is None]
                ordered = classes if mode == "order" else []
                merged = sum(len(c) - 1 for c in free) if mode == "aggregate" else 0
                assert form.symmetry_rows == sum(len(c) - 1 for c in ordered), (multi.name, mode)
                assert len(form.commodities) == len(multi.requests) - merged, (multi.name, mode)
                if result.status is Status.OPTIMAL:
                    check_answer(multi, form.decode(result.values), result.objective)
                    aggregated += max(c.units for c in form.commodities) > 1
                results[mode] = result
            statuses = {r.status for r in results.values()}
            assert len(statuses) == 1, (multi.name, statuses)
            if classes and results["none"].status is Status.OPTIMAL:
                for result in results.values():
                    assert close(result.objective, results["none"].objective), multi.name
                checked += 1
    assert checked >= 3 and aggregated >= 2


def five_copies(deadline: bool) -> MultiInstance:
    """Five copies of the example request at 60 inferences/s: md (block 1 pinned there)
    and es cannot take them all, so the copies must split."""
    example = example_instance()
    if not deadline:
        example = replace(example, request=replace(example.request, deadline_s=None))
    one = MultiInstance.from_single(example, rate_per_s=60.0)
    return replace(one, requests=tuple(replace(one.requests[0], id=f"u{i}") for i in range(5)))


def test_ordered_copies_come_out_in_key_order() -> None:
    five = five_copies(deadline=True)
    on, with_rows = solve_case(five, symmetry="order")
    _, without = solve_case(five, symmetry="none")
    assert with_rows.status is without.status is Status.OPTIMAL
    assert close(with_rows.objective, without.objective)
    assert on.symmetry_rows == 4 and len(on.commodities) == 5
    placement = on.decode(with_rows.values)
    check_answer(five, placement, with_rows.objective)
    index = five.network.node_index
    keys = [[index[n] for n in placement[rid].blocks] for rid in five.request_ids]
    assert keys == sorted(keys)
    assert len({tuple(k) for k in keys}) > 1  # the capacity splits them
    alone = solve_milp(build_routing(five.single("u0")).milp, "highs")
    assert with_rows.objective > 5 * 60.0 * alone.objective * (1 + RTOL)


def test_aggregated_copies_split_into_their_paths() -> None:
    five = five_copies(deadline=False)
    form, result = solve_case(five, symmetry="aggregate")
    _, alone = solve_case(five, symmetry="none")
    assert [c.request_ids for c in form.commodities] == [five.request_ids]
    assert form.commodities[0].units == 5
    assert form.n_integers == form.n_vars > form.n_binaries
    assert not any(name.startswith("R3") for name in form.milp.row_blocks)
    assert result.status is alone.status is Status.OPTIMAL
    assert close(result.objective, alone.objective)
    placement = form.decode(result.values)
    check_answer(five, placement, result.objective)
    assert len({placement[rid] for rid in five.request_ids}) > 1
    assert np.array_equal(form.request_values("u3", result.values), result.values)


def test_a_flow_of_several_paths_takes_no_deadline() -> None:
    graph = build_layered_graph(example_instance())
    with pytest.raises(ValueError, match="without a deadline"):
        add_routing_flow(MILPBuilder("m"), graph, units=2)
    with pytest.raises(UsageError, match="symmetry must be one of"):
        build_routing_multi(five_copies(deadline=False), symmetry="sorted")


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("objective", list(Objective))
def test_one_request_that_cannot_fill_anything_is_the_single_model(
    seed: int, objective: Objective
) -> None:
    single = milp_instance(seed, objective, ExitPolicy.SELECT)
    rate = 2.0**-30  # exact scaling; no load can reach a capacity
    multi = MultiInstance.from_single(single, rate_per_s=rate)
    form = build_routing_multi(multi)
    alone = build_routing(single)
    scale = rate if objective is Objective.ENERGY else 1.0
    assert form.milp.sizes() == alone.milp.sizes()
    assert not [name for name in form.milp.row_blocks if name[0] in "CS"]
    assert (form.milp.A != alone.milp.A).nnz == 0
    assert np.array_equal(form.milp.c, scale * alone.milp.c)
    got = solve_milp(form.milp, "highs", Settings())
    want = solve_milp(alone.milp, "highs", Settings())
    assert got.status is want.status
    if want.status is not Status.OPTIMAL:
        return
    decoded = evaluate(single, form.decode(got.values)["r1"])
    assert decoded.feasible
    assert decoded.objective == pytest.approx(want.objective, rel=1e-9, abs=0)
    if objective is Objective.LATENCY:  # the very same model
        assert got.objective == want.objective
    else:  # the objective times 2^-30: the same optimum up to the MIP gap
        assert got.objective == pytest.approx(scale * want.objective, rel=1e-9, abs=0)


def test_shared_weights_are_counted_once() -> None:
    """Two requests pinned to one node whose memory holds one copy of the weights: fine
    for two requests of one DNN, infeasible for two DNNs with the same blocks."""
    nodes = (Node("a", "device", 1e9, 1.0), Node("b", "edge", 1e10, 2.0, memory_bytes=1.5e6))
    network = Network(nodes, (Link("a", "b", 1e8, 0.0, 1e-9),))
    dnn = DNN("m", 1e3, (Block("b1", 1e7, 1e3, memory_bytes=1e6),))
    request = Request("a", Objective.ENERGY, allowed_nodes=((1, ("b",)),))
    same = MultiInstance(
        "shared",
        network,
        (dnn,),
        (MultiRequest("u", "m", 1.0, request), MultiRequest("v", "m", 2.0, request)),
        Objective.ENERGY,
    )
    form, result = solve_case(same)
    assert result.status is Status.OPTIMAL
    assert "C4_memory" not in form.milp.row_blocks  # one copy of the weights always fits
    check_answer(same, form.decode(result.values), result.objective)
    assert close(result.objective, brute_force(same).cost)
    twin = replace(dnn, name="m2")
    apart = replace(
        same, dnns=(dnn, twin), requests=(same.requests[0], replace(same.requests[1], dnn="m2"))
    )
    assert brute_force(apart) is None
    form, result = solve_case(apart)
    assert list(form.milp.row_blocks["C4_memory"].labels) == ["b"]
    assert len(form.milp.row_blocks["C3_weights"]) == 2
    assert result.status is Status.INFEASIBLE


@pytest.mark.skipif("cbc" not in available_solvers(), reason="CBC is not installed")
@pytest.mark.parametrize("kind", KINDS)
def test_cbc_finds_the_same_optimum(kind: str) -> None:
    for multi in cases(kind)[:3]:
        reference = brute_force(multi)
        form, result = solve_case(multi, "cbc")
        if reference is None:
            assert result.status is Status.INFEASIBLE, multi.name
            continue
        assert result.status is Status.OPTIMAL, (multi.name, result.message)
        assert close(result.objective, reference.cost), multi.name
        check_answer(multi, form.decode(result.values), result.objective)


def test_the_expected_policy_is_refused() -> None:
    single = milp_instance(0, Objective.ENERGY, ExitPolicy.EXPECTED)
    with pytest.raises(UsageError, match="does not yet take the expected exit policy"):
        build_routing_multi(MultiInstance.from_single(single))


def test_row_blocks_are_the_numbered_constraints_of_the_docstring() -> None:
    documented = set(
        re.findall(r"\(([RCS]\d+_[a-z]+)(?:\[i\])?\)", routing_multi_module.__doc__ or "")
    )
    used: set[str] = set()
    for kind in KINDS:
        for multi in cases(kind):
            for mode in SYMMETRY:
                rows = build_routing_multi(multi, symmetry=mode).milp.row_blocks
                used |= {re.sub(r"\[\d+\]$", "", name) for name in rows}
    assert used == documented


def test_blocks_and_decoding_follow_the_requests() -> None:
    multi = cases("compute")[0]
    form = build_routing_multi(multi)
    assert form.request_ids == multi.request_ids
    assert [form.flows[rid].name for rid in multi.request_ids] == [
        f"f[{i}]" for i in range(len(multi.requests))
    ]
    assert sum(len(block) for block in form.flows.values()) == form.milp.n_vars - len(
        form.milp.var_blocks.get("y", ())
    )
    assert form.n_binaries == form.n_vars and form.exact
    assert form.sizes() == form.milp.sizes()
    for rid in multi.request_ids:
        assert form.graphs[rid].n_arcs == len(form.flows[rid])
