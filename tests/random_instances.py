"""Seeded generators of small valid instances and well-formed placements (for tests).

Everything is drawn from a local ``numpy.random.Generator`` built from the seed, so a
seed always gives the same instance. The instances are tiny on purpose: the tests
enumerate every placement and every simple route of them.

Also here: :func:`all_simple_routes`, a route enumerator written independently of
:mod:`splitbench.routes`, so brute-force checks share no route code with the code
they check.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np

from splitbench.evaluate import Placement
from splitbench.instance import (
    DNN,
    Block,
    Exit,
    ExitPolicy,
    Instance,
    Link,
    Network,
    Node,
    Objective,
    Request,
    validate_instance,
)

__all__ = [
    "all_simple_routes",
    "random_instance",
    "random_placement",
    "random_route",
    "scaled_block_ops",
]

_TIERS = ("device", "edge", "cloud")


def _maybe(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def _nodes(rng: np.random.Generator, n_nodes: int, allow_router: bool) -> list[Node]:
    router_at = int(rng.integers(n_nodes)) if allow_router and _maybe(rng, 0.4) else None
    nodes = []
    for i in range(n_nodes):
        if i == router_at:
            nodes.append(Node(f"n{i}", "router", 0.0, power_w=float(rng.uniform(0, 5))))
            continue
        tier = _TIERS[int(rng.integers(len(_TIERS)))]
        memory = float(rng.uniform(0.5, 4.0)) * 1e6 if _maybe(rng, 0.3) else None
        nodes.append(
            Node(
                f"n{i}",
                tier,
                ops_per_s=float(10 ** rng.uniform(8, 10)),
                power_w=float(rng.choice([0.0, rng.uniform(0.5, 50.0)])),
                memory_bytes=memory,
            )
        )
    return nodes


def _link(rng: np.random.Generator, u: str, v: str, directed: bool) -> Link:
    return Link(
        u,
        v,
        bandwidth_bps=float(10 ** rng.uniform(5, 8)),
        delay_s=0.0 if _maybe(rng, 0.5) else float(rng.uniform(0, 0.01)),
        energy_per_bit_j=0.0 if _maybe(rng, 0.3) else float(10 ** rng.uniform(-9, -7)),
        directed=directed,
    )


def _links(rng: np.random.Generator, ids: list[str]) -> list[Link]:
    """A random connected network: a spanning tree both ways, plus extra links."""
    links = []
    tree = set()
    for i in range(1, len(ids)):
        j = int(rng.integers(i))
        tree.add((j, i))
        if _maybe(rng, 0.25):  # the two directions as two directed links
            links += [_link(rng, ids[j], ids[i], True), _link(rng, ids[i], ids[j], True)]
        else:
            links.append(_link(rng, ids[j], ids[i], False))
    for j, i in itertools.combinations(range(len(ids)), 2):
        if (j, i) in tree or not _maybe(rng, 0.4):
            continue
        kind = int(rng.integers(3))
        if kind == 0:
            links.append(_link(rng, ids[j], ids[i], False))
        elif kind == 1:
            links.append(_link(rng, ids[j], ids[i], True))
        else:
            links.append(_link(rng, ids[i], ids[j], True))
    order = rng.permutation(len(links))
    return [links[k] for k in order]


def _exit_probabilities(rng: np.random.Generator, n_early: int) -> list[float]:
    if n_early == 0:
        return []
    if _maybe(rng, 0.3):  # exact binary fractions, sums that hit 1 exactly included
        grid = [0.0, 0.25, 0.5, 0.75, 1.0]
        while True:
            probs = [float(rng.choice(grid)) for _ in range(n_early)]
            if sum(probs) <= 1.0:
                return probs
    cut = rng.dirichlet(np.ones(n_early + 1))
    return [float(p) for p in cut[:n_early]]


def _dnn(rng: np.random.Generator, n_blocks: int, known_accuracy: bool) -> DNN:
    blocks = tuple(
        Block(
            f"b{i + 1}",
            ops=float(10 ** rng.uniform(7, 9)),
            output_bytes=0.0 if _maybe(rng, 0.1) else float(rng.uniform(100, 1e5)),
            memory_bytes=0.0 if _maybe(rng, 0.5) else float(rng.uniform(0.5, 2.0)) * 1e6,
        )
        for i in range(n_blocks)
    )
    n_exits = int(rng.integers(1, min(3, n_blocks) + 1))
    early = sorted(int(b) for b in rng.choice(np.arange(1, n_blocks), n_exits - 1, replace=False))
    accuracies = sorted(float(a) for a in rng.uniform(0.3, 0.99, n_exits))
    probabilities = _exit_probabilities(rng, len(early))
    exits = []
    for k, after in enumerate([*early, n_blocks]):
        exits.append(
            Exit(
                after_block=after,
                accuracy=accuracies[k] if known_accuracy else None,
                ops=0.0 if _maybe(rng, 0.5) else float(10 ** rng.uniform(6, 8)),
                exit_probability=probabilities[k] if k < len(early) else None,
                output_bytes=0.0 if _maybe(rng, 0.4) else float(rng.uniform(1, 100)),
            )
        )
    order = rng.permutation(len(exits))  # the DNN sorts them
    return DNN("random-dnn", float(rng.uniform(100, 1e5)), blocks, tuple(exits[k] for k in order))


def _request(rng: np.random.Generator, network: Network, dnn: DNN) -> Request:
    ids = [node.id for node in network.nodes]
    computing = [node.id for node in network.computing_nodes]
    source = ids[int(rng.integers(len(ids)))]
    destination = ids[int(rng.integers(len(ids)))] if _maybe(rng, 0.5) else None
    known = all(ex.accuracy is not None for ex in dnn.exits)
    min_accuracy = None
    if known and _maybe(rng, 0.5):
        accuracies = [ex.accuracy for ex in dnn.exits if ex.accuracy is not None]
        choice = int(rng.integers(3))
        if choice == 0:  # exactly an exit's accuracy: the limit is met with equality
            min_accuracy = float(rng.choice(accuracies))
        elif choice == 1:
            min_accuracy = float(rng.uniform(0, max(accuracies)))
        else:
            min_accuracy = float(rng.uniform(0, 1))
    deadline = None
    if _maybe(rng, 0.6):
        speed = float(np.median([network.node(n).ops_per_s for n in computing]))
        typical = sum(b.ops for b in dnn.blocks) / speed
        deadline = typical * float(10 ** rng.uniform(-1, 0.5))
    tier_order = None
    if _maybe(rng, 0.4):
        present = sorted(network.tiers)
        size = int(rng.integers(1, len(present) + 1))
        picked = [present[k] for k in rng.choice(len(present), size, replace=False)]
        if _maybe(rng, 0.5):  # the usual order, restricted to the picked tiers
            canonical = [*_TIERS, "router"]
            picked.sort(key=canonical.index)
        tier_order = tuple(picked)
    allowed: list[tuple[int, tuple[str, ...]]] = []
    for block in range(1, dnn.n_blocks + 1):
        if _maybe(rng, 0.2):
            size = int(rng.integers(1, len(computing) + 1))
            nodes = rng.choice(len(computing), size, replace=False)
            allowed.append((block, tuple(computing[k] for k in sorted(nodes))))
    policy = ExitPolicy.SELECT
    if _maybe(rng, 0.4) and all(ex.exit_probability is not None for ex in dnn.exits[:-1]):
        policy = ExitPolicy.EXPECTED
    return Request(
        source=source,
        objective=Objective.LATENCY if _maybe(rng, 0.5) else Objective.ENERGY,
        destination=destination,
        deadline_s=deadline,
        min_accuracy=min_accuracy,
        exit_policy=policy,
        tier_order=tier_order,
        allowed_nodes=tuple(allowed),
    )


def random_instance(
    seed: int, *, min_nodes: int = 2, max_nodes: int = 4, max_blocks: int = 4
) -> Instance:
    """A small valid instance drawn from ``seed``.

    2 to ``max_nodes`` nodes (one may be a router with ``ops_per_s`` 0), a connected
    network of directed and undirected links, 1 to ``max_blocks`` blocks, 1 to 3 exits,
    and a random objective, exit policy, destination, deadline, minimum accuracy,
    memory, tier order and allowed nodes. Passes :func:`validate_instance`.
    """
    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(min_nodes, max_nodes + 1))
    nodes = _nodes(rng, n_nodes, allow_router=n_nodes >= 3)
    network = Network(tuple(nodes), tuple(_links(rng, [n.id for n in nodes])))
    dnn = _dnn(rng, int(rng.integers(1, max_blocks + 1)), known_accuracy=_maybe(rng, 0.85))
    request = _request(rng, network, dnn)
    instance = Instance(f"random-{seed}", network, dnn, request)
    validate_instance(instance)
    return instance


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
