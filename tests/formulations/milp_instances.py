"""Seeded small instances for checking the MILP formulations against the oracle.

:func:`small_instance` draws an instance with a given objective and exit policy
from a local generator: 2-4 nodes (perhaps a router that cannot compute), a random
connected set of links (a spanning tree of undirected links, so the source reaches
every node, plus extra directed or undirected ones), 1-4 blocks, 1-3 exits with
accuracies and exit shares, and, at random, a destination, a minimum accuracy,
memory limits, a tier order and allowed nodes. A deadline, when drawn, is the
instance's least latency (found by the exhaustive oracle) times a factor in
[0.7, 2.5], so some instances are infeasible and many deadlines bind.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np

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
from splitbench.methods import solve
from splitbench.solution import Solution, Status
from splitbench.topology.random_graphs import random_network

__all__ = ["COMBOS", "chain_instance", "oracle", "small_instance"]

COMBOS = [(objective, policy) for objective in Objective for policy in ExitPolicy]
"""Every (objective, exit policy) pair."""

_TIERS = ("device", "edge", "cloud")


def _chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def _network(rng: np.random.Generator) -> Network:
    n = int(rng.integers(2, 5))
    router = int(rng.integers(1, n)) if n >= 3 and _chance(rng, 0.3) else None
    nodes = []
    for i in range(n):
        if i == router:
            nodes.append(Node(f"n{i}", "router", 0.0))
            continue
        tier = _TIERS[min(i, 2)] if _chance(rng, 0.7) else _TIERS[int(rng.integers(3))]
        nodes.append(
            Node(
                f"n{i}",
                tier,
                ops_per_s=float(10 ** rng.uniform(8, 10)),
                power_w=float(rng.uniform(0.5, 50.0)) if _chance(rng, 0.9) else 0.0,
                memory_bytes=float(rng.uniform(1.0, 4.0)) * 1e6 if _chance(rng, 0.3) else None,
            )
        )

    def link(u: int, v: int, directed: bool) -> Link:
        return Link(
            f"n{u}",
            f"n{v}",
            bandwidth_bps=float(10 ** rng.uniform(5, 8)),
            delay_s=0.0 if _chance(rng, 0.5) else float(rng.uniform(0, 0.005)),
            energy_per_bit_j=0.0 if _chance(rng, 0.2) else float(10 ** rng.uniform(-9, -7)),
            directed=directed,
        )

    links = [link(int(rng.integers(i)), i, False) for i in range(1, n)]
    joined = {(min(lk.source, lk.target), max(lk.source, lk.target)) for lk in links}
    for u in range(n):
        for v in range(u + 1, n):
            if (f"n{u}", f"n{v}") in joined or not _chance(rng, 0.4):
                continue
            if _chance(rng, 0.5):
                links.append(link(u, v, False))
            else:
                links.append(link(u, v, True) if _chance(rng, 0.5) else link(v, u, True))
    return Network(tuple(nodes), tuple(links))


def _dnn(rng: np.random.Generator) -> DNN:
    n_blocks = int(rng.integers(1, 5))
    blocks = tuple(
        Block(
            f"b{i + 1}",
            ops=float(10 ** rng.uniform(7, 9)),
            output_bytes=0.0 if _chance(rng, 0.1) else float(rng.uniform(100, 1e5)),
            memory_bytes=0.0 if _chance(rng, 0.5) else float(rng.uniform(0.5, 2.0)) * 1e6,
        )
        for i in range(n_blocks)
    )
    n_exits = int(rng.integers(1, min(3, n_blocks) + 1))
    early = sorted(int(b) for b in rng.choice(np.arange(1, n_blocks), n_exits - 1, replace=False))
    accuracy = sorted(float(a) for a in rng.uniform(0.3, 0.99, n_exits))
    shares = rng.dirichlet(np.ones(n_exits))
    exits = tuple(
        Exit(
            after_block=after,
            accuracy=accuracy[k],
            ops=0.0 if _chance(rng, 0.5) else float(10 ** rng.uniform(6, 8)),
            exit_probability=float(shares[k]) if k < len(early) else None,
            output_bytes=0.0 if _chance(rng, 0.4) else float(rng.uniform(1, 100)),
        )
        for k, after in enumerate([*early, n_blocks])
    )
    return DNN("small", float(rng.uniform(100, 1e5)), blocks, exits)


def _request(
    rng: np.random.Generator, network: Network, dnn: DNN, objective: Objective, policy: ExitPolicy
) -> Request:
    ids = [node.id for node in network.nodes]
    computing = [node.id for node in network.computing_nodes]
    min_accuracy = None
    if _chance(rng, 0.4):
        accuracies = [ex.accuracy or 0.0 for ex in dnn.exits]
        min_accuracy = (
            float(rng.choice(accuracies)) if _chance(rng, 0.5) else float(rng.uniform(0.2, 1.0))
        )
    tier_order = None
    if _chance(rng, 0.3):
        present = [t for t in _TIERS if t in network.tiers]
        tier_order = tuple(present if _chance(rng, 0.7) else rng.permutation(present).tolist())
    allowed = []
    for block in range(1, dnn.n_blocks + 1):
        if _chance(rng, 0.2):
            size = int(rng.integers(1, len(computing) + 1))
            picked = sorted(rng.choice(len(computing), size, replace=False).tolist())
            allowed.append((block, tuple(computing[k] for k in picked)))
    return Request(
        source="n0",
        objective=objective,
        destination=ids[int(rng.integers(len(ids)))] if _chance(rng, 0.5) else None,
        min_accuracy=min_accuracy,
        exit_policy=policy,
        tier_order=tier_order,
        allowed_nodes=tuple(allowed),
    )


@cache
def small_instance(seed: int, objective: Objective, policy: ExitPolicy) -> Instance:
    """A small valid instance drawn from ``seed`` with this objective and policy."""
    rng = np.random.default_rng(
        [seed, list(Objective).index(objective), list(ExitPolicy).index(policy)]
    )
    network = _network(rng)
    dnn = _dnn(rng)
    request = _request(rng, network, dnn, objective, policy)
    name = f"small-{seed}-{objective.value}-{policy.value}"
    instance = Instance(name, network, dnn, request)
    if _chance(rng, 0.6):
        fastest = solve(
            replace(instance, request=replace(request, objective=Objective.LATENCY)), "exhaustive"
        )
        base = fastest.evaluation.latency_s if fastest.evaluation is not None else None
        if fastest.status is Status.OPTIMAL and base is not None and base > 0:
            deadline = base * float(rng.uniform(0.7, 2.5))
            instance = replace(instance, request=replace(request, deadline_s=deadline))
    validate_instance(instance)
    return instance


@cache
def oracle(seed: int, objective: Objective, policy: ExitPolicy) -> Solution:
    """The exhaustive oracle's answer on :func:`small_instance` (cached)."""
    return solve(small_instance(seed, objective, policy), "exhaustive")


