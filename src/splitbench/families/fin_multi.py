"""Family ``fin-multi``: the FIN scenario with many users of several applications sharing
the edge and the cloud (format 2, MULTI.md; the multi-application setting of the FIN
journal version).

Network (:func:`fin_multi_network`): the MD/ES/CS chain of
:func:`splitbench.zoo.fin_network` with the device copied once per user: ``md1``,
``md2``, ... each with the links of ``md`` (to ``es`` and to ``cs``), then ``es``,
``cs`` and the link ``es -> cs``. Data only moves up. Requests: ``users`` users per
application (``dnns``, BranchyNet models on their default data sets), numbered
``i = 1, 2, ...`` application by application; user ``i`` runs its application from
``md{i}`` with id ``u{i}-{dnn}``, block 1 pinned to ``md{i}``, ``tier_order`` device,
edge, cloud, and the scenario's request (energy, 5 ms, 80 % by default).

Rates: ``rate_per_s`` for every user; with ``rate_spread`` s > 0 each user's rate is
drawn by the seed uniformly from ``rate_per_s * [1 - s, 1 + s]`` (with s = 0, the
default, the seed is not used).

Why 12 users and 320/s (at U = 1): a b-alexnet user's own optimum (blocks 1-3 on its
device, 4-5 on ``cs``) puts 39.48 GOPs per inference on its device, 12.63 of the
device's 11 TOPS at 320/s. Within its device's capacity its best placement keeps
blocks 1-2 (29.33 GOPs, 9.39 TOPS) and sends 3-5 to ``es`` (42.87 GOPs per inference);
the 12 b-alexnet users taking it at once put 164.6 TOPS on the edge server's 153.4: the
edge capacity binds, and the cloud (312 TOPS) has room for the rest. b-resnet (all on
the device, 5.8 TOPS) and b-lenet (block 1 and its exit on the device) users fit their
devices. Block 1 is pinned to the device, so above 11e12 / 22.62e9 = 486 inferences
per second no b-alexnet user has a feasible placement.

Bounds: 1 <= users <= 1000 (so at most 3000 requests), 0 < rate_per_s <= 1e9,
0 <= rate_spread <= 0.9, 0 < max_utilization <= 1.

Examples
--------
>>> from splitbench.families import generate
>>> inst = generate("fin-multi", {"users": 2, "dnns": "b-alexnet,b-lenet"})
>>> inst.name, inst.request_ids[1:3]
('fin-multi-b-alexnet+b-lenet-users=2', ('u2-b-alexnet', 'u3-b-lenet'))
>>> [node.id for node in inst.network.nodes], inst.objective.value, inst.total_rate
(['md1', 'md2', 'md3', 'md4', 'es', 'cs'], 'energy', 1280.0)
>>> inst.single("u3-b-lenet").request.allowed_for(1)
frozenset({'md3'})
>>> spread = generate("fin-multi", {"users": 2, "rate_spread": 0.2}, seed=4)
>>> spread.name
'fin-multi-b-alexnet+b-resnet+b-lenet-users=2-rate_spread=0.2-s4'
>>> [round(r.rate_per_s, 1) for r in spread.requests][:3]
[376.7, 321.4, 381.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from splitbench.families.base import (
    Family,
    check_positive,
    make_request,
    name_suffix,
    parse_models,
    register_family,
    request_params,
)
from splitbench.instance.model import Network
from splitbench.instance.multi import MultiInstance, MultiRequest
from splitbench.params import Param
from splitbench.zoo import BRANCHY_MODELS, fin_network, get_dnn

__all__ = [
    "DEFAULT_RATE_PER_S",
    "DEFAULT_USERS",
    "MAX_RATE_PER_S",
    "MAX_USERS",
    "SPEC",
    "build_fin_multi",
    "fin_multi_network",
]

NAME = "fin-multi"
DEFAULT_USERS = 12
DEFAULT_RATE_PER_S = 320.0
MAX_USERS = 1_000
MAX_RATE_PER_S = 1e9
MAX_SPREAD = 0.9


def fin_multi_network(n_devices: int) -> Network:
    """The FIN chain with its device ``md`` copied as ``md1 .. md{n_devices}``.

    Examples
    --------
    >>> net = fin_multi_network(2)
    >>> [(arc.source, arc.target) for arc in net.arcs]
    [('md1', 'es'), ('md1', 'cs'), ('md2', 'es'), ('md2', 'cs'), ('es', 'cs')]
    >>> net.node("md2").ops_per_s == fin_network().node("md").ops_per_s
    True
    """
    base = fin_network()
    device = base.node("md")
    copies = [f"md{i}" for i in range(1, n_devices + 1)]
    nodes = [replace(device, id=md) for md in copies]
    nodes += [node for node in base.nodes if node.id != device.id]
    links = [
        replace(link, source=md) for md in copies for link in base.links if link.source == "md"
    ]
    links += [link for link in base.links if "md" not in (link.source, link.target)]
    return Network(nodes=tuple(nodes), links=tuple(links))


def _check(values: Mapping[str, Any]) -> None:
    parse_models(NAME, "dnns", values["dnns"], tuple(BRANCHY_MODELS))
    check_positive(NAME, "rate_per_s", values["rate_per_s"], MAX_RATE_PER_S)
    check_positive(NAME, "max_utilization", values["max_utilization"], 1.0)


def build_fin_multi(values: Mapping[str, Any], seed: int) -> MultiInstance:
    """The fin-multi instance for checked ``values`` (``seed``: the rates' spread only)."""
    dnns = parse_models(NAME, "dnns", values["dnns"], tuple(BRANCHY_MODELS))
    users = values["users"]
    apps = [dnn for dnn in dnns for _ in range(users)]
    spread = values["rate_spread"]
    factors = np.ones(len(apps))
    if spread > 0:
        factors = 1.0 + spread * np.random.default_rng(seed).uniform(-1.0, 1.0, len(apps))
    requests = tuple(
        MultiRequest(
            id=f"u{i}-{dnn}",
            dnn=dnn,
            rate_per_s=float(values["rate_per_s"] * factor),
            request=make_request(
                values,
                f"md{i}",
                tier_order=("device", "edge", "cloud"),
                allowed_nodes=((1, (f"md{i}",)),),
            ),
        )
        for i, (dnn, factor) in enumerate(zip(apps, factors, strict=True), 1)
    )
    name = f"{NAME}-{'+'.join(dnns)}" + name_suffix(values, SPEC.params, ("dnns",))
    return MultiInstance(
        name=f"{name}-s{seed}" if spread > 0 else name,
        network=fin_multi_network(len(apps)),
        dnns=tuple(get_dnn(dnn) for dnn in dnns),
        requests=requests,
        objective=values["objective"],
        max_utilization=values["max_utilization"],
    )


SPEC = register_family(
    Family(
        name=NAME,
        description="FIN scenario: users of several BranchyNet apps sharing the ES and CS",
        params={
            "dnns": Param(
                str, "b-alexnet,b-resnet,b-lenet", "comma-separated BranchyNet models (apps)"
            ),
            "users": Param(int, DEFAULT_USERS, f"users per application (1 to {MAX_USERS})"),
            "rate_per_s": Param(float, DEFAULT_RATE_PER_S, "inferences per second per user"),
            "rate_spread": Param(float, 0.0, "seeded spread s of the rates: rate x [1-s, 1+s]"),
            **request_params(),
            "objective": Param(str, "energy", "latency or energy", ("latency", "energy")),
            "deadline_s": Param(
                float, 0.005, "deadline in seconds (none: no deadline)", nullable=True
            ),
            "min_accuracy": Param(float, 0.8, "minimum accuracy (none: no minimum)", nullable=True),
            "max_utilization": Param(
                float, 1.0, "share U in (0, 1] of each capacity loads may use"
            ),
        },
        build=build_fin_multi,
        bounds={"users": (1, MAX_USERS), "rate_spread": (0.0, MAX_SPREAD)},
        check=_check,
    )
)
