"""The format-2 families: determinism, counts, the load rule, bad parameters, and that
shared capacity binds (MULTI.md).

Loads are computed here from MULTI.md's rule, not with the package's helpers: the
ops one inference runs on a node, and 8 x bytes over every arc of a hand-over route.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import pytest

from splitbench.errors import InstanceError, UsageError
from splitbench.families import FAMILIES, Family, generate, register_family
from splitbench.instance import (
    DNN,
    MultiInstance,
    MultiRequest,
    Request,
    example_instance,
    validate_instance,
)
from splitbench.methods import solve
from splitbench.placement import Placement

MULTI = ("multi-tiered", "multi-topohub", "fin-multi")

SMALL: dict[str, dict[str, Any]] = {
    "multi-tiered": {"n_blocks": 3, "devices": 2, "edges": 1, "clouds": 1, "users_per_device": 2},
    "multi-topohub": {"topology": "polska", "requests": 5, "n_blocks": 3},
    "fin-multi": {"users": 2, "rate_spread": 0.2},
}
"""Small parameters under which every family's instance depends on the seed."""

LOAD_CASES = [
    ("multi-tiered", SMALL["multi-tiered"]),
    ("multi-tiered", {"models": "b-lenet,vgg16,b-resnet", "users_per_device": 3, "load": 0.3}),
    ("multi-tiered", {"exit_policy": "expected", "max_utilization": 0.5, "load": 2.0}),
    ("multi-topohub", SMALL["multi-topohub"]),
    ("multi-topohub", {"models": "b-alexnet,alexnet", "exit_policy": "expected", "load": 1.5}),
]


def _reach(dnn: DNN) -> list[float]:
    """q_l: the share of samples reaching block l (expected policy), from the exits."""
    q, left = [], 1.0
    for index in range(1, dnn.n_blocks + 1):
        q.append(left)
        left -= sum(ex.exit_probability or 0.0 for ex in dnn.exits[:-1] if ex.after_block == index)
    return q


def _ops_alone(dnn: DNN, policy: str) -> float:
    """The ops one inference puts on a node that runs all of ``dnn`` (MULTI.md)."""
    if policy == "select":
        return sum(block.ops for block in dnn.blocks) + dnn.exits[-1].ops
    q = _reach(dnn)
    blocks = sum(qi * block.ops for qi, block in zip(q, dnn.blocks, strict=True))
    return blocks + sum(q[ex.after_block - 1] * ex.ops for ex in dnn.exits)


def _loads(
    inst: MultiInstance, placements: Mapping[str, Placement]
) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """Compute load of every node and link load of every arc: the requests of
    ``placements`` (select policy) at their rates."""
    nodes: dict[str, float] = defaultdict(float)
    arcs: dict[tuple[str, str], float] = defaultdict(float)
    for rid, place in placements.items():
        req = inst.request(rid)
        assert req.request.exit_policy.value == "select"
        dnn, rate = inst.dnn(req.dnn), req.rate_per_s
        for index, node in enumerate(place.blocks, 1):
            nodes[node] += rate * dnn.blocks[index - 1].ops
        nodes[place.blocks[-1]] += rate * dnn.exit_at(place.exit).ops
        for k, route in enumerate(place.routes):
            size = dnn.handover_bytes(k) if k < place.exit else dnn.exit_at(place.exit).output_bytes
            for u, v in itertools.pairwise(route or ()):
                arcs[(u, v)] += rate * 8 * size
    return nodes, arcs


def _utilisation(inst: MultiInstance, placements: Mapping[str, Placement]) -> dict[str, float]:
    """Load over usable capacity, by node id and by arc ``u->v``."""
    nodes, arcs = _loads(inst, placements)
    u, arc_map = inst.max_utilization, inst.network.arc_map
    out = {n: load / (u * inst.network.node(n).ops_per_s) for n, load in nodes.items()}
    out.update(
        {f"{a}->{b}": load / (u * arc_map[(a, b)].bandwidth_bps) for (a, b), load in arcs.items()}
    )
    return out


def _overloaded(inst: MultiInstance, placements: Mapping[str, Placement]) -> list[str]:
    return [key for key, share in _utilisation(inst, placements).items() if share > 1]


