"""Seeded random small instances for the graph-method tests.

Small enough for the exhaustive oracle (2-4 nodes, 1-4 blocks), and drawn to cover
what the methods must handle: both objectives and exit policies, destinations,
directed and undirected links, zero-energy and zero-delay links, nodes that cannot
compute, tier order, allowed nodes, memory limits, exits with branch ops and result
sizes, and deadlines that are absent, loose, binding, exactly tight or impossible.
A binding deadline is placed between the fastest and the cheapest placement's
latency, found on the layered graph of the instance without its deadline.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from splitbench.errors import InstanceError
from splitbench.graphs._paths import PathSearch
from splitbench.graphs.layered import build_layered_graph
from splitbench.instance import (
    DNN,
    Block,
    Exit,
    Instance,
    Link,
    Network,
    Node,
    Request,
    validate_instance,
)
from splitbench.methods import solve
from splitbench.solution import Solution, Status

DEADLINE_MODES = ("none", "loose", "binding", "binding", "binding", "tight", "impossible")
TIERS = ("device", "edge", "cloud")


def _network(rng: np.random.Generator, memory: bool) -> Network:
    n_nodes = int(rng.integers(2, 5))
    nodes = []
    for i in range(n_nodes):
        tier = TIERS[min(i, 2)] if i < 3 else str(rng.choice(TIERS))
        computes = i == 0 or rng.random() > 0.15
        ops = float(rng.uniform(1e9, 1e10)) if computes else 0.0
        capacity = float(rng.uniform(1.0, 3.0)) if memory and rng.random() < 0.6 else None
        nodes.append(Node(f"n{i}", tier, ops, float(rng.uniform(1, 10)), capacity))

    def link(u: int, v: int, directed: bool) -> Link:
        delay = 0.0 if rng.random() < 0.3 else float(rng.uniform(0, 1e-3))
        energy = 0.0 if rng.random() < 0.25 else float(rng.uniform(0, 1e-8))
        return Link(f"n{u}", f"n{v}", float(rng.uniform(1e6, 1e8)), delay, energy, directed)

    links = []
    pairs: set[frozenset[int]] = set()
    for i in range(1, n_nodes):
        j = int(rng.integers(0, i))
        links.append(link(j, i, bool(rng.random() < 0.3)))
        pairs.add(frozenset((i, j)))
    for i in range(n_nodes):
        for j in range(n_nodes):
            if i != j and frozenset((i, j)) not in pairs and rng.random() < 0.35:
                links.append(link(i, j, bool(rng.random() < 0.5)))
                pairs.add(frozenset((i, j)))
    return Network(tuple(nodes), tuple(links))


def _dnn(rng: np.random.Generator, memory: bool) -> DNN:
    n_blocks = int(rng.integers(1, 5))
    blocks = tuple(
        Block(
            f"b{l}",
            0.0 if rng.random() < 0.05 else float(rng.uniform(1e8, 1e9)),
            float(rng.uniform(1e3, 1e5)),
            float(rng.uniform(0.3, 1.5)) if memory else 0.0,
        )
        for l in range(1, n_blocks + 1)
    )
    early = sorted(
        {int(b) for b in rng.integers(1, n_blocks + 1, size=int(rng.integers(0, 3)))} - {n_blocks}
    )
    shares = rng.dirichlet(np.ones(len(early) + 1))
    exits = tuple(
        Exit(
            b,
            float(np.round(rng.uniform(0.3, 1.0), 3)),
            float(rng.uniform(0, 1e8)) if rng.random() < 0.3 else 0.0,
            float(shares[i]) if b != n_blocks else None,
            0.0 if rng.random() < 0.4 else float(rng.uniform(0, 1e3)),
        )
        for i, b in enumerate([*early, n_blocks])
    )
    return DNN("d", float(rng.uniform(1e3, 1e5)), blocks, exits)


def _request(rng: np.random.Generator, net: Network, dnn: DNN) -> Request:
    tiers = [t for t in TIERS if t in net.tiers]
    tier_order = None
    if rng.random() < 0.3:
        tier_order = tuple(tiers if rng.random() < 0.8 else tiers[: max(1, len(tiers) - 1)])
    allowed: list[tuple[int, tuple[str, ...]]] = []
    computing = [n.id for n in net.computing_nodes]
    for l in range(1, dnn.n_blocks + 1):
        if rng.random() < 0.15:
            size = int(rng.integers(1, len(computing) + 1))
            allowed.append((l, tuple(str(x) for x in rng.choice(computing, size, replace=False))))
    return Request(
        source="n0",
        objective="energy" if rng.random() < 0.5 else "latency",
        destination=f"n{int(rng.integers(0, len(net.nodes)))}" if rng.random() < 0.4 else None,
        min_accuracy=float(rng.uniform(0.3, 0.9)) if rng.random() < 0.35 else None,
        exit_policy="expected" if rng.random() < 0.35 else "select",
        tier_order=tier_order,
        allowed_nodes=tuple(allowed),
    )


def with_deadline(inst: Instance, mode: str, rng: np.random.Generator) -> Instance:
    """``inst`` with a deadline of the given mode (none, loose, binding, tight, impossible)."""
    if mode == "none":
        return replace(inst, request=replace(inst.request, deadline_s=None))
    graph = build_layered_graph(replace(inst, request=replace(inst.request, deadline_s=None)))
    search = PathSearch(graph)
    fastest = search.shortest_path(graph.time_s)
    cheapest = search.lexicographic_path(graph.cost, graph.time_s)
    if fastest is None or cheapest is None or fastest.time_s <= 0:
        return inst
    fast, slow = fastest.time_s, cheapest.time_s
    deadline = {
        "loose": 1.5 * max(slow, fast),
        "binding": fast + float(rng.uniform(0.0, 1.0)) * (slow - fast),
        "tight": fast,
        "impossible": 0.8 * fast,
    }[mode]
    return replace(inst, request=replace(inst.request, deadline_s=deadline))


def random_instance(
    seed: int, *, deadline: str | None = None, memory: bool | None = None
) -> Instance:
    """A valid random small instance; ``deadline`` (a mode) and ``memory`` are drawn
    when None. The same seed and arguments give the same instance."""
    rng = np.random.default_rng(seed)
    use_memory = bool(rng.random() < 0.3) if memory is None else memory
    mode = str(rng.choice(DEADLINE_MODES)) if deadline is None else deadline
    for _ in range(100):
        net = _network(rng, use_memory)
        dnn = _dnn(rng, use_memory)
        inst = Instance(f"random-{seed}", net, dnn, _request(rng, net, dnn))
        try:
            validate_instance(inst)
        except InstanceError:
            continue
        return with_deadline(inst, mode, rng)
    raise RuntimeError(f"seed {seed}: no valid instance in 100 draws")


def cases(count: int) -> list[Instance]:
    """``count`` instances: half from :func:`random_instance`, half from the shared
    generator of ``tests/random_instances.py`` (routers, sources anywhere, exit shares
    that sum to 1 exactly, ...), when it can be imported."""
    try:
        from random_instances import random_instance as shared
    except ImportError:  # pragma: no cover - the shared generator is optional
        return [random_instance(seed) for seed in range(count)]
    half = count // 2
    return [random_instance(seed) for seed in range(count - half)] + [
        replace(shared(seed), name=f"shared-{seed}") for seed in range(half)
    ]


@functools.cache
def oracle(instance: Instance) -> Solution:
    """The exhaustive oracle's answer (cached)."""
    return solve(instance, "exhaustive")


