"""Cross-field checks of an instance (the per-field checks happen while parsing).

:func:`validate_instance` is what generators and tests call on instances they build
in Python; :func:`splitbench.instance.parse_instance` calls it on every file. The
rules of format 2 are in :mod:`splitbench.instance.validate_multi`, which reuses these.

Examples
--------
>>> from splitbench.instance import (Block, DNN, Instance, Network, Node, Request,
...     validate_instance)
>>> bad = Instance(
...     name="x",
...     network=Network(nodes=(Node("a", "device", 1e9),)),
...     dnn=DNN("d", 1.0, (Block("b1", 1.0, 1.0),)),
...     request=Request(source="nowhere", objective="latency"),
... )
>>> validate_instance(bad)
Traceback (most recent call last):
...
splitbench.errors.InstanceError: request.source: unknown node 'nowhere'
"""

from __future__ import annotations

import math

from splitbench.errors import InstanceError
from splitbench.instance.model import DNN, Exit, ExitPolicy, Instance, Network

__all__ = ["validate_instance"]

_TOL = 1e-9


def _finite_nonneg(value: float | None, where: str, *, positive: bool = False) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise InstanceError(
            where, f"must be {'>' if positive else '>='} 0 and finite, got {value!r}"
        )


def _check_network(net: Network) -> None:
    if not net.nodes:
        raise InstanceError("network.nodes", "must list at least one node")
    seen: set[str] = set()
    for i, node in enumerate(net.nodes):
        where = f"network.nodes[{i}]"
        if node.id in seen:
            raise InstanceError(f"{where}.id", f"duplicate node id {node.id!r}")
        seen.add(node.id)
        _finite_nonneg(node.ops_per_s, f"{where}.ops_per_s")
        _finite_nonneg(node.power_w, f"{where}.power_w")
        _finite_nonneg(node.memory_bytes, f"{where}.memory_bytes")
    arcs: set[tuple[str, str]] = set()
    for i, link in enumerate(net.links):
        where = f"network.links[{i}]"
        for end in ("source", "target"):
            if getattr(link, end) not in seen:
                raise InstanceError(f"{where}.{end}", f"unknown node {getattr(link, end)!r}")
        if link.source == link.target:
            raise InstanceError(where, f"links node {link.source!r} to itself")
        _finite_nonneg(link.bandwidth_bps, f"{where}.bandwidth_bps", positive=True)
        _finite_nonneg(link.delay_s, f"{where}.delay_s")
        _finite_nonneg(link.energy_per_bit_j, f"{where}.energy_per_bit_j")
        pairs = [(link.source, link.target)]
        if not link.directed:
            pairs.append((link.target, link.source))
        for pair in pairs:
            if pair in arcs:
                raise InstanceError(
                    where, f"duplicate link {pair[0]!r} -> {pair[1]!r} (one link per direction)"
                )
            arcs.add(pair)


def _check_dnn(dnn: DNN, file_exits: tuple[Exit, ...]) -> None:
    n = dnn.n_blocks
    if n == 0:
        raise InstanceError("dnn.blocks", "must list at least one block")
    _finite_nonneg(dnn.input_bytes, "dnn.input_bytes")
    for i, block in enumerate(dnn.blocks):
        _finite_nonneg(block.ops, f"dnn.blocks[{i}].ops")
        _finite_nonneg(block.output_bytes, f"dnn.blocks[{i}].output_bytes")
        _finite_nonneg(block.memory_bytes, f"dnn.blocks[{i}].memory_bytes")
    exits = file_exits or dnn.exits
    used: dict[int, int] = {}
    for i, ex in enumerate(exits):
        where = f"dnn.exits[{i}]"
        if not 1 <= ex.after_block <= n:
            raise InstanceError(
                f"{where}.after_block", f"block {ex.after_block} does not exist (blocks are 1..{n})"
            )
        if ex.after_block in used:
            raise InstanceError(
                f"{where}.after_block",
                f"block {ex.after_block} already has an exit (dnn.exits[{used[ex.after_block]}])",
            )
        used[ex.after_block] = i
        if ex.accuracy is not None and not 0 <= ex.accuracy <= 1:
            raise InstanceError(f"{where}.accuracy", f"must be in [0, 1], got {ex.accuracy!r}")
        if ex.exit_probability is not None and not 0 <= ex.exit_probability <= 1:
            raise InstanceError(
                f"{where}.exit_probability", f"must be in [0, 1], got {ex.exit_probability!r}"
            )
        _finite_nonneg(ex.ops, f"{where}.ops")
        _finite_nonneg(ex.output_bytes, f"{where}.output_bytes")
    if n not in used:
        raise InstanceError(
            "dnn.exits", f"the last block ({n}) has no exit: add the final classifier's exit"
        )
    total = sum(ex.exit_probability or 0.0 for ex in exits)
    if total > 1 + _TOL:
        raise InstanceError("dnn.exits", f"exit probabilities sum to {total:g}, over 1")
    final = dnn.final_exit
    if final.exit_probability is not None and abs(total - 1) > 1e-6:
        raise InstanceError(
            f"dnn.exits[{used[n]}].exit_probability",
            f"exit probabilities sum to {total:g}; with the final exit's share given they "
            "must sum to 1 (or leave the final share out)",
        )