def _overloaded_by_sharing(inst: MultiInstance, placements: Mapping[str, Placement]) -> list[str]:
    """Resources the requests overload together although each alone fits."""
    alone = [_utilisation(inst, {rid: place}) for rid, place in placements.items()]
    return [
        key
        for key in _overloaded(inst, placements)
        if all(share.get(key, 0.0) <= 1 for share in alone)
    ]


def _alone(inst: MultiInstance) -> dict[str, Placement]:
    """Each request's optimum placed alone (no load limits)."""
    out = {}
    for req, single in inst.singles():
        sol = solve(single, "label-setting")
        assert sol.feasible and isinstance(sol.placement, Placement), req.id
        out[req.id] = sol.placement
    return out


def _multi(name: str, params: Mapping[str, Any] | None = None, seed: int = 0) -> MultiInstance:
    inst = generate(name, params, seed=seed)
    assert isinstance(inst, MultiInstance)
    return inst


def test_the_families_are_registered() -> None:
    assert set(MULTI) <= set(FAMILIES)
    for name in MULTI:
        assert "load" in FAMILIES.get(name).params or name == "fin-multi"


@pytest.mark.parametrize("name", MULTI)
def test_same_seed_same_instance(name: str) -> None:
    a = _multi(name, SMALL[name], seed=7)
    b = _multi(name, {k: str(v) for k, v in SMALL[name].items()}, seed=7)
    assert a == b


@pytest.mark.parametrize("name", MULTI)
def test_seed_changes_more_than_the_name(name: str) -> None:
    found = [dataclasses.replace(_multi(name, SMALL[name], seed=s), name="x") for s in range(3)]
    assert found[0] != found[1] and found[1] != found[2] and found[0] != found[2]


def test_fin_multi_without_spread_ignores_the_seed() -> None:
    a, b = _multi("fin-multi", {"users": 2}, seed=0), _multi("fin-multi", {"users": 2}, seed=9)
    assert a == b and "-s" not in a.name


@pytest.mark.parametrize(("devices", "edges", "clouds", "users"), [(1, 1, 0, 1), (3, 2, 2, 3)])
def test_multi_tiered_counts(devices: int, edges: int, clouds: int, users: int) -> None:
    params = {"devices": devices, "edges": edges, "clouds": clouds, "users_per_device": users}
    inst = _multi("multi-tiered", {**params, "models": "b-lenet,alexnet,b-resnet"})
    tiers = [node.tier for node in inst.network.nodes]
    assert (tiers.count("device"), tiers.count("edge"), tiers.count("cloud")) == (
        devices,
        edges,
        clouds,
    )
    assert len(inst.requests) == devices * users
    used = ["b-lenet", "alexnet", "b-resnet"][: devices * users]
    assert [d.name for d in inst.dnns] == used
    for j, req in enumerate(inst.requests):
        assert req.dnn == used[j % 3] and req.id == f"u{j + 1}-{req.dnn}"
        assert req.request.source == f"device{j // users}"
    if "alexnet" in used:
        assert inst.dnn("alexnet").n_blocks == 6


def test_multi_topohub_counts_and_endpoints() -> None:
    inst = _multi("multi-topohub", {"topology": "polska", "requests": 7, "models": "vgg16"})
    ids = {node.id for node in inst.network.nodes}
    assert len(ids) == 12 and {node.tier for node in inst.network.nodes} <= {"edge", "cloud"}
    assert len(inst.requests) == 7 and [d.name for d in inst.dnns] == ["vgg16"]
    assert all(r.request.source in ids and r.request.destination is None for r in inst.requests)
    both = _multi("multi-topohub", {"topology": "polska", "requests": 40, "destinations": True})
    assert all(r.request.destination in ids for r in both.requests)
    assert len({r.request.source for r in both.requests}) > 1
    assert len({r.request.destination for r in both.requests}) > 1


def test_fin_multi_counts_and_network() -> None:
    inst = _multi("fin-multi", {"users": 3, "dnns": "b-lenet,b-resnet"})
    assert [d.name for d in inst.dnns] == ["b-lenet", "b-resnet"]
    assert inst.request_ids == tuple(
        f"u{i}-{d}" for i, d in enumerate(["b-lenet"] * 3 + ["b-resnet"] * 3, 1)
    )
    assert [n.id for n in inst.network.nodes] == [f"md{i}" for i in range(1, 7)] + ["es", "cs"]
    expected_arcs = {(f"md{i}", t) for i in range(1, 7) for t in ("es", "cs")} | {("es", "cs")}
    assert set(inst.network.arc_map) == expected_arcs
    for i, req in enumerate(inst.requests, 1):
        assert req.request.source == f"md{i}" and req.request.allowed_for(1) == frozenset(
            {f"md{i}"}
        )
        assert req.request.tier_order == ("device", "edge", "cloud")
    default = _multi("fin-multi")
    assert len(default.requests) == 36 and len(default.network.nodes) == 38
    assert default.objective.value == "energy"
    assert {(r.request.deadline_s, r.request.min_accuracy) for r in default.requests} == {
        (0.005, 0.8)
    }


