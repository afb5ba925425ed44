"""The exhaustive oracle of format 2 against the coupled routing MILP and two brute forces.

Family cases: tiny seeded instances of ``multi-tiered``, ``fin-multi`` and
``multi-topohub`` whose rates (the family's own ``load`` or ``rate_per_s``) are set
from the *uncoupled* optimum (each request's own optimum, by ``label-setting``) so
that it breaks a compute or link limit: where the requests' optima share a
resource, mostly below the factor at which some request's own optimum breaks a
limit alone, so the requests must share (and some cannot); where they share none
(each FIN user has its own device), between that factor and the largest at which
the MILP still finds a solution (bisection; feasibility only shrinks as rates grow),
so each request must leave its own optimum. Draws infeasible as soon as the
uncoupled optimum breaks a limit are mostly left out (a request with no other
placement is a weak case). The exhaustive optimum must equal the HiGHS optimum of
``run_routing_milp_multi`` (1e-6 relative), infeasible where it is infeasible, and
its placement must pass :func:`~splitbench.evaluate_multi.evaluate_multi` at the
claimed objective (1e-9).

The cases of the coupled MILP's own test (memory binding included) are checked
against that test's brute force, and the expected exit policy, which the MILP does
not take, against a naive brute force written here that tries every combination of
every request's placements (every node for every block, every simple route,
early-exit routes included) through ``evaluate_multi``.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np
import pytest

from formulations.test_routing_multi import KINDS, brute_force, five_copies
from formulations.test_routing_multi import cases as milp_test_cases
from random_instances import all_simple_routes
from splitbench.answer import MethodResult, RunOptions, Settings
from splitbench.errors import InstanceError, UsageError
from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import evaluate_multi
from splitbench.families import generate, get_family
from splitbench.families.tiny import milp_instance
from splitbench.instance import (
    DNN,
    Block,
    Exit,
    ExitPolicy,
    Instance,
    Link,
    MultiInstance,
    MultiRequest,
    Network,
    Node,
    Objective,
    Request,
)
from splitbench.instance.validate_multi import validate_multi
from splitbench.methods import solve as solve_single
from splitbench.methods.exhaustive import pareto_routes, run_exhaustive
from splitbench.methods.exhaustive_multi import PARAMS, run_exhaustive_multi
from splitbench.methods.multi import run_routing_milp_multi
from splitbench.placement import MultiPlacement, Placement
from splitbench.status import Status, Termination

FAMILIES = ("multi-tiered", "fin-multi", "multi-topohub")
CASES_PER_FAMILY = 22
MAX_CANDIDATES = 2_000
"""Draws with a request of more candidates than this are left out (test time)."""
RATE_PARAM = {"multi-tiered": "load", "fin-multi": "rate_per_s", "multi-topohub": "load"}
RATE_BOUND = {"multi-tiered": 10.0, "fin-multi": 1e9, "multi-topohub": 10.0}


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def solve(multi: MultiInstance, **params: Any) -> MethodResult:
    return run_exhaustive_multi(multi, RunOptions(params=params))


def check_placement(multi: MultiInstance, result: MethodResult) -> None:
    """An ``optimal`` answer is feasible at its claimed objective, which is its bound."""
    assert result.status is Status.OPTIMAL, (multi.name, result.status, result.reason)
    assert isinstance(result.placement, MultiPlacement)
    assert result.placement.ids == multi.request_ids
    assert result.claimed_objective is not None and result.bound == result.claimed_objective
    official = evaluate_multi(multi, result.placement)
    assert official.feasible, (multi.name, official.violations)
    assert close(official.objective, result.claimed_objective, rel=1e-9), multi.name


# --- family cases ---


def draw_params(family: str, rng: np.random.Generator) -> dict[str, Any]:
    objective = str(rng.choice(["latency", "energy"]))
    utilization = float(rng.choice([1.0, 0.8]))
    if family == "multi-tiered":
        devices, edges, clouds, users = [
            (1, 1, 1, 2),
            (2, 1, 1, 2),
            (1, 2, 0, 2),
            (2, 2, 0, 1),
            (3, 1, 1, 1),
            (1, 2, 1, 2),
            (1, 1, 1, 3),
        ][int(rng.integers(7))]
        models = ["alexnet,vgg16", "resnet50,alexnet", "mobilenet_v2,b-lenet", "b-lenet,alexnet"]
        return {
            "models": str(rng.choice(models)),
            "n_blocks": int(rng.integers(1, 4)),
            "devices": devices,
            "edges": edges,
            "clouds": clouds,
            "users_per_device": users,
            "objective": objective,
            "max_utilization": utilization,
        }
    if family == "fin-multi":
        apps = [
            "b-alexnet,b-lenet",
            "b-alexnet",
            "b-resnet,b-lenet",
            "b-lenet",
            "b-alexnet,b-resnet",
        ]
        dnns = str(rng.choice(apps))
        return {
            "dnns": dnns,
            "users": int(rng.integers(2, 11) if dnns == "b-alexnet" else rng.integers(1, 5)),
            "rate_spread": float(rng.choice([0.0, 0.3])),
            "objective": objective,
            "deadline_s": [None, 0.005, 0.01][int(rng.integers(3))],
            "min_accuracy": [None, 0.5, 0.8][int(rng.integers(3))],
            "max_utilization": utilization,
        }
    models = ["resnet50,vgg16", "alexnet,mobilenet_v2", "googlenet", "alexnet,resnet50"]
    return {
        "topology": str(rng.choice(["abilene", "polska"])),
        "models": str(rng.choice(models)),
        "n_blocks": 1,
        "requests": int(rng.integers(2, 4)),
        "destinations": bool(rng.random() < 0.4),
        "objective": objective,
        "max_utilization": utilization,
    }


@cache
def own_optimum(single: Instance) -> Placement | None:
    """The request's optimum alone (label setting; the single oracle where it declines)."""
    found: Placement | MultiPlacement | None
    sol = solve_single(single, "label-setting")
    if sol.status in (Status.OPTIMAL, Status.INFEASIBLE):
        found = sol.placement
    else:
        found = run_exhaustive(single, RunOptions()).placement
    assert found is None or isinstance(found, Placement)
    return found


