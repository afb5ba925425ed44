"""Fixed transfer routes of the assignment formulation (not public API).

The assignment form moves every tensor along a route fixed in advance: the route
that minimises the objective's own transfer cost for that tensor size,
:func:`splitbench.routes.cheapest_route`. The model only needs each route's cost
(and, when a deadline binds, its time), so the costs of all node pairs come from
one vectorised Dijkstra per tensor size (:func:`scipy.sparse.csgraph.dijkstra`);
the routes themselves are asked of :func:`~splitbench.routes.cheapest_route` only
for the pairs whose time is needed and for the pairs a solution uses.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from splitbench.instance.model import Instance, Objective
from splitbench.routes import cheapest_route, route_cost

__all__ = ["FixedRoutes"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class FixedRoutes:
    """Costs and times of the fixed (objective-cheapest) routes of one instance."""

    def __init__(self, instance: Instance) -> None:
        net = instance.network
        index = net.node_index
        self.instance = instance
        self.names = [node.id for node in net.nodes]
        self.n_nodes = len(net.nodes)
        arcs = net.arcs
        self.src = np.array([index[a.source] for a in arcs], dtype=np.int64)
        self.dst = np.array([index[a.target] for a in arcs], dtype=np.int64)
        self.bandwidth = np.array([a.bandwidth_bps for a in arcs], dtype=float)
        self.delay = np.array([a.delay_s for a in arcs], dtype=float)
        self.energy_per_bit = np.array([a.energy_per_bit_j for a in arcs], dtype=float)
        self._routes: dict[tuple[int, int, float, Objective], tuple[str, ...] | None] = {}

    def _weights(self, n_bytes: float, objective: Objective) -> sp.csr_matrix:
        # same arithmetic as Arc.time_s / Arc.energy_j, so costs match the evaluator
        if objective is Objective.LATENCY:
            w = 8.0 * n_bytes / self.bandwidth + self.delay
        else:
            w = 8.0 * n_bytes * self.energy_per_bit
        # explicit zeros stay stored, and csgraph treats stored zeros as arcs
        return sp.csr_matrix((w, (self.src, self.dst)), shape=(self.n_nodes, self.n_nodes))

    def distances(self, n_bytes: float, objective: Objective, sources: IntArray) -> FloatArray:
        """Cheapest transfer cost for ``objective`` from each of ``sources`` to every
        node (``inf`` when unreachable), shape ``(len(sources), n_nodes)``."""
        if sources.size == 0:
            return np.zeros((0, self.n_nodes))
        out: FloatArray = np.asarray(
            dijkstra(self._weights(n_bytes, objective), directed=True, indices=sources),
            dtype=float,
        ).reshape(sources.shape[0], self.n_nodes)
        return out

    def route(self, u: int, v: int, n_bytes: float, objective: Objective) -> tuple[str, ...]:
        """The fixed route from node ``u`` to node ``v`` (``ValueError`` if none)."""
        key = (u, v, n_bytes, objective)
        if key not in self._routes:
            self._routes[key] = cheapest_route(
                self.instance.network, self.names[u], self.names[v], n_bytes, objective
            )
        found = self._routes[key]
        if found is None:
            raise ValueError(f"no route from {self.names[u]} to {self.names[v]}")
        return found

    def route_time(self, u: int, v: int, n_bytes: float, objective: Objective) -> float:
        """Time of the fixed route from ``u`` to ``v`` (``inf`` when unreachable)."""
        try:
            route = self.route(u, v, n_bytes, objective)
        except ValueError:
            return math.inf
        return route_cost(self.instance.network, route, n_bytes).time_s

    def table(
        self, n_bytes: float, sources: IntArray, targets: IntArray, *, need_time: bool
    ) -> tuple[FloatArray, FloatArray]:
        """``(cost, time)`` of the fixed routes from every source to every target,
        shape ``(len(sources), len(targets))``, ``inf`` when unreachable.

        The time is that of the route :func:`~splitbench.routes.cheapest_route`
        picks (ties in cost can differ in time); without ``need_time`` it is only
        filled for the latency objective (where it equals the cost), else zeros.
        """
        objective = self.instance.request.objective
        cost = self.distances(n_bytes, objective, sources)[:, targets]
        if objective is Objective.LATENCY:
            return cost, cost.copy()
        time = np.zeros_like(cost)
        if need_time:
            for i, j in zip(*np.nonzero(np.isfinite(cost)), strict=True):
                time[i, j] = self.route_time(int(sources[i]), int(targets[j]), n_bytes, objective)
            time[~np.isfinite(cost)] = math.inf
        return cost, time

    def energy_routes_are_fastest(
        self, n_bytes: float, sources: IntArray, targets: IntArray
    ) -> bool:
        """Whether every fixed cheapest-energy route from ``sources`` to ``targets`` is
        also a fastest route for ``n_bytes`` (within a relative 1e-9)."""
        fastest = self.distances(n_bytes, Objective.LATENCY, sources)[:, targets]
        for i, j in zip(*np.nonzero(np.isfinite(fastest)), strict=True):
            time = self.route_time(int(sources[i]), int(targets[j]), n_bytes, Objective.ENERGY)
            if time > fastest[i, j] * (1 + 1e-9):
                return False
        return True
