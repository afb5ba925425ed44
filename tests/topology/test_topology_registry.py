"""Tests of the builder registry and the public surface of splitbench.topology."""

from __future__ import annotations

from typing import Any

import pytest

import splitbench.topology as topology
from splitbench.errors import UnknownNameError, UsageError
from splitbench.topology import BUILDERS, build_network, builder_names, get_builder

# One call per registered builder; the test below fails when a builder is added
# without being exercised here.
CALLS: dict[str, dict[str, Any]] = {
    "tiered": {"counts": {"device": 2, "edge": 3, "cloud": 1}, "seed": 1},
    "geometric": {"n_nodes": 15, "seed": 2},
    "waxman": {"n_nodes": 15, "alpha": 0.3, "beta": 0.5, "seed": 3},
    "random": {"n_nodes": 15, "density": 0.3, "seed": 4},
    "topohub": {"name": "abilene", "seed": 5},
}


def test_every_builder_is_exercised() -> None:
    assert set(CALLS) == set(BUILDERS)
    assert builder_names() == tuple(sorted(BUILDERS))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_build_by_name(name: str, check_network) -> None:
    net = build_network(name, **CALLS[name])
    assert net == get_builder(name)(**CALLS[name])
    check_network(net)


def test_unknown_builder() -> None:
    with pytest.raises(UnknownNameError) as info:
        build_network("ring", seed=0)
    assert "'ring'" in str(info.value)
    for name in BUILDERS:
        assert name in str(info.value)


def test_bad_parameters() -> None:
    with pytest.raises(UsageError, match="takes no parameter 'nodes'"):
        build_network("waxman", nodes=5, seed=0)
    with pytest.raises(UsageError, match="seed"):
        build_network("random", n_nodes=5, density=0.5)


def test_public_names_exist() -> None:
    for name in topology.__all__:
        assert hasattr(topology, name), name
