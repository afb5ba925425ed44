"""ModelBuilder: units, cut points and the errors that guard a model definition."""

from __future__ import annotations

import pytest

from splitbench.errors import UsageError
from splitbench.zoo import crossing_tensors, to_dnn
from splitbench.zoo.layers import Add, Concat, Conv2d, Flatten, Linear, ReLU, Tensor
from splitbench.zoo.profile import ModelBuilder


def toy_builder() -> ModelBuilder:
    b = ModelBuilder("toy", Tensor(4, 8, 8))
    b.add("stem", Conv2d(4, 3, padding=1))
    return b


def test_units_and_cut_points() -> None:
    b = toy_builder()
    with b.unit("block"):
        left = b.add("left", Conv2d(2, 1), inputs=["stem"])
        right = b.add("right", Conv2d(2, 1), inputs=["stem"])
        b.add("cat", Concat(), inputs=[left, right])
    b.add("relu", ReLU())
    b.add("flat", Flatten())
    b.add("fc", Linear(3))
    toy = b.build(top1_accuracy=0.5)
    assert [layer.name for layer in toy.layers][:4] == [
        "stem",
        "block.left",
        "block.right",
        "block.cat",
    ]
    assert toy.cut_points == (1, 4, 5, 6)
    assert toy.segment_names == ("stem", "block", "relu", "flat", "fc")
    assert crossing_tensors(toy.layers, 2) == ("block.left", "stem")
    dnn = to_dnn(toy, cuts=[4])
    assert [block.name for block in dnn.blocks] == ["stem..block", "relu..fc"]
    assert dnn.blocks[0].output_bytes == 4 * 8 * 8 * 4
    assert dnn.final_exit.accuracy == 0.5
    assert dnn.input_bytes == 4 * 8 * 8


def test_branches_outside_a_unit_are_rejected() -> None:
    b = toy_builder()
    b.add("conv", Conv2d(4, 3, padding=1))
    b.add("add", Add(), inputs=["stem", "conv"])
    with pytest.raises(UsageError, match="put the branching layers in one unit"):
        b.build()


def test_builder_errors() -> None:
    b = toy_builder()
    with pytest.raises(UsageError, match="duplicate layer name"):
        b.add("stem", ReLU())
    with pytest.raises(UsageError, match="unknown layer"):
        b.add("relu", ReLU(), inputs=["nothing"])
    with b.unit("u"):
        with pytest.raises(UsageError, match="do not nest"), b.unit("v"):
            pass
        b.add("relu", ReLU())
    with pytest.raises(UsageError, match="duplicate unit name"), b.unit("u"):
        pass
    with pytest.raises(UsageError, match="at least one layer"):
        ModelBuilder("empty", Tensor(1)).build()
    with pytest.raises(UsageError, match="no layer called"):
        b.build().layer("missing")