def uncoupled(multi: MultiInstance) -> MultiPlacement | None:
    """Each request's own optimum, the shared limits ignored (None if one has none)."""
    chosen = []
    for req, single in multi.singles():
        placement = own_optimum(single)
        if placement is None:
            return None
        chosen.append((req.id, placement))
    return MultiPlacement(tuple(chosen))


def peak_share(multi: MultiInstance, placement: MultiPlacement) -> float:
    """The highest compute or link utilisation over U."""
    ev = evaluate_multi(multi, placement)
    peak = max(ev.max_node_utilization or 0.0, ev.max_arc_utilization or 0.0)
    return peak / multi.max_utilization


def peaks(multi: MultiInstance) -> tuple[float, float] | None:
    """The uncoupled optimum's peak utilisation over U, and the highest peak of one
    request's own optimum alone (None when a request has no placement or none loads)."""
    alone = uncoupled(multi)
    if alone is None:
        return None
    together = peak_share(multi, alone)
    single = max(
        peak_share(replace(multi, requests=(req,)), MultiPlacement(((req.id, alone[req.id]),)))
        for req in multi.requests
    )
    return (together, single) if single > 0 else None


def milp_feasible(multi: MultiInstance | None) -> bool:
    return (
        multi is not None and run_routing_milp_multi(multi, RunOptions()).status is Status.OPTIMAL
    )


