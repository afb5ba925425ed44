"""Frozen, typed data for a split-and-placement instance.

The classes mirror the instance file contract (``splitbench.instance/1``): a
:class:`Network` of compute nodes and links, a :class:`DNN` (a chain of blocks with
optional early exits) and a :class:`Request`. Units are in the field names. Objects
are immutable and hashable; derived views (arcs, adjacency, networkx graphs) are
computed on demand and never stored in the file.

Construction does not validate cross-references; :func:`splitbench.instance.parse_instance`
and :func:`splitbench.instance.load_instance` do, and are the way instances enter
splitbench from outside. Code that builds instances in Python (generators, tests)
should call :func:`splitbench.instance.validate_instance` on the result.

Examples
--------
>>> from splitbench.instance import Block, DNN
>>> dnn = DNN(name="tiny", input_bytes=10.0, blocks=(Block("b1", 1e9, 4.0),))
>>> dnn.n_blocks, dnn.exits[0].after_block, dnn.exits[0].accuracy is None
(1, 1, True)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from splitbench.tolerances import FEASIBILITY_RTOL

__all__ = [
    "DNN",
    "FORMAT",
    "Arc",
    "ArcArrays",
    "Block",
    "Exit",
    "ExitPolicy",
    "Instance",
    "Link",
    "Network",
    "Node",
    "Objective",
    "Request",
]

FORMAT = "splitbench.instance/1"
"""The value of the ``format`` key of every instance file."""


class Objective(StrEnum):
    """What a placement minimises."""

    LATENCY = "latency"
    ENERGY = "energy"


class ExitPolicy(StrEnum):
    """How early exits are used (MODEL.md section 2).

    ``select``: one operating exit is chosen; blocks after it are not deployed.
    ``expected``: every exit is active; costs are expectations over exit shares.
    """

    SELECT = "select"
    EXPECTED = "expected"


@dataclass(frozen=True, slots=True)
class Node:
    """A network node.

    Parameters
    ----------
    id : str
        Unique name of the node.
    tier : str
        Tier name (``device``, ``edge``, ``cloud``, ``router``, ...).
    ops_per_s : float
        Compute speed in operations per second; 0 means the node cannot compute.
    power_w : float
        Power drawn while computing, in watts (energy per op is ``power_w / ops_per_s``).
    memory_bytes : float or None
        Memory available to blocks; None means unlimited.
    """

    id: str
    tier: str
    ops_per_s: float
    power_w: float = 0.0
    memory_bytes: float | None = None

    @property
    def can_compute(self) -> bool:
        """Whether blocks may run on this node."""
        return self.ops_per_s > 0


@dataclass(frozen=True, slots=True)
class Link:
    """A network link; an undirected link stands for two arcs."""

    source: str
    target: str
    bandwidth_bps: float
    delay_s: float = 0.0
    energy_per_bit_j: float = 0.0
    directed: bool = False


@dataclass(frozen=True, slots=True)
class Arc:
    """One direction of a link (a derived view, never stored in a file)."""

    source: str
    target: str
    bandwidth_bps: float
    delay_s: float
    energy_per_bit_j: float

    def time_s(self, n_bytes: float) -> float:
        """Time to move ``n_bytes`` over this arc: serialisation plus propagation."""
        return 8.0 * n_bytes / self.bandwidth_bps + self.delay_s

    def energy_j(self, n_bytes: float) -> float:
        """Energy to move ``n_bytes`` over this arc."""
        return 8.0 * n_bytes * self.energy_per_bit_j


class ArcArrays(NamedTuple):
    """The arcs of a network as arrays (node positions and the three link figures)."""

    tails: npt.NDArray[np.int64]
    heads: npt.NDArray[np.int64]
    bandwidth_bps: npt.NDArray[np.float64]
    delay_s: npt.NDArray[np.float64]
    energy_per_bit_j: npt.NDArray[np.float64]


@dataclass(frozen=True)
class Network:
    """A directed network of nodes and arcs.

    Examples
    --------
    >>> net = Network(
    ...     nodes=(Node("a", "device", 1e9), Node("b", "edge", 1e10)),
    ...     links=(Link("a", "b", 1e6),),
    ... )
    >>> [(arc.source, arc.target) for arc in net.arcs]
    [('a', 'b'), ('b', 'a')]
    >>> net.node("b").tier
    'edge'
    """

    nodes: tuple[Node, ...]
    links: tuple[Link, ...] = ()

    @cached_property
    def node_index(self) -> Mapping[str, int]:
        """Position of each node id in :attr:`nodes`."""
        return {node.id: i for i, node in enumerate(self.nodes)}

    def node(self, node_id: str) -> Node:
        """The node called ``node_id`` (``KeyError`` if there is none)."""
        return self.nodes[self.node_index[node_id]]

    @cached_property
    def arcs(self) -> tuple[Arc, ...]:
        """Every arc: a directed link once, an undirected link in both directions."""
        arcs: list[Arc] = []
        for link in self.links:
            arcs.append(
                Arc(
                    link.source,
                    link.target,
                    link.bandwidth_bps,
                    link.delay_s,
                    link.energy_per_bit_j,
                )
            )
            if not link.directed:
                arcs.append(
                    Arc(
                        link.target,
                        link.source,
                        link.bandwidth_bps,
                        link.delay_s,
                        link.energy_per_bit_j,
                    )
                )
        return tuple(arcs)

    @cached_property
    def arc_arrays(self) -> ArcArrays:
        """The arcs as arrays, in :attr:`arcs` order (for vectorised route searches)."""
        index = self.node_index
        arcs = self.arcs
        count = len(arcs)
        return ArcArrays(
            tails=np.fromiter((index[a.source] for a in arcs), dtype=np.int64, count=count),
            heads=np.fromiter((index[a.target] for a in arcs), dtype=np.int64, count=count),
            bandwidth_bps=np.fromiter((a.bandwidth_bps for a in arcs), dtype=float, count=count),
            delay_s=np.fromiter((a.delay_s for a in arcs), dtype=float, count=count),
            energy_per_bit_j=np.fromiter(
                (a.energy_per_bit_j for a in arcs), dtype=float, count=count
            ),
        )

    @cached_property
    def arc_map(self) -> Mapping[tuple[str, str], Arc]:
        """Arcs keyed by ``(source, target)``."""
        return {(arc.source, arc.target): arc for arc in self.arcs}

    @cached_property
    def successors(self) -> Mapping[str, tuple[Arc, ...]]:
        """Outgoing arcs of every node."""
        out: dict[str, list[Arc]] = {node.id: [] for node in self.nodes}
        for arc in self.arcs:
            out[arc.source].append(arc)
        return {key: tuple(value) for key, value in out.items()}

    @cached_property
    def computing_nodes(self) -> tuple[Node, ...]:
        """Nodes with ``ops_per_s > 0``."""
        return tuple(node for node in self.nodes if node.can_compute)

    @cached_property
    def tiers(self) -> frozenset[str]:
        """The tier names that occur among the nodes."""
        return frozenset(node.tier for node in self.nodes)

    def reachable_from(self, source: str) -> frozenset[str]:
        """Node ids reachable from ``source`` along arcs (``source`` included)."""
        seen = {source}
        stack = [source]
        while stack:
            for arc in self.successors.get(stack.pop(), ()):
                if arc.target not in seen:
                    seen.add(arc.target)
                    stack.append(arc.target)
        return frozenset(seen)

    def to_networkx(self) -> object:
        """A ``networkx.DiGraph`` view with node and arc attributes (for inspection)."""
        import networkx as nx

        graph = nx.DiGraph()
        for node in self.nodes:
            graph.add_node(
                node.id,
                tier=node.tier,
                ops_per_s=node.ops_per_s,
                power_w=node.power_w,
                memory_bytes=node.memory_bytes,
            )
        for arc in self.arcs:
            graph.add_edge(
                arc.source,
                arc.target,
                bandwidth_bps=arc.bandwidth_bps,
                delay_s=arc.delay_s,
                energy_per_bit_j=arc.energy_per_bit_j,
            )
        return graph


@dataclass(frozen=True, slots=True)
class Block:
    """A block of consecutive DNN layers that hands one tensor to the next block."""

    name: str
    ops: float
    output_bytes: float
    memory_bytes: float = 0.0


@dataclass(frozen=True, slots=True)
class Exit:
    """An exit (classifier) after block ``after_block`` (blocks are numbered from 1).

    ``accuracy`` is None when unknown; ``exit_probability`` is the share of samples
    that leave here under the ``expected`` policy (ignored for the final exit, which
    takes whatever is left).
    """

    after_block: int
    accuracy: float | None = None
    ops: float = 0.0
    exit_probability: float | None = None
    output_bytes: float = 0.0


@dataclass(frozen=True)
class DNN:
    """A chain of blocks with exits; the last block always has an exit.

    When ``exits`` is empty, one final exit with unknown accuracy is added. Exits are
    kept sorted by ``after_block``.
    """

    name: str
    input_bytes: float
    blocks: tuple[Block, ...]
    exits: tuple[Exit, ...] = ()

    def __post_init__(self) -> None:
        if not self.exits and self.blocks:
            object.__setattr__(self, "exits", (Exit(after_block=len(self.blocks)),))
        else:
            object.__setattr__(
                self, "exits", tuple(sorted(self.exits, key=lambda e: e.after_block))
            )

    @property
    def n_blocks(self) -> int:
        """Number of blocks L."""
        return len(self.blocks)

    def block(self, index: int) -> Block:
        """Block ``index`` (1-based)."""
        if not 1 <= index <= len(self.blocks):
            raise IndexError(f"block index {index} outside 1..{len(self.blocks)}")
        return self.blocks[index - 1]

    def exit_at(self, after_block: int) -> Exit:
        """The exit after block ``after_block`` (``KeyError`` if there is none)."""
        for ex in self.exits:
            if ex.after_block == after_block:
                return ex
        raise KeyError(after_block)

    @property
    def final_exit(self) -> Exit:
        """The exit after the last block."""
        return self.exits[-1]

    def handover_bytes(self, k: int) -> float:
        """Size of the tensor of hand-over ``k``: the input for k = 0, else block k's output."""
        return self.input_bytes if k == 0 else self.blocks[k - 1].output_bytes

    def exit_shares(self) -> tuple[float, ...]:
        """Share pi_e of samples leaving at each exit (expected policy).

        Early exits use their ``exit_probability`` (0 when missing); the final exit
        takes what is left.
        """
        early = [ex.exit_probability or 0.0 for ex in self.exits[:-1]]
        return (*early, max(0.0, 1.0 - sum(early)))

    def reach_shares(self) -> tuple[float, ...]:
        """q_l for l = 1..L: the share of samples that reach block l (expected policy)."""
        shares = self.exit_shares()
        q: list[float] = []
        left = 1.0
        exits = iter(zip(self.exits, shares, strict=True))
        pending = next(exits, None)
        for index in range(1, self.n_blocks + 1):
            q.append(max(0.0, left))
            while pending is not None and pending[0].after_block == index:
                left -= pending[1]
                pending = next(exits, None)
        return tuple(q)


