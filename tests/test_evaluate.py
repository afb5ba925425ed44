"""The evaluator: the FIN scenario numbers, hand-computed cases, violations, malformed input.

The hand-computed instance (``hand_instance``) has round numbers so that every term
of MODEL.md section 2 can be followed on paper:

- nodes ``d`` (device, 1e9 op/s, 2 W) and ``c`` (cloud, 4e9 op/s, 10 W);
- one undirected link d-c: 8000 bit/s (1 ms per byte), 10 ms delay, 1 mJ per bit;
- blocks 1e9, 2e9, 4e9 ops with outputs 100, 50, 20 bytes; input 200 bytes;
- exits after block 1 (accuracy 0.5, share 0.4, 1e8 branch ops, 10-byte result) and
  after block 3 (accuracy 0.9, 5-byte result).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from splitbench.errors import PlacementError
from splitbench.evaluate import evaluate
from splitbench.instance import (
    DNN,
    Block,
    Exit,
    ExitPolicy,
    Instance,
    Link,
    Network,
    Node,
    Objective,
    Request,
    validate_instance,
)
from splitbench.placement import Placement

REL = 1e-9


def hand_instance(
    *,
    policy: str = "expected",
    objective: str = "energy",
    destination: str | None = "d",
    first_share: float = 0.4,
) -> Instance:
    network = Network(
        nodes=(Node("d", "device", 1e9, power_w=2.0), Node("c", "cloud", 4e9, power_w=10.0)),
        links=(Link("d", "c", bandwidth_bps=8000.0, delay_s=0.01, energy_per_bit_j=1e-3),),
    )
    dnn = DNN(
        "hand",
        input_bytes=200.0,
        blocks=(Block("b1", 1e9, 100.0), Block("b2", 2e9, 50.0), Block("b3", 4e9, 20.0)),
        exits=(
            Exit(1, accuracy=0.5, ops=1e8, exit_probability=first_share, output_bytes=10.0),
            Exit(3, accuracy=0.9, output_bytes=5.0),
        ),
    )
    request = Request(
        source="d",
        objective=Objective(objective),
        destination=destination,
        exit_policy=ExitPolicy(policy),
    )
    instance = Instance("hand", network, dnn, request)
    validate_instance(instance)
    return instance


# --- the FIN scenario (MODEL.md section 6) -------------------------------------------

FIN_BLOCK_OPS = (22.62e9, 6.711e9, 10.145e9, 19.201e9, 13.523e9)


def test_fin_all_on_device(example: Instance) -> None:
    placement = Placement(("md",) * 5, 5, (("md",),) * 5 + (None,))
    ev = evaluate(example, placement)
    assert ev.latency_s == pytest.approx(6.564e-3, rel=1e-3)
    assert ev.latency_s == pytest.approx(sum(FIN_BLOCK_OPS) / 11e12, rel=1e-12)
    assert round(ev.energy_j, 4) == 0.0394
    assert ev.energy_j == pytest.approx(6.0 * sum(FIN_BLOCK_OPS) / 11e12, rel=1e-12)
    assert ev.objective == ev.energy_j  # the example minimises energy
    assert ev.accuracy == pytest.approx(0.8595)
    # 6.56 ms breaks the 5 ms deadline, and nothing else
    assert not ev.feasible
    assert len(ev.violations) == 1 and "deadline" in ev.violations[0]


def test_fin_md_es_cs_cs_cs(example: Instance) -> None:
    placement = Placement(
        ("md", "es", "cs", "cs", "cs"),
        5,
        (("md",), ("md", "es"), ("es", "cs"), ("cs",), ("cs",), None),
    )
    ev = evaluate(example, placement)
    assert round(ev.energy_j, 3) == 0.199  # the published figure, to its 3 digits
    compute = (
        6.0 * 22.62e9 / 11e12
        + 140.0 * 6.711e9 / 153.4e12
        + 400.0 * (10.145e9 + 19.201e9 + 13.523e9) / 312e12
    )
    transfer = 8 * 27 * 27 * 256 * (30e-9 + 37e-9) + 8 * 13 * 13 * 384 * (37e-9 + 12.6e-9)
    assert ev.energy_j == pytest.approx(compute + transfer, rel=1e-9)
    assert ev.feasible, ev.violations


# --- hand-computed cases ---------------------------------------------------------------


def test_select_early_exit_by_hand() -> None:
    inst = hand_instance(policy="select", destination="d")
    ev = evaluate(inst, Placement(("c",), 1, (("d", "c"), ("c", "d"))))
    # input d->c: 200 B = 0.2 s + 0.01 s, 1.6 J; block 1 on c: 0.25 s, 2.5 J;
    # branch on c: 0.025 s, 0.25 J; result c->d: 10 B = 0.01 s + 0.01 s, 0.08 J
    assert ev.latency_s == pytest.approx(0.21 + 0.25 + 0.025 + 0.02, rel=REL)
    assert ev.energy_j == pytest.approx(1.6 + 2.5 + 0.25 + 0.08, rel=REL)
    assert ev.deadline_latency_s == pytest.approx(ev.latency_s, rel=REL)
    assert ev.accuracy == 0.5
    assert ev.objective == ev.energy_j
    assert ev.feasible


def test_select_final_exit_skips_early_branch() -> None:
    inst = hand_instance(policy="select", objective="latency", destination="d")
    placement = Placement(("d", "c", "c"), 3, (("d",), ("d", "c"), ("c",), ("c", "d")))
    ev = evaluate(inst, placement)
    # under select the branch of exit 1 does not run: 1 + 0.11 + 0.5 + 1 + 0.015
    assert ev.latency_s == pytest.approx(2.625, rel=REL)
    assert ev.energy_j == pytest.approx(2 + 0.8 + 5 + 10 + 0.04, rel=REL)
    assert ev.objective == ev.latency_s
    assert ev.accuracy == 0.9


def test_expected_policy_by_hand_result_back_to_source() -> None:
    inst = hand_instance(policy="expected", destination="d")
    placement = Placement(("d", "c", "c"), 3, (("d",), ("d", "c"), ("c",), ("c", "d")))
    ev = evaluate(inst, placement)
    # q = (1, 0.6, 0.6), pi = (0.4, 0.6); the early result is already at d
    expected_latency = 1.0 + 0.6 * (0.5 + 0.11) + 0.6 * 1.0 + 1.0 * 0.1 + 0.6 * 0.015
    expected_energy = 2.0 + 0.6 * (5.0 + 0.8) + 0.6 * 10.0 + 1.0 * 0.2 + 0.6 * 0.04
    assert ev.latency_s == pytest.approx(expected_latency, rel=REL)  # 2.075
    assert ev.energy_j == pytest.approx(expected_energy, rel=REL)  # 11.704
    assert ev.objective == ev.energy_j
    # full depth: every block, every branch, the final result route
    assert ev.deadline_latency_s == pytest.approx(1 + 0.11 + 0.5 + 1 + 0.1 + 0.015, rel=REL)
    assert ev.accuracy == pytest.approx(0.4 * 0.5 + 0.6 * 0.9, rel=REL)
    assert ev.feasible


def test_expected_policy_by_hand_early_result_travels() -> None:
    inst = hand_instance(policy="expected", objective="latency", destination="d")
    placement = Placement(("c", "c", "c"), 3, (("d", "c"), ("c",), ("c",), ("c", "d")))
    ev = evaluate(inst, placement)
    # block 1 on c with its branch; the early result (10 B) goes back c->d (0.02 s, 0.08 J)
    expected_latency = (0.21 + 0.25) + 0.6 * 0.5 + 0.6 * 1.0 + 0.025 + 0.4 * 0.02 + 0.6 * 0.015
    expected_energy = (1.6 + 2.5) + 0.6 * 5.0 + 0.6 * 10.0 + 0.25 + 0.4 * 0.08 + 0.6 * 0.04
    assert ev.latency_s == pytest.approx(expected_latency, rel=REL)  # 1.402
    assert ev.energy_j == pytest.approx(expected_energy, rel=REL)  # 13.406
    assert ev.objective == ev.latency_s
    assert ev.deadline_latency_s == pytest.approx(0.46 + 0.5 + 1.0 + 0.025 + 0.015, rel=REL)
    assert ev.accuracy == pytest.approx(0.74, rel=REL)


def test_expected_policy_by_hand_destination_elsewhere() -> None:
    inst = hand_instance(policy="expected", destination="c")
    placement = Placement(("d", "c", "c"), 3, (("d",), ("d", "c"), ("c",), ("c",)))
    ev = evaluate(inst, placement)
    expected_latency = 1.0 + 0.6 * 0.61 + 0.6 * 1.0 + 0.1 + 0.4 * 0.02
    expected_energy = 2.0 + 0.6 * 5.8 + 0.6 * 10.0 + 0.2 + 0.4 * 0.08
    assert ev.latency_s == pytest.approx(expected_latency, rel=REL)  # 2.074
    assert ev.energy_j == pytest.approx(expected_energy, rel=REL)  # 11.712
    assert ev.deadline_latency_s == pytest.approx(1 + 0.61 + 1 + 0.1, rel=REL)


def test_expected_policy_without_destination_has_no_result_routes() -> None:
    inst = hand_instance(policy="expected", destination=None)
    placement = Placement(("d", "c", "c"), 3, (("d",), ("d", "c"), ("c",), None))
    ev = evaluate(inst, placement)
    assert ev.latency_s == pytest.approx(1.0 + 0.6 * 0.61 + 0.6 * 1.0 + 0.1, rel=REL)
    assert ev.deadline_latency_s == pytest.approx(1 + 0.61 + 1 + 0.1, rel=REL)


@pytest.mark.parametrize(
    ("objective", "expected_latency", "expected_energy"),
    [
        # the early result takes the slow, free detour c-x-d: 0.5 * 0.02 s, 0 J
        ("energy", 1e-4 + 0.25 + 0.5 * 0.25 + 0.5 * 0.02, 0.8 + 2.5 + 0.5 * 2.5),
        # it takes the fast, costly direct link c-d: 0.5 * 1e-5 s, 0.5 * 0.08 J
        ("latency", 1e-4 + 0.25 + 0.5 * 0.25 + 0.5 * 1e-5, 0.8 + 2.5 + 0.5 * 2.5 + 0.5 * 0.08),
    ],
)
def test_early_result_takes_the_route_cheapest_for_the_objective(
    objective: str, expected_latency: float, expected_energy: float
) -> None:
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
    request = Request("d", Objective(objective), destination="d", exit_policy=ExitPolicy.EXPECTED)
    inst = Instance("detour", network, dnn, request)
    validate_instance(inst)
    ev = evaluate(inst, Placement(("c", "c"), 2, (("d", "c"), ("c",), ("c", "d"))))
    assert ev.latency_s == pytest.approx(expected_latency, rel=REL)
    assert ev.energy_j == pytest.approx(expected_energy, rel=REL)
    assert ev.feasible


def test_deadline_binds_full_depth_under_expected_policy() -> None:
    inst = hand_instance(policy="expected", destination="d")
    inst = replace(inst, request=replace(inst.request, deadline_s=2.5))
    placement = Placement(("d", "c", "c"), 3, (("d",), ("d", "c"), ("c",), ("c", "d")))
    ev = evaluate(inst, placement)
    # expected latency 2.075 <= 2.5 but the full depth 2.725 > 2.5
    assert ev.latency_s < 2.5 < ev.deadline_latency_s
    assert not ev.feasible
    assert any("deadline" in v for v in ev.violations)


def test_limits_met_with_equality_are_feasible() -> None:
    inst = hand_instance(policy="select", destination="d")
    placement = Placement(("c",), 1, (("d", "c"), ("c", "d")))
    latency = evaluate(inst, placement).latency_s
    tight = replace(inst, request=replace(inst.request, deadline_s=latency, min_accuracy=0.5))
    assert evaluate(tight, placement).feasible


def test_zero_share_of_a_broken_block_is_not_nan() -> None:
    """An unreachable block (share 0) on a broken route must not give NaN costs."""
    inst = hand_instance(policy="expected", destination=None, first_share=1.0)
    # hand-over 1 uses the arc d->d, which does not exist: infinite cost times share 0
    placement = Placement(("d", "c", "c"), 3, (("d",), ("d", "d", "c"), ("c",), None))
    ev = evaluate(inst, placement)
    assert not ev.feasible
    assert not math.isnan(ev.latency_s), ev
    assert not math.isnan(ev.energy_j), ev
    assert not math.isnan(ev.objective), ev


# --- violations ------------------------------------------------------------------------


def rules_instance(**request: object) -> Instance:
    """dev - rtr - {edge, cld}, edge - cld; edge holds 1.5 MB; block 2 may use edge or cld."""
    network = Network(
        nodes=(
            Node("dev", "device", 1e9, power_w=2.0),
            Node("rtr", "router", 0.0),
            Node("edge", "edge", 2e9, power_w=20.0, memory_bytes=1.5e6),
            Node("cld", "cloud", 4e9, power_w=50.0),
        ),
        links=(
            Link("dev", "rtr", 1e6),
            Link("rtr", "edge", 1e7),
            Link("rtr", "cld", 1e7),
            Link("edge", "cld", 1e8),
        ),
    )
    dnn = DNN(
        "rules",
        1000.0,
        tuple(Block(f"b{i}", 1e8, 500.0, memory_bytes=1e6) for i in (1, 2, 3)),
        (Exit(1, accuracy=0.5), Exit(3, accuracy=0.9)),
    )
    defaults: dict[str, object] = {
        "source": "dev",
        "objective": Objective.LATENCY,
        "tier_order": ("device", "edge", "cloud"),
        "allowed_nodes": ((2, ("edge", "cld")),),
    }
    defaults.update(request)
    instance = Instance("rules", network, dnn, Request(**defaults))  # type: ignore[arg-type]
    validate_instance(instance)
    return instance


GOOD = Placement(
    ("dev", "edge", "cld"), 3, (("dev",), ("dev", "rtr", "edge"), ("edge", "cld"), None)
)


def test_reference_placement_is_feasible() -> None:
    ev = evaluate(rules_instance(), GOOD)
    assert ev.feasible and ev.violations == ()


@pytest.mark.parametrize(
    ("placement", "request_changes", "keyword"),
    [
        pytest.param(
            Placement(
                ("dev", "edge", "rtr"), 3, (("dev",), ("dev", "rtr", "edge"), ("edge", "rtr"), None)
            ),
            {"tier_order": None},
            "cannot compute",
            id="block-on-router",
        ),
        pytest.param(
            Placement(("dev", "dev", "cld"), 3, (("dev",), ("dev",), ("dev", "rtr", "cld"), None)),
            {},
            "allowed",
            id="disallowed-node",
        ),
        pytest.param(
            Placement(
                ("dev", "cld", "edge"), 3, (("dev",), ("dev", "rtr", "cld"), ("cld", "edge"), None)
            ),
            {},
            "tier",
            id="tier-order-down",
        ),
        pytest.param(
            Placement(
                ("dev", "edge", "cld"), 3, (("dev",), ("dev", "rtr", "edge"), ("edge", "cld"), None)
            ),
            {"tier_order": ("device", "cloud")},
            "tier",
            id="tier-not-listed",
        ),
        pytest.param(
            Placement(
                ("dev", "edge", "edge"), 3, (("dev",), ("dev", "rtr", "edge"), ("edge",), None)
            ),
            {},
            "memory",
            id="memory-exceeded",
        ),
        pytest.param(GOOD, {"deadline_s": 1e-4}, "deadline", id="deadline-exceeded"),
        pytest.param(
            Placement(("dev",), 1, (("dev",), None)),
            {"min_accuracy": 0.8},
            "accuracy",
            id="accuracy-below-minimum",
        ),
        pytest.param(
            Placement(
                ("dev", "edge", "cld"), 3, (("dev",), ("dev", "edge"), ("edge", "cld"), None)
            ),
            {},
            "not a link",
            id="route-missing-arc",
        ),
        pytest.param(
            Placement(("dev", "edge", "cld"), 3, (("dev",), ("dev", "rtr"), ("edge", "cld"), None)),
            {},
            "must run",
            id="route-wrong-end",
        ),
        pytest.param(
            Placement(
                ("dev", "edge", "cld"),
                3,
                (("rtr", "dev"), ("dev", "rtr", "edge"), ("edge", "cld"), None),
            ),
            {},
            "must run",
            id="route-wrong-start",
        ),
        pytest.param(
            Placement(
                ("dev", "edge", "cld"),
                3,
                (("dev",), ("dev", "rtr", "edge"), ("edge", "cld"), ("cld", "rtr")),
            ),
            {"destination": "dev"},
            "must run",
            id="result-route-wrong-end",
        ),
    ],
)
def test_one_broken_rule_one_violation(
    placement: Placement, request_changes: dict[str, object], keyword: str
) -> None:
    ev = evaluate(rules_instance(**request_changes), placement)
    assert not ev.feasible
    assert len(ev.violations) == 1, ev.violations
    assert keyword in ev.violations[0]


def test_block_on_router_costs_infinity() -> None:
    placement = Placement(
        ("dev", "edge", "rtr"), 3, (("dev",), ("dev", "rtr", "edge"), ("edge", "rtr"), None)
    )
    ev = evaluate(rules_instance(tier_order=None), placement)
    assert ev.latency_s == math.inf


def test_violations_accumulate() -> None:
    placement = Placement(("dev", "dev", "edge"), 3, (("dev",), ("dev",), ("dev", "edge"), None))
    ev = evaluate(rules_instance(deadline_s=10.0, min_accuracy=0.95), placement)
    text = " | ".join(ev.violations)
    for keyword in ("allowed", "not a link", "deadline", "accuracy"):
        assert keyword in text
    assert len(ev.violations) == 4


# --- malformed placements ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("placement", "destination"),
    [
        pytest.param(Placement(("dev", "edge"), 3, GOOD.routes), None, id="too-few-blocks"),
        pytest.param(
            Placement(("dev", "edge", "cld", "cld"), 3, GOOD.routes), None, id="too-many-blocks"
        ),
        pytest.param(Placement(GOOD.blocks, 3, GOOD.routes[:3]), None, id="too-few-routes"),
        pytest.param(Placement(GOOD.blocks, 3, (*GOOD.routes, None)), None, id="too-many-routes"),
        pytest.param(
            Placement(("dev", "edge", "moon"), 3, GOOD.routes), None, id="unknown-block-node"
        ),
        pytest.param(
            Placement(GOOD.blocks, 3, (("dev",), ("dev", "moon", "edge"), ("edge", "cld"), None)),
            None,
            id="unknown-route-node",
        ),
        pytest.param(Placement(("dev", "edge"), 2, GOOD.routes[:3]), None, id="exit-not-an-exit"),
        pytest.param(Placement((), 0, (None,)), None, id="exit-zero"),
        pytest.param(
            Placement(GOOD.blocks, 3, (("dev",), None, ("edge", "cld"), None)),
            None,
            id="null-route-in-the-middle",
        ),
        pytest.param(
            Placement(GOOD.blocks, 3, (("dev",), (), ("edge", "cld"), None)), None, id="empty-route"
        ),
        pytest.param(
            Placement(GOOD.blocks, 3, (*GOOD.routes[:3], ("cld",))),
            None,
            id="result-route-without-destination",
        ),
        pytest.param(GOOD, "dev", id="null-result-route-with-destination"),
    ],
)
def test_malformed_placement_raises(placement: Placement, destination: str | None) -> None:
    with pytest.raises(PlacementError):
        evaluate(rules_instance(destination=destination), placement)


def test_expected_policy_needs_the_final_exit() -> None:
    inst = hand_instance(policy="expected", destination=None)
    with pytest.raises(PlacementError):
        evaluate(inst, Placement(("d",), 1, (("d",), None)))


def test_placement_json_round_trip() -> None:
    data = GOOD.to_dict()
    assert data == {
        "blocks": ["dev", "edge", "cld"],
        "exit": 3,
        "routes": [["dev"], ["dev", "rtr", "edge"], ["edge", "cld"], None],
    }
    assert Placement.from_dict(data) == GOOD
    with pytest.raises(PlacementError):
        Placement.from_dict({"blocks": ["dev"], "routes": [["dev"], None]})
    with pytest.raises(PlacementError):
        Placement.from_dict({"blocks": ["dev"], "exit": True, "routes": [["dev"], None]})
