"""The reference DNNs as analytic layer tables (torchvision variants, 3x224x224 input).

Each builder writes the architecture from its shape rules with
:class:`~splitbench.zoo.profile.ModelBuilder`; residual, inverted residual and inception
blocks are atomic units, so cut points fall between sequential layers and after whole
blocks. Dropout layers are the identity at inference and are left out. The registry
:data:`ZOO_MODELS` maps each name to its builder; :func:`get_profile` builds (once) and
returns a profile.

Published facts used here (torchvision model documentation, ``IMAGENET1K_V1`` weights:
top-1 accuracy on ImageNet-1K, parameter count, GFLOPS which are in fact GMACs):

============  ========  ===========  ======
model         top-1 %   parameters   GMACs
============  ========  ===========  ======
alexnet       56.522    61,100,840   0.71
vgg16         71.592    138,357,544  15.47
resnet50      76.130    25,557,032   4.09
mobilenet_v2  71.878    3,504,872    0.30
googlenet     69.778    6,624,904    1.50
============  ========  ===========  ======

Examples
--------
>>> resnet = get_profile("resnet50")
>>> round(resnet.macs / 1e9, 2), resnet.params, resnet.output.shape
(4.09, 25557032, (1000, 1, 1))
>>> sorted(ZOO_MODELS)
['alexnet', 'googlenet', 'mobilenet_v2', 'resnet50', 'vgg16']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from splitbench.errors import UnknownNameError
from splitbench.zoo.layers import (
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
)
from splitbench.zoo.profile import ModelBuilder, ModelProfile

__all__ = [
    "IMAGENET_INPUT",
    "ZOO_MODELS",
    "ZooModel",
    "alexnet",
    "get_profile",
    "googlenet",
    "mobilenet_v2",
    "resnet50",
    "vgg16",
]

IMAGENET_INPUT = Tensor(3, 224, 224)
"""The input sample of every zoo model."""

_CLASSES = 1000


def _classifier(b: ModelBuilder, pool_size: int, hidden: tuple[int, ...] = ()) -> None:
    """Adaptive average pool, flatten, then linear layers (ReLU between them)."""
    b.add("avgpool", AdaptiveAvgPool2d(pool_size))
    b.add("flatten", Flatten())
    for i, width in enumerate(hidden):
        number = 6 + i  # fc6, fc7, fc8: the layer numbers of AlexNet and VGG
        b.add(f"fc{number}", Linear(width))
        b.add(f"relu{number}", ReLU())
    b.add(f"fc{6 + len(hidden)}" if hidden else "fc", Linear(_CLASSES))


def alexnet() -> ModelProfile:
    """AlexNet as in torchvision (the "one weird trick" single-tower variant).

    Examples
    --------
    >>> model = alexnet()
    >>> model.layer("pool5").output.shape, model.layer("fc6").params
    ((256, 6, 6), 37752832)
    """
    b = ModelBuilder("alexnet", IMAGENET_INPUT)
    features = [  # (number, out channels, kernel, stride, padding, pooled after)
        (1, 64, 11, 4, 2, True),
        (2, 192, 5, 1, 2, True),
        (3, 384, 3, 1, 1, False),
        (4, 256, 3, 1, 1, False),
        (5, 256, 3, 1, 1, True),
    ]
    for number, channels, kernel, stride, padding, pooled in features:
        b.add(f"conv{number}", Conv2d(channels, kernel, stride=stride, padding=padding))
        b.add(f"relu{number}", ReLU())
        if pooled:
            b.add(f"pool{number}", Pool2d(PoolOp.MAX, kernel=3, stride=2))
    _classifier(b, 6, hidden=(4096, 4096))
    # torchvision AlexNet_Weights.IMAGENET1K_V1: acc@1 56.522
    return b.build(top1_accuracy=0.56522)


def vgg16() -> ModelProfile:
    """VGG-16 (configuration D, no batch normalisation) as in torchvision.

    Examples
    --------
    >>> model = vgg16()
    >>> model.layer("stage1.conv1").output_bytes
    12845056
    """
    b = ModelBuilder("vgg16", IMAGENET_INPUT)
    stages = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
    for stage, (channels, n_convs) in enumerate(stages, start=1):
        for i in range(1, n_convs + 1):
            b.add(f"stage{stage}.conv{i}", Conv2d(channels, 3, padding=1))
            b.add(f"stage{stage}.relu{i}", ReLU())
        b.add(f"stage{stage}.pool", Pool2d(PoolOp.MAX, kernel=2, stride=2))
    _classifier(b, 7, hidden=(4096, 4096))
    # torchvision VGG16_Weights.IMAGENET1K_V1: acc@1 71.592
    return b.build(top1_accuracy=0.71592)


def _bottleneck(b: ModelBuilder, name: str, width: int, stride: int, downsample: bool) -> None:
    """ResNet V1.5 bottleneck: 1x1, 3x3 (carries the stride), 1x1 (x4), plus shortcut."""
    identity = b.last
    with b.unit(name):
        b.add("conv1", Conv2d(width, 1, bias=False), inputs=[identity])
        b.add("bn1", BatchNorm2d())
        b.add("relu1", ReLU())
        b.add("conv2", Conv2d(width, 3, stride=stride, padding=1, bias=False))
        b.add("bn2", BatchNorm2d())
        b.add("relu2", ReLU())
        b.add("conv3", Conv2d(4 * width, 1, bias=False))
        main = b.add("bn3", BatchNorm2d())
        shortcut = identity
        if downsample:
            b.add(
                "downsample.conv",
                Conv2d(4 * width, 1, stride=stride, bias=False),
                inputs=[identity],
            )
            shortcut = b.add("downsample.bn", BatchNorm2d())
        b.add("add", Add(), inputs=[main, shortcut])
        b.add("relu3", ReLU())


def resnet50() -> ModelProfile:
    """ResNet-50 as in torchvision (V1.5: the stride sits in the 3x3 convolution).

    Examples
    --------
    >>> model = resnet50()
    >>> model.layer("layer4.2.relu3").output.shape
    (2048, 7, 7)
    """
    b = ModelBuilder("resnet50", IMAGENET_INPUT)
    b.add("conv1", Conv2d(64, 7, stride=2, padding=3, bias=False))
    b.add("bn1", BatchNorm2d())
    b.add("relu", ReLU())
    b.add("maxpool", Pool2d(PoolOp.MAX, kernel=3, stride=2, padding=1))
    stages = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]
    for stage, (width, n_blocks, stride) in enumerate(stages, start=1):
        for i in range(n_blocks):
            _bottleneck(b, f"layer{stage}.{i}", width, stride if i == 0 else 1, downsample=i == 0)
    _classifier(b, 1)
    # torchvision ResNet50_Weights.IMAGENET1K_V1: acc@1 76.130
    return b.build(top1_accuracy=0.7613)


def _conv_bn_relu6(b: ModelBuilder, name: str, conv: Conv2d) -> str:
    b.add(f"{name}.conv", conv)
    b.add(f"{name}.bn", BatchNorm2d())
    return b.add(f"{name}.relu6", ReLU(6.0))


def _inverted_residual(b: ModelBuilder, name: str, out: int, stride: int, expand: int) -> None:
    """MobileNetV2 block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection."""
    identity = b.last
    channels = b.shape(identity).channels
    hidden = channels * expand
    with b.unit(name):
        if expand != 1:
            _conv_bn_relu6(b, "expand", Conv2d(hidden, 1, bias=False))
        _conv_bn_relu6(
            b, "dw", Conv2d(hidden, 3, stride=stride, padding=1, groups=hidden, bias=False)
        )
        b.add("project.conv", Conv2d(out, 1, bias=False))
        main = b.add("project.bn", BatchNorm2d())
        if stride == 1 and channels == out:
            b.add("add", Add(), inputs=[main, identity])


def mobilenet_v2() -> ModelProfile:
    """MobileNetV2, width multiplier 1.0, as in torchvision.

    Examples
    --------
    >>> model = mobilenet_v2()
    >>> model.layer("stage7.0.project.bn").output.shape, model.layer("head.relu6").output.shape
    ((320, 7, 7), (1280, 7, 7))
    """
    b = ModelBuilder("mobilenet_v2", IMAGENET_INPUT)
    _conv_bn_relu6(b, "stem", Conv2d(32, 3, stride=2, padding=1, bias=False))
    # (expansion t, output channels c, repeats n, first stride s), the paper's Table 2
    settings = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]
    for stage, (expand, out, repeats, stride) in enumerate(settings, start=1):
        for i in range(repeats):
            _inverted_residual(b, f"stage{stage}.{i}", out, stride if i == 0 else 1, expand)
    _conv_bn_relu6(b, "head", Conv2d(1280, 1, bias=False))
    _classifier(b, 1)
    # torchvision MobileNet_V2_Weights.IMAGENET1K_V1: acc@1 71.878
    return b.build(top1_accuracy=0.71878)


def _basic_conv(b: ModelBuilder, name: str, conv: Conv2d, inputs: list[str] | None = None) -> str:
    """GoogLeNet's BasicConv2d: convolution without bias, batch norm, ReLU."""
    b.add(f"{name}.conv", conv, inputs=inputs)
    b.add(f"{name}.bn", BatchNorm2d())
    return b.add(f"{name}.relu", ReLU())


