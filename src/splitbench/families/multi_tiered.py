"""Family ``multi-tiered``: many users of several models over a seeded device-edge-cloud
network, with rates set by a load factor (format 2, MULTI.md).

Network: as in family ``tiered``, :func:`splitbench.topology.tiered_network` with
``devices``, ``edges`` and ``clouds`` nodes per tier (seeded). Requests: every device
has ``users_per_device`` users, numbered ``j = 1, 2, ...`` device by device; user
``j`` runs ``models[(j - 1) mod M]`` (round robin over the ``M`` listed models) from
its device, with id ``u{j}-{model}``, no destination, and the request parameters
(``deadline_s``, ``min_accuracy``, ``exit_policy``, ``tier_order``). The instance's
DNNs are the listed models that some user runs, in list order. Zoo models are grouped
into ``n_blocks`` blocks; BranchyNet models keep their own blocks.

Load rule (:func:`~splitbench.families.base.load_rate`): every request gets the same
rate ``lambda = load * U * C / sum_r w_r``, where w_r is the ops one inference of
request r puts on a node that runs all of its model (every block and the final
exit's branch under the select policy, reach-weighted under the expected policy: the
compute load r would put on the fastest edge or cloud node if it ran there alone;
ops do not depend on the node), C the ops/s of all edge and cloud nodes together and
U ``max_utilization``. So ``sum_r lambda * w_r = load * U * C``: at the default load
0.8, running every request wholly on edge and cloud nodes would fill 80 % of their
usable capacity. The devices add capacity beyond C and the requests compete for the
uplinks too, so the rule promises neither feasibility nor infeasibility.

Bounds: 1 <= devices <= 10000, 1 <= edges <= 1000 (the devices attach to edges),
0 <= clouds <= 100, 1 <= users_per_device <= 10000, at most 10000 requests,
1 <= n_blocks <= 10000 (a zoo model may allow fewer), 0 < load <= 10,
0 < max_utilization <= 1.

Examples
--------
>>> from splitbench.families import generate
>>> from splitbench.families.base import edge_cloud_capacity, inference_ops
>>> inst = generate("multi-tiered", {"n_blocks": 3}, seed=1)
>>> inst.name, [d.name for d in inst.dnns]
('multi-tiered-alexnet+b-alexnet-n_blocks=3-s1', ['alexnet', 'b-alexnet'])
>>> [(r.id, r.request.source) for r in inst.requests]  # doctest: +NORMALIZE_WHITESPACE
[('u1-alexnet', 'device0'), ('u2-b-alexnet', 'device0'), ('u3-alexnet', 'device1'),
 ('u4-b-alexnet', 'device1')]
>>> ops = [inference_ops(inst.dnn(r.dnn), r.request.exit_policy) for r in inst.requests]
>>> rate = inst.requests[0].rate_per_s
>>> round(rate, 1), round(rate * sum(ops) / edge_cloud_capacity(inst.network), 12)
(2353.6, 0.8)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from splitbench.errors import UsageError
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
from splitbench.topology import tiered_network
from splitbench.zoo import known_models

__all__ = [
    "MAX_BLOCKS",
    "MAX_CLOUDS",
    "MAX_DEVICES",
    "MAX_EDGES",
    "MAX_LOAD",
    "MAX_REQUESTS",
    "SPEC",
    "build_multi_tiered",
]

NAME = "multi-tiered"
MAX_BLOCKS = 10_000
MAX_DEVICES = 10_000
MAX_EDGES = 1_000
MAX_CLOUDS = 100
MAX_REQUESTS = 10_000
MAX_LOAD = 10.0


def _check(values: Mapping[str, Any]) -> None:
    parse_models(NAME, "models", values["models"], known_models())
    requests = values["devices"] * values["users_per_device"]
    if requests > MAX_REQUESTS:
        raise UsageError(
            f"--param devices={values['devices']}, users_per_device={values['users_per_device']}"
            f": family {NAME!r} would make {requests} requests; at most {MAX_REQUESTS}"
        )
    check_positive(NAME, "load", values["load"], MAX_LOAD)
    check_positive(NAME, "max_utilization", values["max_utilization"], 1.0)


def build_multi_tiered(values: Mapping[str, Any], seed: int) -> MultiInstance:
    """The multi-tiered instance for checked ``values`` and ``seed``."""
    models = parse_models(NAME, "models", values["models"], known_models())
    counts = {"device": values["devices"], "edge": values["edges"], "cloud": values["clouds"]}
    network = tiered_network({k: v for k, v in counts.items() if v > 0}, seed=seed)
    devices = [node.id for node in network.nodes if node.tier == "device"]
    extra: dict[str, Any] = {}
    if values["tier_order"]:
        extra["tier_order"] = tuple(t for t in ("device", "edge", "cloud") if counts[t] > 0)
    users = len(devices) * values["users_per_device"]
    chosen = [models[j % len(models)] for j in range(users)]
    dnns = {m: model_dnn(m, values["n_blocks"]) for m in models if m in chosen}
    rate = load_rate(values, network, [dnns[m] for m in chosen])
    requests = tuple(
        MultiRequest(
            id=f"u{j + 1}-{model}",
            dnn=model,
            rate_per_s=rate,
            request=make_request(values, devices[j // values["users_per_device"]], **extra),
        )
        for j, model in enumerate(chosen)
    )
    name = f"{NAME}-{'+'.join(models)}" + name_suffix(values, SPEC.params, ("models",))
    return MultiInstance(
        name=f"{name}-s{seed}",
        network=network,
        dnns=tuple(dnns.values()),
        requests=requests,
        objective=values["objective"],
        max_utilization=values["max_utilization"],
    )


SPEC = register_family(
    Family(
        name=NAME,
        description="many users of several models over a seeded device-edge-cloud network",
        params={
            "models": Param(
                str, "alexnet,b-alexnet", "comma-separated zoo/BranchyNet models (round robin)"
            ),
            "n_blocks": Param(int, 6, f"blocks of each zoo model (1 to {MAX_BLOCKS})"),
            "devices": Param(int, 2, f"device nodes (1 to {MAX_DEVICES})"),
            "edges": Param(int, 2, f"edge nodes (1 to {MAX_EDGES})"),
            "clouds": Param(int, 1, f"cloud nodes (0 to {MAX_CLOUDS})"),
            "users_per_device": Param(int, 2, f"requests per device (1 to {MAX_REQUESTS})"),
            "tier_order": Param(bool, False, "blocks may only move up device->edge->cloud"),
            **request_params(),
            **load_params(),
        },
        build=build_multi_tiered,
        bounds={
            "n_blocks": (1, MAX_BLOCKS),
            "devices": (1, MAX_DEVICES),
            "edges": (1, MAX_EDGES),
            "clouds": (0, MAX_CLOUDS),
            "users_per_device": (1, MAX_REQUESTS),
        },
        check=_check,
    )
)
