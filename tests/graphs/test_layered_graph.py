"""The shared layered graph: every path is a placement priced exactly as the evaluator.

Shortest paths here are taken with networkx over the graph's own networkx view, so
the checks share no search code with the graph algorithms built on the arrays.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from random_instances import random_instance
from splitbench.evaluate import evaluate
from splitbench.graphs.layered import ArcKind, LayeredGraph, build_layered_graph
from splitbench.instance import Instance, example_instance
from splitbench.methods import solve

SEEDS = range(160)


def _shortest(graph: LayeredGraph, weight: str) -> list[int] | None:
    view = graph.to_networkx()
    try:
        labels = nx.dijkstra_path(view, graph.vertex_label(graph.source), "sink", weight=weight)
    except nx.NetworkXNoPath:
        return None
    return [view.edges[u, v]["arc"] for u, v in itertools.pairwise(labels)]


def _memory_binds(instance: Instance) -> bool:
    return bool(build_layered_graph(instance).memory_limits())


@pytest.mark.parametrize("seed", SEEDS)
def test_path_cost_and_time_are_the_evaluators(seed: int) -> None:
    instance = random_instance(seed)
    graph = build_layered_graph(instance)
    for weight in ("cost", "time_s"):
        arcs = _shortest(graph, weight)
        if arcs is None:
            continue
        placement = graph.placement_from_arcs(arcs)
        result = evaluate(instance, placement)
        cost = float(graph.cost[arcs].sum()) + graph.constant_cost
        time = float(graph.time_s[arcs].sum())
        assert math.isclose(result.objective, cost, rel_tol=1e-9, abs_tol=1e-15)
        assert math.isclose(result.deadline_latency_s, time, rel_tol=1e-9, abs_tol=1e-15)
        structural = [v for v in result.violations if "deadline" not in v and "memory" not in v]
        assert structural == []


@pytest.mark.parametrize("seed", SEEDS)
def test_unconstrained_shortest_path_is_the_optimum(seed: int) -> None:
    instance = random_instance(seed)
    if instance.request.deadline_s is not None or _memory_binds(instance):
        instance = _drop_limits(instance)
    graph = build_layered_graph(instance)
    arcs = _shortest(graph, "cost")
    oracle = solve(instance, "exhaustive")
    if arcs is None:
        assert oracle.status.value == "infeasible"
        return
    value = evaluate(instance, graph.placement_from_arcs(arcs)).objective
    assert oracle.objective is not None
    assert math.isclose(value, oracle.objective, rel_tol=1e-6, abs_tol=1e-15)


def _drop_limits(instance: Instance) -> Instance:
    from dataclasses import replace

    nodes = tuple(replace(n, memory_bytes=None) for n in instance.network.nodes)
    network = replace(instance.network, nodes=nodes)
    return replace(instance, network=network, request=replace(instance.request, deadline_s=None))


def test_fin_example_shape() -> None:
    graph = build_layered_graph(example_instance())
    kinds = np.bincount(graph.kind, minlength=len(ArcKind))
    # min accuracy 0.8 leaves only the final exit: no result copy, no early exit arcs
    assert kinds[ArcKind.COMPUTE_EXIT] == 6
    assert kinds[ArcKind.RESULT] == kinds[ArcKind.DELIVER] == 0
    view = graph.to_networkx()
    assert view.number_of_edges() == graph.n_arcs


def test_flow_with_a_detached_cycle_decodes() -> None:
    instance = random_instance(3)
    graph = build_layered_graph(instance)
    arcs = _shortest(graph, "cost")
    assert arcs is not None
    # a zero-flow-balance cycle away from the path: both directions of one transmission
    lookup = graph.arc_lookup()
    used = {int(graph.tail[a]) for a in arcs} | {int(graph.head[a]) for a in arcs}
    extra: list[int] = []
    for arc in np.flatnonzero(graph.kind == ArcKind.TRANSMIT):
        tail, head = int(graph.tail[arc]), int(graph.head[arc])
        back = lookup.get((head, tail))
        if back is not None and tail not in used and head not in used:
            extra = [int(arc), back]
            break
    decoded = graph.placement_from_arcs([*arcs, *extra])
    assert decoded == graph.placement_from_arcs(arcs)


def test_no_exit_meets_the_accuracy() -> None:
    from dataclasses import replace

    instance = example_instance()
    instance = replace(instance, request=replace(instance.request, min_accuracy=0.99))
    graph = build_layered_graph(instance)
    assert graph.infeasible_reason is not None and "min_accuracy" in graph.infeasible_reason
    assert _shortest(graph, "cost") is None