def _inception(b: ModelBuilder, name: str, widths: tuple[int, int, int, int, int, int]) -> None:
    """Inception v1 module: four branches concatenated along channels.

    As in torchvision the "5x5" branch uses a 3x3 kernel (kept for weight compatibility).
    """
    ch1, ch3_reduce, ch3, ch5_reduce, ch5, pool_proj = widths
    x = b.last
    with b.unit(name):
        branch1 = _basic_conv(b, "1x1", Conv2d(ch1, 1, bias=False), [x])
        _basic_conv(b, "3x3_reduce", Conv2d(ch3_reduce, 1, bias=False), [x])
        branch2 = _basic_conv(b, "3x3", Conv2d(ch3, 3, padding=1, bias=False))
        _basic_conv(b, "5x5_reduce", Conv2d(ch5_reduce, 1, bias=False), [x])
        branch3 = _basic_conv(b, "5x5", Conv2d(ch5, 3, padding=1, bias=False))
        b.add("pool", Pool2d(PoolOp.MAX, kernel=3, stride=1, padding=1, ceil_mode=True), inputs=[x])
        branch4 = _basic_conv(b, "pool_proj", Conv2d(pool_proj, 1, bias=False))
        b.add("concat", Concat(), inputs=[branch1, branch2, branch3, branch4])


