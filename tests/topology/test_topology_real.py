"""Tests of the real-topology builder (topohub)."""

from __future__ import annotations

import copy
import math
from typing import Any

import networkx as nx
import pytest
import topohub

from splitbench.errors import InstanceError, UnknownNameError, UsageError
from splitbench.topology.real import (
    TOPOHUB_ALIASES,
    RealTopologyRules,
    haversine_km,
    list_real_topologies,
    topohub_network,
)

# SNDlib is a fixed data set: these are its published sizes.
SNDLIB_SIZES = {"abilene": (12, 15), "geant": (22, 36), "polska": (12, 18), "germany50": (50, 88)}
KEYS = [*TOPOHUB_ALIASES.values(), "topozoo/Abilene"]


def _file(key: str) -> dict[str, Any]:
    return topohub.get(key)  # type: ignore[no-any-return]


def _names(data: dict[str, Any]) -> dict[Any, str]:
    return {node["id"]: node["name"].replace(" ", "_") for node in data["nodes"]}


@pytest.mark.parametrize("alias", sorted(SNDLIB_SIZES))
def test_aliases_load_with_file_counts(alias: str, check_network) -> None:
    data = _file(TOPOHUB_ALIASES[alias])
    n_nodes, n_links = len(data["nodes"]), len(data["edges"])
    assert (n_nodes, n_links) == SNDLIB_SIZES[alias]
    net = topohub_network(alias)
    assert len(net.nodes) == n_nodes + 1  # plus device0
    assert len(net.links) == n_links + 1  # plus its uplink
    assert sum(node.tier == "cloud" for node in net.nodes) == 1
    assert sum(node.tier == "device" for node in net.nodes) == 1
    check_network(net)


@pytest.mark.parametrize("key", KEYS)
def test_delays_come_from_dist(key: str) -> None:
    data = _file(key)
    names = _names(data)
    net = topohub_network(key, seed=2)
    assert len(net.nodes) == len(data["nodes"]) + 1
    for edge in data["edges"]:
        arc = net.arc_map[(names[edge["source"]], names[edge["target"]])]
        assert arc.delay_s == pytest.approx(edge["dist"] / 200_000.0, rel=1e-12)
        assert arc.bandwidth_bps == 1e10
        assert arc.energy_per_bit_j == 3e-9


def test_topozoo_abilene_counts(check_network) -> None:
    data = _file("topozoo/Abilene")
    net = topohub_network("topozoo/Abilene")
    assert (len(net.nodes), len(net.links)) == (len(data["nodes"]) + 1, len(data["edges"]) + 1)
    assert "New_York" in net.node_index
    check_network(net)


def test_same_seed_same_network() -> None:
    assert topohub_network("geant", seed=4) == topohub_network("geant", seed=4)
    assert topohub_network("geant", seed=4) != topohub_network("geant", seed=5)


def test_zero_links_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    empty = {
        "directed": False,
        "multigraph": False,
        "graph": {"name": "empty"},
        "nodes": [{"id": 0, "name": "a", "pos": [0.0, 0.0]}, {"id": 1, "name": "b", "pos": [1, 1]}],
        "edges": [],
    }
    monkeypatch.setattr(topohub, "get", lambda key, use_names=False: copy.deepcopy(empty))
    with pytest.raises(InstanceError, match="0 links") as info:
        topohub_network("sndlib/empty")
    assert info.value.field == "topology"


def test_links_under_the_old_networkx_key_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # A file that keeps its links under "links" loads with zero links under edges="edges".
    data = _file("sndlib/polska")
    data["links"] = data.pop("edges")
    data["edges"] = []
    monkeypatch.setattr(topohub, "get", lambda key, use_names=False: data)
    with pytest.raises(InstanceError, match="0 links"):
        topohub_network("polska")


def test_unknown_name_lists_aliases() -> None:
    for name in ("nowhere", "sndlib/atlantis", "../../etc/passwd"):
        with pytest.raises(UnknownNameError) as info:
            topohub_network(name)
        message = str(info.value)
        assert repr(name) in message
        for alias in TOPOHUB_ALIASES:
            assert alias in message


