"""The coupled assignment MILP of many requests (format 2) against the coupled routing MILP.

Cases are small seeded instances of the format-2 families ``multi-tiered``,
``fin-multi`` and ``multi-topohub`` (some with a destination per request, some with a
deadline), with rates rescaled from the *uncoupled* optimum (each request's cheapest
placement alone, from the single routing MILP) so that it breaks a node's compute
limit or an arc's bandwidth by 10-60 %, or (``overload``) every limit threefold.
Both coupled models are exact there (no node pair has more than ``max_routes``
simple routes), so their optima must agree; every decoded answer is checked by the
format-2 evaluator and by the independent load rules of ``test_routing_multi``.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_routing_multi import KINDS as ROUTING_KINDS
from test_routing_multi import (
    brute_force,
    check_answer,
    close,
    load_of,
    utilisation,
    violations,
    with_rates,
)
from test_routing_multi import cases as routing_cases

import splitbench.formulations.assignment_multi as assignment_multi_module
from splitbench.answer import RunOptions, Settings
from splitbench.errors import UsageError
from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import evaluate_multi
from splitbench.families import generate
from splitbench.families.tiny import milp_instance
from splitbench.formulations import build_routing
from splitbench.formulations.assignment_multi import (
    assignment_multi_is_exact,
    build_assignment_multi,
    route_variables,
)
from splitbench.formulations.routing_multi import build_routing_multi
from splitbench.instance import (
    DNN,
    Block,
    ExitPolicy,
    Link,
    MultiInstance,
    MultiRequest,
    Network,
    Node,
    Objective,
    Request,
)
from splitbench.methods.multi import (
    ASSIGNMENT_MULTI_PARAMS,
    run_assignment_milp_multi,
    run_routing_milp_multi,
)
from splitbench.routes import simple_routes
from splitbench.solvers import available_solvers, read_mps, solve_milp, write_mps
from splitbench.status import Status, Termination

FAMILIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("multi-tiered", {"n_blocks": 3, "devices": 2, "edges": 1, "clouds": 1}),
    ("multi-tiered", {"n_blocks": 3, "devices": 2, "edges": 2, "clouds": 1, "users_per_device": 1}),
    ("multi-tiered", {"models": "b-lenet,b-alexnet", "devices": 3, "edges": 2, "clouds": 1,
                      "users_per_device": 1, "tier_order": True, "min_accuracy": 0.8}),
    ("fin-multi", {"users": 2, "rate_spread": 0.3}),
    ("fin-multi", {"dnns": "b-alexnet,b-lenet", "users": 2, "rate_spread": 0.5,
                   "deadline_s": None}),
    ("multi-topohub", {"topology": "abilene", "requests": 3, "n_blocks": 2,
                       "models": "alexnet,b-lenet", "destinations": True}),
    ("multi-topohub", {"topology": "abilene", "requests": 3, "n_blocks": 2,
                       "models": "b-lenet,mobilenet_v2"}),
)  # fmt: skip
N_CASES = 48


@cache
def alone(multi: MultiInstance) -> list[Any]:
    """Each request's optimal placement alone (single routing MILP), or None."""
    out = []
    for req in multi.requests:
        single = multi.single(req.id)
        form = build_routing(single)
        result = solve_milp(form.milp, "highs", Settings())
        out.append(form.decode(result.values) if result.status is Status.OPTIMAL else None)
    return out


def feasible_at(multi: MultiInstance, factor: float) -> bool:
    """Whether the coupled routing MILP has a solution with every rate times ``factor``."""
    form = build_routing_multi(with_rates(multi, factor), relax=False)
    return solve_milp(form.milp, "highs", Settings()).status is Status.OPTIMAL


def frontier(multi: MultiInstance, start: float) -> tuple[float, float]:
    """(feasible, infeasible) rate factors within 2 % of each other: loads grow with the
    rates, so feasibility is monotone in the factor (``start`` is feasible)."""
    low, high = start, start * 2.0
    while feasible_at(multi, high) and high < 1e3 * start:
        low, high = high, high * 2.0
    while high > low * 1.02:
        mid = math.sqrt(low * high)
        low, high = (mid, high) if feasible_at(multi, mid) else (low, mid)
    return low, high