@cache
def family_case(family: str, seed: int) -> MultiInstance | None:
    """Case ``seed`` of ``family`` (see the module docstring), or None when the draw has
    too many candidates or loads nothing, or (mostly) when it is infeasible as soon as
    its uncoupled optimum breaks a limit."""
    rng = np.random.default_rng([seed, FAMILIES.index(family)])
    params = draw_params(family, rng)
    base = generate(family, params, seed=seed)
    assert isinstance(base, MultiInstance)
    if solve(base, max_candidates=MAX_CANDIDATES).termination is Termination.SKIPPED:
        return None
    found = peaks(base)
    if found is None:
        return None
    together, single = found
    key = RATE_PARAM[family]
    default = get_family(family).params[key].default

    def scaled(factor: float) -> MultiInstance | None:
        if default * factor > RATE_BOUND[family]:
            return None
        multi = generate(family, {**params, key: default * factor}, seed=seed)
        assert isinstance(multi, MultiInstance)
        return multi

    low = 1.001 / together  # the uncoupled optimum breaks a limit from here on
    if together >= 1.02 * single:  # shared: mostly below where a request breaks one alone
        t = float(rng.uniform(1.0, 1.4) if rng.random() < 0.2 else rng.uniform(0.1, 0.9))
        return scaled(low + t * (1 / single - low))
    if not milp_feasible(scaled(low)):
        return scaled(low * float(rng.uniform(1.0, 1.2))) if rng.random() < 0.1 else None
    good, bad = low, 2 * low  # feasibility only shrinks as the rates grow: bisect
    if milp_feasible(scaled(bad)):
        good = bad
    else:
        for _ in range(6):
            mid = (good + bad) / 2
            good, bad = (mid, bad) if milp_feasible(scaled(mid)) else (good, mid)
    return scaled(low + float(rng.uniform(0.2, 1.0)) * (good - low))


@cache
def family_cases(family: str) -> tuple[MultiInstance, ...]:
    found = []
    for seed in range(400):
        multi = family_case(family, seed)
        if multi is not None:
            found.append(multi)
        if len(found) == CASES_PER_FAMILY:
            break
    return tuple(found)


@pytest.mark.parametrize("index", range(CASES_PER_FAMILY))
@pytest.mark.parametrize("family", FAMILIES)
def test_family_optimum_is_the_routing_milp_optimum(family: str, index: int) -> None:
    found = family_cases(family)
    assert index < len(found), f"only {len(found)} {family} cases"
    multi = found[index]
    alone = uncoupled(multi)
    assert alone is not None and not evaluate_multi(multi, alone).feasible, multi.name
    ours = solve(multi)
    milp = run_routing_milp_multi(multi, RunOptions())
    assert ours.info["candidates"] > 0 and ours.info["search_nodes"] >= 0
    if milp.status is Status.INFEASIBLE:
        assert ours.status is Status.INFEASIBLE, (multi.name, ours.status)
        assert ours.bound == math.inf
        return
    assert milp.status is Status.OPTIMAL, (multi.name, milp.status, milp.reason)
    check_placement(multi, ours)
    assert ours.claimed_objective is not None and milp.claimed_objective is not None
    assert close(ours.claimed_objective, milp.claimed_objective), (
        multi.name,
        ours.claimed_objective,
        milp.claimed_objective,
    )
    assert ours.claimed_objective >= evaluate_multi(multi, alone).objective * (1 - 1e-9)


def test_family_cases_bind() -> None:
    """Enough cases: in most the coupling moves the optimum above the uncoupled one, in
    some it makes the instance infeasible although every request fits alone (by the
    MILP on each request by itself)."""
    moved = infeasible = coupled_out = 0
    for family in FAMILIES:
        found = family_cases(family)
        assert len(found) == CASES_PER_FAMILY, family
        for multi in found:
            result = solve(multi)
            alone = uncoupled(multi)
            assert alone is not None
            if result.status is Status.INFEASIBLE:
                infeasible += 1
                coupled_out += all(
                    milp_feasible(replace(multi, requests=(req,))) for req in multi.requests
                )
            elif result.claimed_objective is not None and result.claimed_objective > (
                evaluate_multi(multi, alone).objective * (1 + 1e-6)
            ):
                moved += 1
    assert len(FAMILIES) * CASES_PER_FAMILY >= 60
    assert moved >= 30 and infeasible >= 10 and coupled_out >= 4, (moved, infeasible, coupled_out)


