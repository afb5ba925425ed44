"""The format-2 evaluator (MULTI.md "Cost of a solution") and the single evaluator's
``exit_routes``.

The hand-computed instance (``two_node``) has round numbers:

- nodes ``md`` (device, 1e9 op/s, 2 W) and ``es`` (edge, 4e9 op/s, 10 W, 1 MB memory);
- one undirected link md-es: 8e6 bit/s (1 us per byte), no delay, 1 uJ per bit;
- DNN ``a``: input 1000 B; blocks 1e8 ops / 500 B / 300 kB and 2e8 ops / 100 B /
  400 kB; exits after block 1 (accuracy 0.6, 1e7 branch ops, share 0.25, 10-byte
  result) and after block 2 (accuracy 0.9, 4e7 branch ops, 20-byte result); so
  q = (1, 0.75);
- requests ``u1`` (rate 2/s) and ``u2`` (rate 3/s), both from md with the result back
  to md.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from random_instances import random_instance, random_placement, random_route, scaled_block_ops
from splitbench.errors import PlacementError
from splitbench.evaluate import evaluate
from splitbench.evaluate_multi import MultiEvaluation, evaluate_multi, request_loads
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
    example_instance,
    validate_instance,
)
from splitbench.placement import MultiPlacement, Placement

REL = 1e-12

DNN_A = DNN(
    "a",
    input_bytes=1000.0,
    blocks=(Block("a1", 1e8, 500.0, memory_bytes=3e5), Block("a2", 2e8, 100.0, memory_bytes=4e5)),
    exits=(
        Exit(1, accuracy=0.6, ops=1e7, exit_probability=0.25, output_bytes=10.0),
        Exit(2, accuracy=0.9, ops=4e7, output_bytes=20.0),
    ),
)


def two_node(
    policy: str = "select",
    objective: str = "energy",
    *,
    max_utilization: float = 1.0,
    bandwidth_bps: float = 8e6,
    dnns: tuple[str, str] = ("a", "a"),
    deadline_s: float | None = None,
) -> MultiInstance:
    network = Network(
        nodes=(
            Node("md", "device", 1e9, power_w=2.0),
            Node("es", "edge", 4e9, power_w=10.0, memory_bytes=1e6),
        ),
        links=(Link("md", "es", bandwidth_bps, energy_per_bit_j=1e-6),),
    )
    request = Request("md", Objective(objective), destination="md", exit_policy=ExitPolicy(policy))
    models = {"a": DNN_A, "b": replace(DNN_A, name="b")}
    multi = MultiInstance(
        "two-node",
        network,
        tuple(models[name] for name in sorted(set(dnns))),
        (
            MultiRequest("u1", dnns[0], 2.0, replace(request, deadline_s=deadline_s)),
            MultiRequest("u2", dnns[1], 3.0, request),
        ),
        Objective(objective),
        max_utilization,
    )
    for _, single in multi.singles():
        validate_instance(single)
    return multi


# u1: block 1 on md, block 2 on es; u2: everything on es
SELECT = MultiPlacement(
    (
        ("u1", Placement(("md", "es"), 2, (("md",), ("md", "es"), ("es", "md")))),
        ("u2", Placement(("es",), 1, (("md", "es"), ("es", "md")))),
    )
)
EXPECTED = MultiPlacement(
    (
        (
            "u1",
            Placement(
                ("md", "es"), 2, (("md",), ("md", "es"), ("es", "md")), exit_routes=((1, ("md",)),)
            ),
        ),
        (
            "u2",
            Placement(
                ("es", "es"),
                2,
                (("md", "es"), ("es",), ("es", "md")),
                exit_routes=((1, ("es", "md")),),
            ),
        ),
    )
)


# --- loads by hand ------------------------------------------------------------------


def test_select_loads_by_hand() -> None:
    ev = evaluate_multi(two_node("select"), SELECT)
    # md: u1 block 1, 2/s x 1e8 ops; es: u1 block 2 and branch 2 (2 x 2.4e8) + u2 block 1
    # and branch 1 (3 x 1.1e8): 8.1e8 of 4e9 op/s
    assert ev.node_utilization == pytest.approx({"md": 0.2, "es": 0.2025}, rel=REL)
    # md->es: u1's 500 B hand-over 2 x 4000 bit + u2's input 3 x 8000 bit = 32000 bit/s;
    # es->md: the results, 2 x 160 (exit 2, 20 B) + 3 x 80 (exit 1, 10 B) = 560 bit/s
    assert dict(ev.arc_utilization) == pytest.approx(
        {("md", "es"): 32000 / 8e6, ("es", "md"): 560 / 8e6}, rel=REL
    )
    assert ev.memory_bytes == {"md": 3e5, "es": 7e5}
    assert ev.max_node_utilization == pytest.approx(0.2025, rel=REL)
    assert ev.max_arc_utilization == pytest.approx(0.004, rel=REL)
    assert ev.feasible, ev.violations


def test_expected_loads_by_hand() -> None:
    ev = evaluate_multi(two_node("expected"), EXPECTED)
    # u1: md runs block 1 and branch 1 for every sample (2 x 1.1e8); es block 2
    # and branch 2 for 0.75 of them (2 x 0.75 x 2.4e8 = 3.6e8). u2: es runs
    # 3 x (1e8 + 1e7 + 0.75 x 2.4e8) = 8.7e8
    assert ev.node_utilization == pytest.approx({"md": 0.22, "es": 1.23e9 / 4e9}, rel=REL)
    # md->es: u1's hand-over 1 reaches block 2 for 0.75: 2 x 0.75 x 4000 = 6000, plus
    # u2's input 3 x 8000 = 24000. es->md: u1's final result 2 x 0.75 x 160 = 240;
    # u2's early result 3 x 0.25 x 80 = 60 and final result 3 x 0.75 x 160 = 360
    assert dict(ev.arc_utilization) == pytest.approx(
        {("md", "es"): 30000 / 8e6, ("es", "md"): 660 / 8e6}, rel=REL
    )
    assert ev.memory_bytes == {"md": 3e5, "es": 7e5}  # u1's a2 and u2's a2 share weights
    assert ev.feasible, ev.violations


def test_request_loads_per_inference() -> None:
    multi = two_node("expected")
    ops, bits = request_loads(multi.single("u2"), EXPECTED["u2"])
    assert ops == pytest.approx({"es": 2.9e8}, rel=REL)
    assert bits == pytest.approx({("md", "es"): 8000.0, ("es", "md"): 20.0 + 120.0}, rel=REL)


def test_a_route_crossing_an_arc_twice_loads_it_twice() -> None:
    detour = Placement(("es",), 1, (("md", "es", "md", "es"), ("es", "md")))
    placement = MultiPlacement((("u1", SELECT["u1"]), ("u2", detour)))
    ev = evaluate_multi(two_node("select"), placement)
    # u2's input crosses md->es twice and es->md once: 3 x 8000 bit each time
    assert ev.arc_utilization["md", "es"] == pytest.approx((8000 + 48000) / 8e6, rel=REL)
    assert ev.arc_utilization["es", "md"] == pytest.approx((320 + 24000 + 240) / 8e6, rel=REL)


# --- shared weights -------------------------------------------------------------------

ALL_ON_ES = MultiPlacement(
    tuple(
        (rid, Placement(("es", "es"), 2, (("md", "es"), ("es",), ("es", "md"))))
        for rid in ("u1", "u2")
    )
)


def test_same_dnn_on_one_node_holds_one_copy() -> None:
    ev = evaluate_multi(two_node("select", dnns=("a", "a")), ALL_ON_ES)
    assert ev.memory_bytes["es"] == 7e5
    assert ev.memory_bytes["md"] == 0.0
    assert ev.feasible, ev.violations


def test_two_dnns_on_one_node_hold_two_copies() -> None:
    ev = evaluate_multi(two_node("select", dnns=("a", "b")), ALL_ON_ES)
    assert ev.memory_bytes["es"] == 1.4e6
    # each request alone fits in 1 MB: only the shared check breaks
    assert all(single.feasible for _, single in ev.requests)
    assert ev.violations == ("node es: memory 1.4e+06 of 1e+06 bytes",)
    assert not ev.feasible


# --- violations -----------------------------------------------------------------------


def test_compute_load_violation() -> None:
    ev = evaluate_multi(two_node("select", max_utilization=0.201), SELECT)
    assert ev.violations == ("node es: compute load 0.2025 of capacity (limit 0.201)",)
    assert not ev.feasible
    assert ev.node_utilization["es"] == pytest.approx(0.2025, rel=REL)  # not divided by U


def test_link_load_violation() -> None:
    # at 40 kbit/s md->es carries 32000 bit/s: 0.8 of capacity, over U = 0.75
    ev = evaluate_multi(two_node("select", max_utilization=0.75, bandwidth_bps=4e4), SELECT)
    assert ev.violations == ("arc md->es: link load 0.8 of capacity (limit 0.75)",)


def test_limits_met_with_equality_are_feasible() -> None:
    assert evaluate_multi(two_node("select", max_utilization=0.2025), SELECT).feasible


def test_request_violation_is_prefixed() -> None:
    ev = evaluate_multi(two_node("select", deadline_s=0.1), SELECT)
    single = evaluate(two_node("select", deadline_s=0.1).single("u1"), SELECT["u1"])
    assert single.violations and not single.feasible
    assert ev.violations == tuple(f"request u1: {v}" for v in single.violations)
    assert ev.violations[0].startswith("request u1: latency 0.1605 s exceeds the deadline")


def test_missing_exit_routes_violation() -> None:
    bare = MultiPlacement((("u1", replace(EXPECTED["u1"], exit_routes=())), ("u2", EXPECTED["u2"])))
    ev = evaluate_multi(two_node("expected"), bare)
    assert ev.violations == ("request u1: exit_routes missing for exits after blocks 1",)
    # the single evaluator alone still accepts it (format 1 lets it choose the route)
    assert ev.evaluation("u1").feasible


@pytest.mark.parametrize(
    ("ids", "named"),
    [
        pytest.param(("u1",), "missing ['u2']", id="missing"),
        pytest.param(("u1", "u2", "u3"), "not in the instance ['u3']", id="extra"),
        pytest.param(("u1", "u2", "u2"), "given twice ['u2']", id="repeated"),
    ],
)
def test_request_ids_must_match(ids: tuple[str, ...], named: str) -> None:
    placement = MultiPlacement(tuple((rid, ALL_ON_ES["u1"]) for rid in ids))
    with pytest.raises(PlacementError, match=re.escape(named)):
        evaluate_multi(two_node("select"), placement)


def test_malformed_request_placement_names_the_request() -> None:
    broken = MultiPlacement((("u1", SELECT["u1"]), ("u2", Placement(("es",), 2, ((), None)))))
    with pytest.raises(PlacementError, match="request u2"):
        evaluate_multi(two_node("select"), broken)


# --- objective --------------------------------------------------------------------------

# u1 (exit 2, md then es): energy 0.2 + 0.5 + 0.1 + 0.004 + 0.00016 J, latency 0.1 +
# 0.05 + 0.01 + 5e-4 + 2e-5 s; u2 (exit 1 on es): energy 0.008 + 0.275 + 0.00008 J, latency 1e-3 +
# 0.0275 + 1e-5 s
E1, E2 = 0.80416, 0.28308
D1, D2 = 0.16052, 0.02851


def test_energy_objective_is_rate_weighted_power() -> None:
    ev = evaluate_multi(two_node("select", "energy"), SELECT)
    assert ev.evaluation("u1").energy_j == pytest.approx(E1, rel=1e-9)
    assert ev.evaluation("u2").energy_j == pytest.approx(E2, rel=1e-9)
    assert ev.objective == pytest.approx(2 * E1 + 3 * E2, rel=1e-9)  # 2.45756 W


def test_latency_objective_is_rate_weighted_mean() -> None:
    ev = evaluate_multi(two_node("select", "latency"), SELECT)
    assert ev.evaluation("u1").latency_s == pytest.approx(D1, rel=1e-9)
    assert ev.objective == pytest.approx((2 * D1 + 3 * D2) / 5, rel=1e-9)  # 0.081314 s


def test_objective_is_infinite_when_a_request_has_no_finite_figure() -> None:
    on_a_missing_arc = Placement(("es",), 1, (("md", "md", "es"), ("es", "md")))
    placement = MultiPlacement((("u1", SELECT["u1"]), ("u2", on_a_missing_arc)))
    ev = evaluate_multi(two_node("select"), placement)
    assert ev.objective == math.inf
    assert "request u2: route 0 uses md -> md, which is not a link" in ev.violations


def test_evaluation_of_unknown_request() -> None:
    with pytest.raises(KeyError):
        evaluate_multi(two_node("select"), SELECT).evaluation("nobody")


# --- one request with room to spare: the single evaluator's figures ---------------------

FIN_SPLIT = Placement(
    ("md", "es", "cs", "cs", "cs"),
    5,
    (("md",), ("md", "es"), ("es", "cs"), ("cs",), ("cs",), None),
)
DEVICE_ONLY = Placement(("md",) * 5, 5, (("md",),) * 5 + (None,))


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("placement", [FIN_SPLIT, DEVICE_ONLY], ids=["split", "device"])
def test_one_request_gives_the_single_figures(objective: Objective, placement: Placement) -> None:
    base = example_instance()
    one = replace(base, request=replace(base.request, objective=objective))
    multi = MultiInstance.from_single(one, rate_per_s=1.0)
    ev = evaluate_multi(multi, MultiPlacement((("r1", placement),)))
    single = evaluate(one, placement)
    assert ev.evaluation("r1") == single
    assert ev.objective == single.objective
    assert ev.feasible == single.feasible
    assert ev.violations == tuple(f"request r1: {v}" for v in single.violations)
    assert ev.max_node_utilization is not None and ev.max_node_utilization < 1


def test_one_request_latency_mean_is_exact_at_any_rate() -> None:
    base = example_instance()
    one = replace(base, request=replace(base.request, objective=Objective.LATENCY))
    multi = MultiInstance.from_single(one, rate_per_s=3.7)
    ev = evaluate_multi(multi, MultiPlacement((("r1", FIN_SPLIT),)))
    assert ev.objective == evaluate(one, FIN_SPLIT).latency_s


# --- exit_routes in the single evaluator ------------------------------------------------


def detour(objective: str, destination: str | None = "d", policy: str = "expected") -> Instance:
    """d - c direct (fast, 1 mJ/bit) or c - x - d (slow, free); exit 1 sends 10 B."""
    network = Network(
        nodes=(
            Node("d", "device", 1e9, power_w=2.0),
            Node("c", "cloud", 4e9, power_w=10.0),
            Node("x", "router", 0.0),
        ),
        links=(
            Link("c", "d", bandwidth_bps=8e6, energy_per_bit_j=1e-3),
            Link("c", "x", bandwidth_bps=8e3),
            Link("x", "d", bandwidth_bps=8e3),
        ),
    )
    dnn = DNN(
        "detour",
        input_bytes=100.0,
        blocks=(Block("b1", 1e9, 10.0), Block("b2", 1e9, 0.0)),
        exits=(Exit(1, 0.5, exit_probability=0.5, output_bytes=10.0), Exit(2, 0.9)),
    )
    request = Request(
        "d", Objective(objective), destination=destination, exit_policy=ExitPolicy(policy)
    )
    inst = Instance("detour", network, dnn, request)
    validate_instance(inst)
    return inst


ON_C = Placement(("c", "c"), 2, (("d", "c"), ("c",), ("c", "d")))


def test_given_exit_route_is_costed_instead_of_the_cheapest() -> None:
    inst = detour("latency")
    chosen = evaluate(inst, ON_C)  # the evaluator takes the fast direct link c->d
    given = evaluate(inst, replace(ON_C, exit_routes=((1, ("c", "x", "d")),)))
    # the free detour: energy drops by 0.5 x 80 bit x 1 mJ, latency rises by
    # 0.5 x (0.02 s - 1e-5 s)
    assert given.energy_j == pytest.approx(chosen.energy_j - 0.04, rel=REL)
    assert given.energy_j == pytest.approx(0.8 + 2.5 + 0.5 * 2.5, rel=REL)
    assert given.latency_s == pytest.approx(chosen.latency_s + 0.5 * (0.02 - 1e-5), rel=REL)
    assert given.feasible, given.violations


def test_giving_the_cheapest_exit_route_changes_nothing() -> None:
    inst = detour("energy")
    assert evaluate(inst, replace(ON_C, exit_routes=((1, ("c", "x", "d")),))) == evaluate(
        inst, ON_C
    )


NAME = "the exit route after block 1"


@pytest.mark.parametrize(
    ("route", "messages"),
    [
        pytest.param(("d",), (f"{NAME} runs d -> d; it must run c -> d",), id="start"),
        pytest.param(("c", "x"), (f"{NAME} runs c -> x; it must run c -> d",), id="end"),
        pytest.param(
            ("c", "c", "d"),
            (
                f"{NAME} uses c -> c, which is not a link",
                f"{NAME} visits a node twice; it must be a simple path",
            ),
            id="arc",
        ),
        pytest.param(
            ("c", "x", "c", "d"),
            (f"{NAME} visits a node twice; it must be a simple path",),
            id="not-simple",
        ),
    ],
)
def test_wrong_exit_route_is_a_violation(route: tuple[str, ...], messages: tuple[str, ...]) -> None:
    ev = evaluate(detour("energy"), replace(ON_C, exit_routes=((1, route),)))
    assert ev.violations == messages
    assert not ev.feasible


@pytest.mark.parametrize(
    ("inst", "placement", "message"),
    [
        pytest.param(
            detour("energy", destination=None),
            replace(ON_C, routes=(*ON_C.routes[:2], None), exit_routes=((1, ("c",)),)),
            "exit routes are given, but the request has no destination",
            id="no-destination",
        ),
        pytest.param(
            detour("energy", policy="select"),
            replace(ON_C, exit_routes=((1, ("c", "d")),)),
            "exit routes are given under the select policy (only the result route runs)",
            id="select",
        ),
        pytest.param(
            detour("energy"),
            replace(ON_C, exit_routes=((1, ("c", "d")), (2, ("c", "d")))),
            "the exit route after block 2 is for no early exit (early exits follow blocks [1])",
            id="final-exit",
        ),
    ],
)
def test_misplaced_exit_routes_are_violations(
    inst: Instance, placement: Placement, message: str
) -> None:
    ev = evaluate(inst, placement)
    assert ev.violations == (message,)


@pytest.mark.parametrize("route", [(), ("c", "moon", "d")], ids=["empty", "unknown-node"])
def test_malformed_exit_route_raises(route: tuple[str, ...]) -> None:
    with pytest.raises(PlacementError, match="exit route after block 1"):
        evaluate(detour("energy"), replace(ON_C, exit_routes=((1, route),)))


# --- property: the objective combines the single evaluations ----------------------------


def multi_of(seed: int, rates: list[float]) -> tuple[MultiInstance, MultiPlacement]:
    """Three requests on a random tiny instance: two of its DNN, one of a renamed copy
    with twice the ops; random placements, with random exit routes when they apply."""
    inst = random_instance(seed)
    other = replace(scaled_block_ops(inst, 2.0).dnn, name="other")
    dnns = (inst.dnn.name, inst.dnn.name, "other")
    requests = tuple(
        MultiRequest(f"r{i}", name, rate, inst.request)
        for i, (name, rate) in enumerate(zip(dnns, rates, strict=True))
    )
    multi = MultiInstance(
        "prop", inst.network, (inst.dnn, other), requests, inst.request.objective, 0.5
    )
    rng = np.random.default_rng(seed + 1)
    placements = []
    for req, single in multi.singles():
        placement = random_placement(single, rng)
        destination = single.request.destination
        if single.request.exit_policy is ExitPolicy.EXPECTED and destination is not None:
            exit_routes = []
            for ex in single.dnn.exits[:-1]:
                start = placement.blocks[ex.after_block - 1]
                route = random_route(rng, single.network, start, destination)
                if rng.random() < 0.8:  # sometimes missing: a violation, costed all the same
                    exit_routes.append((ex.after_block, route))
            placement = replace(placement, exit_routes=tuple(exit_routes))
        placements.append((req.id, placement))
    return multi, MultiPlacement(tuple(placements))


RATES = st.lists(st.floats(0.1, 100.0), min_size=3, max_size=3)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rates=RATES)
def test_objective_combines_the_single_evaluations(seed: int, rates: list[float]) -> None:
    multi, placement = multi_of(seed, rates)
    ev = evaluate_multi(multi, placement)
    singles = [evaluate(multi.single(rid), placement[rid]) for rid in multi.request_ids]
    assert [e for _, e in ev.requests] == singles
    values = [s.objective for s in singles]
    if not all(math.isfinite(v) for v in values):
        assert ev.objective == math.inf
    elif multi.objective is Objective.ENERGY:
        assert ev.objective == pytest.approx(
            sum(r * v for r, v in zip(rates, values, strict=True)), rel=1e-9
        )
    else:
        mean = sum(r * v for r, v in zip(rates, values, strict=True)) / sum(rates)
        assert ev.objective == pytest.approx(mean, rel=1e-9)
    if ev.feasible:
        assert all(s.feasible for s in singles)
    assert isinstance(ev, MultiEvaluation)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rates=RATES)
def test_loads_scale_with_the_rates(seed: int, rates: list[float]) -> None:
    multi, placement = multi_of(seed, rates)
    doubled = replace(
        multi, requests=tuple(replace(r, rate_per_s=2 * r.rate_per_s) for r in multi.requests)
    )
    ev, ev2 = evaluate_multi(multi, placement), evaluate_multi(doubled, placement)
    assert ev2.node_utilization == pytest.approx({k: 2 * v for k, v in ev.node_utilization.items()})
    assert dict(ev2.arc_utilization) == pytest.approx(
        {k: 2 * v for k, v in ev.arc_utilization.items()}
    )
    assert ev2.memory_bytes == ev.memory_bytes
