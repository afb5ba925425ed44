"""Tests of the tiered device-edge-cloud builder."""

from __future__ import annotations

from collections import Counter

import pytest

from splitbench.errors import UsageError
from splitbench.instance import Network
from splitbench.topology.tiered import (
    DEVICE_CLOUD_LINK,
    EdgeWiring,
    LinkSpec,
    TieredSpec,
    TierSpec,
    tiered_network,
)

COUNTS = [
    {"device": 1, "edge": 2, "cloud": 1},
    {"device": 5, "edge": 4, "cloud": 2},
    {"device": 3, "edge": 1, "cloud": 0},
    {"device": 10, "edge": 7, "cloud": 3},
    {"edge": 3},
]


def _tier_of(net: Network) -> dict[str, str]:
    return {node.id: node.tier for node in net.nodes}


@pytest.mark.parametrize("counts", COUNTS)
def test_same_seed_same_network(counts: dict[str, int]) -> None:
    assert tiered_network(counts, seed=11) == tiered_network(counts, seed=11)


def test_other_seed_other_network() -> None:
    counts = {"device": 3, "edge": 3, "cloud": 1}
    assert tiered_network(counts, seed=1) != tiered_network(counts, seed=2)


@pytest.mark.parametrize("counts", COUNTS)
def test_counts_ids_and_validity(counts: dict[str, int], check_network) -> None:
    net = tiered_network(counts, seed=3)
    assert Counter(node.tier for node in net.nodes) == Counter(
        {tier: k for tier, k in counts.items() if k}
    )
    for tier, k in counts.items():
        assert [n.id for n in net.nodes if n.tier == tier] == [f"{tier}{i}" for i in range(k)]
    assert all(not link.directed for link in net.links)
    if counts.get("device"):
        check_network(net)


def _inside(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


@pytest.mark.parametrize("seed", range(5))
def test_default_values_in_documented_ranges(seed: int) -> None:
    spec = TieredSpec()
    net = tiered_network({"device": 6, "edge": 4, "cloud": 2}, seed=seed)
    for node in net.nodes:
        tier_spec = spec.tier(node.tier)
        assert _inside(node.ops_per_s, tier_spec.ops_per_s)
        assert _inside(node.power_w, tier_spec.power_w)
        if tier_spec.memory_bytes is None:
            assert node.memory_bytes is None
        else:
            assert node.memory_bytes is not None
            assert _inside(node.memory_bytes, tier_spec.memory_bytes)
    tier = _tier_of(net)
    link_spec = {
        ("device", "edge"): spec.device_edge,
        ("edge", "edge"): spec.edge_edge,
        ("cloud", "edge"): spec.edge_cloud,
        ("cloud", "cloud"): spec.cloud_cloud,
    }
    for link in net.links:
        ls = link_spec[tuple(sorted((tier[link.source], tier[link.target])))]  # type: ignore[index]
        assert ls is not None
        assert _inside(link.bandwidth_bps, ls.bandwidth_bps)
        assert _inside(link.delay_s, ls.delay_s)
        assert _inside(link.energy_per_bit_j, ls.energy_per_bit_j)


def test_custom_spec_ranges_are_used() -> None:
    spec = TieredSpec(
        device=TierSpec(ops_per_s=(2e12, 2e12), power_w=(4.0, 4.0)),
        device_edge=LinkSpec((1e8, 1e8), (0.0, 0.0), (5e-8, 5e-8)),
    )
    net = tiered_network({"device": 3, "edge": 2, "cloud": 1}, seed=0, spec=spec)
    devices = [n for n in net.nodes if n.tier == "device"]
    assert {(n.ops_per_s, n.power_w, n.memory_bytes) for n in devices} == {(2e12, 4.0, None)}
    uplinks = [link for link in net.links if link.source.startswith("device")]
    assert {(u.bandwidth_bps, u.delay_s, u.energy_per_bit_j) for u in uplinks} == {(1e8, 0.0, 5e-8)}


@pytest.mark.parametrize("seed", range(4))
def test_wiring_rule(seed: int) -> None:
    counts = {"device": 7, "edge": 5, "cloud": 2}
    net = tiered_network(counts, seed=seed)
    uplinks = Counter(link.source for link in net.links if link.source.startswith("device"))
    assert set(uplinks) == {f"device{i}" for i in range(7)}
    assert set(uplinks.values()) <= {1, 2}
    for i in range(7):  # round robin: the first uplink of device i goes to edge (i mod 5)
        assert net.arc_map.get((f"device{i}", f"edge{i % 5}")) is not None
    for e in range(5):
        for c in range(2):
            assert (f"edge{e}", f"cloud{c}") in net.arc_map
    edge_links = [
        link
        for link in net.links
        if link.source.startswith("edge") and link.target.startswith("edge")
    ]
    assert len(edge_links) == 5  # a ring
    assert ("cloud0", "cloud1") in net.arc_map
    assert not any(
        link.source.startswith("device") and link.target.startswith("cloud") for link in net.links
    )


def test_mesh_single_uplink_and_direct_cloud_links() -> None:
    spec = TieredSpec(
        edge_wiring=EdgeWiring.MESH,
        device_uplinks=(1, 1),
        device_cloud=DEVICE_CLOUD_LINK,
        cloud_cloud=None,
    )
    net = tiered_network({"device": 4, "edge": 5, "cloud": 2}, seed=9, spec=spec)
    tier = _tier_of(net)
    kinds = Counter(tuple(sorted((tier[ln.source], tier[ln.target]))) for ln in net.links)
    assert kinds == {
        ("device", "edge"): 4,
        ("cloud", "device"): 8,
        ("edge", "edge"): 10,
        ("cloud", "edge"): 10,
    }


def test_devices_without_edges_need_direct_links(check_network) -> None:
    with pytest.raises(UsageError, match="connected"):
        tiered_network({"device": 1, "cloud": 1}, seed=0)
    net = tiered_network(
        {"device": 2, "cloud": 1}, seed=0, spec=TieredSpec(device_cloud=DEVICE_CLOUD_LINK)
    )
    check_network(net)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"device": 1, "fog": 2}, "unknown tier 'fog'"),
        ({"device": -1, "edge": 1}, "counts\\['device'\\]"),
        ({"device": 1.5, "edge": 1}, "integer"),
        ({}, "at least one node"),
    ],
)
def test_bad_counts(counts: dict[str, int], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        tiered_network(counts, seed=0)


def test_bad_seed_and_spec() -> None:
    with pytest.raises(UsageError, match="seed"):
        tiered_network(seed=-1)
    with pytest.raises(UsageError, match="ops_per_s"):
        TierSpec(ops_per_s=(0.0, 1.0), power_w=(1.0, 2.0))
    with pytest.raises(UsageError, match="bandwidth_bps"):
        LinkSpec((2.0, 1.0), (0.0, 0.0), (0.0, 0.0))
    with pytest.raises(UsageError, match="edge_wiring"):
        TieredSpec(edge_wiring="star")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="device_uplinks"):
        TieredSpec(device_uplinks=(2, 1))