def googlenet() -> ModelProfile:
    """GoogLeNet (Inception v1) as in torchvision, without the auxiliary classifiers.

    Examples
    --------
    >>> model = googlenet()
    >>> model.layer("maxpool1").output.shape, model.layer("inception5b.concat").output.shape
    ((64, 56, 56), (1024, 7, 7))
    """
    b = ModelBuilder("googlenet", IMAGENET_INPUT)

    def max_pool(name: str, kernel: int) -> None:
        b.add(name, Pool2d(PoolOp.MAX, kernel=kernel, stride=2, ceil_mode=True))

    _basic_conv(b, "conv1", Conv2d(64, 7, stride=2, padding=3, bias=False))
    max_pool("maxpool1", 3)
    _basic_conv(b, "conv2", Conv2d(64, 1, bias=False))
    _basic_conv(b, "conv3", Conv2d(192, 3, padding=1, bias=False))
    max_pool("maxpool2", 3)
    _inception(b, "inception3a", (64, 96, 128, 16, 32, 32))
    _inception(b, "inception3b", (128, 128, 192, 32, 96, 64))
    max_pool("maxpool3", 3)
    _inception(b, "inception4a", (192, 96, 208, 16, 48, 64))
    _inception(b, "inception4b", (160, 112, 224, 24, 64, 64))
    _inception(b, "inception4c", (128, 128, 256, 24, 64, 64))
    _inception(b, "inception4d", (112, 144, 288, 32, 64, 64))
    _inception(b, "inception4e", (256, 160, 320, 32, 128, 128))
    max_pool("maxpool4", 2)
    _inception(b, "inception5a", (256, 160, 320, 32, 128, 128))
    _inception(b, "inception5b", (384, 192, 384, 48, 128, 128))
    _classifier(b, 1)
    # torchvision GoogLeNet_Weights.IMAGENET1K_V1: acc@1 69.778
    return b.build(top1_accuracy=0.69778)


@dataclass(frozen=True, slots=True)
class ZooModel:
    """A registered reference DNN: its name, a one-line description and its builder."""

    name: str
    description: str
    build: Callable[[], ModelProfile]


def _registry(*models: ZooModel) -> Mapping[str, ZooModel]:
    entries: dict[str, ZooModel] = {}
    for model in models:
        if model.name in entries:
            raise ValueError(f"zoo model {model.name!r} registered twice")
        entries[model.name] = model
    return MappingProxyType(entries)


ZOO_MODELS: Mapping[str, ZooModel] = _registry(
    ZooModel("alexnet", "AlexNet (torchvision variant)", alexnet),
    ZooModel("vgg16", "VGG-16 without batch norm", vgg16),
    ZooModel("resnet50", "ResNet-50 V1.5 (bottleneck blocks)", resnet50),
    ZooModel("mobilenet_v2", "MobileNetV2, width 1.0 (inverted residuals)", mobilenet_v2),
    ZooModel("googlenet", "GoogLeNet / Inception v1, no auxiliary classifiers", googlenet),
)
"""The analytic reference DNNs by name."""


@cache
def get_profile(name: str) -> ModelProfile:
    """The layer table and cut points of zoo model ``name`` (built once, then cached).

    Parameters
    ----------
    name : str
        One of :data:`ZOO_MODELS`.

    Returns
    -------
    ModelProfile
        The frozen profile.

    Raises
    ------
    UnknownNameError
        If ``name`` is not a zoo model.

    Examples
    --------
    >>> get_profile("alexnet").cut_points[:3]
    (1, 2, 3)
    >>> get_profile("lenet")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    splitbench.errors.UnknownNameError: unknown zoo model 'lenet'; known: alexnet, vgg16, ...
    """
    if name not in ZOO_MODELS:
        raise UnknownNameError(f"unknown zoo model {name!r}; known: {', '.join(ZOO_MODELS)}")
    return ZOO_MODELS[name].build()
