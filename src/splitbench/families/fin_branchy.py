"""Family ``fin-branchy``: the FIN authors' evaluation scenario (MODEL.md section 6).

A BranchyNet model (``b-alexnet``, ``b-resnet``, ``b-lenet``) on the three-tier
MD/ES/CS chain of :func:`splitbench.zoo.fin_network`, data moving up only
(``tier_order`` device, edge, cloud), block 1 pinned to the device ``md``. By default
the request is the scenario's: minimise energy under a 5 ms deadline and an 80 %
accuracy floor. Deterministic: the seed is not used.

Examples
--------
>>> from splitbench.families import generate
>>> inst = generate("fin-branchy", {"dnn": "b-lenet"})
>>> inst.name, inst.dnn.n_blocks, inst.request.allowed_for(1)
('fin-b-lenet-mnist', 3, frozenset({'md'}))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from splitbench.families.base import (
    Family,
    make_request,
    name_suffix,
    register_family,
    request_params,
)
from splitbench.instance.model import Instance
from splitbench.params import Param
from splitbench.zoo import fin_network, get_dnn

__all__ = ["SPEC", "build_fin_branchy"]


def build_fin_branchy(values: Mapping[str, Any], seed: int) -> Instance:
    """The FIN scenario instance for checked ``values`` (``seed`` is not used)."""
    dnn = get_dnn(values["dnn"], dataset=values["dataset"])
    dataset = values["dataset"] or ("mnist" if values["dnn"] == "b-lenet" else "cifar10")
    name = f"fin-{values['dnn']}-{dataset}" + name_suffix(
        values, SPEC.params, skip=("dnn", "dataset")
    )
    request = make_request(
        values,
        "md",
        tier_order=("device", "edge", "cloud"),
        allowed_nodes=((1, ("md",)),),
    )
    return Instance(name=name, network=fin_network(), dnn=dnn, request=request)


SPEC = register_family(
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
            **request_params(),
            "objective": Param(str, "energy", "latency or energy", ("latency", "energy")),
            "deadline_s": Param(
                float, 0.005, "deadline in seconds (none: no deadline)", nullable=True
            ),
            "min_accuracy": Param(float, 0.8, "minimum accuracy (none: no minimum)", nullable=True),
        },
        build=build_fin_branchy,
    )
)
