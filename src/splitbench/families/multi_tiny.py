"""Family ``multi-tiny``: seeded tiny format-2 instances where one shared capacity binds.

For checking the exact many-request methods against each other and against the
enumeration oracle (MULTI.md), and the heuristics and bounds against the optimum:
small enough for ``exhaustive``, tight enough that coupling matters.

A seed draws, from its own generator, a tiny single-request instance
(:func:`~splitbench.families.tiny.milp_instance`: 2-4 nodes, 1-4 blocks, select
policy, perhaps a deadline, allowed nodes or a tier order), a second model of the
same shape (ops and sizes scaled by 0.5-2), and 2 to ``max_requests`` requests: the
first is the drawn request; each other one is, with probability 0.3, a copy of it
(interchangeable requests), otherwise a request from a random source without a
deadline running either model. Each request's own optimum, alone, is found by label
setting; what those optima put together on the shared resources (the *uncoupled*
load) sets the rates so that the resource ``binds`` names is overloaded:

- ``compute``: rates scaled so the busiest node's uncoupled compute load is
  1.02-1.3 times its capacity share U;
- ``link``: the same for the busiest arc's bandwidth;
- ``memory``: blocks get 1e5-4e5 bytes of weights, rates are scaled so that no
  compute or link load exceeds 0.3, and every node where the requests' optima
  together hold more weights than the largest one alone gets exactly that largest
  memory.

U is 0.8 for every third seed, else 1; the objective alternates (energy for even
seeds). A draw that gives no binding resource (nothing moves over a link, say), or a
request that fits nowhere even alone on the network (:func:`fits_alone`), is
replaced by the next draw of the same generator, up to 100 draws. So the uncoupled
optimum never fits, yet each request does alone; about half the instances are
infeasible together (on seeds 0-66: 39 of 67 compute, 35 link, 21 memory), which
every exact method must prove.

Examples
--------
>>> from splitbench.families import generate
>>> inst = generate("multi-tiny", {"binds": "link"}, seed=3)
>>> inst.name, len(inst.requests) >= 2
('multi-tiny-link-3', True)
>>> uncoupled_utilization(inst, "link") > inst.max_utilization
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from splitbench.errors import InstanceError
from splitbench.evaluate_multi import request_loads
from splitbench.families.base import Family, register_family
from splitbench.families.tiny import milp_instance
from splitbench.graphs.label_setting import best_path
from splitbench.graphs.layered import build_layered_graph
from splitbench.graphs.loads import load_budgets
from splitbench.instance.model import DNN, ExitPolicy, Objective
from splitbench.instance.multi import MultiInstance, MultiRequest
from splitbench.params import Param
from splitbench.placement import Placement

__all__ = [
    "BINDS",
    "SPEC",
    "build_multi_tiny",
    "fits_alone",
    "uncoupled_optima",
    "uncoupled_utilization",
]

NAME = "multi-tiny"
BINDS = ("compute", "link", "memory")
"""The resource a ``multi-tiny`` instance overloads at the uncoupled optimum."""
MAX_DRAWS = 100


def uncoupled_optima(instance: MultiInstance) -> dict[str, Placement] | None:
    """Every request's own optimum alone (label setting), None when one has none."""
    out: dict[str, Placement] = {}
    for req, single in instance.singles():
        graph = build_layered_graph(single)
        answer = best_path(graph)
        if answer.path is None:
            return None
        out[req.id] = graph.placement_from_arcs(answer.path.arcs)
    return out


def uncoupled_utilization(
    instance: MultiInstance, kind: str, optima: Mapping[str, Placement] | None = None
) -> float:
    """The largest compute (``kind="compute"``) or link (``"link"``) utilisation when
    every request takes its own optimum (0 when none is known)."""
    optima = uncoupled_optima(instance) if optima is None else optima
    if optima is None:
        return 0.0
    totals: dict[Any, float] = {}
    for req, single in instance.singles():
        ops, bits = request_loads(single, optima[req.id])
        for key, value in (ops if kind == "compute" else bits).items():
            totals[key] = totals.get(key, 0.0) + req.rate_per_s * value
    net = instance.network
    if kind == "compute":
        shares = [totals.get(n.id, 0.0) / n.ops_per_s for n in net.nodes if n.ops_per_s > 0]
    else:
        shares = [totals.get((a.source, a.target), 0.0) / a.bandwidth_bps for a in net.arcs]
    return max(shares, default=0.0)


def _other_model(dnn: DNN, rng: np.random.Generator) -> DNN:
    blocks = tuple(
        replace(
            b,
            name=f"o{i}",
            ops=b.ops * float(rng.uniform(0.5, 2)),
            output_bytes=b.output_bytes * float(rng.uniform(0.5, 2)),
        )
        for i, b in enumerate(dnn.blocks, start=1)
    )
    scale = float(rng.uniform(0.5, 2))
    return replace(dnn, name="other", input_bytes=dnn.input_bytes * scale, blocks=blocks)


