"""Analytic shape and cost rules of the layers used by the reference DNNs.

A :class:`Tensor` is one feature map ``(channels, height, width)`` of a single sample
(batch size 1); a flattened vector is ``(n, 1, 1)``. A layer is described by a frozen
*spec* (:class:`Conv2d`, :class:`Linear`, :class:`Pool2d`, ...); :func:`make_layer` applies
the spec to its input tensors and returns a :class:`Layer` record with the output shape
and the costs.

Counting rules (per sample, inference):

- ``macs``: multiply-accumulates of convolutions and fully connected layers only, the
  quantity that published totals ("GFLOPS" in the torchvision tables) report. A
  convolution does ``C_out * H_out * W_out * (C_in / groups) * k * k`` MACs, a linear
  layer ``in * out``. Bias additions are not counted.
- ``elementwise_ops``: the cheap element-wise work, kept separate so that MAC totals
  stay comparable with published ones. Batch normalisation at inference is a folded
  scale and shift: 2 ops per element. ReLU is 1 op per element, a clipped ReLU
  (ReLU6) 2. A residual add of ``n`` tensors is ``n - 1`` ops per element. Pooling
  reads its window once per output element: ``k * k`` ops (one compare or add each);
  adaptive average pooling reads every input element of each window once.
  Concatenation and flattening only move data: 0 ops. Dropout is the identity at
  inference and is not modelled.
- ``ops = 2 * macs + elementwise_ops`` (a MAC is a multiply and an add).
- ``params``: learnable parameters, as torchvision counts them. Batch normalisation has
  2 per channel (weight and bias); its running mean and variance are buffers, not
  parameters, and fold into the scale and shift at inference.
- bytes: fp32, :data:`FP32_BYTES` = 4 bytes per element, for tensors and parameters.

Output sizes follow the PyTorch rules, including ``ceil_mode`` pooling, for square
kernels, strides, paddings and dilations (all the reference models use square ones).

Examples
--------
>>> from splitbench.zoo.layers import Conv2d, Tensor, make_layer
>>> conv = make_layer("conv1", Conv2d(64, kernel=3, padding=1), [("input", Tensor(3, 224, 224))])
>>> conv.output.shape, conv.macs, conv.params, conv.output_bytes
((64, 224, 224), 86704128, 1792, 12845056)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from splitbench.errors import UsageError

__all__ = [
    "FP32_BYTES",
    "AdaptiveAvgPool2d",
    "Add",
    "BatchNorm2d",
    "Concat",
    "Conv2d",
    "Flatten",
    "Layer",
    "LayerCost",
    "LayerSpec",
    "Linear",
    "Pool2d",
    "PoolOp",
    "ReLU",
    "Tensor",
    "make_layer",
    "window_output_size",
]

FP32_BYTES = 4
"""Bytes per element of an fp32 tensor or parameter."""


@dataclass(frozen=True, slots=True)
class Tensor:
    """The shape of one feature map of a single sample.

    Examples
    --------
    >>> t = Tensor(64, 56, 56)
    >>> t.elements, t.nbytes(), t.nbytes(bytes_per_element=1)
    (200704, 802816, 200704)
    """

    channels: int
    height: int = 1
    width: int = 1

    def __post_init__(self) -> None:
        if min(self.channels, self.height, self.width) < 1:
            raise UsageError(f"tensor dimensions must be >= 1, got {self.shape}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(channels, height, width)``."""
        return (self.channels, self.height, self.width)

    @property
    def elements(self) -> int:
        """Number of elements."""
        return self.channels * self.height * self.width

    def nbytes(self, bytes_per_element: int = FP32_BYTES) -> int:
        """Size in bytes (fp32 unless told otherwise)."""
        return self.elements * bytes_per_element


def _check_positive(kind: str, **values: int) -> None:
    for key, value in values.items():
        if value < 1:
            raise UsageError(f"{kind} {key} must be >= 1, got {value}")


