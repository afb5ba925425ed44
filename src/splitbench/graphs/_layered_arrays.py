"""Array helpers of the layered graph build (private to :mod:`splitbench.graphs.layered`).

The arc accumulator, the per-arc weights of the network, the candidate mask of the
blocks and the return-route costs of early exits under the expected policy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from splitbench.instance.model import Instance, Objective
from splitbench.routes import cheapest_route, route_cost

__all__ = [
    "Arcs",
    "FloatArray",
    "IntArray",
    "candidate_mask",
    "network_weights",
    "return_costs",
    "weighted",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class Arcs:
    """Accumulates arc arrays chunk by chunk."""

    FIELDS = (
        "tail",
        "head",
        "cost",
        "time_s",
        "kind",
        "layer",
        "arc_from",
        "arc_to",
        "memory_node",
        "memory_bytes",
    )
    FLOATS = frozenset({"cost", "time_s", "memory_bytes"})

    def __init__(self) -> None:
        self.chunks: dict[str, list[npt.NDArray[Any]]] = {f: [] for f in self.FIELDS}

    def add(self, **columns: Any) -> None:
        size = int(np.size(columns["tail"]))
        if size == 0:
            return
        defaults: dict[str, Any] = {"memory_node": -1, "memory_bytes": 0.0}
        for name in self.FIELDS:
            value: Any = columns.get(name, defaults.get(name))
            dtype = np.float64 if name in self.FLOATS else np.int64
            if np.ndim(value) == 0:
                self.chunks[name].append(np.full(size, value, dtype=dtype))
            else:
                self.chunks[name].append(np.asarray(value, dtype=dtype))

    def array(self, name: str) -> npt.NDArray[Any]:
        dtype = np.float64 if name in self.FLOATS else np.int64
        parts = self.chunks[name]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def network_weights(instance: Instance) -> dict[str, Any]:
    net = instance.network
    arcs = net.arcs
    index = net.node_index
    return {
        "src": np.array([index[a.source] for a in arcs], dtype=np.int64),
        "dst": np.array([index[a.target] for a in arcs], dtype=np.int64),
        "inv_bw": np.array([8.0 / a.bandwidth_bps for a in arcs]),
        "delay": np.array([a.delay_s for a in arcs]),
        "epb": np.array([8.0 * a.energy_per_bit_j for a in arcs]),
        "speed": np.array([n.ops_per_s for n in net.nodes]),
        "power": np.array([n.power_w for n in net.nodes]),
    }


def weighted(share: float, values: FloatArray) -> FloatArray:
    """``share * values`` with a zero share costing nothing, even where a value is
    infinite (as the evaluator prices a route no sample takes)."""
    return np.zeros_like(values) if share == 0 else share * values


def candidate_mask(
    instance: Instance, last: int, rank_of: IntArray, speed: FloatArray
) -> npt.NDArray[np.bool_]:
    """``mask[l - 1, n]``: block l may run on node n (as ``Instance.candidate_nodes``)."""
    base = speed > 0
    if instance.request.tier_order is not None:
        base &= rank_of >= 0
    mask = np.tile(base, (last, 1))
    index = instance.network.node_index
    for block, nodes in instance.request.allowed_nodes:
        if block <= last:
            allowed = np.zeros(base.size, dtype=bool)
            allowed[[index[n] for n in nodes]] = True
            mask[block - 1] &= allowed
    return mask


def return_costs(instance: Instance, nodes: IntArray, n_bytes: float) -> FloatArray:
    """Cost of the cheapest route from each node to the destination (0 without one,
    inf when unreachable), as the evaluator prices an early exit's return."""
    destination = instance.request.destination
    if destination is None:
        return np.zeros(nodes.shape[0])
    net = instance.network
    out = np.empty(nodes.shape[0])
    for i, n in enumerate(nodes):
        route = cheapest_route(
            net, net.nodes[int(n)].id, destination, n_bytes, instance.request.objective
        )
        if route is None:
            out[i] = math.inf
        else:
            cost = route_cost(net, route, n_bytes)
            out[i] = (
                cost.energy_j if instance.request.objective is Objective.ENERGY else (cost.time_s)
            )
    return out
