"""Grouping layer tables into DNN blocks."""

from __future__ import annotations

import itertools

import pytest

from splitbench.errors import UsageError
from splitbench.instance import DNN
from splitbench.zoo import ZOO_MODELS, balanced_cuts, get_profile, to_dnn
from splitbench.zoo.grouping import preferred_cut_points
from splitbench.zoo.profile import ModelProfile


def check_blocks(dnn: DNN, profile: ModelProfile, cuts: tuple[int, ...]) -> None:
    """Blocks add up to the model and each hands over the tensor at its cut."""
    assert dnn.n_blocks == len(cuts) + 1
    assert sum(block.ops for block in dnn.blocks) == pytest.approx(profile.ops, rel=1e-12)
    assert sum(block.memory_bytes for block in dnn.blocks) == 4 * profile.params
    ends = (*cuts, len(profile.layers))
    for block, end in zip(dnn.blocks, ends, strict=True):
        assert block.output_bytes == profile.layers[end - 1].output.elements * 4
    assert dnn.blocks[-1].output_bytes == 1000 * 4
    assert len({block.name for block in dnn.blocks}) == dnn.n_blocks
    assert dnn.input_bytes == 3 * 224 * 224 == 150_528
    assert len(dnn.exits) == 1
    assert dnn.final_exit.after_block == dnn.n_blocks
    assert dnn.final_exit.accuracy == profile.top1_accuracy


@pytest.mark.parametrize("name", list(ZOO_MODELS))
def test_all_cut_points_by_default(name: str) -> None:
    profile = get_profile(name)
    dnn = to_dnn(name)
    check_blocks(dnn, profile, profile.cut_points)
    assert [block.name for block in dnn.blocks] == list(profile.segment_names)


@pytest.mark.parametrize("name", list(ZOO_MODELS))
@pytest.mark.parametrize("n_blocks", [1, 2, 3, 5, 8])
def test_balanced_blocks_sum_to_the_model(name: str, n_blocks: int) -> None:
    profile = get_profile(name)
    cuts = balanced_cuts(profile, n_blocks)
    assert len(cuts) == n_blocks - 1
    assert set(cuts) <= set(preferred_cut_points(profile))
    dnn = to_dnn(name, n_blocks)
    check_blocks(dnn, profile, cuts)


def test_many_blocks_fall_back_to_all_cut_points() -> None:
    profile = get_profile("alexnet")
    n = len(profile.cut_points) + 1
    assert balanced_cuts(profile, n) == profile.cut_points
    assert len(preferred_cut_points(profile)) + 1 < n
    check_blocks(to_dnn(profile, n - 1), profile, balanced_cuts(profile, n - 1))


@pytest.mark.parametrize(("name", "n_blocks"), [("alexnet", 3), ("alexnet", 4), ("resnet50", 3)])
def test_balanced_cuts_are_optimal(name: str, n_blocks: int) -> None:
    """Brute force over every choice of preferred cut points."""
    profile = get_profile(name)
    prefix = [0]
    for layer in profile.layers:
        prefix.append(prefix[-1] + layer.ops)

    def spread(cuts: tuple[int, ...]) -> int:
        bounds = (0, *cuts, len(profile.layers))
        return sum((prefix[b] - prefix[a]) ** 2 for a, b in itertools.pairwise(bounds))

    best = min(
        spread(c) for c in itertools.combinations(preferred_cut_points(profile), n_blocks - 1)
    )
    assert spread(balanced_cuts(profile, n_blocks)) == best


def test_balanced_blocks_are_roughly_even() -> None:
    dnn = to_dnn("resnet50", 4)
    ops = [block.ops for block in dnn.blocks]
    assert max(ops) < 1.5 * min(ops)


def test_explicit_cuts() -> None:
    profile = get_profile("resnet50")
    names = [layer.name for layer in profile.layers]
    cut = names.index("layer1.2.relu3") + 1
    dnn = to_dnn("resnet50", cuts=[cut])
    check_blocks(dnn, profile, (cut,))
    assert [block.name for block in dnn.blocks] == ["conv1..layer1", "layer2..fc"]
    assert dnn.blocks[0].output_bytes == 256 * 56 * 56 * 4


def test_block_names() -> None:
    names = [block.name for block in to_dnn("mobilenet_v2", 4).blocks]
    assert names == ["stem..stage2", "stage3..stage4", "stage5..stage6.0", "stage6.1..fc"]
    assert to_dnn("vgg16", 1).blocks[0].name == "stage1..fc8"


def test_input_bytes_option() -> None:
    assert to_dnn("alexnet", 2, input_bytes=3 * 224 * 224 * 4).input_bytes == 602_112


def test_invalid_grouping() -> None:
    profile = get_profile("resnet50")
    inside = profile.layer_index["layer1.0.conv2"]
    with pytest.raises(UsageError, match="not single-tensor cut points"):
        to_dnn("resnet50", cuts=[inside])
    with pytest.raises(UsageError, match="strictly increasing"):
        to_dnn("resnet50", cuts=[profile.cut_points[3], profile.cut_points[1]])
    with pytest.raises(UsageError, match="not both"):
        to_dnn("resnet50", 2, cuts=[profile.cut_points[0]])
    with pytest.raises(UsageError, match="1 to 23 blocks"):
        to_dnn("resnet50", 0)
    with pytest.raises(UsageError, match="1 to 23 blocks"):
        to_dnn("resnet50", 24)
