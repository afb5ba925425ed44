"""The BranchyNet models and the three-tier network of the FIN evaluation scenario.

Numbers from MODEL.md section 6, which records the public scenario data of [FIN]
(C. Singhal et al., "Resource-aware Deployment of Dynamic DNNs over Multi-tiered
Interconnected Systems", IEEE INFOCOM 2024) and the exit shares published with
BranchyNet (S. Teerapittayanon, B. McDanel, H. T. Kung, ICPR 2016). They are given per
block, not per layer: these models have no layer table.

Conventions of the FIN authors, kept here so that costs match theirs:

- block ``ops`` = (the authors' value) x 1e9, to be used with ``ops_per_s`` = TOPS x 1e12;
- tensor sizes count one byte per element (``output_bytes`` = elements);
- ``input_bytes``: 32 x 32 x 3 = 3072 for CIFAR, 28 x 28 x 1 = 784 for MNIST;
- the last block's output is the logits, one byte per class (10 or 100);
- early exits carry BranchyNet's exit share as ``exit_probability``; the final exit
  takes the remainder. The shares were published for CIFAR-10 and MNIST; MODEL.md gives
  them per model, so B-AlexNet on CIFAR-100 reuses its CIFAR-10 shares (an assumption:
  no CIFAR-100 shares were published).

Examples
--------
>>> dnn = branchy_dnn("b-lenet", "mnist")
>>> [block.ops for block in dnn.blocks], dnn.input_bytes
([167400000.0, 40000000.0, 48000000.0], 784.0)
>>> [(ex.after_block, ex.accuracy, ex.exit_probability) for ex in dnn.exits]
[(1, 0.9359, 0.943), (3, 0.9925, None)]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from splitbench.errors import UnknownNameError, UsageError
from splitbench.instance import DNN, Block, Exit, Link, Network, Node

__all__ = ["BRANCHY_MODELS", "DATASETS", "BranchyModel", "Dataset", "branchy_dnn", "fin_network"]


@dataclass(frozen=True, slots=True)
class Dataset:
    """An input data set: raw input size (1 byte per element) and number of classes."""

    name: str
    input_bytes: int
    classes: int


DATASETS: Mapping[str, Dataset] = MappingProxyType(
    {
        "cifar10": Dataset("cifar10", 32 * 32 * 3, 10),
        "cifar100": Dataset("cifar100", 32 * 32 * 3, 100),
        "mnist": Dataset("mnist", 28 * 28 * 1, 10),
    }
)
"""Data sets of the BranchyNet models."""


@dataclass(frozen=True, slots=True)
class BranchyModel:
    """A BranchyNet model of the FIN scenario.

    Parameters
    ----------
    name : str
        Model name (``b-alexnet``).
    block_gops : tuple of float
        Ops of each block in units of 1e9 (the authors' values).
    handover_elements : tuple of int
        Elements of the tensor each block but the last hands to the next.
    exit_blocks : tuple of int
        Block after which each exit sits (1-based); the last is the final exit.
    accuracy : mapping of str to tuple of float
        Exit accuracies per data set; its keys are the data sets the model supports.
    exit_shares : tuple of float
        BranchyNet's published share of samples leaving at each early exit (the final
        exit takes the remainder).
    """

    name: str
    block_gops: tuple[float, ...]
    handover_elements: tuple[int, ...]
    exit_blocks: tuple[int, ...]
    accuracy: Mapping[str, tuple[float, ...]]
    exit_shares: tuple[float, ...]

    @property
    def datasets(self) -> tuple[str, ...]:
        """The data sets this model has numbers for, the default first."""
        return tuple(self.accuracy)


def _registry(*models: BranchyModel) -> Mapping[str, BranchyModel]:
    entries: dict[str, BranchyModel] = {}
    for model in models:
        if model.name in entries:
            raise ValueError(f"BranchyNet model {model.name!r} registered twice")
        entries[model.name] = model
    return MappingProxyType(entries)


BRANCHY_MODELS: Mapping[str, BranchyModel] = _registry(
    BranchyModel(
        name="b-alexnet",
        block_gops=(22.62, 6.711, 10.145, 19.201, 13.523),
        handover_elements=(27 * 27 * 256, 13 * 13 * 384, 13 * 13 * 384, 13 * 13 * 256),
        exit_blocks=(1, 3, 5),
        accuracy={"cifar10": (0.5637, 0.7805, 0.8595), "cifar100": (0.3956, 0.5477, 0.6032)},
        exit_shares=(0.656, 0.252),  # BranchyNet: 65.6 / 25.2 / 9.2 %
    ),
    BranchyModel(
        name="b-resnet",
        block_gops=(0.7733, 1.0803, 1.0593, 3.5043, 11.7704),
        handover_elements=(32 * 32 * 16, 32 * 32 * 16, 8 * 8 * 64, 8 * 8 * 64),
        exit_blocks=(1, 3, 5),
        accuracy={"cifar10": (0.3889, 0.5182, 0.9370)},
        exit_shares=(0.415, 0.138),  # BranchyNet: 41.5 / 13.8 / 44.7 %
    ),
    BranchyModel(
        name="b-lenet",
        block_gops=(0.1674, 0.04, 0.048),
        handover_elements=(10 * 10 * 16, 1 * 1 * 120),
        exit_blocks=(1, 3),
        accuracy={"mnist": (0.9359, 0.9925)},
        exit_shares=(0.943,),  # BranchyNet: 94.3 / 5.7 %
    ),
)
"""The BranchyNet models of the FIN scenario by name."""


def branchy_dnn(name: str, dataset: str | None = None) -> DNN:
    """The FIN scenario's BranchyNet model ``name`` trained on ``dataset``.

    Parameters
    ----------
    name : str
        One of :data:`BRANCHY_MODELS`: ``b-alexnet``, ``b-resnet``, ``b-lenet``.
    dataset : str or None
        ``cifar10`` or ``cifar100`` for B-AlexNet, ``cifar10`` for B-ResNet, ``mnist``
        for B-LeNet; None picks the first of these.

    Returns
    -------
    DNN
        Blocks ``b1``, ``b2``, ... with the authors' ops and tensor sizes, and the exits
        with their accuracies and (early exits) BranchyNet's exit shares.

    Raises
    ------
    UnknownNameError
        If ``name`` is not a BranchyNet model.
    UsageError
        If the model has no numbers for ``dataset``.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> branchy_dnn("b-alexnet", "cifar10") == example_instance().dnn
    True
    >>> [ex.accuracy for ex in branchy_dnn("b-alexnet", "cifar100").exits]
    [0.3956, 0.5477, 0.6032]
    >>> branchy_dnn("b-resnet", "cifar100")
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: b-resnet has no numbers for 'cifar100'; available: cifar10
    """
    if name not in BRANCHY_MODELS:
        raise UnknownNameError(
            f"unknown BranchyNet model {name!r}; known: {', '.join(BRANCHY_MODELS)}"
        )
    model = BRANCHY_MODELS[name]
    chosen = model.datasets[0] if dataset is None else dataset
    if chosen not in model.accuracy:
        raise UsageError(
            f"{name} has no numbers for {chosen!r}; available: {', '.join(model.datasets)}"
        )
    data = DATASETS[chosen]
    outputs = (*model.handover_elements, data.classes)
    blocks = tuple(
        Block(name=f"b{i}", ops=gops * 1e9, output_bytes=float(elements))
        for i, (gops, elements) in enumerate(zip(model.block_gops, outputs, strict=True), 1)
    )
    shares = model.exit_shares
    exits = tuple(
        Exit(
            after_block=block,
            accuracy=accuracy,
            exit_probability=shares[i] if i < len(shares) else None,
        )
        for i, (block, accuracy) in enumerate(
            zip(model.exit_blocks, model.accuracy[chosen], strict=True)
        )
    )
    return DNN(name=name, input_bytes=float(data.input_bytes), blocks=blocks, exits=exits)


# The tiers of MODEL.md section 6: (node id, tier, TOPS as ops/s, power W,
# receive time per bit s/bit (the bandwidth of links into the tier), energy per bit J).
_FIN_TIERS = (
    ("md", "device", 11e12, 6.0, 10e-9, 30e-9),
    ("es", "edge", 153.4e12, 140.0, 0.00178e-9, 37e-9),
    ("cs", "cloud", 312e12, 400.0, 0.00022e-9, 12.6e-9),
)


def fin_network() -> Network:
    """The three-tier network of the FIN scenario: device ``md``, edge ``es``, cloud ``cs``.

    Data only moves up, so the links are directed: md -> es, md -> cs, es -> cs. A link
    into tier m has bandwidth 1 / (m's receive time per bit); moving a bit from n to m
    costs eps_n + eps_m (both ends' energy per bit). No propagation delay, no memory
    limit.

    Returns
    -------
    Network
        The network of :func:`splitbench.instance.example_instance`.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> net = fin_network()
    >>> net == example_instance().network
    True
    >>> [(arc.source, arc.target, arc.energy_per_bit_j) for arc in net.arcs]
    [('md', 'es', 6.7e-08), ('md', 'cs', 4.26e-08), ('es', 'cs', 4.96e-08)]
    """
    nodes = tuple(
        Node(id=node_id, tier=tier, ops_per_s=ops, power_w=power)
        for node_id, tier, ops, power, _, _ in _FIN_TIERS
    )
    links = tuple(
        Link(
            source=src[0],
            target=dst[0],
            bandwidth_bps=1.0 / dst[4],
            energy_per_bit_j=src[5] + dst[5],
            directed=True,
        )
        for i, src in enumerate(_FIN_TIERS)
        for dst in _FIN_TIERS[i + 1 :]
    )
    return Network(nodes=nodes, links=links)