@pytest.mark.parametrize("name", MULTI)
def test_names_are_unique_and_rates_positive(name: str) -> None:
    for params in (SMALL[name], {}):
        inst = _multi(name, params, seed=3)
        assert len(set(inst.request_ids)) == len(inst.requests)
        assert len({d.name for d in inst.dnns}) == len(inst.dnns)
        assert len({n.id for n in inst.network.nodes}) == len(inst.network.nodes)
        assert {r.dnn for r in inst.requests} == {d.name for d in inst.dnns}
        assert all(r.rate_per_s > 0 and math.isfinite(r.rate_per_s) for r in inst.requests)


@pytest.mark.parametrize(("name", "params"), LOAD_CASES)
def test_load_rule_gives_the_stated_total_load(name: str, params: dict[str, Any]) -> None:
    inst = _multi(name, params, seed=2)
    values = {"load": 0.8, "max_utilization": 1.0, "exit_policy": "select", **params}
    capacity = sum(n.ops_per_s for n in inst.network.nodes if n.tier in ("edge", "cloud"))
    total = sum(
        r.rate_per_s * _ops_alone(inst.dnn(r.dnn), values["exit_policy"]) for r in inst.requests
    )
    assert total == pytest.approx(values["load"] * values["max_utilization"] * capacity, rel=1e-12)
    assert len({r.rate_per_s for r in inst.requests}) == 1
    assert inst.max_utilization == values["max_utilization"]


def test_fin_multi_rates() -> None:
    plain = _multi("fin-multi", {"users": 2, "rate_per_s": 50})
    assert {r.rate_per_s for r in plain.requests} == {50.0}
    spread = _multi("fin-multi", {"users": 4, "rate_per_s": 50, "rate_spread": 0.3}, seed=1)
    rates = [r.rate_per_s for r in spread.requests]
    assert all(35.0 <= rate <= 65.0 for rate in rates) and len(set(rates)) == len(rates)


@pytest.mark.parametrize(
    ("name", "params", "key"),
    [
        ("multi-tiered", {"models": "alexnet,resnet"}, "models"),
        ("multi-tiered", {"models": "alexnet,alexnet"}, "models"),
        ("multi-tiered", {"models": "alexnet,,vgg16"}, "models"),
        ("multi-tiered", {"n_blocks": 0}, "n_blocks"),
        ("multi-tiered", {"devices": 0}, "devices"),
        ("multi-tiered", {"edges": 0}, "edges"),
        ("multi-tiered", {"clouds": 101}, "clouds"),
        ("multi-tiered", {"users_per_device": 0}, "users_per_device"),
        ("multi-tiered", {"devices": 1000, "users_per_device": 11}, "devices"),
        ("multi-tiered", {"load": 0}, "load"),
        ("multi-tiered", {"load": "nan"}, "load"),
        ("multi-tiered", {"load": 11}, "load"),
        ("multi-tiered", {"max_utilization": 0}, "max_utilization"),
        ("multi-tiered", {"max_utilization": 1.5}, "max_utilization"),
        ("multi-tiered", {"objective": "cost"}, "objective"),
        ("multi-topohub", {"requests": 0}, "requests"),
        ("multi-topohub", {"requests": 10**5}, "requests"),
        ("multi-topohub", {"models": "inception_v3"}, "models"),
        ("multi-topohub", {"load": -1}, "load"),
        ("multi-topohub", {"max_utilization": "inf"}, "max_utilization"),
        ("fin-multi", {"dnns": "alexnet"}, "dnns"),
        ("fin-multi", {"dnns": "b-lenet,b-lenet"}, "dnns"),
        ("fin-multi", {"users": 0}, "users"),
        ("fin-multi", {"users": 1001}, "users"),
        ("fin-multi", {"rate_per_s": 0}, "rate_per_s"),
        ("fin-multi", {"rate_per_s": -5}, "rate_per_s"),
        ("fin-multi", {"rate_spread": 0.95}, "rate_spread"),
        ("fin-multi", {"max_utilization": 0}, "max_utilization"),
    ],
)
def test_bad_params_are_usage_errors(name: str, params: dict[str, Any], key: str) -> None:
    with pytest.raises(UsageError, match=f"--param {key}"):
        generate(name, params)