@dataclass(frozen=True)
class Request:
    """What is asked: where the input is, where the result goes, objective and limits.

    ``allowed_nodes`` maps a block index (1-based) to the node ids it may run on;
    blocks not listed may run on any computing node.
    """

    source: str
    objective: Objective
    destination: str | None = None
    deadline_s: float | None = None
    min_accuracy: float | None = None
    exit_policy: ExitPolicy = ExitPolicy.SELECT
    tier_order: tuple[str, ...] | None = None
    allowed_nodes: tuple[tuple[int, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "objective", Objective(self.objective))
        object.__setattr__(self, "exit_policy", ExitPolicy(self.exit_policy))
        object.__setattr__(
            self,
            "allowed_nodes",
            tuple(sorted((int(k), tuple(v)) for k, v in self.allowed_nodes)),
        )

    def allowed_for(self, block: int) -> frozenset[str] | None:
        """Node ids allowed for ``block`` (1-based), or None when any computing node is."""
        for index, nodes in self.allowed_nodes:
            if index == block:
                return frozenset(nodes)
        return None

    def tier_rank(self, tier: str) -> int | None:
        """Position of ``tier`` in :attr:`tier_order` (None if unlisted or no order)."""
        if self.tier_order is None or tier not in self.tier_order:
            return None
        return self.tier_order.index(tier)


@dataclass(frozen=True)
class Instance:
    """A complete split-and-placement instance.

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> inst = example_instance()
    >>> inst.name, inst.dnn.n_blocks, len(inst.network.nodes)
    ('fin-b-alexnet-cifar10', 5, 3)
    """

    name: str
    network: Network
    dnn: DNN
    request: Request

    def candidate_nodes(self, block: int) -> tuple[str, ...]:
        """Computing nodes on which ``block`` (1-based) may run, allowing for
        ``allowed_nodes`` and ``tier_order`` (a node whose tier is unlisted holds no block).
        """
        allowed = self.request.allowed_for(block)
        out = []
        for node in self.network.computing_nodes:
            if allowed is not None and node.id not in allowed:
                continue
            if self.request.tier_order is not None and node.tier not in self.request.tier_order:
                continue
            out.append(node.id)
        return tuple(out)

    def admissible_exits(self) -> tuple[Exit, ...]:
        """Exits meeting ``min_accuracy`` (all of them when there is no minimum), with the
        evaluator's relative slack :data:`~splitbench.tolerances.FEASIBILITY_RTOL`."""
        a_min = self.request.min_accuracy
        if a_min is None:
            return self.dnn.exits
        floor = a_min * (1 - FEASIBILITY_RTOL)
        return tuple(
            ex for ex in self.dnn.exits if ex.accuracy is not None and ex.accuracy >= floor
        )

    def iter_handovers(self, exit_block: int) -> Iterator[tuple[int, float]]:
        """``(k, bytes)`` for the block hand-overs 0..exit_block-1 (not the result)."""
        for k in range(exit_block):
            yield k, self.dnn.handover_bytes(k)