def _with_rates(instance: MultiInstance, factor: float) -> MultiInstance:
    requests = tuple(replace(r, rate_per_s=r.rate_per_s * factor) for r in instance.requests)
    return replace(instance, requests=requests)


def _draw(rng: np.random.Generator, seed: int, binds: str, max_requests: int) -> MultiInstance:
    objective = Objective.ENERGY if seed % 2 == 0 else Objective.LATENCY
    base = milp_instance(int(rng.integers(2**31)), objective, ExitPolicy.SELECT)
    second = _other_model(base.dnn, rng)
    dnns: tuple[DNN, ...] = (base.dnn, second)
    network = base.network
    if binds == "memory":
        dnns = tuple(
            replace(
                d,
                blocks=tuple(
                    replace(b, memory_bytes=float(rng.integers(1, 5)) * 1e5) for b in d.blocks
                ),
            )
            for d in dnns
        )
        free = tuple(replace(n, memory_bytes=None) for n in network.nodes)
        network = replace(network, nodes=free)
    first = MultiRequest("a", dnns[0].name, float(rng.uniform(0.5, 2)), base.request)
    requests = [first]
    for i in range(1, int(rng.integers(2, max_requests + 1))):
        draw = float(rng.random())
        if draw < 0.3:
            requests.append(replace(first, id=f"r{i}"))
            continue
        source = str(rng.choice([n.id for n in network.nodes]))
        request = replace(base.request, source=source, deadline_s=None)
        model = dnns[0].name if draw < 0.65 else dnns[1].name
        requests.append(MultiRequest(f"r{i}", model, float(rng.uniform(0.5, 2)), request))
    return MultiInstance(
        f"{NAME}-{binds}-{seed}",
        network,
        dnns,
        tuple(requests),
        objective,
        max_utilization=0.8 if seed % 3 == 0 else 1.0,
    )


def _tighten(multi: MultiInstance, binds: str, rng: np.random.Generator) -> MultiInstance | None:
    optima = uncoupled_optima(multi)
    if optima is None:
        return None
    if binds in ("compute", "link"):
        load = uncoupled_utilization(multi, binds, optima)
        if load <= 0:
            return None
        factor = multi.max_utilization * float(rng.uniform(1.01, 1.1)) / load
        return _with_rates(multi, factor)
    peak = max(uncoupled_utilization(multi, k, optima) for k in ("compute", "link"))
    if peak > 0:
        multi = _with_rates(multi, 0.3 / peak)
    index = multi.network.node_index
    held: list[dict[int, float]] = []
    union: dict[int, set[tuple[str, int]]] = {}
    for req in multi.requests:
        own: dict[int, float] = {}
        for l, node in enumerate(optima[req.id].blocks, start=1):
            n = index[node]
            own[n] = own.get(n, 0.0) + multi.dnn(req.dnn).block(l).memory_bytes
            union.setdefault(n, set()).add((req.dnn, l))
        held.append(own)
    nodes = list(multi.network.nodes)
    for n, keys in union.items():
        together = sum(multi.dnn(d).block(l).memory_bytes for d, l in keys)
        alone = max(own.get(n, 0.0) for own in held)
        if together > alone:
            nodes[n] = replace(nodes[n], memory_bytes=alone)
    if nodes == list(multi.network.nodes):
        return None
    return replace(multi, network=replace(multi.network, nodes=tuple(nodes)))


def fits_alone(instance: MultiInstance) -> bool:
    """Whether every request, alone on the network, has a placement within the
    shared capacities (an exact label search with the loads as budgets)."""
    net, u = instance.network, instance.max_utilization
    ops = u * np.array([n.ops_per_s for n in net.nodes])
    bits = u * np.array([a.bandwidth_bps for a in net.arcs])
    memory = np.array([np.inf if n.memory_bytes is None else n.memory_bytes for n in net.nodes])
    for req, single in instance.singles():
        graph = build_layered_graph(single)
        if best_path(graph, load_budgets(graph, req.rate_per_s, ops, bits, memory)).path is None:
            return False
    return True


def build_multi_tiny(values: Mapping[str, Any], seed: int) -> MultiInstance:
    """The ``multi-tiny`` instance of ``seed`` for checked ``values``.

    Raises
    ------
    InstanceError
        When no draw of the seed's generator binds (not met for seeds 0-999).
    """
    binds = values["binds"]
    rng = np.random.default_rng([seed, BINDS.index(binds), 2])
    for _ in range(MAX_DRAWS):
        multi = _tighten(_draw(rng, seed, binds, values["max_requests"]), binds, rng)
        if multi is not None and fits_alone(multi):
            return multi
    raise InstanceError("", f"{NAME}: seed {seed} gave no instance where {binds} binds")


SPEC = register_family(
    Family(
        name=NAME,
        description="tiny format-2 instances where compute, link or memory binds "
        "(agreement checks)",
        params={
            "binds": Param(str, "compute", "the resource that binds", BINDS),
            "max_requests": Param(int, 3, "at most this many requests (2 to 5)"),
        },
        build=build_multi_tiny,
        bounds={"max_requests": (2, 5)},
    )
)
