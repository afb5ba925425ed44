"""Family ``multi-topohub``: many requests of zoo models over a real topology, with rates
set by a load factor (format 2, MULTI.md).

Network: as in family ``topohub``, :func:`splitbench.topology.topohub_network` (an
alias or a topohub key; bandwidth, delay and compute derived by its documented
rules), but with no attached device: the requests' inputs enter the network at its
own nodes. Requests ``r1, r2, ...`` (``requests`` of them): request ``j`` runs
``models[(j - 1) mod M]`` (round robin over the ``M`` listed models), id
``r{j}-{model}``; its source is drawn uniformly from the topology's nodes by the seed,
and with ``destinations`` so is its destination (it may be the source), drawn after
all the sources. The instance's DNNs are the listed models some request runs, in list
order. Zoo models are grouped into ``n_blocks`` blocks; BranchyNet models keep theirs.

Load rule (the one of family ``multi-tiered``,
:func:`~splitbench.families.base.load_rate`): every request gets the same rate
``lambda = load * U * C / sum_r w_r``, with w_r the ops one inference of request r
puts on a node that runs all of its model, C the ops/s of all edge and cloud nodes
(here: every node of the topology, as none is a device) and U ``max_utilization``;
so ``sum_r lambda * w_r = load * U * C``. The rule ignores bandwidth: each request's
input (150528 bytes for the zoo models) crosses the links at the common rate, and the
derived links (10 Gb/s) carry far fewer bits per op than the derived nodes compute.
The defaults (ResNet-50 and VGG-16, which compute much per input bit; 16 requests at
load 0.8) keep compute the binding resource: on abilene, seeds 0-4, spreading the
requests' models fractionally over nodes (inputs on shortest paths) needs 80-90 % of
the busiest node or arc, while light models (AlexNet, MobileNetV2) at the same load
overload links.

Bounds: 1 <= requests <= 10000, 1 <= n_blocks <= 10000 (a zoo model may allow fewer),
0 < load <= 10, 0 < max_utilization <= 1.

Examples
--------
>>> from splitbench.families import generate
>>> from splitbench.families.base import edge_cloud_capacity, inference_ops
>>> inst = generate("multi-topohub", {"topology": "polska", "requests": 3}, seed=2)
>>> inst.name, len(inst.network.nodes)
('multi-topohub-polska-resnet50+vgg16-requests=3-s2', 12)
>>> [(r.id, r.request.source) for r in inst.requests]
[('r1-resnet50', 'Katowice'), ('r2-vgg16', 'Warsaw'), ('r3-resnet50', 'Katowice')]
>>> ops = [inference_ops(inst.dnn(r.dnn), r.request.exit_policy) for r in inst.requests]
>>> rate = inst.requests[0].rate_per_s
>>> round(rate, 1), round(rate * sum(ops) / edge_cloud_capacity(inst.network), 12)
(17344.8, 0.8)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from splitbench.families.base import (
    Family,
    check_positive,
    load_params,
    load_rate,
    make_request,
    model_dnn,
    name_suffix,
    parse_models,
    register_family,
    request_params,
)
from splitbench.instance.multi import MultiInstance, MultiRequest
from splitbench.params import Param
from splitbench.topology import RealTopologyRules, topohub_network
from splitbench.zoo import known_models

__all__ = ["MAX_BLOCKS", "MAX_LOAD", "MAX_REQUESTS", "SPEC", "build_multi_topohub"]

NAME = "multi-topohub"
MAX_BLOCKS = 10_000
MAX_REQUESTS = 10_000
MAX_LOAD = 10.0

_ENDPOINT_STREAM = 1
"""Second seed word of the generator that draws sources and destinations (the
topology's attributes use the seed alone)."""


def _check(values: Mapping[str, Any]) -> None:
    parse_models(NAME, "models", values["models"], known_models())
    check_positive(NAME, "load", values["load"], MAX_LOAD)
    check_positive(NAME, "max_utilization", values["max_utilization"], 1.0)


def build_multi_topohub(values: Mapping[str, Any], seed: int) -> MultiInstance:
    """The multi-topohub instance for checked ``values`` and ``seed``."""
    models = parse_models(NAME, "models", values["models"], known_models())
    network = topohub_network(values["topology"], seed=seed, rules=RealTopologyRules(n_devices=0))
    nodes = [node.id for node in network.nodes]
    count = values["requests"]
    rng = np.random.default_rng([seed, _ENDPOINT_STREAM])
    sources = [nodes[int(i)] for i in rng.integers(len(nodes), size=count)]
    destinations: list[str | None] = [None] * count
    if values["destinations"]:
        destinations = [nodes[int(i)] for i in rng.integers(len(nodes), size=count)]
    chosen = [models[j % len(models)] for j in range(count)]
    dnns = {m: model_dnn(m, values["n_blocks"]) for m in models if m in chosen}
    rate = load_rate(values, network, [dnns[m] for m in chosen])
    requests = tuple(
        MultiRequest(
            id=f"r{j + 1}-{model}",
            dnn=model,
            rate_per_s=rate,
            request=make_request(values, sources[j], destination=destinations[j]),
        )
        for j, model in enumerate(chosen)
    )
    name = f"{NAME}-{values['topology']}-{'+'.join(models)}" + name_suffix(
        values, SPEC.params, ("topology", "models")
    )
    return MultiInstance(
        name=f"{name}-s{seed}".replace("/", "_"),
        network=network,
        dnns=tuple(dnns.values()),
        requests=requests,
        objective=values["objective"],
        max_utilization=values["max_utilization"],
    )


SPEC = register_family(
    Family(
        name=NAME,
        description="many requests of zoo models over a real topology (topohub)",
        params={
            "topology": Param(
                str, "abilene", "alias (abilene, geant, polska, germany50) or a topohub key"
            ),
            "models": Param(
                str, "resnet50,vgg16", "comma-separated zoo/BranchyNet models (round robin)"
            ),
            "n_blocks": Param(int, 6, f"blocks of each zoo model (1 to {MAX_BLOCKS})"),
            "requests": Param(int, 16, f"requests (1 to {MAX_REQUESTS})"),
            "destinations": Param(bool, False, "draw a destination for every request"),
            **request_params(),
            **load_params(),
        },
        build=build_multi_topohub,
        bounds={"n_blocks": (1, MAX_BLOCKS), "requests": (1, MAX_REQUESTS)},
        check=_check,
    )
)
