"""Tests of the random-graph builders (geometric, Waxman, uniform random)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import networkx as nx
import numpy as np
import pytest

from splitbench.errors import UsageError
from splitbench.instance import Network
from splitbench.topology.random_graphs import (
    RandomNetworkSpec,
    _bridges,
    random_geometric_network,
    random_network,
    waxman_network,
)
from splitbench.topology.tiered import TierSpec

Builder = Callable[..., Network]

BUILDERS: dict[str, Builder] = {
    "geometric": lambda n, seed, spec=None: random_geometric_network(n, seed=seed, spec=spec),
    "geometric-sparse": lambda n, seed, spec=None: random_geometric_network(
        n, radius=0.05, seed=seed, spec=spec
    ),
    "waxman": lambda n, seed, spec=None: waxman_network(n, seed=seed, spec=spec),
    "waxman-sparse": lambda n, seed, spec=None: waxman_network(
        n, alpha=0.05, beta=0.2, seed=seed, spec=spec
    ),
    "random": lambda n, seed, spec=None: random_network(n, 0.2, seed, spec=spec),
}

SIZES = [1, 2, 3, 17, 60]


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize("n", SIZES)
def test_deterministic_connected_valid(name: str, n: int, check_network) -> None:
    net = BUILDERS[name](n, 5)
    assert net == BUILDERS[name](n, 5)
    assert len(net.nodes) == n
    check_network(net)
    pairs = [frozenset((link.source, link.target)) for link in net.links]
    assert len(pairs) == len(set(pairs)), "at most one link per node pair"


@pytest.mark.parametrize("name", BUILDERS)
def test_seed_matters(name: str) -> None:
    assert BUILDERS[name](20, 1) != BUILDERS[name](20, 2)


@pytest.mark.parametrize("name", BUILDERS)
def test_tiers_and_routers(name: str, check_network) -> None:
    spec = RandomNetworkSpec(device_share=0.3, edge_share=0.3, cloud_share=0.1, router_share=0.3)
    net = BUILDERS[name](30, 7, spec)
    counts = Counter(node.tier for node in net.nodes)
    assert counts == {"device": 9, "edge": 9, "cloud": 3, "router": 9}
    assert counts == spec.tier_counts(30)
    for tier in ("device", "edge", "cloud", "router"):
        assert [n.id for n in net.nodes if n.tier == tier] == [
            f"{tier}{i}" for i in range(counts[tier])
        ]
    routers = [node for node in net.nodes if node.tier == "router"]
    assert all(r.ops_per_s == 0 and r.power_w == 0 and r.memory_bytes is None for r in routers)
    check_network(net)


def test_default_shares_have_no_router_and_a_device() -> None:
    spec = RandomNetworkSpec()
    assert spec.tier_counts(10) == {"device": 5, "edge": 3, "cloud": 2, "router": 0}
    assert spec.tier_counts(1)["device"] == 1
    assert RandomNetworkSpec(device_share=0.01).tier_counts(4)["device"] == 1
    for n in range(1, 40):
        assert sum(spec.tier_counts(n).values()) == n


@pytest.mark.parametrize("name", BUILDERS)
def test_values_follow_documented_rules(name: str) -> None:
    spec = RandomNetworkSpec(side_m=5e5)
    net = BUILDERS[name](40, 3, spec)
    for node in net.nodes:
        tier_spec: TierSpec = spec.tier(node.tier)
        assert tier_spec.ops_per_s[0] <= node.ops_per_s <= tier_spec.ops_per_s[1]
        assert tier_spec.power_w[0] <= node.power_w <= tier_spec.power_w[1]
    tier = {node.id: node.tier for node in net.nodes}
    lo, hi = spec.access_bandwidth_bps
    for link in net.links:
        length = link.delay_s * 2e8 / spec.side_m  # delay = length * side / (2e8 m/s)
        assert 0 <= length <= math.sqrt(2) + 1e-12
        if "device" in (tier[link.source], tier[link.target]):
            expected = hi - (hi - lo) * length / math.sqrt(2)
            assert link.bandwidth_bps == pytest.approx(expected, rel=1e-9)
            assert lo <= link.bandwidth_bps <= hi
            e_lo, e_hi = spec.access_energy_per_bit_j
        else:
            b_lo, b_hi = spec.core_bandwidth_bps
            assert b_lo <= link.bandwidth_bps <= b_hi
            e_lo, e_hi = spec.core_energy_per_bit_j
        assert e_lo <= link.energy_per_bit_j <= e_hi


@pytest.mark.parametrize("n", [1, 2, 5, 20, 33])
@pytest.mark.parametrize("density", [0.0, 0.01, 0.1, 0.37, 0.8, 1.0])
def test_random_network_link_count(n: int, density: float, check_network) -> None:
    net = random_network(n, density, seed=n)
    expected = max(n - 1, round(density * n * (n - 1) / 2))
    assert len(net.links) == expected
    assert len(net.arcs) == 2 * expected
    check_network(net)


def test_geometric_radius_extremes() -> None:
    assert len(random_geometric_network(12, radius=2.0, seed=0).links) == 12 * 11 // 2
    # Radius 0 links nothing: the bridging alone makes a spanning tree.
    assert len(random_geometric_network(12, radius=0.0, seed=0).links) == 11


def test_bridging_is_a_minimum_spanning_forest_join() -> None:
    rng = np.random.default_rng(0)
    pos = rng.random((25, 2))
    no_links = np.empty((0, 2), dtype=np.int64)
    # Prim over singleton components is Prim's algorithm: the Euclidean MST.
    bridges = _bridges(pos, no_links)
    complete = nx.Graph()
    for i in range(25):
        for j in range(i + 1, 25):
            complete.add_edge(i, j, weight=float(np.linalg.norm(pos[i] - pos[j])))
    mst = nx.minimum_spanning_tree(complete)
    ours = sum(float(np.linalg.norm(pos[i] - pos[j])) for i, j in bridges)
    assert len(bridges) == 24
    assert ours == pytest.approx(mst.size(weight="weight"))
    # Two clusters already linked inside: one bridge, between their closest points.
    pos = np.array([[0.0, 0.0], [0.1, 0.0], [0.9, 0.0], [1.0, 0.0]])
    assert _bridges(pos, np.array([[0, 1], [2, 3]])).tolist() == [[1, 2]]


def test_waxman_parameters_change_density() -> None:
    sparse = np.mean(
        [len(waxman_network(40, alpha=0.05, beta=0.1, seed=s).links) for s in range(3)]
    )
    dense = np.mean([len(waxman_network(40, alpha=0.5, beta=0.9, seed=s).links) for s in range(3)])
    assert dense > 3 * sparse


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: random_network(0, 0.5, 1), "n_nodes"),
        (lambda: random_network(5, 1.5, 1), "density"),
        (lambda: random_network(5, 0.5, -3), "seed"),
        (lambda: random_geometric_network(5, radius=-0.1, seed=1), "radius"),
        (lambda: waxman_network(5, alpha=0.0, seed=1), "alpha"),
        (lambda: waxman_network(5, beta=1.5, seed=1), "beta"),
        (lambda: RandomNetworkSpec(router_share=-1.0), "router_share"),
        (lambda: RandomNetworkSpec(device_share=0, edge_share=0, cloud_share=0), "> 0"),
        (lambda: RandomNetworkSpec(side_m=0.0), "side_m"),
        (lambda: RandomNetworkSpec(core_bandwidth_bps=(0.0, 1.0)), "core_bandwidth_bps"),
    ],
)
def test_bad_parameters(call: Callable[[], object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        call()