# --- the coupled MILP's own cases (memory binding), against its brute force ---


@pytest.mark.parametrize("kind", KINDS)
def test_routing_multi_cases_match_their_brute_force(kind: str) -> None:
    for multi in milp_test_cases(kind):
        reference = brute_force(multi)
        ours = solve(multi)
        if reference is None:
            assert ours.status is Status.INFEASIBLE, multi.name
            continue
        check_placement(multi, ours)
        assert ours.claimed_objective is not None
        assert close(ours.claimed_objective, reference.cost, rel=1e-9), multi.name


def test_interchangeable_copies_are_searched_once() -> None:
    """Five copies of the example request at 60/s (md and es cannot take them all):
    the copies share one candidate list and come out in non-decreasing order."""
    five = five_copies(deadline=True)
    ours = solve(five)
    check_placement(five, ours)
    milp = run_routing_milp_multi(five, RunOptions())
    assert milp.claimed_objective is not None and ours.claimed_objective is not None
    assert close(ours.claimed_objective, milp.claimed_objective)
    assert len(set(ours.info["kept"].values())) == 1
    assert isinstance(ours.placement, MultiPlacement)
    assert len({ours.placement[rid] for rid in five.request_ids}) > 1


# --- the expected policy, against a naive brute force ---


@cache
def naive_placements(single: Instance) -> tuple[Placement, ...]:
    """Every placement a request (alone) meets its own limits with: every node for
    every block, every simple route, every early-exit route (expected policy, with a
    destination)."""
    net, req, dnn = single.network, single.request, single.dnn
    ids = [node.id for node in net.nodes]
    routes = {(u, v): all_simple_routes(net, u, v) for u in ids for v in ids}
    expected = req.exit_policy is ExitPolicy.EXPECTED
    exits = [dnn.n_blocks] if expected else [ex.after_block for ex in dnn.exits]
    early = [ex.after_block for ex in dnn.exits[:-1]] if expected and req.destination else []
    out = []
    for exit_block in exits:
        for blocks in itertools.product(ids, repeat=exit_block):
            ends = [req.source, *blocks]
            options: list[list[tuple[str, ...] | None]] = [
                list(routes[ends[k], ends[k + 1]]) for k in range(exit_block)
            ]
            if req.destination is None:
                options.append([None])
            else:
                options.append(list(routes[blocks[-1], req.destination]))
                options += [list(routes[blocks[l - 1], req.destination]) for l in early]
            for chosen in itertools.product(*options):
                back = tuple(zip(early, chosen[exit_block + 1 :], strict=True))
                placement = Placement(tuple(blocks), exit_block, chosen[: exit_block + 1], back)
                if evaluate(single, placement).feasible:
                    out.append(placement)
    return tuple(out)


def raw_size(single: Instance) -> int:
    """An upper bound on the placements :func:`naive_placements` lists."""
    net, dnn = single.network, single.dnn
    ids = [node.id for node in net.nodes]
    most = max(len(all_simple_routes(net, u, v)) for u in ids for v in ids)
    hops = dnn.n_blocks + len(dnn.exits)  # hand-overs, the result, early-exit routes
    return len(ids) ** dnn.n_blocks * most**hops


def naive_optimum(multi: MultiInstance) -> float | None:
    """The cheapest feasible combination, every combination judged by evaluate_multi."""
    per = [naive_placements(single) for _, single in multi.singles()]
    best = None
    for combo in itertools.product(*per):
        ev = evaluate_multi(
            multi, MultiPlacement(tuple(zip(multi.request_ids, combo, strict=True)))
        )
        if ev.feasible and (best is None or ev.objective < best):
            best = ev.objective
    return best