@functools.cache
def milp(instance: Instance) -> Solution | None:
    """``routing-milp``'s answer, or None when that method is not available (cached)."""
    sol = solve(instance, "routing-milp")
    return None if sol.status is Status.ERROR else sol


def fin_sweeps(model: str = "b-alexnet") -> list[Instance]:
    """The FIN scenario sweeps (MODEL.md section 6) for a BranchyNet ``model``: energy
    against min accuracy 10 %..85 % (step 5) at a 5 ms deadline, then against the
    deadline 3..15 ms (step 1) at 80 % accuracy; the request is the shipped example's
    (source md, block 1 pinned to md, tiers only go up, select policy)."""
    from splitbench.instance import example_instance
    from splitbench.zoo import branchy_dnn, fin_network

    base = example_instance()
    base = replace(base, name=model, network=fin_network(), dnn=branchy_dnn(model))
    out = []
    for percent in range(10, 90, 5):
        request = replace(base.request, deadline_s=0.005, min_accuracy=percent / 100)
        out.append(replace(base, name=f"{model}-acc{percent}", request=request))
    for ms in range(3, 16):
        request = replace(base.request, deadline_s=ms / 1000, min_accuracy=0.8)
        out.append(replace(base, name=f"{model}-T{ms}ms", request=request))
    return out


