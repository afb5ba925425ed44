"""Model profiles: a layer table in topological order plus its single-tensor cut points.

A :class:`ModelProfile` lists the layers of a DNN for one input sample, each naming the
layers it reads, so residual and inception models keep their branches. A *cut point*
``k`` (``1 <= k < n_layers``) splits the table into ``layers[:k]`` and ``layers[k:]``;
it is offered only where exactly one tensor crosses the cut, the output of
``layers[k - 1]``, so the part after the cut needs nothing else from the part before.

:class:`ModelBuilder` makes profiles. Layers added inside :meth:`ModelBuilder.unit`
form an atomic unit (a residual bottleneck, an inverted residual block, an inception
module): no cut is offered inside it, and its layers are named ``unit.layer``. Between
units and plain layers every boundary is a cut point, and the builder checks that
exactly one tensor crosses each of them.

Examples
--------
>>> from splitbench.zoo.layers import Add, Conv2d, ReLU, Tensor
>>> b = ModelBuilder("toy", Tensor(8, 4, 4))
>>> stem = b.add("stem", Conv2d(8, kernel=3, padding=1))
>>> with b.unit("res"):
...     body = b.add("conv", Conv2d(8, kernel=3, padding=1))
...     _ = b.add("add", Add(), inputs=[stem, body])
>>> _ = b.add("relu", ReLU())
>>> toy = b.build()
>>> [layer.name for layer in toy.layers]
['stem', 'res.conv', 'res.add', 'relu']
>>> toy.cut_points, toy.segment_names
((1, 3), ('stem', 'res', 'relu'))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from splitbench.errors import UsageError
from splitbench.zoo.layers import Layer, LayerSpec, Tensor, make_layer

__all__ = ["INPUT", "ModelBuilder", "ModelProfile", "crossing_tensors"]

INPUT = "input"
"""The name under which layers read the model's input tensor."""


def crossing_tensors(layers: Sequence[Layer], k: int) -> tuple[str, ...]:
    """Names of the tensors produced before boundary ``k`` and read at or after it.

    ``"input"`` stands for the model's input. A boundary is a single-tensor cut
    exactly when the answer is the one name ``layers[k - 1].name``.

    Examples
    --------
    >>> from splitbench.zoo import get_profile
    >>> resnet = get_profile("resnet50")
    >>> names = [layer.name for layer in resnet.layers]
    >>> crossing_tensors(resnet.layers, names.index("layer1.0.conv2"))  # inside a bottleneck
    ('layer1.0.relu1', 'maxpool')
    >>> crossing_tensors(resnet.layers, names.index("layer1.1.conv1"))  # after it
    ('layer1.0.relu3',)
    """
    before = {INPUT, *(layer.name for layer in layers[:k])}
    crossing: list[str] = []
    for layer in layers[k:]:
        for source in layer.inputs:
            if source in before and source not in crossing:
                crossing.append(source)
    return tuple(sorted(crossing))


@dataclass(frozen=True)
class ModelProfile:
    """The layer table of a DNN and its single-tensor cut points.

    Parameters
    ----------
    name : str
        Model name (``resnet50``).
    input : Tensor
        Shape of the input sample.
    layers : tuple of Layer
        Layers in topological order.
    cut_points : tuple of int
        Boundaries ``k`` where ``layers[:k] | layers[k:]`` is crossed by one tensor only.
    segment_names : tuple of str
        A name for each of the ``len(cut_points) + 1`` segments between consecutive cut
        points: the layer name, or the unit name for an atomic unit.
    top1_accuracy : float or None
        Published top-1 accuracy of the model (a fraction), None when unknown.
    """

    name: str
    input: Tensor
    layers: tuple[Layer, ...]
    cut_points: tuple[int, ...]
    segment_names: tuple[str, ...]
    top1_accuracy: float | None = None

    @cached_property
    def boundaries(self) -> tuple[int, ...]:
        """``(0, *cut_points, n_layers)``: where each segment starts and ends."""
        return (0, *self.cut_points, len(self.layers))

    @property
    def macs(self) -> int:
        """Total multiply-accumulates (convolution and linear layers)."""
        return sum(layer.macs for layer in self.layers)

    @property
    def ops(self) -> int:
        """Total operations: ``2 * macs`` plus element-wise ops."""
        return sum(layer.ops for layer in self.layers)

    @property
    def params(self) -> int:
        """Total learnable parameters."""
        return sum(layer.params for layer in self.layers)

    @property
    def output(self) -> Tensor:
        """Shape of the model's output (the last layer's)."""
        return self.layers[-1].output

    @cached_property
    def layer_index(self) -> Mapping[str, int]:
        """Position of each layer name in :attr:`layers`."""
        return {layer.name: i for i, layer in enumerate(self.layers)}

    def layer(self, name: str) -> Layer:
        """The layer called ``name`` (:class:`UsageError` if there is none)."""
        if name not in self.layer_index:
            raise UsageError(f"{self.name} has no layer called {name!r}")
        return self.layers[self.layer_index[name]]


