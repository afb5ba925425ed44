"""Layer tables of the zoo models against published totals and graph invariants.

Published totals (MODEL.md section 7, torchvision documentation): multiply-accumulates
at 224 x 224 and parameters. Tolerances: where one value is published, +-2 % (the
published figures are rounded to 2-3 significant digits and counting tools differ on
what they include); where a range is published, the range widened by half a unit of
its last digit (4.09-4.13 G admits 4.085-4.135 G). Parameter counts must also equal
torchvision's exact ``num_params``.
"""

from __future__ import annotations

import pytest

from splitbench.zoo import ZOO_MODELS, get_profile, layer_table
from splitbench.zoo.layers import Layer
from splitbench.zoo.profile import INPUT

PUBLISHED = {
    # name: (MACs low, MACs high, params in millions, exact torchvision num_params)
    "alexnet": (0.71e9 * 0.98, 0.71e9 * 1.02, 61.1, 61_100_840),
    "vgg16": (15.47e9 * 0.98, 15.47e9 * 1.02, 138.4, 138_357_544),
    "resnet50": (4.085e9, 4.135e9, 25.6, 25_557_032),
    "mobilenet_v2": (0.295e9, 0.335e9, 3.5, 3_504_872),
    "googlenet": (1.50e9 * 0.98, 1.50e9 * 1.02, 6.6, 6_624_904),
}


def test_every_registered_model_has_published_totals() -> None:
    assert set(PUBLISHED) == set(ZOO_MODELS)


@pytest.mark.parametrize("name", list(ZOO_MODELS))
def test_published_totals(name: str) -> None:
    profile = get_profile(name)
    low, high, params_m, exact = PUBLISHED[name]
    assert low <= profile.macs <= high, profile.macs / 1e9
    assert profile.params == pytest.approx(params_m * 1e6, rel=0.02)
    assert profile.params == exact
    assert profile.ops >= 2 * profile.macs


@pytest.mark.parametrize("name", list(ZOO_MODELS))
def test_output_is_1000_classes(name: str) -> None:
    profile = get_profile(name)
    assert profile.output.shape == (1000, 1, 1)
    assert profile.layers[-1].kind == "linear"
    assert profile.input.shape == (3, 224, 224)


def test_vgg16_first_conv_output_bytes() -> None:
    first = layer_table("vgg16")[0]
    assert first.kind == "conv"
    assert first.output.shape == (64, 224, 224)
    assert first.output_bytes == 64 * 224 * 224 * 4 == 12_845_056


def crossing(layers: tuple[Layer, ...], k: int) -> set[str]:
    """Tensors produced before boundary k and read at or after it (written independently)."""
    produced = {INPUT} | {layer.name for layer in layers[:k]}
    return {src for layer in layers[k:] for src in layer.inputs if src in produced}


@pytest.mark.parametrize("name", list(ZOO_MODELS))
def test_every_cut_point_carries_one_tensor(name: str) -> None:
    profile = get_profile(name)
    for k in profile.cut_points:
        assert crossing(profile.layers, k) == {profile.layers[k - 1].name}, k


@pytest.mark.parametrize("name", list(ZOO_MODELS))
def test_segments_without_inner_cuts_are_named_blocks(name: str) -> None:
    """A segment of several layers is a unit: all its layers are named ``unit.*``."""
    profile = get_profile(name)
    bounds = profile.boundaries
    for index, segment in enumerate(profile.segment_names):
        layers = profile.layers[bounds[index] : bounds[index + 1]]
        if len(layers) == 1:
            assert layers[0].name == segment
        else:
            assert all(layer.name.startswith(segment + ".") for layer in layers)


def test_no_cut_inside_a_residual_or_inception_block() -> None:
    for name, prefixes in [
        (
            "resnet50",
            [f"layer{s}.{i}." for s, n in [(1, 3), (2, 4), (3, 6), (4, 3)] for i in range(n)],
        ),
        (
            "googlenet",
            [f"inception{x}." for x in ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]],
        ),
        ("mobilenet_v2", ["stage2.1.", "stage3.1.", "stage3.2.", "stage4.3.", "stage6.2."]),
    ]:
        profile = get_profile(name)
        for k in profile.cut_points:
            before, after = profile.layers[k - 1].name, profile.layers[k].name
            for prefix in prefixes:
                assert not (before.startswith(prefix) and after.startswith(prefix)), (name, k)
        for prefix in prefixes:  # the block exists and ends at a cut point
            last = max(i for i, layer in enumerate(profile.layers) if layer.name.startswith(prefix))
            assert last + 1 in profile.cut_points or last + 1 == len(profile.layers)


@pytest.mark.parametrize("name", list(ZOO_MODELS))
def test_layers_are_consistent(name: str) -> None:
    """Inputs are earlier layers; re-applying each spec to its inputs gives its record."""
    profile = get_profile(name)
    shapes = {INPUT: profile.input}
    for layer in profile.layers:
        assert layer.name not in shapes
        cost = layer.spec.apply([shapes[src] for src in layer.inputs])
        assert (cost.output, cost.macs, cost.elementwise_ops, cost.params) == (
            layer.output,
            layer.macs,
            layer.elementwise_ops,
            layer.params,
        )
        shapes[layer.name] = layer.output
    assert len(profile.segment_names) == len(profile.cut_points) + 1
    assert len(set(profile.segment_names)) == len(profile.segment_names)


def test_known_intermediate_shapes() -> None:
    assert get_profile("alexnet").layer("pool5").output.shape == (256, 6, 6)
    assert get_profile("resnet50").layer("maxpool").output.shape == (64, 56, 56)
    assert get_profile("resnet50").layer("layer2.0.relu3").output.shape == (512, 28, 28)
    assert get_profile("mobilenet_v2").layer("stage2.0.expand.conv").output.shape == (96, 112, 112)
    assert get_profile("mobilenet_v2").layer("stage2.0.dw.conv").output.shape == (96, 56, 56)
    google = get_profile("googlenet")
    assert google.layer("inception3a.concat").output.shape == (256, 28, 28)
    assert google.layer("inception4e.concat").output.shape == (832, 14, 14)
    assert google.layer("maxpool4").output.shape == (832, 7, 7)


def test_residual_structure() -> None:
    resnet = get_profile("resnet50")
    add = resnet.layer("layer1.1.add")
    assert add.inputs == ("layer1.1.bn3", "layer1.0.relu3")
    assert resnet.layer("layer2.0.add").inputs == ("layer2.0.bn3", "layer2.0.downsample.bn")
    mobile = get_profile("mobilenet_v2")
    adds = [layer.name for layer in mobile.layers if layer.kind == "add"]
    assert len(adds) == 10  # blocks with stride 1 and equal in/out channels
