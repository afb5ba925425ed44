"""Family ``topohub``: a zoo model over a real topology with derived capacities.

The network is :func:`splitbench.topology.topohub_network` (Internet Topology Zoo,
SNDlib through the topohub package; bandwidth, delay and compute derived by its
documented rules) with one attached device, where the request starts. The model is
a zoo model grouped into ``n_blocks`` blocks (1 to 10000; the model may allow fewer).

Examples
--------
>>> from splitbench.families import generate
>>> inst = generate("topohub", {"topology": "polska", "n_blocks": 2})
>>> inst.name, inst.request.source, len(inst.network.nodes)
('topohub-polska-alexnet-n_blocks=2-s0', 'device0', 13)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from splitbench.families.base import (
    Family,
    default_source,
    make_request,
    name_suffix,
    register_family,
    request_params,
)
from splitbench.instance.model import Instance
from splitbench.params import Param
from splitbench.topology import topohub_network
from splitbench.zoo import ZOO_MODELS, get_dnn

__all__ = ["MAX_BLOCKS", "SPEC", "build_topohub"]

MAX_BLOCKS = 10_000


def build_topohub(values: Mapping[str, Any], seed: int) -> Instance:
    """The topohub instance for checked ``values`` and ``seed``."""
    network = topohub_network(values["topology"], seed=seed)
    name = f"topohub-{values['topology']}-{values['model']}" + name_suffix(
        values, SPEC.params, ("topology", "model")
    )
    return Instance(
        name=f"{name}-s{seed}".replace("/", "_"),
        network=network,
        dnn=get_dnn(values["model"], n_blocks=values["n_blocks"]),
        request=make_request(values, default_source(network)),
    )


SPEC = register_family(
    Family(
        name="topohub",
        description="a zoo model over a real topology (topohub) with derived capacities",
        params={
            "topology": Param(
                str, "abilene", "alias (abilene, geant, polska, germany50) or a topohub key"
            ),
            "model": Param(str, "alexnet", "zoo model", tuple(ZOO_MODELS)),
            "n_blocks": Param(int, 6, f"blocks (ops-balanced groups of layers; 1 to {MAX_BLOCKS})"),
            **request_params(),
        },
        build=build_topohub,
        bounds={"n_blocks": (1, MAX_BLOCKS)},
    )
)