MAX_COMBINATIONS = 4_000
MAX_RAW = 5_000
"""Requests whose naive enumeration would list more placements than this are left out."""
EXPECTED_SEEDS = 80


@cache
def expected_case(seed: int) -> MultiInstance | None:
    """Two or three requests of a tiny expected-policy instance (a destination added to
    most with early exits, so their result routes are part of the placement), rates set
    as for the family cases (None: too large, invalid, or nothing loaded)."""
    objective = (Objective.ENERGY, Objective.LATENCY)[seed % 2]
    one = milp_instance(seed, objective, ExitPolicy.EXPECTED)
    rng = np.random.default_rng([seed, 7])
    nodes = [n.id for n in one.network.nodes]
    own = one.request
    if len(one.dnn.exits) > 1 and own.destination is None and rng.random() < 0.8:
        own = replace(own, destination=str(rng.choice(nodes)), deadline_s=None)
    first = MultiRequest("a", one.dnn.name, float(rng.uniform(0.5, 2)), own)
    requests = [first]
    for i in range(1, int(rng.integers(2, 4))):
        if rng.random() < 0.3:
            requests.append(replace(first, id=f"r{i}"))
            continue
        request = replace(own, source=str(rng.choice(nodes)), deadline_s=None)
        requests.append(MultiRequest(f"r{i}", one.dnn.name, float(rng.uniform(0.5, 2)), request))
    multi = MultiInstance(f"expected-{seed}", one.network, (one.dnn,), tuple(requests), objective)
    try:
        validate_multi(multi)
    except InstanceError:
        return None
    if raw_size(one) > MAX_RAW:
        return None
    sizes = [len(naive_placements(single)) for _, single in multi.singles()]
    if not all(sizes) or math.prod(sizes) > MAX_COMBINATIONS:
        return None
    found = peaks(multi)
    if found is None:
        return None
    together, single = found
    low = 1.001 / together
    if together >= 1.02 * single:
        factor = low + float(rng.uniform(0.1, 0.9)) * (1 / single - low)
    else:
        factor = low * float(rng.uniform(1.0, 1.2))
    scaled = tuple(replace(r, rate_per_s=r.rate_per_s * factor) for r in multi.requests)
    return replace(multi, requests=scaled)


def test_expected_policy_matches_the_naive_brute_force() -> None:
    found = [m for m in map(expected_case, range(EXPECTED_SEEDS)) if m is not None]
    feasible = with_exit_routes = 0
    for multi in found:
        validate_multi(multi)
        reference = naive_optimum(multi)
        ours = solve(multi)
        if reference is None:
            assert ours.status is Status.INFEASIBLE, multi.name
            continue
        check_placement(multi, ours)
        assert ours.claimed_objective is not None
        assert close(ours.claimed_objective, reference, rel=1e-9), multi.name
        feasible += 1
        assert isinstance(ours.placement, MultiPlacement)
        with_exit_routes += any(p.exit_routes for _, p in ours.placement.requests)
    assert len(found) >= 25 and feasible >= 10 and with_exit_routes >= 2, (
        len(found),
        feasible,
        with_exit_routes,
    )


# --- hand-built cases and limits ---


def narrow_link() -> MultiInstance:
    """Two requests from router ``a`` to the only computing node ``b``: the direct link
    is faster and cheaper than the detour over ``c`` but carries only one of them."""
    nodes = (Node("a", "router", 0.0), Node("b", "edge", 1e10, 1.0), Node("c", "router", 0.0))
    links = (
        Link("a", "b", 1e6, 0.0, 1e-9),
        Link("a", "c", 1e9, 0.01, 1e-9),
        Link("c", "b", 1e9, 0.0, 1e-9),
    )
    dnn = DNN("m", 1000.0, (Block("b1", 1e6, 10.0),))
    request = Request("a", Objective.ENERGY)
    return MultiInstance(
        "narrow-link",
        Network(nodes, links),
        (dnn,),
        (MultiRequest("u", "m", 100.0, request), MultiRequest("v", "m", 100.0, request)),
        Objective.ENERGY,
    )


