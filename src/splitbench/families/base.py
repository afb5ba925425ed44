"""What every instance family shares: the :class:`Family` type, its registry, the
request parameters, and the checks that run before any work starts.

A family module builds one :class:`Family` and registers it beside its builder
(``SPEC = register_family(Family(...))``); :func:`splitbench.families.generate` parses
the parameters, checks them against :attr:`Family.bounds` and :attr:`Family.check`,
and only then calls :attr:`Family.build`. So an absurd value (``nodes=10**9``) is a
:class:`~splitbench.errors.UsageError` naming the parameter, not a ``MemoryError``.

Examples
--------
>>> spec = Family("demo", "a demo", {"nodes": Param(int, 3, "nodes")}, lambda v, s: None,
...               bounds={"nodes": (1, 10)})
>>> spec.check_values({"nodes": 5})
>>> spec.check_values({"nodes": 0})
Traceback (most recent call last):
...
splitbench.errors.UsageError: --param nodes=0: family 'demo' takes 1 <= nodes <= 10

A family builds a format-1 :class:`~splitbench.instance.Instance` or a format-2
:class:`~splitbench.instance.MultiInstance` (:data:`AnyInstance`). The format-2
families share the helpers at the end of this module: a list of model names
(:func:`parse_models`), the load-rule parameters (:func:`load_params`), the ops one
inference puts on a node (:func:`inference_ops`) and the common rate of the load rule
(:func:`load_rate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from splitbench.errors import UsageError
from splitbench.instance.model import DNN, ExitPolicy, Instance, Network, Request
from splitbench.instance.multi import MultiInstance
from splitbench.params import Param
from splitbench.registry import Registry
from splitbench.zoo import BRANCHY_MODELS, get_dnn

__all__ = [
    "COMPUTE_TIERS",
    "FAMILIES",
    "AnyInstance",
    "Builder",
    "Family",
    "check_positive",
    "default_source",
    "edge_cloud_capacity",
    "inference_ops",
    "load_params",
    "load_rate",
    "make_request",
    "model_dnn",
    "name_suffix",
    "parse_models",
    "register_family",
    "request_params",
]

AnyInstance: TypeAlias = Instance | MultiInstance
"""What a family builds: one request (format 1) or many sharing a network (format 2)."""

Builder = Callable[[Mapping[str, Any], int], AnyInstance]
"""A family's builder: typed parameter values and a seed in, an instance out."""

Bounds = Mapping[str, tuple[float, float]]
"""Closed ranges ``(low, high)`` of numeric parameters, by parameter name."""


def _no_check(values: Mapping[str, Any]) -> None:
    """The default cross-parameter check: accept everything."""


@dataclass(frozen=True)
class Family:
    """A registered instance family.

    Attributes
    ----------
    name : str
        What ``splitbench generate`` takes (``"random-chain"``).
    description : str
        One line for ``splitbench list families``.
    params : mapping of str to Param
        The accepted ``--param`` keys, with types and defaults.
    build : Builder
        Turns checked parameter values and a seed into an instance.
    bounds : mapping of str to (low, high)
        Closed ranges of numeric parameters (None values are not checked).
    check : callable
        A check across parameters (e.g. the link count of nodes and density); it
        raises :class:`~splitbench.errors.UsageError`.
    """

    name: str
    description: str
    params: Mapping[str, Param]
    build: Builder
    bounds: Bounds = field(default_factory=dict)
    check: Callable[[Mapping[str, Any]], None] = _no_check

    def __post_init__(self) -> None:
        unknown = sorted(set(self.bounds) - set(self.params))
        if unknown:
            raise ValueError(f"family {self.name!r}: bounds for unknown parameters {unknown}")

    def check_values(self, values: Mapping[str, Any]) -> None:
        """Raise :class:`~splitbench.errors.UsageError` for a value out of its bounds,
        or for a combination :attr:`check` refuses."""
        for key, (low, high) in self.bounds.items():
            value = values[key]
            if value is None:
                continue
            if not low <= value <= high:  # NaN fails too
                raise UsageError(
                    f"--param {key}={value}: family {self.name!r} takes "
                    f"{_show(low)} <= {key} <= {_show(high)}"
                )
        self.check(values)


def _show(bound: float) -> str:
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


FAMILIES = Registry[Family]("family", "families")
"""Every registered family by name, in registration order."""