def window_output_size(
    size: int,
    kernel: int,
    stride: int,
    padding: int = 0,
    dilation: int = 1,
    *,
    ceil_mode: bool = False,
) -> int:
    """Output length of a sliding window along one axis (the PyTorch rule).

    ``floor((size + 2 p - d (k - 1) - 1) / s) + 1``; with ``ceil_mode`` the division is
    rounded up, but a last window that would start in the right padding is dropped.

    Examples
    --------
    >>> window_output_size(224, kernel=11, stride=4, padding=2)
    55
    >>> window_output_size(112, kernel=3, stride=2), window_output_size(112, 3, 2, ceil_mode=True)
    (55, 56)
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        raise UsageError(
            f"a window of kernel {kernel} (dilation {dilation}) does not fit an input of "
            f"size {size} with padding {padding}"
        )
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
    else:
        out = span // stride + 1
    return out


@dataclass(frozen=True, slots=True)
class LayerCost:
    """What applying a spec to its inputs gives: output shape and per-sample costs."""

    output: Tensor
    macs: int = 0
    elementwise_ops: int = 0
    params: int = 0


class LayerSpec(ABC):
    """A layer description; :meth:`apply` computes its output shape and costs."""

    kind: ClassVar[str]
    n_inputs: ClassVar[int | None] = 1
    """How many input tensors the layer takes (None: two or more)."""

    def apply(self, inputs: Sequence[Tensor]) -> LayerCost:
        """Output shape and costs for these input tensors.

        Raises :class:`UsageError` when the number or the shapes of the inputs do not
        suit the layer.
        """
        if self.n_inputs is None:
            if len(inputs) < 2:
                raise UsageError(f"{self.kind} needs two or more inputs, got {len(inputs)}")
        elif len(inputs) != self.n_inputs:
            raise UsageError(f"{self.kind} takes {self.n_inputs} input(s), got {len(inputs)}")
        return self._evaluate(inputs)

    @abstractmethod
    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        """Output shape and costs; the number of inputs is already checked."""


@dataclass(frozen=True, slots=True)
class Conv2d(LayerSpec):
    """2-D convolution with square kernel; ``groups`` covers grouped and depthwise ones.

    Examples
    --------
    >>> depthwise = Conv2d(96, kernel=3, padding=1, groups=96, bias=False)
    >>> cost = depthwise.apply([Tensor(96, 112, 112)])
    >>> cost.output.shape, cost.macs, cost.params
    ((96, 112, 112), 10838016, 864)
    """

    kind: ClassVar[str] = "conv"
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    groups: int = 1
    bias: bool = True

    def __post_init__(self) -> None:
        _check_positive(
            self.kind,
            out_channels=self.out_channels,
            kernel=self.kernel,
            stride=self.stride,
            dilation=self.dilation,
            groups=self.groups,
        )
        if self.padding < 0:
            raise UsageError(f"conv padding must be >= 0, got {self.padding}")

    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        (x,) = inputs
        if x.channels % self.groups or self.out_channels % self.groups:
            raise UsageError(
                f"groups={self.groups} must divide both the input channels ({x.channels}) "
                f"and the output channels ({self.out_channels})"
            )
        size = (self.kernel, self.stride, self.padding, self.dilation)
        out = Tensor(
            self.out_channels,
            window_output_size(x.height, *size),
            window_output_size(x.width, *size),
        )
        weights_per_output = (x.channels // self.groups) * self.kernel * self.kernel
        params = self.out_channels * weights_per_output + (self.out_channels if self.bias else 0)
        return LayerCost(out, macs=out.elements * weights_per_output, params=params)


@dataclass(frozen=True, slots=True)
class Linear(LayerSpec):
    """Fully connected layer on a flattened input ``(n, 1, 1)``.

    Examples
    --------
    >>> Linear(1000).apply([Tensor(2048)]).macs
    2048000
    """

    kind: ClassVar[str] = "linear"
    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        _check_positive(self.kind, out_features=self.out_features)

    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        (x,) = inputs
        if (x.height, x.width) != (1, 1):
            raise UsageError(f"linear layers take a flattened input, got shape {x.shape}")
        macs = x.channels * self.out_features
        params = macs + (self.out_features if self.bias else 0)
        return LayerCost(Tensor(self.out_features), macs=macs, params=params)


class PoolOp(StrEnum):
    """The reduction of a pooling window."""

    MAX = "max"
    AVG = "avg"


@dataclass(frozen=True, slots=True)
class Pool2d(LayerSpec):
    """Max or average pooling with a square window (``stride`` defaults to the kernel).

    Examples
    --------
    >>> Pool2d(PoolOp.MAX, kernel=3, stride=2, ceil_mode=True).apply([Tensor(64, 112, 112)]).output
    Tensor(channels=64, height=56, width=56)
    """

    kind: ClassVar[str] = "pool"
    op: PoolOp
    kernel: int
    stride: int | None = None
    padding: int = 0
    ceil_mode: bool = False

    def __post_init__(self) -> None:
        _check_positive(
            self.kind,
            kernel=self.kernel,
            stride=self.kernel if self.stride is None else self.stride,
        )
        if not 0 <= 2 * self.padding <= self.kernel:
            raise UsageError(
                f"pool padding must be between 0 and half the kernel ({self.kernel}), "
                f"got {self.padding}"
            )

    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        (x,) = inputs
        stride = self.kernel if self.stride is None else self.stride
        out = Tensor(
            x.channels,
            window_output_size(
                x.height, self.kernel, stride, self.padding, ceil_mode=self.ceil_mode
            ),
            window_output_size(
                x.width, self.kernel, stride, self.padding, ceil_mode=self.ceil_mode
            ),
        )
        return LayerCost(out, elementwise_ops=out.elements * self.kernel * self.kernel)


def _adaptive_window_total(size: int, out: int) -> int:
    """Sum of the window lengths of adaptive pooling from ``size`` to ``out`` positions."""
    return sum(-(-(i + 1) * size // out) - (i * size) // out for i in range(out))


@dataclass(frozen=True, slots=True)
class AdaptiveAvgPool2d(LayerSpec):
    """Average pooling to a fixed output size (windows as in PyTorch, may overlap).

    Examples
    --------
    >>> cost = AdaptiveAvgPool2d(1).apply([Tensor(2048, 7, 7)])
    >>> cost.output.shape, cost.elementwise_ops
    ((2048, 1, 1), 100352)
    """

    kind: ClassVar[str] = "adaptive_avgpool"
    output_size: int

    def __post_init__(self) -> None:
        _check_positive(self.kind, output_size=self.output_size)

    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        (x,) = inputs
        n = self.output_size
        reads = _adaptive_window_total(x.height, n) * _adaptive_window_total(x.width, n)
        return LayerCost(Tensor(x.channels, n, n), elementwise_ops=x.channels * reads)


@dataclass(frozen=True, slots=True)
class BatchNorm2d(LayerSpec):
    """Batch normalisation at inference: a per-channel scale and shift.

    Examples
    --------
    >>> cost = BatchNorm2d().apply([Tensor(64, 2, 2)])
    >>> cost.output.shape, cost.elementwise_ops, cost.params
    ((64, 2, 2), 512, 128)
    """

    kind: ClassVar[str] = "batchnorm"

    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        (x,) = inputs
        return LayerCost(x, elementwise_ops=2 * x.elements, params=2 * x.channels)


@dataclass(frozen=True, slots=True)
class ReLU(LayerSpec):
    """Rectified linear unit; ``max_value`` clips it (6.0 for ReLU6).

    Examples
    --------
    >>> ReLU().apply([Tensor(8)]).elementwise_ops, ReLU(6.0).apply([Tensor(8)]).elementwise_ops
    (8, 16)
    """

    kind: ClassVar[str] = "relu"
    max_value: float | None = None

    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        (x,) = inputs
        per_element = 1 if self.max_value is None else 2
        return LayerCost(x, elementwise_ops=per_element * x.elements)


@dataclass(frozen=True, slots=True)
class Flatten(LayerSpec):
    """Flatten ``(C, H, W)`` to ``(C * H * W, 1, 1)``.

    Examples
    --------
    >>> Flatten().apply([Tensor(256, 6, 6)]).output
    Tensor(channels=9216, height=1, width=1)
    """

    kind: ClassVar[str] = "flatten"

    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        return LayerCost(Tensor(inputs[0].elements))


@dataclass(frozen=True, slots=True)
class Concat(LayerSpec):
    """Concatenation along channels of tensors with equal height and width.

    Examples
    --------
    >>> Concat().apply([Tensor(64, 28, 28), Tensor(128, 28, 28)]).output
    Tensor(channels=192, height=28, width=28)
    """

    kind: ClassVar[str] = "concat"
    n_inputs: ClassVar[int | None] = None

    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        sizes = {(x.height, x.width) for x in inputs}
        if len(sizes) != 1:
            raise UsageError(f"concatenated tensors differ in height or width: {sorted(sizes)}")
        first = inputs[0]
        return LayerCost(Tensor(sum(x.channels for x in inputs), first.height, first.width))


@dataclass(frozen=True, slots=True)
class Add(LayerSpec):
    """Element-wise sum of tensors of one shape (a residual connection).

    Examples
    --------
    >>> Add().apply([Tensor(256, 56, 56), Tensor(256, 56, 56)]).elementwise_ops
    802816
    """

    kind: ClassVar[str] = "add"
    n_inputs: ClassVar[int | None] = None

    def _evaluate(self, inputs: Sequence[Tensor]) -> LayerCost:
        shapes = {x.shape for x in inputs}
        if len(shapes) != 1:
            raise UsageError(f"added tensors differ in shape: {sorted(shapes)}")
        first = inputs[0]
        return LayerCost(first, elementwise_ops=(len(inputs) - 1) * first.elements)


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of a model profile: what it is, what it reads, what it costs.

    ``inputs`` names the layers whose outputs it reads (``"input"`` for the model's
    input). Costs are per sample; bytes are fp32.
    """

    name: str
    spec: LayerSpec
    inputs: tuple[str, ...]
    output: Tensor
    macs: int
    elementwise_ops: int
    params: int

    @property
    def kind(self) -> str:
        """The layer type (``conv``, ``linear``, ``pool``, ...)."""
        return self.spec.kind

    @property
    def ops(self) -> int:
        """Operations: ``2 * macs + elementwise_ops``."""
        return 2 * self.macs + self.elementwise_ops

    @property
    def output_bytes(self) -> int:
        """Size of the output tensor in fp32 bytes."""
        return self.output.nbytes()

    @property
    def param_bytes(self) -> int:
        """Size of the parameters in fp32 bytes."""
        return self.params * FP32_BYTES


def make_layer(name: str, spec: LayerSpec, inputs: Sequence[tuple[str, Tensor]]) -> Layer:
    """Apply ``spec`` to named input tensors and return the layer record.

    Parameters
    ----------
    name : str
        Name of the new layer.
    spec : LayerSpec
        What the layer is.
    inputs : sequence of (str, Tensor)
        The name of each producing layer (``"input"`` for the model input) with the
        shape of the tensor it produced.

    Returns
    -------
    Layer
        The record: output shape, MACs, element-wise ops and parameters.

    Examples
    --------
    >>> fc = make_layer("fc", Linear(10), [("flatten", Tensor(120))])
    >>> fc.output.shape, fc.macs, fc.ops, fc.params, fc.param_bytes
    ((10, 1, 1), 1200, 2400, 1210, 4840)
    """
    cost = spec.apply([tensor for _, tensor in inputs])
    return Layer(
        name=name,
        spec=spec,
        inputs=tuple(source for source, _ in inputs),
        output=cost.output,
        macs=cost.macs,
        elementwise_ops=cost.elementwise_ops,
        params=cost.params,
    )
