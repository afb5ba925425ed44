"""Family ``random-chain``: a random chain of blocks over a random connected network,
for scaling experiments.

The network is :func:`splitbench.topology.random_network` (``nodes`` nodes, arc
``density``); the chain has ``blocks`` blocks with ops drawn in [1e8, 1e10],
activation sizes log-uniform in [1e3, 10**6.5] bytes and sorted descending (they
shrink along a typical chain), and ``exits`` early exits after distinct random
blocks, with increasing accuracies and Dirichlet exit shares.

Bounds: 1 <= blocks <= 10000, 1 <= nodes <= 100000, 0 <= density <= 1,
0 <= exits <= 10000 (at most ``blocks - 1`` are used), and at most 1000000 links
(``density * nodes * (nodes - 1) / 2``).

Examples
--------
>>> from splitbench.families import generate
>>> inst = generate("random-chain", {"blocks": 5, "nodes": 4, "exits": 2}, seed=3)
>>> inst.name, inst.dnn.n_blocks, len(inst.dnn.exits), len(inst.network.nodes)
('random-chain-blocks=5-nodes=4-exits=2-s3', 5, 3, 4)
>>> generate("random-chain", {"nodes": 100_000})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
splitbench.errors.UsageError: --param nodes=100000, density=0.3: the network would have ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from splitbench.errors import UsageError
from splitbench.families.base import (
    Family,
    default_source,
    make_request,
    name_suffix,
    register_family,
    request_params,
)
from splitbench.instance.model import DNN, Block, Exit, Instance
from splitbench.params import Param
from splitbench.topology import random_network

__all__ = ["MAX_BLOCKS", "MAX_LINKS", "MAX_NODES", "SPEC", "build_random_chain", "check_links"]

MAX_BLOCKS = 10_000
MAX_NODES = 100_000
MAX_LINKS = 1_000_000


def check_links(values: Mapping[str, Any]) -> None:
    """Refuse a ``nodes`` and ``density`` pair that would build more than
    :data:`MAX_LINKS` links."""
    n = values["nodes"]
    links = max(n - 1, round(values["density"] * n * (n - 1) / 2))
    if links > MAX_LINKS:
        raise UsageError(
            f"--param nodes={n}, density={values['density']:g}: the network would have "
            f"{links} links; at most {MAX_LINKS} (lower nodes or density)"
        )


def build_random_chain(values: Mapping[str, Any], seed: int) -> Instance:
    """The random-chain instance for checked ``values`` and ``seed``."""
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
    name = "random-chain" + name_suffix(values, SPEC.params)
    return Instance(
        name=f"{name}-s{seed}",
        network=network,
        dnn=dnn,
        request=make_request(values, default_source(network)),
    )


SPEC = register_family(
    Family(
        name="random-chain",
        description="a random chain of blocks over a random connected network (scaling)",
        params={
            "blocks": Param(int, 10, f"number of blocks (1 to {MAX_BLOCKS})"),
            "nodes": Param(int, 10, f"number of network nodes (1 to {MAX_NODES})"),
            "density": Param(float, 0.3, "arc density in [0, 1] (share of node pairs linked)"),
            "exits": Param(int, 0, f"early exits (0 to {MAX_BLOCKS}; at most blocks - 1 are used)"),
            **request_params(),
        },
        build=build_random_chain,
        bounds={
            "blocks": (1, MAX_BLOCKS),
            "nodes": (1, MAX_NODES),
            "density": (0.0, 1.0),
            "exits": (0, MAX_BLOCKS),
        },
        check=check_links,
    )
)
