"""Instance families: seeded generators with typed parameters.

Each family turns parameters and a seed into one validated :class:`Instance`; the
same parameters and seed always give the same instance (and so the same
``instance_id``). ``splitbench generate FAMILY --param K=V --seed N`` calls
:func:`generate`; ``splitbench list families`` prints :data:`FAMILIES`.

- ``fin-branchy``: the FIN authors' evaluation scenario (MODEL.md section 6): a
  BranchyNet model on the three-tier MD/ES/CS chain, data moving up only, block 1
  pinned to the device. Deterministic: the seed is not used.
- ``tiered``: a zoo model over a seeded device-edge-cloud network.
- ``topohub``: a zoo model over a real topology (Topology Zoo, SNDlib) with derived
  capacities and one attached device.
- ``random-chain``: a random chain of blocks over a random connected network, for
  scaling experiments.

Examples
--------
>>> inst = generate("fin-branchy", {"dnn": "b-lenet"})
>>> inst.dnn.name, inst.request.deadline_s, inst.request.min_accuracy
('b-lenet', 0.005, 0.8)
>>> a = generate("random-chain", {"blocks": "4", "nodes": "5"}, seed=3)
>>> b = generate("random-chain", {"blocks": 4, "nodes": 5}, seed=3)
>>> from splitbench.instance import instance_id
>>> instance_id(a) == instance_id(b), a.dnn.n_blocks, len(a.network.nodes)
(True, 4, 5)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from splitbench.errors import UnknownNameError
from splitbench.instance.model import DNN, Block, Exit, Instance, Network, Request
from splitbench.instance.validate import validate_instance
from splitbench.params import Param, parse_params

__all__ = ["FAMILIES", "Family", "generate", "get_family", "register_family"]

Builder = Callable[[Mapping[str, Any], int], Instance]


@dataclass(frozen=True)
class Family:
    """A registered instance family."""

    name: str
    description: str
    params: Mapping[str, Param]
    build: Builder


FAMILIES: dict[str, Family] = {}
"""Every registered family by name."""


def register_family(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES`; a duplicate name is an error."""
    if family.name in FAMILIES:
        raise ValueError(f"family {family.name!r} is registered twice")
    FAMILIES[family.name] = family
    return family