class ModelBuilder:
    """Build a :class:`ModelProfile` layer by layer.

    Parameters
    ----------
    name : str
        Model name.
    input : Tensor
        Shape of the input sample.

    Examples
    --------
    >>> from splitbench.zoo.layers import Flatten, Linear, Tensor
    >>> b = ModelBuilder("mlp", Tensor(1, 28, 28))
    >>> _ = b.add("flatten", Flatten())
    >>> _ = b.add("fc", Linear(10))
    >>> mlp = b.build(top1_accuracy=0.9)
    >>> mlp.macs, mlp.cut_points, mlp.output.shape
    (7840, (1,), (10, 1, 1))
    """

    def __init__(self, name: str, input: Tensor) -> None:
        self.name = name
        self.input = input
        self._layers: list[Layer] = []
        self._shapes: dict[str, Tensor] = {INPUT: input}
        self._unit_of: list[str | None] = []
        self._unit: str | None = None
        self._unit_names: set[str] = set()

    @property
    def last(self) -> str:
        """Name of the most recently added layer (``"input"`` before the first)."""
        return self._layers[-1].name if self._layers else INPUT

    def shape(self, name: str) -> Tensor:
        """The output shape of layer ``name`` (or of the input)."""
        return self._shapes[name]

    def add(self, name: str, spec: LayerSpec, inputs: Sequence[str] | None = None) -> str:
        """Append a layer reading ``inputs`` (default: the previous layer) and return its name.

        Inside :meth:`unit` the name is prefixed with the unit name and a dot.
        """
        full = f"{self._unit}.{name}" if self._unit else name
        if full in self._shapes or full in self._unit_names:
            raise UsageError(f"{self.name}: duplicate layer name {full!r}")
        sources = [self.last] if inputs is None else list(inputs)
        for source in sources:
            if source not in self._shapes:
                raise UsageError(f"{self.name}: layer {full!r} reads unknown layer {source!r}")
        layer = make_layer(full, spec, [(source, self._shapes[source]) for source in sources])
        self._layers.append(layer)
        self._shapes[full] = layer.output
        self._unit_of.append(self._unit)
        return full

    @contextmanager
    def unit(self, name: str) -> Iterator[None]:
        """Group the layers added in the ``with`` body into one atomic unit."""
        if self._unit is not None:
            raise UsageError(f"{self.name}: units do not nest ({name!r} inside {self._unit!r})")
        if name in self._unit_names or name in self._shapes:
            raise UsageError(f"{self.name}: duplicate unit name {name!r}")
        self._unit_names.add(name)
        self._unit = name
        try:
            yield
        finally:
            self._unit = None

    def build(self, top1_accuracy: float | None = None) -> ModelProfile:
        """The profile: layers, cut points between units and plain layers, segment names."""
        if not self._layers:
            raise UsageError(f"{self.name}: a model needs at least one layer")
        cuts: list[int] = []
        names: list[str] = []
        for k in range(1, len(self._layers) + 1):
            unit = self._unit_of[k - 1]
            if k < len(self._layers) and unit is not None and unit == self._unit_of[k]:
                continue
            names.append(unit if unit is not None else self._layers[k - 1].name)
            if k == len(self._layers):
                break
            crossing = crossing_tensors(self._layers, k)
            if crossing != (self._layers[k - 1].name,):
                raise UsageError(
                    f"{self.name}: the boundary after {self._layers[k - 1].name!r} is crossed by "
                    f"{list(crossing)}; put the branching layers in one unit"
                )
            cuts.append(k)
        return ModelProfile(
            name=self.name,
            input=self.input,
            layers=tuple(self._layers),
            cut_points=tuple(cuts),
            segment_names=tuple(names),
            top1_accuracy=top1_accuracy,
        )