def test_missing_dist_uses_haversine(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _file("sndlib/polska")
    stripped = copy.deepcopy(data)
    for edge in stripped["edges"]:
        del edge["dist"]
    monkeypatch.setattr(topohub, "get", lambda key, use_names=False: copy.deepcopy(stripped))
    net = topohub_network("polska")
    names = _names(data)
    pos = {node["id"]: node["pos"] for node in data["nodes"]}
    for edge in data["edges"]:
        arc = net.arc_map[(names[edge["source"]], names[edge["target"]])]
        great_circle = haversine_km(pos[edge["source"]], pos[edge["target"]])
        assert arc.delay_s == pytest.approx(great_circle / 2e5, rel=1e-12)
        assert arc.delay_s == pytest.approx(edge["dist"] / 2e5, rel=5e-3)  # SNDlib's own length


def test_haversine_known_distance() -> None:
    assert haversine_km((0.0, 0.0), (0.0, 0.0)) == 0.0
    quarter = haversine_km((0.0, 0.0), (90.0, 0.0))
    assert quarter == pytest.approx(math.pi / 2 * 6371.0088)


def test_duplicate_or_missing_names_fall_back_to_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _file("topozoo/Abilene")  # string ids
    for node in data["nodes"]:
        node["name"] = "same"
    monkeypatch.setattr(topohub, "get", lambda key, use_names=False: data)
    net = topohub_network("topozoo/Abilene")
    ids = [node.id for node in net.nodes if node.tier != "device"]
    assert ids == [f"n{node['id']}" for node in data["nodes"]]


def test_clouds_are_highest_degree_and_bandwidth_by_degree() -> None:
    data = _file("sndlib/germany50")
    graph = nx.node_link_graph(data, edges="edges")
    names = _names(data)
    degree = {names[n]: d for n, d in graph.degree}
    rules = RealTopologyRules(n_clouds=5, bandwidth_rule="degree", bandwidth_bps=1e9)
    net = topohub_network("germany50", seed=1, rules=rules)
    clouds = [node.id for node in net.nodes if node.tier == "cloud"]
    assert len(clouds) == 5
    others = [d for name, d in degree.items() if name not in clouds]
    assert min(degree[c] for c in clouds) >= max(others)
    d_min = min(degree.values())
    for link in net.links[:-1]:
        expected = 1e9 * min(degree[link.source], degree[link.target]) / d_min
        assert link.bandwidth_bps == pytest.approx(expected)


def test_routers_and_several_devices(check_network) -> None:
    rules = RealTopologyRules(edge_nodes_compute=False, n_clouds=2, n_devices=3)
    net = topohub_network("abilene", seed=3, rules=rules)
    tiers = [node.tier for node in net.nodes]
    assert tiers.count("router") == 10 and tiers.count("cloud") == 2 and tiers.count("device") == 3
    assert all(node.ops_per_s == 0 for node in net.nodes if node.tier == "router")
    uplinks = net.links[-3:]
    assert [link.source for link in uplinks] == ["device0", "device1", "device2"]
    assert len({link.target for link in uplinks}) == 3  # drawn without replacement
    assert all(net.node(link.target).tier == "router" for link in uplinks)
    check_network(net)


def test_access_nodes_parameter() -> None:
    net = topohub_network("polska", access_nodes=["Krakow"])
    assert (net.links[-1].source, net.links[-1].target) == ("device0", "Krakow")
    with pytest.raises(UsageError, match="Atlantis"):
        topohub_network("polska", access_nodes=["Atlantis"])
    with pytest.raises(UsageError, match="2 nodes for 1 devices"):
        topohub_network("polska", access_nodes=["Krakow", "Gdansk"])
    with pytest.raises(UsageError, match="n_clouds"):
        topohub_network("polska", rules=RealTopologyRules(n_clouds=13))


def test_list_real_topologies() -> None:
    assert list_real_topologies() == ("abilene", "geant", "germany50", "polska")
    everything = list_real_topologies(all_keys=True)
    assert set(KEYS) <= set(everything)
    assert len(everything) > 100
