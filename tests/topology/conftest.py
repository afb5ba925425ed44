"""Shared checks for the topology tests: validity as an instance, connectivity."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from splitbench.instance import DNN, Block, Instance, Network, Request, validate_instance

NetworkCheck = Callable[[Network], None]


def _check_network(net: Network) -> None:
    """Wrap ``net`` in a one-block instance served from a device, validate it, and
    check that every node is reachable from every device."""
    devices = [node.id for node in net.nodes if node.tier == "device"]
    assert devices, "every builder under test should produce at least one device"
    instance = Instance(
        name="topology-check",
        network=net,
        dnn=DNN(name="one-block", input_bytes=1000.0, blocks=(Block("b1", 1e9, 10.0),)),
        request=Request(source=devices[0], objective="latency"),
    )
    validate_instance(instance)
    everyone = frozenset(node.id for node in net.nodes)
    for device in devices:
        assert net.reachable_from(device) == everyone, f"{device} does not reach every node"


@pytest.fixture
def check_network() -> NetworkCheck:
    """A function that asserts a network is a valid, connected instance network."""
    return _check_network
