"""DNN profiles: analytic layer tables grouped into blocks, and the FIN BranchyNet models.

Two kinds of models, served by one function, :func:`get_dnn`, through one registry,
:data:`MODELS` (an unknown name lists the known ones):

- :data:`ZOO_MODELS` (``alexnet``, ``vgg16``, ``resnet50``, ``mobilenet_v2``,
  ``googlenet``): torchvision architectures written as per-layer shape rules
  (:mod:`splitbench.zoo.layers`), with MAC and parameter totals that match the
  published ones; their layers are grouped into blocks at single-tensor cut points
  (:func:`to_dnn`). Options: ``n_blocks``, ``cuts``, ``input_bytes``.
- :data:`BRANCHY_MODELS` (``b-alexnet``, ``b-resnet``, ``b-lenet``): the early-exit
  models of the FIN evaluation scenario, given per block (:func:`branchy_dnn`).
  Option: ``dataset``. :func:`fin_network` is that scenario's three-tier network.

Examples
--------
>>> from splitbench.zoo import get_dnn, layer_table
>>> dnn = get_dnn("googlenet", n_blocks=3)
>>> [block.name for block in dnn.blocks]
['conv1..maxpool2', 'inception3a..inception4b', 'inception4c..fc']
>>> get_dnn("b-resnet").exits[0].exit_probability
0.415
>>> layer_table("alexnet")[0].output.shape
(64, 55, 55)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from splitbench.errors import UsageError
from splitbench.instance import DNN
from splitbench.registry import Registry
from splitbench.zoo.branchy import (
    BRANCHY_MODELS,
    DATASETS,
    BranchyModel,
    branchy_dnn,
    fin_network,
)
from splitbench.zoo.grouping import balanced_cuts, block_name, preferred_cut_points, to_dnn
from splitbench.zoo.layers import FP32_BYTES, Layer, Tensor
from splitbench.zoo.models import IMAGENET_INPUT, ZOO_MODELS, ZooModel, get_profile
from splitbench.zoo.profile import ModelProfile, crossing_tensors

__all__ = [
    "BRANCHY_MODELS",
    "BRANCHY_OPTIONS",
    "DATASETS",
    "FP32_BYTES",
    "IMAGENET_INPUT",
    "MODELS",
    "ZOO_MODELS",
    "ZOO_OPTIONS",
    "BranchyModel",
    "Layer",
    "ModelEntry",
    "ModelProfile",
    "Tensor",
    "ZooModel",
    "balanced_cuts",
    "block_name",
    "branchy_dnn",
    "crossing_tensors",
    "fin_network",
    "get_dnn",
    "get_profile",
    "known_models",
    "layer_table",
    "preferred_cut_points",
    "to_dnn",
]

ZOO_OPTIONS = frozenset({"n_blocks", "cuts", "input_bytes"})
"""The options :func:`get_dnn` passes to :func:`to_dnn` for a zoo model."""

BRANCHY_OPTIONS = frozenset({"dataset"})
"""The options :func:`get_dnn` passes to :func:`branchy_dnn` for a BranchyNet model."""


@dataclass(frozen=True)
class ModelEntry:
    """A model :func:`get_dnn` serves: how to build it and which options it takes.

    Attributes
    ----------
    name : str
        The model name.
    options : frozenset of str
        The keyword options ``build`` accepts.
    build : callable
        ``build(**options)`` returns the :class:`~splitbench.instance.DNN`.
    layers : callable or None
        The per-layer table (zoo models); None for models given per block.
    """

    name: str
    options: frozenset[str]
    build: Callable[..., DNN]
    layers: Callable[[], tuple[Layer, ...]] | None


MODELS = Registry[ModelEntry]("model")
"""Every model :func:`get_dnn` serves: zoo models, then BranchyNet models (a name in
both tables is refused when the package is imported)."""


def _layers(name: str) -> tuple[Layer, ...]:
    return get_profile(name).layers


for _name in ZOO_MODELS:
    MODELS.register(
        _name,
        ModelEntry(
            _name,
            ZOO_OPTIONS,
            functools.partial(to_dnn, _name),
            functools.partial(_layers, _name),
        ),
    )
for _name in BRANCHY_MODELS:
    MODELS.register(
        _name, ModelEntry(_name, BRANCHY_OPTIONS, functools.partial(branchy_dnn, _name), None)
    )
del _name


def known_models() -> tuple[str, ...]:
    """Every model name :func:`get_dnn` accepts: zoo models, then BranchyNet models.

    Examples
    --------
    >>> known_models()[:5]
    ('alexnet', 'vgg16', 'resnet50', 'mobilenet_v2', 'googlenet')
    >>> known_models()[5:]
    ('b-alexnet', 'b-resnet', 'b-lenet')
    """
    return MODELS.names()


def get_dnn(name: str, **options: Any) -> DNN:
    """The DNN called ``name``, from the zoo or from the FIN BranchyNet models.

    Parameters
    ----------
    name : str
        A name from :func:`known_models`.
    **options
        Zoo models: ``n_blocks``, ``cuts``, ``input_bytes`` (see :func:`to_dnn`).
        BranchyNet models: ``dataset`` (see :func:`branchy_dnn`).

    Returns
    -------
    DNN
        The model as a chain of blocks with its exits.

    Raises
    ------
    UnknownNameError
        If ``name`` is not a known model.
    UsageError
        If an option does not apply to that kind of model, or its value is invalid.

    Examples
    --------
    >>> get_dnn("vgg16", n_blocks=2).n_blocks
    2
    >>> get_dnn("b-alexnet", dataset="cifar100").final_exit.accuracy
    0.6032
    >>> get_dnn("inception_v3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    splitbench.errors.UnknownNameError: unknown model 'inception_v3'; known models: alexnet, ...
    """
    entry = MODELS.get(name)
    extra = set(options) - entry.options
    if extra:
        takes = (
            f"the option {next(iter(entry.options))!r} only"
            if len(entry.options) == 1
            else f"the options {sorted(entry.options)}"
        )
        raise UsageError(f"{name} takes {takes}, not {sorted(extra)}")
    return entry.build(**options)


def layer_table(name: str) -> tuple[Layer, ...]:
    """The per-layer records of zoo model ``name``, in topological order.

    Each :class:`~splitbench.zoo.layers.Layer` has its name, kind, inputs, output shape
    ``(C, H, W)``, ``macs``, ``ops``, ``params``, ``output_bytes`` and ``param_bytes``
    (fp32).

    Raises
    ------
    UnknownNameError
        If ``name`` is not a known model.
    UsageError
        For a BranchyNet model, which is given per block and has no layer table.

    Examples
    --------
    >>> [(layer.name, layer.output.shape, layer.macs) for layer in layer_table("alexnet")[:3]]
    [('conv1', (64, 55, 55), 70276800), ('relu1', (64, 55, 55), 0), ('pool1', (64, 27, 27), 0)]
    >>> layer_table("b-lenet")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: b-lenet is given per block (the FIN scenario data) and has ...
    """
    entry = MODELS.get(name)
    if entry.layers is None:
        raise UsageError(
            f"{name} is given per block (the FIN scenario data) and has no layer table; "
            f"use get_dnn({name!r})"
        )
    return entry.layers()
