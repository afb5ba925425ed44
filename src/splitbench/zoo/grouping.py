"""Group a layer table into the blocks of a :class:`splitbench.instance.DNN`.

Blocks are cut at the profile's single-tensor cut points: all of them by default, a
given number of ops-balanced blocks, or explicit cut indices. For a block of layers:

- ``ops``: the sum of the layers' ops (``2 * MACs`` plus element-wise ops, see
  :mod:`splitbench.zoo.layers`);
- ``output_bytes``: the fp32 size of the one tensor that crosses the cut after it (the
  last block's is the fp32 logits, 1000 x 4 bytes);
- ``memory_bytes``: the fp32 size of its parameters.

The DNN's ``input_bytes`` default to the raw uint8 image, 3 x 224 x 224 = 150,528 bytes
(what a camera hands over before normalisation; MODEL.md section 7 compares it with
VGG-16's 12.8 MB first feature map). Its one exit is the final classifier, with the
model's published top-1 ImageNet accuracy.

Balanced grouping picks the cut points that minimise the sum of squared block ops
(equivalently, the spread of block ops around their mean), by dynamic programming; ties
go to the earlier cut. It does not cut between a layer and the batch norm or ReLU
applied to it (:func:`preferred_cut_points`) unless more blocks are asked for than that
allows.

Block names come from the layer names: the name of the unit or layer when a block holds
one, the common prefix when a block holds exactly the layers under it (``layer2``,
``stage3``), otherwise ``first..last``.

Examples
--------
>>> dnn = to_dnn("resnet50", n_blocks=4)
>>> [block.name for block in dnn.blocks]
['conv1..layer2.0', 'layer2.1..layer3.0', 'layer3.1..layer3.4', 'layer3.5..fc']
>>> dnn.input_bytes, dnn.final_exit.accuracy
(150528.0, 0.7613)
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from splitbench.errors import UsageError
from splitbench.instance import DNN, Block, Exit
from splitbench.zoo.models import get_profile
from splitbench.zoo.profile import ModelProfile

__all__ = ["balanced_cuts", "block_name", "preferred_cut_points", "to_dnn"]


_ELEMENTWISE_KINDS = frozenset({"batchnorm", "relu"})


def preferred_cut_points(profile: ModelProfile) -> tuple[int, ...]:
    """The cut points that do not separate a layer from the BN/ReLU layers applied to it.

    A cut just before a batch norm or ReLU that reads only the previous layer ships a
    tensor of the same size as the cut after it and splits work that inference engines
    fuse; balanced grouping avoids such cuts.

    Examples
    --------
    >>> from splitbench.zoo import get_profile
    >>> alexnet = get_profile("alexnet")
    >>> [alexnet.layers[k - 1].name for k in preferred_cut_points(alexnet)][:4]
    ['relu1', 'pool1', 'relu2', 'pool2']
    """
    layers = profile.layers
    return tuple(
        k
        for k in profile.cut_points
        if not (layers[k].kind in _ELEMENTWISE_KINDS and layers[k].inputs == (layers[k - 1].name,))
    )


def balanced_cuts(profile: ModelProfile, n_blocks: int) -> tuple[int, ...]:
    """The ``n_blocks - 1`` cut points that make the most ops-balanced blocks.

    The cuts are chosen among :func:`preferred_cut_points` when there are enough of
    them, otherwise among all cut points, and minimise the sum of squared block ops
    (dynamic programming; ties go to the earlier cut).

    Parameters
    ----------
    profile : ModelProfile
        The layer table with its cut points.
    n_blocks : int
        Number of blocks, from 1 to ``len(profile.cut_points) + 1``.

    Returns
    -------
    tuple of int
        Cut points (layer boundaries), increasing.

    Examples
    --------
    >>> from splitbench.zoo import get_profile
    >>> alexnet = get_profile("alexnet")
    >>> [alexnet.layers[k - 1].name for k in balanced_cuts(alexnet, 3)]
    ['relu2', 'relu4']
    """
    if not 1 <= n_blocks <= len(profile.cut_points) + 1:
        raise UsageError(
            f"{profile.name} can be split into 1 to {len(profile.cut_points) + 1} blocks, "
            f"not {n_blocks}"
        )
    candidates = preferred_cut_points(profile)
    if n_blocks > len(candidates) + 1:
        candidates = profile.cut_points
    bounds = (0, *candidates, len(profile.layers))
    prefix = [0]
    for layer in profile.layers:
        prefix.append(prefix[-1] + layer.ops)
    ops_at = [prefix[k] for k in bounds]
    n = len(bounds) - 1  # pieces between consecutive candidate bounds
    # cost[j][i]: least sum of squares of j blocks covering bounds[0]..bounds[i];
    # back[j][i]: the bound index where the last of those blocks starts.
    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(n_blocks + 1)]
    back = [[0] * (n + 1) for _ in range(n_blocks + 1)]
    cost[0][0] = 0.0
    for j in range(1, n_blocks + 1):
        for i in range(j, n - (n_blocks - j) + 1):
            for start in range(j - 1, i):
                value = cost[j - 1][start] + float(ops_at[i] - ops_at[start]) ** 2
                if value < cost[j][i]:
                    cost[j][i], back[j][i] = value, start
    starts: list[int] = []
    end = n
    for j in range(n_blocks, 1, -1):
        end = back[j][end]
        starts.append(end)
    return tuple(bounds[s] for s in reversed(starts))


def _covered(names: Sequence[str], prefix: str) -> list[int]:
    """Indices of the segment names equal to ``prefix`` or under it (``prefix.*``)."""
    return [i for i, name in enumerate(names) if name == prefix or name.startswith(prefix + ".")]


def _shortest_inside(names: Sequence[str], index: int, first: int, last: int) -> str:
    """The shortest dotted prefix of ``names[index]`` whose segments all lie in first..last."""
    parts = names[index].split(".")
    for n in range(1, len(parts)):
        prefix = ".".join(parts[:n])
        covered = _covered(names, prefix)
        if first <= covered[0] and covered[-1] <= last:
            return prefix
    return names[index]


def block_name(profile: ModelProfile, first: int, last: int) -> str:
    """A readable name for the block made of segments ``first..last`` (0-based, inclusive).

    The segment's own name for one segment; the common dotted prefix when the block holds
    exactly the segments under it; otherwise ``start..end``, each end shortened to the
    shortest prefix whose segments all lie in the block.

    Examples
    --------
    >>> from splitbench.zoo import get_profile
    >>> resnet = get_profile("resnet50")
    >>> names = resnet.segment_names
    >>> a, b = names.index("layer2.0"), names.index("layer2.3")
    >>> block_name(resnet, a, b), block_name(resnet, a, b - 1), block_name(resnet, a, a)
    ('layer2', 'layer2.0..layer2.2', 'layer2.0')
    >>> block_name(resnet, a, names.index("layer3.1"))
    'layer2..layer3.1'
    """
    names = profile.segment_names
    if first == last:
        return names[first]
    parts = [name.split(".") for name in names[first : last + 1]]
    common: list[str] = []
    for pieces in zip(*parts, strict=False):
        if len(set(pieces)) != 1:
            break
        common.append(pieces[0])
    if common and _covered(names, ".".join(common)) == list(range(first, last + 1)):
        return ".".join(common)
    start = _shortest_inside(names, first, first, last)
    end = _shortest_inside(names, last, first, last)
    return f"{start}..{end}"


def _check_cuts(profile: ModelProfile, cuts: Sequence[int]) -> tuple[int, ...]:
    chosen = tuple(int(k) for k in cuts)
    allowed = set(profile.cut_points)
    bad = [k for k in chosen if k not in allowed]
    if bad:
        raise UsageError(
            f"{profile.name}: {bad} are not single-tensor cut points; choose among "
            f"profile.cut_points (1..{len(profile.layers) - 1}, e.g. {profile.cut_points[:5]})"
        )
    if any(b <= a for a, b in pairwise(chosen)):
        raise UsageError(f"{profile.name}: cut points must be strictly increasing, got {chosen}")
    return chosen


def to_dnn(
    model: str | ModelProfile,
    n_blocks: int | None = None,
    *,
    cuts: Sequence[int] | None = None,
    input_bytes: float | None = None,
) -> DNN:
    """Group a zoo model's layers into the blocks of a :class:`~splitbench.instance.DNN`.

    Parameters
    ----------
    model : str or ModelProfile
        A name from :data:`splitbench.zoo.ZOO_MODELS`, or a profile.
    n_blocks : int or None
        Number of ops-balanced blocks (see :func:`balanced_cuts`); None, with ``cuts``
        also None, cuts at every cut point.
    cuts : sequence of int or None
        Explicit cut points (layer boundaries from ``profile.cut_points``), increasing.
        Exclusive with ``n_blocks``.
    input_bytes : float or None
        Size of the raw input; None means uint8 pixels, one byte per input element
        (150,528 bytes for 3 x 224 x 224).

    Returns
    -------
    DNN
        Blocks with ops, fp32 output bytes and fp32 parameter bytes; one final exit
        with the published top-1 accuracy.

    Raises
    ------
    UnknownNameError
        If ``model`` is not a zoo model name.
    UsageError
        If both ``n_blocks`` and ``cuts`` are given, or either is out of range.

    Examples
    --------
    >>> dnn = to_dnn("vgg16", cuts=[1])
    >>> [(b.name, b.output_bytes) for b in dnn.blocks]
    [('stage1.conv1', 12845056.0), ('stage1.relu1..fc8', 4000.0)]
    >>> to_dnn("mobilenet_v2").n_blocks
    26
    """
    profile = get_profile(model) if isinstance(model, str) else model
    if n_blocks is not None and cuts is not None:
        raise UsageError("give n_blocks or cuts, not both")
    if cuts is not None:
        chosen = _check_cuts(profile, cuts)
    elif n_blocks is not None:
        chosen = balanced_cuts(profile, n_blocks)
    else:
        chosen = profile.cut_points
    segment_of = {k: i for i, k in enumerate(profile.boundaries)}
    bounds = (0, *chosen, len(profile.layers))
    blocks = []
    for start, end in pairwise(bounds):
        layers = profile.layers[start:end]
        blocks.append(
            Block(
                name=block_name(profile, segment_of[start], segment_of[end] - 1),
                ops=float(sum(layer.ops for layer in layers)),
                output_bytes=float(layers[-1].output_bytes),
                memory_bytes=float(sum(layer.param_bytes for layer in layers)),
            )
        )
    raw = float(profile.input.elements) if input_bytes is None else float(input_bytes)
    return DNN(
        name=profile.name,
        input_bytes=raw,
        blocks=tuple(blocks),
        exits=(Exit(after_block=len(blocks), accuracy=profile.top1_accuracy),),
    )
