"""Seeded tiny instances: the ones tests, benchmarks and agreement checks share.

Everything is drawn from a local :class:`numpy.random.Generator` made from the seed,
so a seed always gives the identical instance (and ``instance_id``). The
distributions are deliberately different, one per purpose:

- :func:`random_instance`: the broadest one, for the evaluator, the oracle and
  property tests. 2-4 nodes (one may be a router with ``ops_per_s`` 0), a connected
  network of directed and undirected links, 1-4 blocks, 1-3 exits (shares that sum
  to 1 exactly included), and a random objective, exit policy, source, destination,
  deadline, minimum accuracy, memory, tier order and allowed nodes.
- :func:`milp_instance`: one objective and exit policy, for checking the MILP
  formulations against the oracle: the source is ``n0``, tiers mostly follow the node
  order, and a deadline, when drawn, is the least latency (:func:`least_latency_s`)
  times a factor in [0.7, 2.5], so some instances are infeasible and many bind.
- :func:`graph_instance`: for the graph methods, with a deadline mode
  (:data:`DEADLINE_MODES`: absent, loose, binding, exactly tight or impossible) placed
  between the fastest and the cheapest placement on the layered graph
  (:func:`with_deadline`), and memory limits on or off. :func:`graph_cases` mixes it
  with :func:`random_instance`.
- :func:`milp_chain` and :func:`graph_chain`: chains of blocks on
  :func:`~splitbench.topology.random_network`, where splitting pays (the formulation
  and graph benchmarks); :func:`tiered_instances` and :func:`fin_sweeps`: the
  BranchyNet models on tiered networks and the FIN scenario sweeps.

The family ``tiny`` (``splitbench generate tiny --seed 3``) serves the first three.

Examples
--------
>>> inst = random_instance(3)
>>> inst.name, len(inst.network.nodes), inst.dnn.n_blocks
('random-3', 4, 3)
>>> inst == random_instance(3)
True
>>> [milp_instance(0, o, p).name for o, p in COMBOS[:2]]
['small-0-latency-select', 'small-0-latency-expected']
>>> graph_instance(5, deadline="none").request.deadline_s is None
True
>>> chain = milp_chain(6, 5, seed=1)
>>> chain.name, [ex.after_block for ex in chain.dnn.exits]
('chain-6x5-1', [2, 4, 6])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from splitbench.errors import InstanceError, UsageError
from splitbench.families._tiny_parts import (
    TIERS,
    chain_blocks,
    chance,
    deadline_between,
    graph_dnn,
    graph_network,
    graph_request,
    least_latency_s,
    milp_network,
    milp_request,
    random_links,
    random_nodes,
    random_request,
    small_dnn,
    with_deadline,
)
from splitbench.families.base import Family, register_family
from splitbench.instance import (
    DNN,
    Exit,
    ExitPolicy,
    Instance,
    Network,
    Objective,
    Request,
    example_instance,
    validate_instance,
)
from splitbench.params import Param
from splitbench.topology import random_network, tiered_network
from splitbench.zoo import branchy_dnn, fin_network

__all__ = [
    "COMBOS",
    "DEADLINE_MODES",
    "MAX_TINY",
    "SPEC",
    "fin_sweeps",
    "graph_cases",
    "graph_chain",
    "graph_instance",
    "least_latency_s",
    "milp_chain",
    "milp_instance",
    "random_instance",
    "tiered_instances",
    "with_deadline",
]

COMBOS = [(objective, policy) for objective in Objective for policy in ExitPolicy]
"""Every (objective, exit policy) pair, the arguments of :func:`milp_instance`."""

DEADLINE_MODES = ("none", "loose", "binding", "binding", "binding", "tight", "impossible")
"""The deadline modes :func:`graph_instance` draws from (binding three times as often)."""

MAX_TINY = 16
"""The most nodes or blocks the family ``tiny`` takes (the oracle enumerates them)."""


def random_instance(
    seed: int, *, min_nodes: int = 2, max_nodes: int = 4, max_blocks: int = 4
) -> Instance:
    """A tiny valid instance from the broadest distribution.

    Parameters
    ----------
    seed : int
        Seed of the local random generator.
    min_nodes, max_nodes : int
        Range of the node count (a router is possible from 3 nodes).
    max_blocks : int
        Most blocks (at least 1).

    Returns
    -------
    Instance
        Named ``random-<seed>``; passes :func:`~splitbench.instance.validate_instance`.

    Examples
    --------
    >>> sizes = [(len(i.network.nodes), i.dnn.n_blocks) for i in map(random_instance, range(4))]
    >>> sizes
    [(4, 2), (3, 3), (4, 2), (4, 3)]
    >>> len(random_instance(7, min_nodes=5, max_nodes=5).network.nodes)
    5
    """
    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(min_nodes, max_nodes + 1))
    nodes = random_nodes(rng, n_nodes, allow_router=n_nodes >= 3)
    network = Network(tuple(nodes), tuple(random_links(rng, [n.id for n in nodes])))
    n_blocks = int(rng.integers(1, max_blocks + 1))
    known = chance(rng, 0.85)
    dnn = small_dnn(rng, n_blocks, "random-dnn", known_accuracy=known, grid=True, shuffle=True)
    instance = Instance(f"random-{seed}", network, dnn, random_request(rng, network, dnn))
    validate_instance(instance)
    return instance


# --- milp_instance: one objective and policy, an oracle-based deadline ---


def milp_instance(seed: int, objective: Objective, policy: ExitPolicy) -> Instance:
    """A tiny valid instance with this objective and exit policy (formulation checks).

    2-4 nodes ``n0..`` (perhaps a router), a spanning tree of undirected links from
    ``n0`` plus extra directed or undirected ones, 1-4 blocks, 1-3 exits with
    accuracies and exit shares, and at random a destination, a minimum accuracy,
    memory limits, a tier order, allowed nodes and a deadline of 0.7-2.5 times the
    least latency.

    Examples
    --------
    >>> inst = milp_instance(2, Objective.ENERGY, ExitPolicy.EXPECTED)
    >>> inst.name, inst.request.source, inst.request.exit_policy.value
    ('small-2-energy-expected', 'n0', 'expected')
    """
    rng = np.random.default_rng(
        [seed, list(Objective).index(objective), list(ExitPolicy).index(policy)]
    )
    network = milp_network(rng)
    dnn = small_dnn(rng, int(rng.integers(1, 5)), "small")
    request = milp_request(rng, network, dnn, objective, policy)
    instance = Instance(f"small-{seed}-{objective.value}-{policy.value}", network, dnn, request)
    if chance(rng, 0.6):
        base = least_latency_s(instance)
        if base is not None and base > 0:
            deadline = base * float(rng.uniform(0.7, 2.5))
            instance = replace(instance, request=replace(request, deadline_s=deadline))
    validate_instance(instance)
    return instance


# --- graph_instance: deadline modes on the layered graph ---


def graph_instance(
    seed: int, *, deadline: str | None = None, memory: bool | None = None
) -> Instance:
    """A tiny valid instance for the graph methods.

    Parameters
    ----------
    seed : int
        Seed of the local random generator.
    deadline : str or None
        A mode of :func:`with_deadline`; None draws one from :data:`DEADLINE_MODES`.
    memory : bool or None
        Whether nodes and blocks have memory sizes; None draws it (30 %).

    Returns
    -------
    Instance
        Named ``random-<seed>``: 2-4 nodes ``n0..`` (``n0`` computes and is the source),
        1-4 blocks, early exits with branch ops and result sizes.

    Examples
    --------
    >>> inst = graph_instance(4, deadline="binding", memory=True)
    >>> inst.name, inst.request.deadline_s is not None, inst.request.source
    ('random-4', True, 'n0')
    """
    rng = np.random.default_rng(seed)
    use_memory = bool(rng.random() < 0.3) if memory is None else memory
    mode = str(rng.choice(DEADLINE_MODES)) if deadline is None else deadline
    for _ in range(100):
        net = graph_network(rng, use_memory)
        dnn = graph_dnn(rng, use_memory)
        inst = Instance(f"random-{seed}", net, dnn, graph_request(rng, net, dnn))
        try:
            validate_instance(inst)
        except InstanceError:
            continue
        return with_deadline(inst, mode, rng)
    raise RuntimeError(f"seed {seed}: no valid instance in 100 draws")  # pragma: no cover


def graph_cases(count: int) -> list[Instance]:
    """``count`` instances: :func:`graph_instance` for seeds ``0..count - half - 1``,
    then :func:`random_instance` (routers, sources anywhere, exit shares that sum to 1
    exactly, ...) renamed ``shared-<seed>`` for seeds ``0..half - 1``.

    Examples
    --------
    >>> [inst.name for inst in graph_cases(5)]
    ['random-0', 'random-1', 'random-2', 'shared-0', 'shared-1']
    """
    half = count // 2
    return [graph_instance(seed) for seed in range(count - half)] + [
        replace(random_instance(seed), name=f"shared-{seed}") for seed in range(half)
    ]


# --- chains, tiered BranchyNet instances and the FIN sweeps ---


def milp_chain(
    n_blocks: int,
    n_nodes: int,
    seed: int,
    objective: Objective = Objective.LATENCY,
    policy: ExitPolicy = ExitPolicy.SELECT,
    *,
    density: float = 0.3,
    exits: bool = True,
) -> Instance:
    """A chain of ``n_blocks`` blocks (ops log-uniform in 1e8..1e10, outputs in
    1e3..1e6 bytes, a 150 KB input) on :func:`~splitbench.topology.random_network`,
    from its first node; with ``exits``, early exits at a third and two thirds.

    Examples
    --------
    >>> inst = milp_chain(30, 30, 0, density=0.1, exits=False)
    >>> inst.name, len(inst.network.arcs), [ex.after_block for ex in inst.dnn.exits]
    ('chain-30x30-0', 88, [30])
    """
    network = random_network(n_nodes, density, seed=seed)
    rng = np.random.default_rng(seed)
    blocks = chain_blocks(rng, n_blocks, (8, 10), (3, 6), log=True)
    early_exits: tuple[Exit, ...] = ()
    if exits:
        early = sorted({max(1, n_blocks // 3), max(1, 2 * n_blocks // 3)} - {n_blocks})
        early_exits = (
            *(
                Exit(after_block=after, accuracy=0.6 + 0.1 * k, exit_probability=0.2)
                for k, after in enumerate(early)
            ),
            Exit(after_block=n_blocks, accuracy=0.9),
        )
    dnn = DNN("chain", 150e3, blocks, early_exits)
    request = Request(source=network.nodes[0].id, objective=objective, exit_policy=policy)
    instance = Instance(f"chain-{n_blocks}x{n_nodes}-{seed}", network, dnn, request)
    validate_instance(instance)
    return instance


def graph_chain(
    n_blocks: int,
    n_nodes: int,
    seed: int,
    *,
    objective: Objective | str = Objective.ENERGY,
    density: float = 0.2,
    deadline: bool = True,
    dnn_name: str = "chain",
) -> Instance:
    """A chain of ``n_blocks`` blocks (ops uniform in 1e9..1e11, outputs in 1e4..1e6
    bytes) on :func:`~splitbench.topology.random_network`, from its first node; with
    ``deadline``, one between the fastest and the cheapest placement's latency (at
    least 10 % above the fastest). ``dnn_name``: the graph benchmarks call it ``c``.

    Examples
    --------
    >>> inst = graph_chain(20, 20, 0)
    >>> inst.name, inst.dnn.n_blocks, inst.request.deadline_s > 0
    ('chain-20x20-0', 20, True)
    """
    net = random_network(n_nodes, density, seed)
    rng = np.random.default_rng(seed)
    blocks = chain_blocks(rng, n_blocks, (1e9, 1e11), (1e4, 1e6), log=False)
    request = Request(source=net.nodes[0].id, objective=Objective(objective))
    inst = Instance(
        f"chain-{n_blocks}x{n_nodes}-{seed}", net, DNN(dnn_name, 1.5e5, blocks), request
    )
    validate_instance(inst)
    return deadline_between(rng, inst) if deadline else inst


def tiered_instances(count: int) -> list[Instance]:
    """``count`` tiered device-edge-cloud instances (4 to 8 nodes) running the
    BranchyNet models in turn: energy, select policy, block 1 pinned to the device,
    tiers only go up, the accuracy of a non-first exit as floor, and a deadline between
    the fastest and the cheapest placement's latency (at least 10 % above the fastest).

    Examples
    --------
    >>> [(inst.name, inst.dnn.name) for inst in tiered_instances(2)]
    [('tiered-0', 'b-alexnet'), ('tiered-1', 'b-resnet')]
    """
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
            objective=Objective.ENERGY,
            min_accuracy=floor,
            tier_order=TIERS,
            allowed_nodes=((1, ("device0",)),),
        )
        inst = Instance(f"tiered-{seed}", net, dnn, request)
        validate_instance(inst)
        out.append(deadline_between(rng, inst))
    return out


def fin_sweeps(model: str = "b-alexnet") -> list[Instance]:
    """The FIN scenario sweeps (MODEL.md section 6) for a BranchyNet ``model``.

    Energy against min accuracy 10 %..85 % (step 5) at a 5 ms deadline, then against
    the deadline 3..15 ms (step 1) at 80 % accuracy; the request is the shipped
    example's (source md, block 1 pinned to md, tiers only go up, select policy).

    Examples
    --------
    >>> sweep = fin_sweeps("b-lenet")
    >>> len(sweep), sweep[0].name, sweep[-1].name
    (29, 'b-lenet-acc10', 'b-lenet-T15ms')
    """
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


# --- the family ``tiny`` ---

_ONLY = {
    "random": ("min_nodes", "max_nodes", "max_blocks"),
    "milp": ("objective", "exit_policy"),
    "graph": ("deadline", "memory"),
}


def _check_tiny(values: Mapping[str, Any]) -> None:
    """Refuse a knob of another distribution, and min_nodes above max_nodes."""
    for distribution, keys in _ONLY.items():
        if distribution == values["distribution"]:
            continue
        for key in keys:
            if values[key] != SPEC.params[key].default:
                raise UsageError(
                    f"--param {key}: applies to distribution={distribution} only "
                    f"(this is distribution={values['distribution']})"
                )
    if values["min_nodes"] > values["max_nodes"]:
        raise UsageError(
            f"--param min_nodes={values['min_nodes']}: more than max_nodes={values['max_nodes']}"
        )


def _build_tiny(values: Mapping[str, Any], seed: int) -> Instance:
    """The instance of the chosen distribution."""
    builders = {
        "random": lambda: random_instance(
            seed,
            min_nodes=values["min_nodes"],
            max_nodes=values["max_nodes"],
            max_blocks=values["max_blocks"],
        ),
        "milp": lambda: milp_instance(
            seed, Objective(values["objective"]), ExitPolicy(values["exit_policy"])
        ),
        "graph": lambda: graph_instance(
            seed,
            deadline=None if values["deadline"] == "drawn" else values["deadline"],
            memory=values["memory"],
        ),
    }
    return builders[values["distribution"]]()


SPEC = register_family(
    Family(
        name="tiny",
        description="seeded tiny instances (2-4 nodes, 1-4 blocks) that the tests share",
        params={
            "distribution": Param(
                str,
                "random",
                "random (random_instance), milp (milp_instance) or graph (graph_instance)",
                tuple(_ONLY),
            ),
            "min_nodes": Param(int, 2, f"random: fewest nodes (1 to {MAX_TINY})"),
            "max_nodes": Param(int, 4, f"random: most nodes (1 to {MAX_TINY})"),
            "max_blocks": Param(int, 4, f"random: most blocks (1 to {MAX_TINY})"),
            "objective": Param(str, "latency", "milp: latency or energy", ("latency", "energy")),
            "exit_policy": Param(str, "select", "milp: select or expected", ("select", "expected")),
            "deadline": Param(
                str,
                "drawn",
                "graph: deadline mode (drawn: at random)",
                ("drawn", *dict.fromkeys(DEADLINE_MODES)),
            ),
            "memory": Param(bool, None, "graph: memory limits (none: drawn at random)"),
        },
        build=_build_tiny,
        bounds={
            "min_nodes": (1, MAX_TINY),
            "max_nodes": (1, MAX_TINY),
            "max_blocks": (1, MAX_TINY),
        },
        check=_check_tiny,
    )
)