def test_a_dominated_route_is_needed_when_the_cheap_link_is_too_narrow() -> None:
    multi = narrow_link()
    validate_multi(multi)
    single = multi.single("u")
    assert pareto_routes(single, "a", "b", 1000.0, 10) == (("a", "b"),)  # the detour is dominated
    ours = solve(multi)
    check_placement(multi, ours)
    assert isinstance(ours.placement, MultiPlacement)
    assert sorted(ours.placement[rid].routes[0] for rid in ("u", "v")) == [
        ("a", "b"),
        ("a", "c", "b"),
    ]
    # 100/s x (1e-4 J compute + 8e-6 J direct) + 100/s x (1e-4 J + 1.6e-5 J detour)
    assert ours.claimed_objective == pytest.approx(0.0224, rel=1e-9)
    milp = run_routing_milp_multi(multi, RunOptions())
    assert milp.claimed_objective is not None
    assert close(ours.claimed_objective, milp.claimed_objective)
    # each alone takes the direct link; together that breaks its bandwidth
    both_direct = uncoupled(multi)
    assert both_direct is not None
    assert evaluate_multi(multi, both_direct).violations == (
        "arc a->b: link load 1.6 of capacity (limit 1)",
    )


def early_exit_under_load() -> MultiInstance:
    """Two requests, expected policy: block 1 on ``a``, block 2 on ``b``, half the
    samples leave after block 1 with a 1000-byte result for ``d``. The direct link
    ``a -> d`` beats both detours (over ``c`` or ``b``, slower and dearer) but carries
    only one request's early results."""
    nodes = (
        Node("a", "device", 1e10, 1.0),
        Node("b", "edge", 1e11, 2.0),
        Node("c", "router", 0.0),
        Node("d", "router", 0.0),
    )
    links = (
        Link("a", "b", 1e9, 0.0, 1e-9, directed=True),
        Link("b", "d", 1e9, 0.01, 1e-9, directed=True),
        Link("a", "d", 1e6, 0.0, 1e-9, directed=True),
        Link("a", "c", 1e9, 0.01, 1e-9, directed=True),
        Link("c", "d", 1e9, 0.0, 1e-9, directed=True),
    )
    exits = (
        Exit(1, accuracy=0.6, exit_probability=0.5, output_bytes=1000.0),
        Exit(2, accuracy=0.9, output_bytes=10.0),
    )
    dnn = DNN("m", 100.0, (Block("b1", 1e6, 100.0), Block("b2", 1e6, 10.0)), exits)
    request = Request(
        "a",
        Objective.ENERGY,
        destination="d",
        exit_policy=ExitPolicy.EXPECTED,
        allowed_nodes=((1, ("a",)), (2, ("b",))),
    )
    return MultiInstance(
        "early-exit-under-load",
        Network(nodes, links),
        (dnn,),
        (MultiRequest("u", "m", 200.0, request), MultiRequest("v", "m", 200.0, request)),
        Objective.ENERGY,
    )


def test_an_early_exit_result_takes_a_dominated_route_under_load() -> None:
    multi = early_exit_under_load()
    validate_multi(multi)
    assert pareto_routes(multi.single("u"), "a", "d", 1000.0, 10) == (("a", "d"),)
    ours = solve(multi)
    check_placement(multi, ours)
    assert isinstance(ours.placement, MultiPlacement)
    early = {ours.placement[rid].exit_route(1) for rid in ("u", "v")}
    assert len(early) == 2 and ("a", "d") in early
    assert early - {("a", "d")} <= {("a", "b", "d"), ("a", "c", "d")}
    reference = naive_optimum(multi)
    assert reference is not None and ours.claimed_objective is not None
    assert close(ours.claimed_objective, reference, rel=1e-9)
    # per request 1e-4 J (block 1) + 0.5 (2e-5 + 8e-7 + 8e-8) J + 0.5 x 8e-6 J direct
    # (or 1.6e-5 J by a detour), at 200/s each
    assert ours.claimed_objective == pytest.approx(200 * (1.1444e-4 + 1.1844e-4), rel=1e-9)