def register_family(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES` and return it (a duplicate name is refused)."""
    return FAMILIES.register(family.name, family)


def request_params() -> dict[str, Param]:
    """The request parameters every family takes (objective, limits, exit policy)."""
    return {
        "objective": Param(str, "latency", "latency or energy", ("latency", "energy")),
        "deadline_s": Param(float, None, "deadline in seconds (none: no deadline)"),
        "min_accuracy": Param(float, None, "minimum accuracy (none: no minimum)"),
        "exit_policy": Param(str, "select", "select or expected", ("select", "expected")),
    }


def make_request(values: Mapping[str, Any], source: str, **extra: Any) -> Request:
    """The request of :func:`request_params` values, from ``source``."""
    return Request(
        source=source,
        objective=values["objective"],
        deadline_s=values["deadline_s"],
        min_accuracy=values["min_accuracy"],
        exit_policy=values["exit_policy"],
        **extra,
    )


def name_suffix(
    values: Mapping[str, Any], params: Mapping[str, Param], skip: tuple[str, ...] = ()
) -> str:
    """Name parts for the parameters that differ from their defaults.

    Examples
    --------
    >>> params = {"a": Param(int, 1, "a"), "b": Param(float, 0.5, "b")}
    >>> name_suffix({"a": 1, "b": 0.25}, params), name_suffix({"a": 2, "b": 0.5}, params)
    ('-b=0.25', '-a=2')
    """
    parts = [
        f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in values.items()
        if key not in skip and value != params[key].default
    ]
    return ("-" + "-".join(parts)) if parts else ""


def default_source(network: Network) -> str:
    """The first computing device of ``network``, else its first computing node."""
    for node in network.nodes:
        if node.tier == "device" and node.can_compute:
            return node.id
    return network.computing_nodes[0].id


COMPUTE_TIERS = ("edge", "cloud")
"""The tiers whose capacity the load rule of :func:`load_rate` counts."""


def parse_models(family: str, key: str, text: str, known: Sequence[str]) -> tuple[str, ...]:
    """The model names of a comma-separated parameter ``key``, checked against ``known``.

    Raises
    ------
    UsageError
        Naming ``key``, for an empty entry, an unknown model or a repeated one.

    Examples
    --------
    >>> parse_models("demo", "models", "a, b", ("a", "b", "c"))
    ('a', 'b')
    >>> parse_models("demo", "models", "a,d", ("a", "b"))
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: --param models=a,d: family 'demo' has no model 'd' (known: a, b)
    """
    names = tuple(part.strip() for part in text.split(","))
    for name in names:
        if not name:
            raise UsageError(f"--param {key}={text}: family {family!r} takes no empty model name")
        if name not in known:
            raise UsageError(
                f"--param {key}={text}: family {family!r} has no model {name!r} "
                f"(known: {', '.join(known)})"
            )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UsageError(f"--param {key}={text}: family {family!r} lists {repeated[0]!r} twice")
    return names


def model_dnn(model: str, n_blocks: int) -> DNN:
    """Model ``model``: a zoo model in ``n_blocks`` blocks, a BranchyNet model as given.

    Examples
    --------
    >>> model_dnn("vgg16", 2).n_blocks, model_dnn("b-lenet", 2).n_blocks
    (2, 3)
    """
    return get_dnn(model) if model in BRANCHY_MODELS else get_dnn(model, n_blocks=n_blocks)


def check_positive(family: str, key: str, value: float, high: float) -> None:
    """Raise :class:`~splitbench.errors.UsageError` unless ``0 < value <= high`` (NaN fails).

    Examples
    --------
    >>> check_positive("demo", "load", 0.0, 10.0)
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: --param load=0.0: family 'demo' takes 0 < load <= 10
    """
    if not 0 < value <= high:
        raise UsageError(f"--param {key}={value}: family {family!r} takes 0 < {key} <= {high:g}")


def load_params() -> dict[str, Param]:
    """The load-rule parameters of the format-2 families: ``load`` and ``max_utilization``."""
    return {
        "load": Param(float, 0.8, "load factor rho: request ops/s over usable edge+cloud ops/s"),
        "max_utilization": Param(float, 1.0, "share U in (0, 1] of each capacity loads may use"),
    }


def inference_ops(dnn: DNN, policy: ExitPolicy) -> float:
    """The ops one inference of ``dnn`` puts on a node that runs all of it (MULTI.md).

    Select policy: every block and the final exit's branch (weight 1); expected policy:
    block l weighted by its reach share q_l, each exit's branch by the q of its block.

    Examples
    --------
    >>> from splitbench.zoo import get_dnn
    >>> lenet = get_dnn("b-lenet")
    >>> [round(inference_ops(lenet, policy) / 1e9, 6) for policy in ExitPolicy]
    [0.2554, 0.172416]
    """
    if ExitPolicy(policy) is ExitPolicy.SELECT:
        return float(sum(block.ops for block in dnn.blocks) + dnn.final_exit.ops)
    reach = dnn.reach_shares()
    blocks = sum(q * block.ops for q, block in zip(reach, dnn.blocks, strict=True))
    return float(blocks + sum(reach[ex.after_block - 1] * ex.ops for ex in dnn.exits))


def edge_cloud_capacity(network: Network) -> float:
    """The ops/s of every node of :data:`COMPUTE_TIERS` in ``network`` together."""
    return float(sum(node.ops_per_s for node in network.nodes if node.tier in COMPUTE_TIERS))


def load_rate(values: Mapping[str, Any], network: Network, dnns: Sequence[DNN]) -> float:
    """The common rate lambda of the load rule, one entry of ``dnns`` per request.

    ``lambda = load * U * C / sum_r w_r``: w_r is :func:`inference_ops` of request r's
    model (the compute load r puts on an edge or cloud node that runs all of it), C is
    :func:`edge_cloud_capacity` and U ``max_utilization``. So if every request ran all
    of its model on edge and cloud nodes, their total load would be ``load`` times the
    usable edge and cloud capacity.
    """
    policy = ExitPolicy(values["exit_policy"])
    total_ops = sum(inference_ops(dnn, policy) for dnn in dnns)
    usable = values["load"] * values["max_utilization"] * edge_cloud_capacity(network)
    return float(usable / total_ops)
