"""Test helpers around the shared tiny instances: well-formed random placements and an
independent route enumerator.

``random_instance`` is re-exported from :mod:`splitbench.families.tiny` (the broadest
tiny distribution). :func:`all_simple_routes` is written independently of
:mod:`splitbench.routes`, so brute-force checks share no route code with the code
they check.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from splitbench.families.tiny import random_instance
from splitbench.instance import ExitPolicy, Instance, Network, validate_instance
from splitbench.placement import Placement

__all__ = [
    "all_simple_routes",
    "as_plain",
    "random_instance",
    "random_placement",
    "random_route",
    "scaled_block_ops",
]


def _maybe(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def all_simple_routes(network: Network, source: str, target: str) -> list[tuple[str, ...]]:
    """Every simple node path from ``source`` to ``target`` (``[(source,)]`` if equal).

    Written from the links directly, independently of :mod:`splitbench.routes`.
    """
    succ: dict[str, set[str]] = {node.id: set() for node in network.nodes}
    for link in network.links:
        succ[link.source].add(link.target)
        if not link.directed:
            succ[link.target].add(link.source)
    out: list[tuple[str, ...]] = []

    def extend(path: tuple[str, ...]) -> None:
        if path[-1] == target:
            out.append(path)
            return
        for nxt in sorted(succ[path[-1]]):
            if nxt not in path:
                extend((*path, nxt))

    extend((source,))
    return out


def random_route(
    rng: np.random.Generator, network: Network, start: str, end: str
) -> tuple[str, ...]:
    """A random simple route from ``start`` to ``end``; rarely, any node sequence
    (which may use missing arcs or end elsewhere: well-formed, but broken)."""
    ids = [node.id for node in network.nodes]
    routes = all_simple_routes(network, start, end)
    if routes and not _maybe(rng, 0.1):
        return routes[int(rng.integers(len(routes)))]
    length = int(rng.integers(1, 4))
    return tuple(ids[int(rng.integers(len(ids)))] for _ in range(length))


def random_placement(instance: Instance, rng: np.random.Generator) -> Placement:
    """A structurally valid placement (no :class:`PlacementError`), often infeasible."""
    dnn = instance.dnn
    req = instance.request
    if req.exit_policy is ExitPolicy.EXPECTED:
        exit_block = dnn.n_blocks
    else:
        exit_block = dnn.exits[int(rng.integers(len(dnn.exits)))].after_block
    ids = [node.id for node in instance.network.nodes]
    blocks = []
    for block in range(1, exit_block + 1):
        pool = list(instance.candidate_nodes(block))
        if not pool or _maybe(rng, 0.2):
            pool = ids
        blocks.append(pool[int(rng.integers(len(pool)))])
    ends = [req.source, *blocks]
    routes: list[tuple[str, ...] | None] = [
        random_route(rng, instance.network, ends[k], ends[k + 1]) for k in range(exit_block)
    ]
    if req.destination is None:
        routes.append(None)
    else:
        routes.append(random_route(rng, instance.network, blocks[-1], req.destination))
    return Placement(tuple(blocks), exit_block, tuple(routes))


def scaled_block_ops(instance: Instance, factor: float) -> Instance:
    """The same instance with every block's ``ops`` multiplied by ``factor``."""
    blocks = tuple(replace(b, ops=b.ops * factor) for b in instance.dnn.blocks)
    dnn = replace(instance.dnn, blocks=blocks)
    scaled = replace(instance, dnn=dnn)
    validate_instance(scaled)
    return scaled


def as_plain(value: Any) -> Any:
    """``value`` with tuples turned into lists (for comparing JSON forms)."""
    if isinstance(value, tuple | list):
        return [as_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    return value