@pytest.mark.parametrize("name", MULTI)
def test_every_single_request_is_a_valid_format_1_instance(name: str) -> None:
    for params in (SMALL[name], {}):
        inst = _multi(name, params, seed=1)
        for req, single in inst.singles():
            validate_instance(single)
            assert single.request.objective is inst.objective
            assert single.dnn == inst.dnn(req.dnn)


def test_generate_validates_multi_instances() -> None:
    one = example_instance()
    bad = MultiRequest("r1", "no-such-dnn", 1.0, Request("md", one.request.objective))
    broken = MultiInstance("broken", one.network, (one.dnn,), (bad,), one.request.objective)
    family = Family("test-broken-multi", "a broken one", {}, lambda values, seed: broken)
    register_family(family)
    try:
        with pytest.raises(InstanceError, match=r"requests\[0\]\.dnn"):
            generate("test-broken-multi")
    finally:
        FAMILIES.unregister("test-broken-multi")


def test_fin_multi_defaults_bind_as_documented() -> None:
    inst = _multi("fin-multi")
    alone = _alone(inst)
    overloaded = _overloaded(inst, alone)
    alexnet = [r for r in inst.requests if r.dnn == "b-alexnet"]
    # first order: every b-alexnet user's own optimum overloads its own device
    assert sorted(overloaded) == sorted(r.request.source for r in alexnet)
    assert _overloaded_by_sharing(inst, alone) == []
    nodes, _ = _loads(inst, alone)
    assert nodes[alexnet[0].request.source] / 11e12 == pytest.approx(12.63 / 11, abs=1e-3)
    assert "es" not in nodes  # no request's own optimum uses the edge server
    # within its device's capacity (blocks 1-2 or block 1 alone on it: data only moves
    # up), each b-alexnet user's best keeps blocks 1-2 and sends 3-5 to es
    capped = dict(alone)
    for req in alexnet:
        md, single = req.request.source, inst.single(req.id)
        energy = {}
        for kept in (1, 2):
            allowed = (
                (1, (md,)),
                *((b, (md,) if b <= kept else ("es", "cs")) for b in range(2, 6)),
            )
            request = dataclasses.replace(single.request, allowed_nodes=allowed)
            sol = solve(dataclasses.replace(single, request=request), "label-setting")
            assert isinstance(sol.placement, Placement) and sol.objective is not None
            energy[kept] = sol.objective
            if kept == 2:
                capped[req.id] = sol.placement
        assert energy[2] < energy[1]
        assert capped[req.id].blocks == (md, md, "es", "es", "es")
    nodes, _ = _loads(inst, capped)
    assert all(nodes[r.request.source] <= 11e12 for r in inst.requests)
    assert nodes["es"] / 1e12 == pytest.approx(164.6, abs=0.1) and nodes["es"] > 153.4e12
    assert nodes["cs"] < 312e12
    assert _overloaded(inst, capped) == _overloaded_by_sharing(inst, capped) == ["es"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multi_tiered_small_binds(seed: int) -> None:
    inst = _multi("multi-tiered", SMALL["multi-tiered"], seed=seed)
    assert _overloaded(inst, _alone(inst))


@pytest.mark.parametrize("seed", [0, 1])
def test_multi_tiered_small_overload_comes_from_sharing(seed: int) -> None:
    # the full b-alexnet (80 % floor): every user's own optimum is the same edge server
    params = {**SMALL["multi-tiered"], "models": "b-alexnet", "min_accuracy": 0.85}
    inst = _multi("multi-tiered", params, seed=seed)
    alone = _alone(inst)
    assert {place.blocks for place in alone.values()} == {("edge0",) * 5}
    assert _overloaded_by_sharing(inst, alone) == ["edge0"]


def test_multi_topohub_defaults_bind() -> None:
    inst = _multi("multi-topohub", seed=0)
    assert _overloaded(inst, _alone(inst))