def chain_instance(
    n_blocks: int,
    n_nodes: int,
    seed: int,
    objective: Objective = Objective.LATENCY,
    policy: ExitPolicy = ExitPolicy.SELECT,
    *,
    density: float = 0.3,
) -> Instance:
    """A chain of ``n_blocks`` blocks (early exits at a third and two thirds) on a
    random network (:func:`splitbench.topology.random_graphs.random_network`), from a
    device: an instance where splitting the chain across nodes pays."""
    rng = np.random.default_rng(seed)
    network = random_network(n_nodes, density, seed=seed)
    blocks = tuple(
        Block(
            f"b{i + 1}",
            ops=float(10 ** rng.uniform(8, 10)),
            output_bytes=float(10 ** rng.uniform(3, 6)),
        )
        for i in range(n_blocks)
    )
    early = sorted({max(1, n_blocks // 3), max(1, 2 * n_blocks // 3)} - {n_blocks})
    exits = (
        *(
            Exit(after_block=after, accuracy=0.6 + 0.1 * k, exit_probability=0.2)
            for k, after in enumerate(early)
        ),
        Exit(after_block=n_blocks, accuracy=0.9),
    )
    dnn = DNN("chain", 150e3, blocks, exits)
    request = Request(source=network.nodes[0].id, objective=objective, exit_policy=policy)
    instance = Instance(f"chain-{n_blocks}x{n_nodes}-{seed}", network, dnn, request)
    validate_instance(instance)
    return instance
