"""The FIN scenario's BranchyNet models and network against MODEL.md section 6."""

from __future__ import annotations

import pytest

from splitbench.errors import UnknownNameError, UsageError
from splitbench.instance import example_instance
from splitbench.zoo import BRANCHY_MODELS, branchy_dnn, fin_network

# MODEL.md section 6: (dataset, block ops x1e9, hand-over elements, {exit block: accuracy},
# early exit shares, input bytes, classes)
EXPECTED = {
    ("b-alexnet", "cifar10"): (
        [22.62, 6.711, 10.145, 19.201, 13.523],
        [27 * 27 * 256, 13 * 13 * 384, 13 * 13 * 384, 13 * 13 * 256],
        {1: 0.5637, 3: 0.7805, 5: 0.8595},
        [0.656, 0.252],
        3072,
        10,
    ),
    ("b-alexnet", "cifar100"): (
        [22.62, 6.711, 10.145, 19.201, 13.523],
        [27 * 27 * 256, 13 * 13 * 384, 13 * 13 * 384, 13 * 13 * 256],
        {1: 0.3956, 3: 0.5477, 5: 0.6032},
        [0.656, 0.252],  # no CIFAR-100 shares were published: the CIFAR-10 ones are reused
        3072,
        100,
    ),
    ("b-resnet", "cifar10"): (
        [0.7733, 1.0803, 1.0593, 3.5043, 11.7704],
        [32 * 32 * 16, 32 * 32 * 16, 8 * 8 * 64, 8 * 8 * 64],
        {1: 0.3889, 3: 0.5182, 5: 0.9370},
        [0.415, 0.138],
        3072,
        10,
    ),
    ("b-lenet", "mnist"): (
        [0.1674, 0.04, 0.048],
        [10 * 10 * 16, 1 * 1 * 120],
        {1: 0.9359, 3: 0.9925},
        [0.943],
        784,
        10,
    ),
}


@pytest.mark.parametrize(("name", "dataset"), list(EXPECTED))
def test_models_match_model_md(name: str, dataset: str) -> None:
    gops, handovers, accuracy, shares, input_bytes, classes = EXPECTED[(name, dataset)]
    dnn = branchy_dnn(name, dataset)
    assert dnn.name == name
    assert dnn.input_bytes == input_bytes
    assert [block.ops for block in dnn.blocks] == [value * 1e9 for value in gops]
    assert [block.output_bytes for block in dnn.blocks] == [*handovers, classes]
    assert [block.name for block in dnn.blocks] == [f"b{i}" for i in range(1, len(gops) + 1)]
    assert {ex.after_block: ex.accuracy for ex in dnn.exits} == accuracy
    early = [ex.exit_probability for ex in dnn.exits[:-1]]
    assert early == shares
    assert dnn.final_exit.exit_probability is None


def test_every_registered_model_is_checked() -> None:
    assert {name for name, _ in EXPECTED} == set(BRANCHY_MODELS)
    for name, model in BRANCHY_MODELS.items():
        for dataset in model.datasets:
            assert (name, dataset) in EXPECTED


def test_final_exit_takes_the_remainder() -> None:
    shares = branchy_dnn("b-alexnet", "cifar10").exit_shares()
    assert shares == pytest.approx((0.656, 0.252, 0.092))
    assert branchy_dnn("b-resnet").exit_shares()[-1] == pytest.approx(0.447)
    assert branchy_dnn("b-lenet").exit_shares()[-1] == pytest.approx(0.057)


def test_matches_the_example_instance() -> None:
    example = example_instance()
    assert branchy_dnn("b-alexnet", "cifar10") == example.dnn
    assert fin_network() == example.network


def test_device_only_time_rule() -> None:
    """MODEL.md: B-AlexNet all on the device takes 6.56 ms."""
    device = fin_network().node("md")
    total = sum(block.ops for block in branchy_dnn("b-alexnet").blocks)
    assert total / device.ops_per_s == pytest.approx(6.56e-3, abs=0.005e-3)


def test_fin_network() -> None:
    net = fin_network()
    assert [(n.id, n.tier, n.ops_per_s, n.power_w) for n in net.nodes] == [
        ("md", "device", 11e12, 6.0),
        ("es", "edge", 153.4e12, 140.0),
        ("cs", "cloud", 312e12, 400.0),
    ]
    arcs = {(a.source, a.target): a for a in net.arcs}
    assert set(arcs) == {("md", "es"), ("md", "cs"), ("es", "cs")}
    assert arcs["md", "es"].bandwidth_bps == pytest.approx(1 / 0.00178e-9)
    assert arcs["es", "cs"].bandwidth_bps == pytest.approx(1 / 0.00022e-9)
    assert arcs["md", "cs"].energy_per_bit_j == pytest.approx(42.6e-9)
    assert all(a.delay_s == 0 for a in net.arcs)
    # a transfer of b bytes n -> m takes 8 b x (m's receive time per bit)
    assert arcs["md", "es"].time_s(1000) == pytest.approx(8000 * 0.00178e-9)


def test_unavailable_datasets_and_names() -> None:
    for name, dataset in [
        ("b-resnet", "cifar100"),
        ("b-lenet", "cifar100"),
        ("b-lenet", "cifar10"),
        ("b-alexnet", "mnist"),
        ("b-alexnet", "imagenet"),
    ]:
        with pytest.raises(UsageError, match="no numbers for"):
            branchy_dnn(name, dataset)
    with pytest.raises(UnknownNameError, match="b-alexnet, b-resnet, b-lenet"):
        branchy_dnn("b-vgg", "cifar10")
