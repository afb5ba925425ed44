"""The zoo registry: every registered model is served and makes a valid instance."""

from __future__ import annotations

import pytest

from splitbench.errors import UnknownNameError, UsageError
from splitbench.instance import (
    DNN,
    ExitPolicy,
    Instance,
    Link,
    Network,
    Node,
    Objective,
    Request,
    validate_instance,
)
from splitbench.zoo import (
    BRANCHY_MODELS,
    ZOO_MODELS,
    fin_network,
    get_dnn,
    known_models,
    layer_table,
)

ALL_MODELS = [*ZOO_MODELS, *BRANCHY_MODELS]


def test_registry_names() -> None:
    assert list(ZOO_MODELS) == ["alexnet", "vgg16", "resnet50", "mobilenet_v2", "googlenet"]
    assert list(BRANCHY_MODELS) == ["b-alexnet", "b-resnet", "b-lenet"]
    assert known_models() == tuple(ALL_MODELS)
    assert all(ZOO_MODELS[name].name == name for name in ZOO_MODELS)


def small_network() -> Network:
    return Network(
        nodes=(
            Node("phone", "device", 1e12, 5.0, memory_bytes=8e9),
            Node("cloud", "cloud", 1e14, 300.0),
        ),
        links=(Link("phone", "cloud", 1e8, delay_s=0.01, energy_per_bit_j=1e-7),),
    )


def wrap(dnn: DNN, network: Network, request: Request) -> Instance:
    return Instance(name=f"test-{dnn.name}", network=network, dnn=dnn, request=request)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_every_model_makes_a_valid_instance(name: str) -> None:
    dnn = get_dnn(name)
    strict = Request("phone", Objective.ENERGY, min_accuracy=0.3, deadline_s=1.0)
    validate_instance(wrap(dnn, small_network(), strict))
    tiered = Request("md", Objective.LATENCY, tier_order=("device", "edge", "cloud"))
    validate_instance(wrap(dnn, fin_network(), tiered))


@pytest.mark.parametrize("name", list(ZOO_MODELS))
@pytest.mark.parametrize("n_blocks", [1, 4])
def test_grouped_zoo_models_are_valid(name: str, n_blocks: int) -> None:
    request = Request("phone", Objective.LATENCY, destination="cloud")
    validate_instance(wrap(get_dnn(name, n_blocks=n_blocks), small_network(), request))


@pytest.mark.parametrize(
    ("name", "dataset"),
    [("b-alexnet", "cifar10"), ("b-alexnet", "cifar100"), ("b-resnet", None), ("b-lenet", None)],
)
def test_branchy_models_support_the_expected_policy(name: str, dataset: str | None) -> None:
    request = Request("md", Objective.ENERGY, exit_policy=ExitPolicy.EXPECTED)
    validate_instance(wrap(get_dnn(name, dataset=dataset), fin_network(), request))


def test_options_are_routed() -> None:
    assert get_dnn("resnet50", n_blocks=3).n_blocks == 3
    assert get_dnn("alexnet", cuts=[3]).n_blocks == 2
    assert get_dnn("b-alexnet", dataset="cifar100").blocks[-1].output_bytes == 100
    with pytest.raises(UsageError, match="dataset"):
        get_dnn("vgg16", dataset="cifar10")
    with pytest.raises(UsageError, match="'dataset' only"):
        get_dnn("b-lenet", n_blocks=2)


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_dnn("resnet18")
    message = str(info.value)
    assert all(name in message for name in ALL_MODELS)
    with pytest.raises(UnknownNameError, match="googlenet"):
        layer_table("inception_v3")


def test_layer_table() -> None:
    table = layer_table("resnet50")
    assert table[0].name == "conv1"
    assert table[0].output.shape == (64, 112, 112)
    assert sum(layer.macs for layer in table) == pytest.approx(4.09e9, rel=0.005)
    with pytest.raises(UsageError, match="no layer table"):
        layer_table("b-resnet")
