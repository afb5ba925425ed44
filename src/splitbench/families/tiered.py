"""Family ``tiered``: a zoo or BranchyNet model over a seeded device-edge-cloud network.

The network is :func:`splitbench.topology.tiered_network` with ``devices``,
``edges`` and ``clouds`` nodes per tier (a tier with 0 nodes is left out); the model
is a zoo model (:func:`splitbench.zoo.get_dnn`) grouped into ``n_blocks`` blocks, or a
BranchyNet model with its own blocks and exits (``n_blocks`` is then not used). The
request starts at the first device; with ``tier_order`` blocks may only move up.

Bounds: 1 <= devices <= 10000, 0 <= edges <= 1000, 0 <= clouds <= 100 (every edge
links to every cloud), 1 <= n_blocks <= 10000 (the model itself may allow fewer).

Examples
--------
>>> from splitbench.families import generate
>>> inst = generate("tiered", {"n_blocks": 3, "edges": 1}, seed=4)
>>> inst.name, inst.dnn.n_blocks, [node.id for node in inst.network.nodes]
('tiered-alexnet-n_blocks=3-edges=1-s4', 3, ['device0', 'edge0', 'cloud0'])
>>> branchy = generate("tiered", {"model": "b-alexnet", "edges": 3, "clouds": 2}, seed=1)
>>> branchy.dnn.n_blocks, [ex.after_block for ex in branchy.dnn.exits]
(5, [1, 3, 5])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from splitbench.families.base import (
    Family,
    default_source,
    make_request,
    model_dnn,
    name_suffix,
    register_family,
    request_params,
)
from splitbench.instance.model import Instance
from splitbench.params import Param
from splitbench.topology import tiered_network
from splitbench.zoo import BRANCHY_MODELS, ZOO_MODELS

__all__ = ["MAX_BLOCKS", "MAX_CLOUDS", "MAX_DEVICES", "MAX_EDGES", "SPEC", "build_tiered"]

MAX_BLOCKS = 10_000
MAX_DEVICES = 10_000
MAX_EDGES = 1_000
MAX_CLOUDS = 100


def build_tiered(values: Mapping[str, Any], seed: int) -> Instance:
    """The tiered instance for checked ``values`` and ``seed``."""
    counts = {"device": values["devices"], "edge": values["edges"], "cloud": values["clouds"]}
    network = tiered_network({k: v for k, v in counts.items() if v > 0}, seed=seed)
    extra: dict[str, Any] = {}
    if values["tier_order"]:
        extra["tier_order"] = tuple(t for t in ("device", "edge", "cloud") if counts[t] > 0)
    name = f"tiered-{values['model']}" + name_suffix(values, SPEC.params, ("model",))
    return Instance(
        name=f"{name}-s{seed}",
        network=network,
        dnn=model_dnn(values["model"], values["n_blocks"]),
        request=make_request(values, default_source(network), **extra),
    )


SPEC = register_family(
    Family(
        name="tiered",
        description="a zoo or BranchyNet model over a seeded device-edge-cloud network",
        params={
            "model": Param(
                str, "alexnet", "zoo or BranchyNet model", (*ZOO_MODELS, *BRANCHY_MODELS)
            ),
            "n_blocks": Param(int, 6, f"blocks (ops-balanced groups of layers; 1 to {MAX_BLOCKS})"),
            "devices": Param(int, 1, f"device nodes (1 to {MAX_DEVICES})"),
            "edges": Param(int, 2, f"edge nodes (0 to {MAX_EDGES})"),
            "clouds": Param(int, 1, f"cloud nodes (0 to {MAX_CLOUDS})"),
            "tier_order": Param(bool, False, "blocks may only move up device->edge->cloud"),
            **request_params(),
        },
        build=build_tiered,
        bounds={
            "n_blocks": (1, MAX_BLOCKS),
            "devices": (1, MAX_DEVICES),
            "edges": (0, MAX_EDGES),
            "clouds": (0, MAX_CLOUDS),
        },
    )
)
