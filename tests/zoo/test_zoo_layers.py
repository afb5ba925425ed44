"""Shape and cost rules of single layers, checked against brute-force counts."""

from __future__ import annotations

import math

import pytest

from splitbench.errors import UsageError
from splitbench.zoo.layers import (
    FP32_BYTES,
    AdaptiveAvgPool2d,
    Add,
    BatchNorm2d,
    Concat,
    Conv2d,
    Flatten,
    Linear,
    Pool2d,
    PoolOp,
    ReLU,
    Tensor,
    make_layer,
    window_output_size,
)


def brute_force_positions(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """Place windows one by one: full windows, then (ceil mode) one partial window that
    covers what is left, provided it starts inside the input or the left padding."""
    extent = dilation * (kernel - 1) + 1
    padded = size + 2 * padding
    count = covered_end = start = 0
    while start < size + padding:
        if start + extent <= padded:
            count, covered_end = count + 1, start + extent
        elif ceil_mode and covered_end < padded:
            count += 1
            break
        else:
            break
        start += stride
    return count


@pytest.mark.parametrize("size", [1, 5, 7, 14, 27, 28, 55, 56, 112, 224])
@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation"),
    [
        (1, 1, 0, 1),
        (3, 1, 1, 1),
        (3, 2, 0, 1),
        (3, 2, 1, 1),
        (2, 2, 0, 1),
        (7, 2, 3, 1),
        (11, 4, 2, 1),
        (3, 1, 2, 2),
        (5, 3, 2, 1),
    ],
)
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_window_output_size_matches_brute_force(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> None:
    if size + 2 * padding < dilation * (kernel - 1) + 1:
        with pytest.raises(UsageError):
            window_output_size(size, kernel, stride, padding, dilation, ceil_mode=ceil_mode)
        return
    expected = brute_force_positions(size, kernel, stride, padding, dilation, ceil_mode)
    assert (
        window_output_size(size, kernel, stride, padding, dilation, ceil_mode=ceil_mode) == expected
    )


def test_known_pooling_sizes_of_googlenet_and_resnet() -> None:
    # torchvision GoogLeNet: 112 -> 56 -> 28 -> 14 -> 7 with ceil_mode pools
    assert window_output_size(112, 3, 2, ceil_mode=True) == 56
    assert window_output_size(56, 3, 2, ceil_mode=True) == 28
    assert window_output_size(28, 3, 2, ceil_mode=True) == 14
    assert window_output_size(14, 2, 2, ceil_mode=True) == 7
    # ResNet's max pool: kernel 3, stride 2, padding 1
    assert window_output_size(112, 3, 2, 1) == 56


def test_conv_costs() -> None:
    cost = Conv2d(64, 3, padding=1).apply([Tensor(3, 224, 224)])
    assert cost.output == Tensor(64, 224, 224)
    assert cost.macs == 64 * 224 * 224 * 3 * 9
    assert cost.params == 64 * 3 * 9 + 64
    assert cost.elementwise_ops == 0


def test_grouped_and_depthwise_conv() -> None:
    grouped = Conv2d(64, 3, padding=1, groups=4, bias=False).apply([Tensor(32, 10, 10)])
    assert grouped.macs == 64 * 100 * (32 // 4) * 9
    assert grouped.params == 64 * 8 * 9
    depthwise = Conv2d(32, 3, stride=2, padding=1, groups=32, bias=False).apply(
        [Tensor(32, 10, 10)]
    )
    assert depthwise.output == Tensor(32, 5, 5)
    assert depthwise.macs == 32 * 25 * 9
    assert depthwise.params == 32 * 9
    with pytest.raises(UsageError, match="groups"):
        Conv2d(64, 3, groups=3).apply([Tensor(32, 10, 10)])


def test_linear_needs_flat_input() -> None:
    cost = Linear(10, bias=False).apply([Tensor(20)])
    assert (cost.macs, cost.params, cost.output) == (200, 200, Tensor(10))
    with pytest.raises(UsageError, match="flattened"):
        Linear(10).apply([Tensor(2, 3, 3)])


def test_pool_costs_and_default_stride() -> None:
    cost = Pool2d(PoolOp.AVG, kernel=2).apply([Tensor(8, 6, 6)])
    assert cost.output == Tensor(8, 3, 3)
    assert cost.elementwise_ops == 8 * 9 * 4
    assert cost.params == cost.macs == 0
    with pytest.raises(UsageError, match="padding"):
        Pool2d(PoolOp.MAX, kernel=2, padding=2)


@pytest.mark.parametrize(("size", "out"), [(7, 1), (6, 6), (13, 6), (7, 3), (5, 7)])
def test_adaptive_pool_reads(size: int, out: int) -> None:
    cost = AdaptiveAvgPool2d(out).apply([Tensor(2, size, size)])
    assert cost.output == Tensor(2, out, out)
    # brute force: window i spans floor(i*size/out) .. ceil((i+1)*size/out)
    per_axis = sum(math.ceil((i + 1) * size / out) - math.floor(i * size / out) for i in range(out))
    assert cost.elementwise_ops == 2 * per_axis * per_axis
    if size % out == 0:
        assert cost.elementwise_ops == 2 * size * size  # disjoint windows read each once


def test_elementwise_layers() -> None:
    x = Tensor(4, 3, 3)
    assert BatchNorm2d().apply([x]).elementwise_ops == 2 * 36
    assert BatchNorm2d().apply([x]).params == 8
    assert ReLU().apply([x]).elementwise_ops == 36
    assert ReLU(6.0).apply([x]).elementwise_ops == 72
    assert Add().apply([x, x, x]).elementwise_ops == 72
    assert Flatten().apply([x]).output == Tensor(36)
    assert Concat().apply([x, Tensor(2, 3, 3)]).output == Tensor(6, 3, 3)
    with pytest.raises(UsageError, match="shape"):
        Add().apply([x, Tensor(4, 2, 2)])
    with pytest.raises(UsageError, match="height or width"):
        Concat().apply([x, Tensor(4, 2, 2)])
    with pytest.raises(UsageError, match="two or more"):
        Add().apply([x])
    with pytest.raises(UsageError, match="1 input"):
        ReLU().apply([x, x])


def test_layer_record() -> None:
    layer = make_layer("c", Conv2d(8, 3, bias=False), [("input", Tensor(2, 5, 5))])
    assert layer.kind == "conv"
    assert layer.inputs == ("input",)
    assert layer.ops == 2 * layer.macs
    assert layer.output_bytes == 8 * 3 * 3 * FP32_BYTES
    assert layer.param_bytes == 8 * 2 * 9 * FP32_BYTES
    relu = make_layer("r", ReLU(), [("c", layer.output)])
    assert relu.ops == relu.elementwise_ops == 72


def test_invalid_specs() -> None:
    with pytest.raises(UsageError):
        Tensor(0, 1, 1)
    with pytest.raises(UsageError, match="stride"):
        Conv2d(8, 3, stride=0)
    with pytest.raises(UsageError, match="padding"):
        Conv2d(8, 3, padding=-1)
    with pytest.raises(UsageError, match="out_features"):
        Linear(0)
    with pytest.raises(UsageError, match="does not fit"):
        Conv2d(8, 7).apply([Tensor(1, 3, 3)])
