"""The parts the tiny distributions of :mod:`splitbench.families.tiny` draw (not public API).

Networks, DNNs and requests of each distribution, the drawing steps they share
(links, blocks and exits, allowed nodes), and the deadline rules: the least
latency by enumeration (:func:`least_latency_s`) and the fastest and cheapest
placement on the layered graph (:func:`with_deadline`). Each function draws from the
generator it is given, in a fixed order: changing that order changes every
instance, so the instance ids of the tiny distributions are pinned by a test.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from splitbench.errors import InstanceError
from splitbench.evaluate import evaluate
from splitbench.graphs._paths import PathSearch
from splitbench.graphs.layered import build_layered_graph
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
)
from splitbench.placement import Placement
from splitbench.routes import route_cost, simple_routes

__all__ = [
    "TIERS",
    "allowed_nodes",
    "chain_blocks",
    "chance",
    "deadline_between",
    "graph_dnn",
    "graph_network",
    "graph_request",
    "least_latency_s",
    "milp_network",
    "milp_request",
    "random_links",
    "random_nodes",
    "random_request",
    "small_dnn",
    "with_deadline",
]

TIERS = ("device", "edge", "cloud")


def chance(rng: np.random.Generator, p: float) -> bool:
    """True with probability ``p`` (one draw)."""
    return bool(rng.random() < p)


def small_link(
    rng: np.random.Generator, u: str, v: str, directed: bool, max_delay_s: float, p_free: float
) -> Link:
    """A link of 0.1-100 Mb/s; no delay half the time, no energy with chance ``p_free``."""
    return Link(
        u,
        v,
        bandwidth_bps=float(10 ** rng.uniform(5, 8)),
        delay_s=0.0 if chance(rng, 0.5) else float(rng.uniform(0, max_delay_s)),
        energy_per_bit_j=0.0 if chance(rng, p_free) else float(10 ** rng.uniform(-9, -7)),
        directed=directed,
    )


def exit_shares(rng: np.random.Generator, n_early: int, grid: bool) -> list[float]:
    """Exit shares of the early exits; with ``grid``, sometimes exact binary fractions
    (sums that hit 1 exactly included)."""
    if not grid:
        return [float(p) for p in rng.dirichlet(np.ones(n_early + 1))[:n_early]]
    if n_early == 0:
        return []
    if chance(rng, 0.3):
        values = [0.0, 0.25, 0.5, 0.75, 1.0]
        while True:
            shares = [float(rng.choice(values)) for _ in range(n_early)]
            if sum(shares) <= 1.0:
                return shares
    return [float(p) for p in rng.dirichlet(np.ones(n_early + 1))[:n_early]]


def small_dnn(
    rng: np.random.Generator,
    n_blocks: int,
    name: str,
    *,
    known_accuracy: bool = True,
    grid: bool = False,
    shuffle: bool = False,
) -> DNN:
    """1e7-1e9 ops per block, 1-3 exits with branch ops and result sizes; ``shuffle``
    lists the exits out of order (the DNN sorts them)."""
    blocks = tuple(
        Block(
            f"b{i + 1}",
            ops=float(10 ** rng.uniform(7, 9)),
            output_bytes=0.0 if chance(rng, 0.1) else float(rng.uniform(100, 1e5)),
            memory_bytes=0.0 if chance(rng, 0.5) else float(rng.uniform(0.5, 2.0)) * 1e6,
        )
        for i in range(n_blocks)
    )
    n_exits = int(rng.integers(1, min(3, n_blocks) + 1))
    early = sorted(int(b) for b in rng.choice(np.arange(1, n_blocks), n_exits - 1, replace=False))
    accuracies = sorted(float(a) for a in rng.uniform(0.3, 0.99, n_exits))
    shares = exit_shares(rng, len(early), grid)
    exits = [
        Exit(
            after_block=after,
            accuracy=accuracies[k] if known_accuracy else None,
            ops=0.0 if chance(rng, 0.5) else float(10 ** rng.uniform(6, 8)),
            exit_probability=shares[k] if k < len(early) else None,
            output_bytes=0.0 if chance(rng, 0.4) else float(rng.uniform(1, 100)),
        )
        for k, after in enumerate([*early, n_blocks])
    ]
    if shuffle:
        exits = [exits[k] for k in rng.permutation(len(exits))]
    return DNN(name, float(rng.uniform(100, 1e5)), blocks, tuple(exits))


def allowed_nodes(
    rng: np.random.Generator, computing: Sequence[str], n_blocks: int, p: float, *, sort: bool
) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """Each block, with chance ``p``, restricted to a random subset of ``computing``."""
    allowed = []
    for block in range(1, n_blocks + 1):
        if chance(rng, p):
            size = int(rng.integers(1, len(computing) + 1))
            picked = rng.choice(len(computing), size, replace=False).tolist()
            allowed.append(
                (block, tuple(computing[k] for k in (sorted(picked) if sort else picked)))
            )
    return tuple(allowed)


def random_nodes(rng: np.random.Generator, n_nodes: int, allow_router: bool) -> list[Node]:
    """Nodes ``n0..`` of random tiers, perhaps one router; memory on 30 % of them."""
    router_at = int(rng.integers(n_nodes)) if allow_router and chance(rng, 0.4) else None
    nodes = []
    for i in range(n_nodes):
        if i == router_at:
            nodes.append(Node(f"n{i}", "router", 0.0, power_w=float(rng.uniform(0, 5))))
            continue
        tier = TIERS[int(rng.integers(len(TIERS)))]
        memory = float(rng.uniform(0.5, 4.0)) * 1e6 if chance(rng, 0.3) else None
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


def random_links(rng: np.random.Generator, ids: list[str]) -> list[Link]:
    """A spanning tree (a quarter of its links as two directed ones), extra links,
    shuffled."""

    def link(u: str, v: str, directed: bool) -> Link:
        return small_link(rng, u, v, directed, max_delay_s=0.01, p_free=0.3)

    links = []
    tree = set()
    for i in range(1, len(ids)):
        j = int(rng.integers(i))
        tree.add((j, i))
        if chance(rng, 0.25):
            links += [link(ids[j], ids[i], True), link(ids[i], ids[j], True)]
        else:
            links.append(link(ids[j], ids[i], False))
    for j, i in itertools.combinations(range(len(ids)), 2):
        if (j, i) in tree or not chance(rng, 0.4):
            continue
        kind = int(rng.integers(3))
        if kind == 0:
            links.append(link(ids[j], ids[i], False))
        elif kind == 1:
            links.append(link(ids[j], ids[i], True))
        else:
            links.append(link(ids[i], ids[j], True))
    return [links[k] for k in rng.permutation(len(links))]


def random_request(rng: np.random.Generator, network: Network, dnn: DNN) -> Request:
    """A request from any node, with every option drawn."""
    ids = [node.id for node in network.nodes]
    computing = [node.id for node in network.computing_nodes]
    source = ids[int(rng.integers(len(ids)))]
    destination = ids[int(rng.integers(len(ids)))] if chance(rng, 0.5) else None
    min_accuracy = None
    accuracies = [ex.accuracy for ex in dnn.exits if ex.accuracy is not None]
    if len(accuracies) == len(dnn.exits) and chance(rng, 0.5):
        choice = int(rng.integers(3))
        if choice == 0:  # exactly an exit's accuracy: the limit is met with equality
            min_accuracy = float(rng.choice(accuracies))
        elif choice == 1:
            min_accuracy = float(rng.uniform(0, max(accuracies)))
        else:
            min_accuracy = float(rng.uniform(0, 1))
    deadline = None
    if chance(rng, 0.6):
        speed = float(np.median([network.node(n).ops_per_s for n in computing]))
        typical = sum(b.ops for b in dnn.blocks) / speed
        deadline = typical * float(10 ** rng.uniform(-1, 0.5))
    tier_order = None
    if chance(rng, 0.4):
        present = sorted(network.tiers)
        size = int(rng.integers(1, len(present) + 1))
        picked = [present[k] for k in rng.choice(len(present), size, replace=False)]
        if chance(rng, 0.5):  # the usual order, restricted to the picked tiers
            picked.sort(key=[*TIERS, "router"].index)
        tier_order = tuple(picked)
    allowed = allowed_nodes(rng, computing, dnn.n_blocks, 0.2, sort=True)
    policy = ExitPolicy.SELECT
    if chance(rng, 0.4) and all(ex.exit_probability is not None for ex in dnn.exits[:-1]):
        policy = ExitPolicy.EXPECTED
    return Request(
        source=source,
        objective=Objective.LATENCY if chance(rng, 0.5) else Objective.ENERGY,
        destination=destination,
        deadline_s=deadline,
        min_accuracy=min_accuracy,
        exit_policy=policy,
        tier_order=tier_order,
        allowed_nodes=allowed,
    )


def milp_network(rng: np.random.Generator) -> Network:
    """2-4 nodes ``n0..`` (tiers mostly in node order, perhaps a router) and a spanning
    tree of undirected links from ``n0`` plus extra links."""
    n = int(rng.integers(2, 5))
    router = int(rng.integers(1, n)) if n >= 3 and chance(rng, 0.3) else None
    nodes = []
    for i in range(n):
        if i == router:
            nodes.append(Node(f"n{i}", "router", 0.0))
            continue
        tier = TIERS[min(i, 2)] if chance(rng, 0.7) else TIERS[int(rng.integers(3))]
        nodes.append(
            Node(
                f"n{i}",
                tier,
                ops_per_s=float(10 ** rng.uniform(8, 10)),
                power_w=float(rng.uniform(0.5, 50.0)) if chance(rng, 0.9) else 0.0,
                memory_bytes=float(rng.uniform(1.0, 4.0)) * 1e6 if chance(rng, 0.3) else None,
            )
        )

    def link(u: int, v: int, directed: bool) -> Link:
        return small_link(rng, f"n{u}", f"n{v}", directed, max_delay_s=0.005, p_free=0.2)

    links = [link(int(rng.integers(i)), i, False) for i in range(1, n)]
    joined = {(min(lk.source, lk.target), max(lk.source, lk.target)) for lk in links}
    for u, v in itertools.combinations(range(n), 2):
        if (f"n{u}", f"n{v}") in joined or not chance(rng, 0.4):
            continue
        if chance(rng, 0.5):
            links.append(link(u, v, False))
        else:
            links.append(link(u, v, True) if chance(rng, 0.5) else link(v, u, True))
    return Network(tuple(nodes), tuple(links))


def milp_request(
    rng: np.random.Generator, network: Network, dnn: DNN, objective: Objective, policy: ExitPolicy
) -> Request:
    """A request from ``n0`` with the given objective and policy, no deadline yet."""
    ids = [node.id for node in network.nodes]
    min_accuracy = None
    if chance(rng, 0.4):
        accuracies = [ex.accuracy or 0.0 for ex in dnn.exits]
        min_accuracy = (
            float(rng.choice(accuracies)) if chance(rng, 0.5) else float(rng.uniform(0.2, 1.0))
        )
    tier_order = None
    if chance(rng, 0.3):
        present = [t for t in TIERS if t in network.tiers]
        tier_order = tuple(present if chance(rng, 0.7) else rng.permutation(present).tolist())
    computing = [node.id for node in network.computing_nodes]
    allowed = allowed_nodes(rng, computing, dnn.n_blocks, 0.2, sort=True)
    return Request(
        source="n0",
        objective=objective,
        destination=ids[int(rng.integers(len(ids)))] if chance(rng, 0.5) else None,
        min_accuracy=min_accuracy,
        exit_policy=policy,
        tier_order=tier_order,
        allowed_nodes=allowed,
    )


def fastest_routes(
    network: Network, source: str, target: str, n_bytes: float
) -> list[tuple[str, ...]]:
    """The simple routes from ``source`` to ``target`` of least time for ``n_bytes``."""
    routes = list(simple_routes(network, source, target))
    times = [route_cost(network, route, n_bytes)[0] for route in routes]
    return [route for route, t in zip(routes, times, strict=True) if t == min(times)]


def graph_network(rng: np.random.Generator, memory: bool) -> Network:
    """2-4 nodes ``n0..`` (``n0`` computes; others may not) and links of 1-100 Mb/s."""
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
    for i, j in itertools.permutations(range(n_nodes), 2):
        if frozenset((i, j)) not in pairs and rng.random() < 0.35:
            links.append(link(i, j, bool(rng.random() < 0.5)))
            pairs.add(frozenset((i, j)))
    return Network(tuple(nodes), tuple(links))


def graph_dnn(rng: np.random.Generator, memory: bool) -> DNN:
    """1-4 blocks of 1e8-1e9 ops (some of none), early exits with branch ops."""
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


def graph_request(rng: np.random.Generator, net: Network, dnn: DNN) -> Request:
    """A request from ``n0``; objective, destination, limits and policy drawn."""
    tiers = [t for t in TIERS if t in net.tiers]
    tier_order = None
    if rng.random() < 0.3:
        tier_order = tuple(tiers if rng.random() < 0.8 else tiers[: max(1, len(tiers) - 1)])
    computing = [n.id for n in net.computing_nodes]
    allowed = allowed_nodes(rng, computing, dnn.n_blocks, 0.15, sort=False)
    return Request(
        source="n0",
        objective=Objective.ENERGY if rng.random() < 0.5 else Objective.LATENCY,
        destination=f"n{int(rng.integers(0, len(net.nodes)))}" if rng.random() < 0.4 else None,
        min_accuracy=float(rng.uniform(0.3, 0.9)) if rng.random() < 0.35 else None,
        exit_policy=ExitPolicy.EXPECTED if rng.random() < 0.35 else ExitPolicy.SELECT,
        tier_order=tier_order,
        allowed_nodes=allowed,
    )


def fast_and_slow(instance: Instance) -> tuple[float, float] | None:
    """The latency of the fastest and of the cheapest (then fastest) placement on the
    layered graph of ``instance``; None when there is no path."""
    graph = build_layered_graph(instance)
    search = PathSearch(graph)
    fastest = search.shortest_path(graph.time_s)
    cheapest = search.lexicographic_path(graph.cost, graph.time_s)
    if fastest is None or cheapest is None:
        return None
    return fastest.time_s, cheapest.time_s


def deadline_between(rng: np.random.Generator, instance: Instance) -> Instance:
    """``instance`` with a deadline between its fastest and its cheapest placement's
    latency, at least 10 % above the fastest."""
    ends = fast_and_slow(instance)
    if ends is None:
        raise InstanceError("", f"{instance.name}: no placement reaches the sink")
    fast, slow = ends
    deadline = max(1.1 * fast, fast + float(rng.uniform(0.1, 0.9)) * (slow - fast))
    return replace(instance, request=replace(instance.request, deadline_s=deadline))


def chain_blocks(
    rng: np.random.Generator,
    n_blocks: int,
    ops: tuple[float, float],
    out_bytes: tuple[float, float],
    log: bool,
) -> tuple[Block, ...]:
    """Blocks ``b1..`` with ops and output sizes uniform (``log``: log-uniform,
    the ranges are then exponents) in the given ranges."""

    def draw(lo: float, hi: float) -> float:
        return float(10 ** rng.uniform(lo, hi)) if log else float(rng.uniform(lo, hi))

    return tuple(Block(f"b{l}", draw(*ops), draw(*out_bytes)) for l in range(1, n_blocks + 1))


def least_latency_s(instance: Instance) -> float | None:
    """The least latency of a feasible placement of ``instance``, found by enumeration
    (every exit, node assignment and fastest simple route, scored by the evaluator).

    The objective is set to latency first (under the expected policy the return
    routes follow the objective). None when no placement is feasible.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> inst = example_instance()
    >>> round(least_latency_s(inst) * 1e3, 3)  # ms; device only takes 6.564
    2.216
    """
    instance = replace(instance, request=replace(instance.request, objective=Objective.LATENCY))
    network, dnn, request = instance.network, instance.dnn, instance.request
    if request.exit_policy is ExitPolicy.EXPECTED:
        exits = [dnn.n_blocks]
    else:
        exits = [ex.after_block for ex in instance.admissible_exits()]
    best: float | None = None
    for exit_block in exits:
        per_block = [instance.candidate_nodes(b) for b in range(1, exit_block + 1)]
        for nodes in itertools.product(*per_block):
            ends = [request.source, *nodes]
            options: list[Sequence[tuple[str, ...] | None]] = [
                fastest_routes(network, ends[k], ends[k + 1], dnn.handover_bytes(k))
                for k in range(exit_block)
            ]
            if request.destination is None:
                options.append([None])
            else:
                result_bytes = dnn.exit_at(exit_block).output_bytes
                options.append(
                    fastest_routes(network, nodes[-1], request.destination, result_bytes)
                )
            for routes in itertools.product(*options):
                ev = evaluate(instance, Placement(tuple(nodes), exit_block, tuple(routes)))
                if ev.feasible and (best is None or ev.latency_s < best):
                    best = ev.latency_s
    return best


def with_deadline(instance: Instance, mode: str, rng: np.random.Generator) -> Instance:
    """``instance`` with a deadline of the given mode.

    ``none`` drops it; the others are set against the fastest and the cheapest
    placement's latency of the instance without a deadline: ``loose`` (1.5 times the
    larger), ``binding`` (uniformly between them), ``tight`` (exactly the fastest) or
    ``impossible`` (0.8 times the fastest). An instance with no placement, or whose
    fastest one takes no time, is returned unchanged.

    Examples
    --------
    >>> from splitbench.families.tiny import graph_instance
    >>> inst = graph_instance(1, deadline="none")
    >>> tight = with_deadline(inst, "tight", np.random.default_rng(0))
    >>> tight.request.deadline_s > 0, with_deadline(tight, "none", None).request.deadline_s
    (True, None)
    """
    if mode == "none":
        return replace(instance, request=replace(instance.request, deadline_s=None))
    ends = fast_and_slow(replace(instance, request=replace(instance.request, deadline_s=None)))
    if ends is None or ends[0] <= 0:
        return instance
    fast, slow = ends
    deadline = {
        "loose": lambda: 1.5 * max(slow, fast),
        "binding": lambda: fast + float(rng.uniform(0.0, 1.0)) * (slow - fast),
        "tight": lambda: fast,
        "impossible": lambda: 0.8 * fast,
    }[mode]()
    return replace(instance, request=replace(instance.request, deadline_s=deadline))
