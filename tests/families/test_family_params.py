"""Family parameters are checked before any work starts: bounds, seeds, combinations."""

from __future__ import annotations

import pytest

from splitbench.errors import DuplicateNameError, UsageError
from splitbench.families import FAMILIES, Family, generate, get_family, register_family
from splitbench.registry import Registry


def test_registry_shape() -> None:
    assert isinstance(FAMILIES, Registry)
    assert set(FAMILIES.names()) == {
        "fin-branchy",
        "tiered",
        "topohub",
        "random-chain",
        "tiny",
        "multi-tiered",
        "multi-topohub",
        "fin-multi",
        "multi-tiny",
    }
    for name, family in FAMILIES.items():
        assert family.name == name and get_family(name) is family
    with pytest.raises(DuplicateNameError, match="family 'tiny' is registered twice"):
        register_family(get_family("tiny"))


def test_every_integer_parameter_is_bounded() -> None:
    for family in FAMILIES.values():
        for key, param in family.params.items():
            if param.type is int:
                assert key in family.bounds, (family.name, key)


@pytest.mark.parametrize(
    ("family", "params", "message"),
    [
        ("random-chain", {"nodes": 10**9}, "nodes=1000000000: family 'random-chain' takes 1 <="),
        ("random-chain", {"nodes": 0}, "takes 1 <= nodes <= 100000"),
        ("random-chain", {"blocks": 10**6}, "takes 1 <= blocks <= 10000"),
        ("random-chain", {"blocks": -1}, "blocks=-1"),
        ("random-chain", {"exits": -2}, "exits=-2"),
        ("random-chain", {"density": 1.5}, "takes 0 <= density <= 1"),
        ("random-chain", {"density": "nan"}, "density=nan"),
        ("random-chain", {"nodes": 100_000}, "would have 1499985000 links; at most 1000000"),
        ("tiered", {"devices": 0}, "takes 1 <= devices <= 10000"),
        ("tiered", {"edges": 10**5}, "takes 0 <= edges <= 1000"),
        ("tiered", {"clouds": 101}, "takes 0 <= clouds <= 100"),
        ("tiered", {"n_blocks": 0}, "takes 1 <= n_blocks <= 10000"),
        ("topohub", {"n_blocks": 10**7}, "takes 1 <= n_blocks <= 10000"),
        ("tiny", {"max_nodes": 0}, "takes 1 <= max_nodes <= 16"),
    ],
)
def test_absurd_values_are_usage_errors(
    family: str, params: dict[str, object], message: str
) -> None:
    key = next(iter(params))
    with pytest.raises(UsageError, match=f"--param {key}") as info:
        generate(family, params)
    assert message in str(info.value)


def test_a_huge_but_sparse_network_is_allowed() -> None:
    inst = generate("random-chain", {"nodes": 2000, "density": 0.0, "blocks": 2})
    assert len(inst.network.nodes) == 2000 and len(inst.network.links) == 1999


@pytest.mark.parametrize("seed", [-1, -(10**9)])
def test_negative_seed(seed: int) -> None:
    with pytest.raises(UsageError, match=f"--seed {seed}: must be a whole number >= 0"):
        generate("random-chain", seed=seed)


def test_non_integer_seed() -> None:
    with pytest.raises(UsageError, match="--seed"):
        generate("tiny", seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="--seed"):
        generate("tiny", seed=True)


def test_bounds_must_name_parameters() -> None:
    with pytest.raises(ValueError, match="bounds for unknown parameters"):
        Family("x", "x", {}, lambda values, seed: generate("tiny"), bounds={"n": (1, 2)})