def test_time_limit_returns_the_best_found() -> None:
    """36 requests of the FIN scenario: finding the optimum is quick, proving it is not."""
    multi = generate("fin-multi", {"users": 12})
    assert isinstance(multi, MultiInstance)
    for limit in (1e-6, 0.5):
        start = time.perf_counter()
        result = run_exhaustive_multi(multi, RunOptions(settings=Settings(time_limit_s=limit)))
        assert time.perf_counter() - start < limit + 3.0
        assert result.termination is Termination.TIME_LIMIT, result.status
        assert result.status in (Status.FEASIBLE, Status.NONE)
        assert result.bound is None
        if result.status is Status.FEASIBLE:
            assert isinstance(result.placement, MultiPlacement)
            official = evaluate_multi(multi, result.placement)
            assert official.feasible
            assert close(official.objective, result.claimed_objective or 0.0, rel=1e-9)
    assert result.status is Status.FEASIBLE  # half a second finds one


def test_declines_beyond_its_limits() -> None:
    multi = five_copies(deadline=True)
    few = solve(multi, max_candidates=10)
    assert (few.status, few.termination) == (Status.NONE, Termination.SKIPPED)
    assert few.reason == "request u0: 19 candidates, more than max_candidates = 10"
    routes = solve(narrow_link(), max_routes=1)
    assert routes.termination is Termination.SKIPPED
    assert routes.reason == "more than 1 simple routes from a to b"
    big = generate("fin-multi", {"users": 12})
    assert isinstance(big, MultiInstance)
    nodes = solve(big, max_nodes=2_000)
    assert nodes.termination is Termination.SKIPPED
    assert nodes.reason == "more than 2000 search nodes"
    with pytest.raises(UsageError, match="max_candidate"):
        solve(multi, max_candidate=10)
    assert set(PARAMS) == {"max_candidates", "max_routes", "max_nodes"}


def test_a_request_that_cannot_fit_alone_is_named() -> None:
    multi = narrow_link()
    tight = replace(multi.requests[1].request, deadline_s=1e-9)
    lonely = replace(multi, requests=(multi.requests[0], replace(multi.requests[1], request=tight)))
    result = solve(lonely)
    assert (result.status, result.bound) == (Status.INFEASIBLE, math.inf)
    assert result.reason == "request v has no placement that fits on its own"
    assert result.info["kept"] == {"u": 2, "v": 0}


def test_at_half_the_capacity_both_take_the_detour() -> None:
    crowded = replace(narrow_link(), max_utilization=0.5)  # the direct link: 0.8 each
    ours = solve(crowded)
    check_placement(crowded, ours)
    assert isinstance(ours.placement, MultiPlacement)
    assert {ours.placement[rid].routes[0] for rid in ("u", "v")} == {("a", "c", "b")}
    assert ours.claimed_objective == pytest.approx(2 * 100 * (1e-4 + 1.6e-5), rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_one_request_gives_the_single_oracle_optimum(seed: int) -> None:
    objective = (Objective.ENERGY, Objective.LATENCY)[seed % 2]
    one = milp_instance(seed, objective, ExitPolicy.SELECT)
    rate = 2.0**-20
    multi = MultiInstance.from_single(one, rate_per_s=rate)
    single = run_exhaustive(one, RunOptions())
    ours = solve(multi)
    if single.status is Status.INFEASIBLE:
        assert ours.status is Status.INFEASIBLE
        return
    check_placement(multi, ours)
    scale = rate if objective is Objective.ENERGY else 1.0
    assert single.claimed_objective is not None and ours.claimed_objective is not None
    assert close(ours.claimed_objective, scale * single.claimed_objective, rel=1e-9)