@cache
def case(index: int) -> MultiInstance | None:
    """Case ``index``: family ``index mod 7``, objective and seed from ``index``. Rates
    just below the largest at which the coupled problem is feasible and above those
    at which the uncoupled optimum fits (every third case: above that largest, so
    infeasible). None when the seed gives nothing to bind."""
    family, params = FAMILIES[index % len(FAMILIES)]
    rng = np.random.default_rng([index, 7])
    objective = ("energy", "latency")[(index // 3) % 2]
    multi = generate(family, {**params, "objective": objective}, seed=index)
    assert isinstance(multi, MultiInstance)
    multi = replace(multi, name=f"{multi.name}-{index}")
    if index % 4 == 1 and objective == "energy":  # a deadline the uncoupled optimum meets
        placements = alone(multi)
        if None in placements:
            return None
        slack = float(rng.uniform(1.0, 1.5))
        requests = tuple(
            replace(
                r,
                request=replace(
                    r.request,
                    deadline_s=slack * evaluate(multi.single(r.id), p).deadline_latency_s,
                ),
            )
            for r, p in zip(multi.requests, placements, strict=True)
        )
        multi = replace(multi, requests=requests)
    placements = alone(multi)
    if None in placements:
        return None
    loads = [load_of(multi, r, p) for r, p in zip(multi.requests, placements, strict=True)]
    peak = max(utilisation(multi, loads, k) for k in ("compute", "link"))
    if peak <= 0:
        return None
    low, high = frontier(multi, 1.0 / peak)
    if index % 3 == 2:
        return with_rates(multi, high * float(rng.uniform(1.0, 1.5)))
    if low < 1.02 / peak:  # the coupling cannot relieve the uncoupled optimum's peak
        return None
    return with_rates(multi, float(rng.uniform(max(1.01 / peak, 0.97 * low), low)))


@cache
def cases() -> tuple[MultiInstance, ...]:
    found = []
    for index in itertools.count():
        multi = case(index)
        if multi is not None:
            found.append(multi)
        if len(found) == N_CASES or index > 200:
            return tuple(found)
    raise AssertionError("unreachable")


@cache
def solved(multi: MultiInstance, model: str, solver: str = "highs") -> Any:
    build = build_assignment_multi if model == "assignment" else build_routing_multi
    form = build(multi)
    return form, solve_milp(form.milp, solver, Settings())


def check_same_optimum(multi: MultiInstance, solver: str = "highs") -> Status:
    """Both coupled models agree on ``multi``; the assignment answer is right."""
    form, result = solved(multi, "assignment", solver)
    _, reference = solved(multi, "routing", solver)
    assert form.exact and assignment_multi_is_exact(multi), multi.name
    assert result.status is reference.status, (multi.name, result.status, reference.status)
    if reference.status is Status.OPTIMAL:
        assert close(result.objective, reference.objective), (
            multi.name,
            result.objective,
            reference.objective,
        )
        check_answer(multi, form.decode(result.values), result.objective)
    else:
        assert reference.status is Status.INFEASIBLE, (multi.name, reference.message)
    status: Status = reference.status
    return status


@pytest.mark.parametrize("index", range(N_CASES))
def test_assignment_optimum_is_the_routing_optimum(index: int) -> None:
    check_same_optimum(cases()[index])


def test_the_cases_bind_and_cover_every_family() -> None:
    """Every feasible case's uncoupled optimum breaks a limit at its rates (so the
    coupling rows decide the answer); many cases are infeasible; each family appears
    among the feasible ones, and some answers take a route that is not the cheapest."""
    found = cases()
    assert len(found) == N_CASES
    statuses = [solved(multi, "routing")[1].status for multi in found]
    assert statuses.count(Status.INFEASIBLE) >= 10
    assert statuses.count(Status.OPTIMAL) >= 20
    families = set()
    detours = 0
    for multi, status in zip(found, statuses, strict=True):
        if status is not Status.OPTIMAL:
            continue
        families.add(multi.name.split("-", 2)[0] + multi.name.split("-", 2)[1])
        placements = alone(multi)
        loads = [load_of(multi, r, p) for r, p in zip(multi.requests, placements, strict=True)]
        assert violations(multi, loads), multi.name
        form, result = solved(multi, "assignment")
        detours += any(
            route != _cheapest_nodes(c, j) for c in form.requests for j, route in _chosen(c, result)
        )
    assert families == {"multitiered", "finmulti", "multitopohub"}
    assert detours >= 1


def _chosen(columns: Any, result: Any) -> list[tuple[int, tuple[str, ...]]]:
    """The route variables at 1 of one request: (position, route)."""
    on = np.flatnonzero(result.values[columns.p] > 0.5)
    return [(int(j), columns.tables.routes[j].nodes) for j in on]


def _cheapest_nodes(columns: Any, j: int) -> tuple[str, ...]:
    """The cheapest route of route variable j's transfer (the first of its list)."""
    t = columns.tables
    same = np.flatnonzero((t.r_kind == t.r_kind[j]) & (t.r_owner == t.r_owner[j]))
    nodes: tuple[str, ...] = t.routes[int(same[0])].nodes
    return nodes


@pytest.mark.skipif("cbc" not in available_solvers(), reason="CBC is not installed")
def test_cbc_finds_the_same_optimum() -> None:
    statuses = [check_same_optimum(multi, "cbc") for multi in cases()[:6]]
    assert Status.OPTIMAL in statuses and Status.INFEASIBLE in statuses
    for multi in cases()[:6]:
        if solved(multi, "assignment", "cbc")[1].status is Status.OPTIMAL:
            highs = solved(multi, "assignment")[1].objective
            assert close(solved(multi, "assignment", "cbc")[1].objective, highs)


@pytest.mark.parametrize("kind", ROUTING_KINDS)
def test_brute_force_agrees_on_the_routing_cases(kind: str) -> None:
    """The tiny cases of ``test_routing_multi`` (compute, link, shared memory, overload)
    against its brute force over every simple route."""
    for multi in routing_cases(kind):
        reference = brute_force(multi)
        form = build_assignment_multi(multi)
        assert form.exact
        result = solve_milp(form.milp, "highs", Settings())
        if reference is None:
            assert result.status is Status.INFEASIBLE, (multi.name, result.status)
            continue
        assert result.status is Status.OPTIMAL, (multi.name, result.message)
        assert close(result.objective, reference.cost), (multi.name, result.objective)
        check_answer(multi, form.decode(result.values), result.objective)
        if kind == "memory":
            assert "C4_memory" in form.milp.row_blocks or "A11_memory[0]" in form.milp.row_blocks


def two_routes(*, local: bool) -> MultiInstance:
    """Two requests from ``s`` whose one block runs on ``t`` (or, with ``local``, on ``s``
    at ten times the energy): ``s -> a -> t`` is the cheap route, ``s -> b -> t`` five
    times dearer, and each carries one request's input at 100 inferences/s, not two."""
    nodes = (
        Node("s", "device", 1e12, 10.0),
        Node("a", "router", 0.0),
        Node("b", "router", 0.0),
        Node("t", "edge", 1e12, 1.0),
    )
    links = (
        Link("s", "a", 1e6, 0.0, 1e-9, directed=True),
        Link("a", "t", 1e6, 0.0, 1e-9, directed=True),
        Link("s", "b", 1e6, 0.0, 5e-9, directed=True),
        Link("b", "t", 1e6, 0.0, 5e-9, directed=True),
    )
    dnn = DNN("m", 1000.0, (Block("b1", 1e9, 10.0),))
    where = ("s", "t") if local else ("t",)
    request = Request("s", Objective.ENERGY, allowed_nodes=((1, where),))
    return MultiInstance(
        "two-routes",
        Network(nodes, links),
        (dnn,),
        (MultiRequest("u", "m", 100.0, request), MultiRequest("v", "m", 100.0, request)),
        Objective.ENERGY,
    )


@pytest.mark.parametrize("local", [False, True])
def test_link_load_forces_a_costlier_route(local: bool) -> None:
    multi = two_routes(local=local)
    form = build_assignment_multi(multi)
    result = solve_milp(form.milp, "highs", Settings())
    _, reference = solved(multi, "routing")
    assert result.status is reference.status is Status.OPTIMAL
    assert close(result.objective, reference.objective)
    placement = form.decode(result.values)
    check_answer(multi, placement, result.objective)
    assert {placement[rid].routes[0] for rid in multi.request_ids} == {
        ("s", "a", "t"),
        ("s", "b", "t"),
    }
    # 100/s x (1 ms on t + 8000 bits x 2 hops x (1 or 5) nJ/bit)
    assert math.isclose(result.objective, 100 * (2e-3 + 1.6e-5 + 8e-5), rel_tol=1e-9)
    # the fixed-route idea: each transfer on its cheapest route only
    fixed = build_assignment_multi(multi, max_routes=1)
    assert not fixed.exact and fixed.truncated_pairs == (("s", "t"),)
    got = solve_milp(fixed.milp, "highs", Settings())
    if not local:
        assert got.status is Status.INFEASIBLE
        run = run_assignment_milp_multi(multi, RunOptions(params={"max_routes": 1}))
        assert run.status is Status.NONE and run.placement is None  # proves nothing
        assert "route restriction is infeasible (only the 1 cheapest" in (run.reason or "")
        return
    assert got.status is Status.OPTIMAL
    assert got.objective > result.objective * 1.5  # one request computes on s
    fixed_placement = fixed.decode(got.values)
    check_answer(multi, fixed_placement, got.objective)
    assert sorted(fixed_placement[rid].blocks for rid in multi.request_ids) == [("s",), ("t",)]


def complete_network(n: int) -> Network:
    """Every pair of ``n`` nodes linked; only the last one computes."""
    nodes = tuple(
        Node(f"n{i}", "edge" if i == n - 1 else "router", 1e12 if i == n - 1 else 0.0, 1.0)
        for i in range(n)
    )
    links = tuple(
        Link(f"n{i}", f"n{j}", 1e9, 1e-3, 1e-9) for i, j in itertools.combinations(range(n), 2)
    )
    return Network(nodes, links)


def test_truncated_routes_make_the_model_a_restriction() -> None:
    net = complete_network(6)  # 1 + 4 + 12 + 24 + 24 = 65 simple routes n0 -> n5
    assert sum(1 for _ in simple_routes(net, "n0", "n5")) == 65
    dnn = DNN("m", 1e3, (Block("b1", 1e9, 10.0),))
    request = Request("n0", Objective.LATENCY, destination="n0")
    multi = MultiInstance(
        "k6", net, (dnn,), (MultiRequest("u", "m", 1.0, request),), Objective.LATENCY
    )
    cut, full = build_assignment_multi(multi), build_assignment_multi(multi, max_routes=65)
    assert not cut.exact and full.exact
    assert not assignment_multi_is_exact(multi) and assignment_multi_is_exact(multi, 65)
    assert cut.truncated_pairs == (("n0", "n5"), ("n5", "n0"))
    assert "64 cheapest simple routes of 2 node pairs (n0->n5, n5->n0)" in (cut.restriction or "")
    assert full.restriction is None
    assert cut.n_route_vars == 2 * 64 and full.n_route_vars == 2 * 65
    for form in (cut, full):  # the cheapest route (direct) is always kept
        result = solve_milp(form.milp, "highs", Settings())
        assert result.status is Status.OPTIMAL
        check_answer(multi, form.decode(result.values), result.objective)
        assert form.decode(result.values)["u"].routes == (("n0", "n5"), ("n5", "n0"))
    run = run_assignment_milp_multi(multi, RunOptions())
    assert run.status is Status.FEASIBLE and run.bound is None  # a restriction proves nothing
    assert run.reason is not None and "64 cheapest simple routes" in run.reason


def test_exactness_is_counted_as_built() -> None:
    for multi in [*cases()[:14], two_routes(local=True)]:
        for limit in (1, 2, 4, 64):
            form = build_assignment_multi(multi, max_routes=limit)
            assert assignment_multi_is_exact(multi, limit) == form.exact, (multi.name, limit)
            if form.exact:
                assert form.restriction is None and not form.truncated_pairs
    with pytest.raises(UsageError, match="max_routes must be at least 1"):
        build_assignment_multi(two_routes(local=True), max_routes=0)


def test_the_expected_policy_is_refused() -> None:
    single = milp_instance(0, Objective.ENERGY, ExitPolicy.EXPECTED)
    multi = MultiInstance.from_single(single, request_id="u7")
    with pytest.raises(UsageError, match=r"request 'u7'.*expected exit policy"):
        build_assignment_multi(multi)
    assert not assignment_multi_is_exact(multi)
    result = run_assignment_milp_multi(multi, RunOptions())
    assert result.termination is Termination.SKIPPED
    assert "request 'u7'" in (result.reason or "")


def test_mps_export_round_trips(tmp_path: Path) -> None:
    multi = next(m for m in cases() if solved(m, "routing")[1].status is Status.OPTIMAL)
    form, result = solved(multi, "assignment")
    path = tmp_path / "assignment-multi.mps"
    write_mps(form.milp, path)
    assert path.stat().st_size > 0
    back = read_mps(path)
    assert back.sizes() == form.milp.sizes()
    assert (back.A != form.milp.A).nnz == 0
    assert np.array_equal(back.c, form.milp.c)
    assert np.array_equal(back.integrality, form.milp.integrality)
    again = solve_milp(back, "highs", Settings())
    assert again.status is Status.OPTIMAL and close(again.objective, result.objective)


def test_run_function_matches_routing_and_declines() -> None:
    checked = 0
    for multi in cases()[:7]:
        mine = run_assignment_milp_multi(multi, RunOptions())
        theirs = run_routing_milp_multi(multi, RunOptions())
        assert mine.status is theirs.status, multi.name
        assert mine.facts.formulation == "assignment-multi"
        if theirs.status is Status.OPTIMAL:
            assert mine.claimed_objective is not None and theirs.claimed_objective is not None
            assert close(mine.claimed_objective, theirs.claimed_objective)
            assert mine.bound is not None and mine.reason is None
            ev = evaluate_multi(multi, mine.placement)
            assert ev.feasible and close(ev.objective, mine.claimed_objective)
            checked += 1
    assert checked >= 3
    multi = cases()[0]
    declined = run_assignment_milp_multi(multi, RunOptions(params={"max_pairs": 1}))
    assert declined.termination is Termination.SKIPPED
    assert "more than max_pairs = 1" in (declined.reason or "")
    assert set(ASSIGNMENT_MULTI_PARAMS) == {"max_pairs", "max_routes", "max_route_vars"}
    with pytest.raises(UsageError, match="no such parameter"):
        run_assignment_milp_multi(multi, RunOptions(params={"routes": 3}))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("objective", list(Objective))
def test_one_request_that_fills_nothing_is_the_single_optimum(
    seed: int, objective: Objective
) -> None:
    single = milp_instance(seed, objective, ExitPolicy.SELECT)
    rate = 2.0**-30
    multi = MultiInstance.from_single(single, rate_per_s=rate)
    form = build_assignment_multi(multi)
    assert not [name for name in form.milp.row_blocks if name.startswith("C")]
    got = solve_milp(form.milp, "highs", Settings())
    want = solve_milp(build_routing(single).milp, "highs", Settings())
    assert got.status is want.status
    if want.status is Status.OPTIMAL:
        scale = rate if objective is Objective.ENERGY else 1.0
        assert got.objective == pytest.approx(scale * want.objective, rel=1e-7)
        assert evaluate(single, form.decode(got.values)["r1"]).feasible


def test_lp_relaxation_is_a_lower_bound() -> None:
    for multi in cases()[:14]:
        _, reference = solved(multi, "routing")
        lp = solve_milp(build_assignment_multi(multi, relax=True).milp, "highs", Settings())
        if lp.status is Status.INFEASIBLE:
            assert reference.status is Status.INFEASIBLE, multi.name
        elif reference.status is Status.OPTIMAL:
            assert lp.objective <= reference.objective * (1 + 1e-6) + 1e-12, multi.name


def test_row_blocks_are_the_numbered_constraints_of_the_docstring() -> None:
    documented = set(
        re.findall(r"\(([AC]\d+_[a-z_]+?)(?:\[i\])?\)", assignment_multi_module.__doc__ or "")
    )
    used: set[str] = set()
    for multi in [*cases(), *routing_cases("memory")]:
        used |= {re.sub(r"\[\d+\]$", "", n) for n in build_assignment_multi(multi).milp.row_blocks}
    assert used == documented


@pytest.mark.parametrize("family", ["multi-tiered", "fin-multi", "multi-tiny"])
def test_route_variables_are_counted_before_building(family: str) -> None:
    params = {"multi-tiered": {"n_blocks": 3}, "fin-multi": {"users": 2}}.get(family, {})
    for seed in range(3):
        inst = generate(family, params, seed=seed)
        assert isinstance(inst, MultiInstance)
        for most in (1, 3, 64):
            built = build_assignment_multi(inst, max_routes=most).n_route_vars
            assert route_variables(inst, most) == built
    inst = generate("fin-multi", {"users": 2})
    assert isinstance(inst, MultiInstance)
    run = run_assignment_milp_multi(inst, RunOptions(params={"max_route_vars": 3}))
    assert run.termination is Termination.SKIPPED and "route variables" in (run.reason or "")