def get_family(name: str) -> Family:
    """The family called ``name`` (``UnknownNameError`` listing the known ones)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown family {name!r}; known families: {', '.join(sorted(FAMILIES))}"
        ) from None


def generate(name: str, params: Mapping[str, Any] | None = None, *, seed: int = 0) -> Instance:
    """Generate and validate one instance of family ``name``.

    Parameters
    ----------
    name : str
        A family name (see :data:`FAMILIES`).
    params : mapping, optional
        Parameter values, as strings (command line) or Python values.
    seed : int
        Seed of the family's random generator.

    Raises
    ------
    UnknownNameError, UsageError
        For an unknown family, an unknown parameter or a bad value.
    """
    family = get_family(name)
    values = parse_params(f"family {name!r}", family.params, params or {})
    instance = family.build(values, seed)
    validate_instance(instance)
    return instance


def _request_params() -> dict[str, Param]:
    return {
        "objective": Param(str, "latency", "latency or energy", ("latency", "energy")),
        "deadline_s": Param(float, None, "deadline in seconds (none: no deadline)"),
        "min_accuracy": Param(float, None, "minimum accuracy (none: no minimum)"),
        "exit_policy": Param(str, "select", "select or expected", ("select", "expected")),
    }


def _request(values: Mapping[str, Any], source: str, **extra: Any) -> Request:
    return Request(
        source=source,
        objective=values["objective"],
        deadline_s=values["deadline_s"],
        min_accuracy=values["min_accuracy"],
        exit_policy=values["exit_policy"],
        **extra,
    )


def _suffix(values: Mapping[str, Any], family: Family, skip: tuple[str, ...] = ()) -> str:
    """Name parts for the parameters that differ from their defaults."""
    parts = [
        f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in values.items()
        if key not in skip and value != family.params[key].default
    ]
    return ("-" + "-".join(parts)) if parts else ""


def _source(network: Network) -> str:
    for node in network.nodes:
        if node.tier == "device" and node.can_compute:
            return node.id
    return network.computing_nodes[0].id


def _build_fin(values: Mapping[str, Any], seed: int) -> Instance:
    from splitbench.zoo import get_dnn
    from splitbench.zoo.branchy import fin_network

    dnn = get_dnn(values["dnn"], dataset=values["dataset"])
    dataset = values["dataset"] or ("mnist" if values["dnn"] == "b-lenet" else "cifar10")
    name = f"fin-{values['dnn']}-{dataset}" + _suffix(
        values, FAMILIES["fin-branchy"], skip=("dnn", "dataset")
    )
    request = _request(
        values,
        "md",
        tier_order=("device", "edge", "cloud"),
        allowed_nodes=((1, ("md",)),),
    )
    return Instance(name=name, network=fin_network(), dnn=dnn, request=request)


def _zoo_dnn(values: Mapping[str, Any]) -> DNN:
    from splitbench.zoo import get_dnn

    return get_dnn(values["model"], n_blocks=values["n_blocks"])


def _build_tiered(values: Mapping[str, Any], seed: int) -> Instance:
    from splitbench.topology.tiered import tiered_network

    counts = {"device": values["devices"], "edge": values["edges"], "cloud": values["clouds"]}
    network = tiered_network({k: v for k, v in counts.items() if v > 0}, seed=seed)
    extra: dict[str, Any] = {}
    if values["tier_order"]:
        extra["tier_order"] = tuple(t for t in ("device", "edge", "cloud") if counts[t] > 0)
    name = f"tiered-{values['model']}" + _suffix(values, FAMILIES["tiered"], ("model",))
    return Instance(
        name=f"{name}-s{seed}",
        network=network,
        dnn=_zoo_dnn(values),
        request=_request(values, _source(network), **extra),
    )


def _build_topohub(values: Mapping[str, Any], seed: int) -> Instance:
    from splitbench.topology.real import topohub_network

    network = topohub_network(values["topology"], seed=seed)
    name = f"topohub-{values['topology']}-{values['model']}" + _suffix(
        values, FAMILIES["topohub"], ("topology", "model")
    )
    return Instance(
        name=f"{name}-s{seed}".replace("/", "_"),
        network=network,
        dnn=_zoo_dnn(values),
        request=_request(values, _source(network)),
    )


def _build_random_chain(values: Mapping[str, Any], seed: int) -> Instance:
    from splitbench.topology.random_graphs import random_network

    rng = np.random.default_rng(seed)
    n_blocks = values["blocks"]
    network = random_network(values["nodes"], values["density"], int(rng.integers(2**31)))
    ops = rng.uniform(1e8, 1e10, n_blocks)
    # activations shrink along a typical chain: log-uniform sizes, sorted descending
    sizes = np.sort(10 ** rng.uniform(3, 6.5, n_blocks))[::-1]
    blocks = tuple(
        Block(name=f"b{l + 1}", ops=float(ops[l]), output_bytes=float(sizes[l]))
        for l in range(n_blocks)
    )
    n_early = min(values["exits"], n_blocks - 1)
    early = sorted(rng.choice(np.arange(1, n_blocks), size=n_early, replace=False).tolist())
    accuracy = np.sort(rng.uniform(0.4, 0.95, n_early + 1))
    shares = rng.dirichlet(np.ones(n_early + 1))
    exits = tuple(
        Exit(
            after_block=int(b),
            accuracy=float(round(a, 4)),
            exit_probability=float(p) if b != n_blocks else None,
        )
        for b, a, p in zip([*early, n_blocks], accuracy, shares, strict=True)
    )
    dnn = DNN(
        name=f"chain{n_blocks}",
        input_bytes=float(10 ** rng.uniform(4, 6)),
        blocks=blocks,
        exits=exits,
    )
    name = "random-chain" + _suffix(values, FAMILIES["random-chain"])
    return Instance(
        name=f"{name}-s{seed}",
        network=network,
        dnn=dnn,
        request=_request(values, _source(network)),
    )


_ZOO_NAMES = ("alexnet", "vgg16", "resnet50", "mobilenet_v2", "googlenet")

for _family in (
    Family(
        name="fin-branchy",
        description="FIN authors' scenario: a BranchyNet model on the MD/ES/CS chain",
        params={
            "dnn": Param(
                str, "b-alexnet", "BranchyNet model", ("b-alexnet", "b-resnet", "b-lenet")
            ),
            "dataset": Param(
                str,
                None,
                "cifar10, cifar100 (b-alexnet) or mnist (b-lenet); none: the model's default",
            ),
            **_request_params(),
            "objective": Param(str, "energy", "latency or energy", ("latency", "energy")),
            "deadline_s": Param(
                float, 0.005, "deadline in seconds (none: no deadline)", nullable=True
            ),
            "min_accuracy": Param(float, 0.8, "minimum accuracy (none: no minimum)", nullable=True),
        },
        build=_build_fin,
    ),
    Family(
        name="tiered",
        description="a zoo model over a seeded device-edge-cloud network",
        params={
            "model": Param(str, "alexnet", "zoo model", _ZOO_NAMES),
            "n_blocks": Param(int, 6, "blocks (ops-balanced groups of layers)"),
            "devices": Param(int, 1, "device nodes"),
            "edges": Param(int, 2, "edge nodes"),
            "clouds": Param(int, 1, "cloud nodes"),
            "tier_order": Param(bool, False, "blocks may only move up device->edge->cloud"),
            **_request_params(),
        },
        build=_build_tiered,
    ),
    Family(
        name="topohub",
        description="a zoo model over a real topology (topohub) with derived capacities",
        params={
            "topology": Param(
                str, "abilene", "alias (abilene, geant, polska, germany50) or a topohub key"
            ),
            "model": Param(str, "alexnet", "zoo model", _ZOO_NAMES),
            "n_blocks": Param(int, 6, "blocks (ops-balanced groups of layers)"),
            **_request_params(),
        },
        build=_build_topohub,
    ),
    Family(
        name="random-chain",
        description="a random chain of blocks over a random connected network (scaling)",
        params={
            "blocks": Param(int, 10, "number of blocks"),
            "nodes": Param(int, 10, "number of network nodes"),
            "density": Param(float, 0.3, "arc density in [0, 1] (share of node pairs linked)"),
            "exits": Param(int, 0, "number of early exits"),
            **_request_params(),
        },
        build=_build_random_chain,
    ),
):
    register_family(_family)