def _check_request(instance: Instance) -> None:
    net = instance.network
    req = instance.request
    dnn = instance.dnn
    ids = net.node_index
    if req.source not in ids:
        raise InstanceError("request.source", f"unknown node {req.source!r}")
    if req.destination is not None and req.destination not in ids:
        raise InstanceError("request.destination", f"unknown node {req.destination!r}")
    _finite_nonneg(req.deadline_s, "request.deadline_s", positive=True)
    if req.min_accuracy is not None:
        if not 0 <= req.min_accuracy <= 1:
            raise InstanceError(
                "request.min_accuracy", f"must be in [0, 1], got {req.min_accuracy!r}"
            )
        unknown = [ex.after_block for ex in dnn.exits if ex.accuracy is None]
        if unknown:
            raise InstanceError(
                "request.min_accuracy",
                f"is set but the accuracy of the exit after block {unknown[0]} is unknown "
                "(give every exit an accuracy or set min_accuracy to null)",
            )
    if req.exit_policy is ExitPolicy.EXPECTED:
        for ex in dnn.exits[:-1]:
            if ex.exit_probability is None:
                raise InstanceError(
                    "request.exit_policy",
                    f"'expected' needs exit_probability on every early exit; the exit after "
                    f"block {ex.after_block} has none",
                )
    if req.tier_order is not None:
        if len(set(req.tier_order)) != len(req.tier_order):
            raise InstanceError("request.tier_order", "lists a tier twice")
        for i, tier in enumerate(req.tier_order):
            if tier not in net.tiers:
                raise InstanceError(
                    f"request.tier_order[{i}]",
                    f"no node has tier {tier!r} (tiers: {', '.join(sorted(net.tiers))})",
                )
    seen_blocks: set[int] = set()
    for block, nodes in req.allowed_nodes:
        where = f"request.allowed_nodes.{block}"
        if block in seen_blocks:
            raise InstanceError(where, f"block {block} is listed twice")
        seen_blocks.add(block)
        if not nodes:
            raise InstanceError(where, "must be a non-empty list of node ids")
        if not 1 <= block <= dnn.n_blocks:
            raise InstanceError(
                where, f"block {block} does not exist (blocks are 1..{dnn.n_blocks})"
            )
        for node_id in nodes:
            if node_id not in ids:
                raise InstanceError(where, f"unknown node {node_id!r}")
            if not net.node(node_id).can_compute:
                raise InstanceError(where, f"node {node_id!r} cannot compute (ops_per_s is 0)")
    reachable = net.reachable_from(req.source)
    if not any(net.node(n).can_compute for n in reachable):
        raise InstanceError("request.source", f"no computing node is reachable from {req.source!r}")


def validate_instance(instance: Instance, *, file_exits: tuple[Exit, ...] = ()) -> None:
    """Check the cross-field rules of the instance contract.

    Parameters
    ----------
    instance : Instance
        The instance to check.
    file_exits : tuple of Exit, optional
        The exits in file order, so that messages name the position in the file.

    Raises
    ------
    InstanceError
        Naming the first offending field. Conditions that make an instance merely
        infeasible (a deadline nobody can meet, too little memory) are not errors.
    """
    if not instance.name:
        raise InstanceError("name", "must be a non-empty string")
    _check_network(instance.network)
    _check_dnn(instance.dnn, file_exits)
    _check_request(instance)