def tiered_instances(count: int) -> list[Instance]:
    """``count`` tiered device-edge-cloud instances (4 to 8 nodes) running the
    BranchyNet models: energy, select policy, block 1 pinned to the device, tiers
    only go up, the accuracy of a non-first exit as floor, and a deadline between the
    fastest and the cheapest placement's latency (at least 10 % above the fastest)."""
    from splitbench.topology import tiered_network
    from splitbench.zoo import branchy_dnn

    out = []
    models = ("b-alexnet", "b-resnet", "b-lenet")
    for seed in range(count):
        rng = np.random.default_rng(1000 + seed)
        counts = {
            "device": int(rng.integers(1, 3)),
            "edge": int(rng.integers(2, 5)),
            "cloud": int(rng.integers(1, 3)),
        }
        net = tiered_network(counts, seed=seed)
        dnn = branchy_dnn(models[seed % 3])
        floor = float(rng.choice([ex.accuracy or 0.0 for ex in dnn.exits[1:]]))
        request = Request(
            source="device0",
            objective="energy",
            min_accuracy=floor,
            tier_order=TIERS,
            allowed_nodes=((1, ("device0",)),),
        )
        inst = Instance(f"tiered-{seed}", net, dnn, request)
        validate_instance(inst)
        graph = build_layered_graph(inst)
        search = PathSearch(graph)
        fastest = search.shortest_path(graph.time_s)
        cheapest = search.lexicographic_path(graph.cost, graph.time_s)
        assert fastest is not None and cheapest is not None
        fast, slow = fastest.time_s, cheapest.time_s
        deadline = max(1.1 * fast, fast + float(rng.uniform(0.1, 0.9)) * (slow - fast))
        out.append(replace(inst, request=replace(request, deadline_s=deadline)))
    return out


def chain_instance(
    n_blocks: int, n_nodes: int, seed: int, *, objective: str = "energy", deadline: bool = True
) -> Instance:
    """A random network of ``n_nodes`` (arc density 0.2) and a chain of ``n_blocks``
    random blocks; with ``deadline``, one between the fastest and the cheapest
    placement's latency (at least 10 % above the fastest)."""
    from splitbench.topology import random_network

    net = random_network(n_nodes, 0.2, seed)
    rng = np.random.default_rng(seed)
    blocks = tuple(
        Block(f"b{l}", float(rng.uniform(1e9, 1e11)), float(rng.uniform(1e4, 1e6)))
        for l in range(1, n_blocks + 1)
    )
    request = Request(source=net.nodes[0].id, objective=objective)
    inst = Instance(f"chain-{n_blocks}x{n_nodes}-{seed}", net, DNN("chain", 1.5e5, blocks), request)
    if not deadline:
        return inst
    graph = build_layered_graph(inst)
    search = PathSearch(graph)
    fastest = search.shortest_path(graph.time_s)
    cheapest = search.lexicographic_path(graph.cost, graph.time_s)
    assert fastest is not None and cheapest is not None
    fast, slow = fastest.time_s, cheapest.time_s
    limit = max(1.1 * fast, fast + float(rng.uniform(0.1, 0.9)) * (slow - fast))
    return replace(inst, request=replace(request, deadline_s=limit))
