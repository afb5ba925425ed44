"""layered-sp and label-setting against the exhaustive oracle (and routing-milp).

On seeded random small instances (both objectives and exit policies, deadlines
absent, loose, binding, exactly tight and impossible, destinations, tier order,
allowed nodes, memory): every ``optimal`` answer equals the oracle's optimum to
1e-6 relative and passes the evaluator; ``infeasible`` only when the oracle says
so; ``layered-sp`` declines (status ``none``, termination ``skipped``) only when a
deadline or a memory limit binds, and ``label-setting`` never declines. When
``routing-milp`` works, it must agree too.
The default run checks 120 instances; ``-m slow`` checks 600.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import pytest

from splitbench.evaluate import evaluate
from splitbench.graphs.layered import build_layered_graph
from splitbench.graphs.layered_sp import (
    layered_networkx,
    networkx_shortest_path,
    solve_layered,
)
from splitbench.instance import (
    DNN,
    Block,
    Instance,
    Link,
    Network,
    Node,
    Request,
    example_instance,
)
from splitbench.methods import solve
from splitbench.solution import Solution
from splitbench.status import Status, Termination

from .instances import cases, oracle

RTOL = 1e-6
DEFAULT = cases(120)


def close(a: float | None, b: float | None) -> bool:
    assert a is not None and b is not None
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-15)


@functools.cache
def milp(instance: Instance) -> Solution | None:
    """``routing-milp``'s answer, or None when that method fails (cached)."""
    sol = solve(instance, "routing-milp")
    return None if sol.termination is Termination.ERROR else sol


def declined(got: Solution) -> bool:
    """No answer because the method declined the instance."""
    return got.status is Status.NONE and got.termination is Termination.SKIPPED


def check_exact(method: str, instance: Instance) -> Solution:
    """One exact method on one instance against the oracle (and the MILP)."""
    ref = oracle(instance)
    assert ref.status in (Status.OPTIMAL, Status.INFEASIBLE), ref.reason
    got = solve(instance, method)
    where = f"{method} on {instance.name}: {got.status}/{got.termination} ({got.reason})"
    assert got.status in (Status.OPTIMAL, Status.INFEASIBLE) or declined(got), where
    assert got.exact, where
    if got.status is Status.OPTIMAL:
        assert ref.status is Status.OPTIMAL, where
        assert got.feasible, (where, got.evaluation)
        assert close(got.objective, ref.objective), (where, got.objective, ref.objective)
        assert close(got.bound, ref.objective), where
    if got.status is Status.INFEASIBLE:
        assert ref.status is Status.INFEASIBLE, where
    reference = milp(instance)
    if reference is not None and reference.status is Status.OPTIMAL:
        assert ref.status is Status.OPTIMAL
        assert close(reference.objective, ref.objective), (instance.name, "routing-milp")
    return got


def binding_limits(instance: Instance) -> bool:
    graph = build_layered_graph(instance)
    return instance.request.deadline_s is not None or bool(graph.memory_limits())


@pytest.mark.parametrize("method", ["layered-sp", "label-setting"])
def test_exact_methods_match_the_oracle(method: str) -> None:
    answered = 0
    for instance in DEFAULT:
        got = check_exact(method, instance)
        answered += got.status is Status.OPTIMAL
        if declined(got):
            assert method == "layered-sp" and binding_limits(instance), got.reason
    assert answered >= 50


@pytest.mark.slow
@pytest.mark.parametrize("method", ["layered-sp", "label-setting"])
def test_exact_methods_match_the_oracle_long(method: str) -> None:
    for instance in cases(600):
        got = check_exact(method, instance)
        if declined(got):
            assert method == "layered-sp" and binding_limits(instance), got.reason


def test_label_setting_searches_labels_on_binding_deadlines() -> None:
    """The A* label search itself (not only its shortcut) is exercised and exact."""
    searched = 0
    for instance in DEFAULT:
        got = check_exact("label-setting", instance)
        searched += got.status is Status.OPTIMAL and not got.info.get("fast_path", False)
    assert searched >= 10


def test_layered_sp_never_declines_latency_under_select_without_memory() -> None:
    for instance in DEFAULT:
        req = instance.request
        if req.objective != "latency" or req.exit_policy != "select":
            continue
        if build_layered_graph(instance).memory_limits():
            continue
        assert not declined(check_exact("layered-sp", instance))


def test_layered_sp_is_exact_without_limits() -> None:
    for instance in DEFAULT[:60]:
        free = replace(instance, request=replace(instance.request, deadline_s=None))
        if build_layered_graph(free).memory_limits():
            continue
        assert not declined(check_exact("layered-sp", free))


def test_networkx_teaching_path_matches_the_compiled_search() -> None:
    for instance in DEFAULT[:40]:
        graph = build_layered_graph(instance)
        fast = solve_layered(graph)
        slow = networkx_shortest_path(instance)
        if graph.infeasible_reason is not None or fast.status is Status.INFEASIBLE:
            continue
        assert slow is not None
        cheapest = fast.info["relaxation_bound"]
        assert close(evaluate(instance, slow).objective, cheapest)


def test_networkx_view_has_every_arc() -> None:
    view = layered_networkx(example_instance())
    graph = build_layered_graph(example_instance())
    assert view.number_of_edges() == graph.n_arcs
    assert sorted(d["arc"] for _, _, d in view.edges(data=True)) == list(range(graph.n_arcs))


def zero_energy_instance(deadline: float | None) -> Instance:
    """Two equally cheap routes (links without energy cost), one slow, one fast."""
    nodes = (Node("a", "device", 1e9, 1.0), Node("b", "edge", 1e12, 1.0), Node("r", "router", 0))
    links = (
        Link("a", "b", 1e3, directed=True),  # slow direct link
        Link("a", "r", 1e9, directed=True),
        Link("r", "b", 1e9, directed=True),
    )
    dnn = DNN("d", 1000.0, (Block("b1", 1e9, 10.0),))
    request = Request(source="a", objective="energy", deadline_s=deadline)
    return Instance("zero-energy", Network(nodes, links), dnn, request)


def test_zero_energy_ties_are_broken_by_time() -> None:
    """Arcs of zero cost are arcs (scipy keeps explicit zeros), and among equally
    cheap paths the fastest is tried before declining."""
    loose = solve(zero_energy_instance(None), "layered-sp")
    assert loose.status is Status.OPTIMAL
    assert loose.placement is not None and loose.placement.blocks == ("b",)
    tight = zero_energy_instance(5e-3)
    got = solve(tight, "layered-sp")
    assert got.status is Status.OPTIMAL, got.reason
    assert got.feasible and close(got.objective, oracle(tight).objective)
    assert got.placement is not None and got.placement.routes[0] == ("a", "r", "b")


def test_layered_sp_declines_with_a_reason() -> None:
    got = solve(example_instance(), "layered-sp")
    assert declined(got)
    assert got.reason is not None and "label-setting" in got.reason
    assert got.info["relaxation_bound"] <= oracle(example_instance()).objective


def test_impossible_deadline_is_infeasible() -> None:
    inst = example_instance()
    hopeless = replace(inst, request=replace(inst.request, deadline_s=1e-6))
    for method in ("layered-sp", "label-setting", "larac", "fin"):
        got = solve(hopeless, method)
        assert got.status is Status.INFEASIBLE, (method, got.reason)


def test_label_setting_stops_above_max_labels() -> None:
    instance = next(
        i
        for i in DEFAULT
        if (s := solve(i, "label-setting")).status is Status.OPTIMAL and s.info.get("labels", 0) > 3
    )
    got = solve(instance, "label-setting", params={"max_labels": 2})
    # a limit stopped it (termination other_limit), it did not decline the instance
    assert got.status is Status.NONE and got.termination is Termination.OTHER_LIMIT
    assert got.reason is not None
    assert "max_labels" in got.reason
    assert got.info["lower_bound"] <= oracle(instance).objective * (1 + RTOL)


def test_label_setting_stops_at_the_time_limit_with_its_incumbent() -> None:
    from .instances import chain_instance

    instance = chain_instance(20, 20, 0)
    got = solve(instance, "label-setting", time_limit_s=1e-9)
    assert got.termination is Termination.TIME_LIMIT
    assert got.status in (Status.FEASIBLE, Status.NONE), got.reason
    exact = solve(instance, "label-setting")
    assert exact.status is Status.OPTIMAL and exact.objective is not None
    assert got.bound is not None and got.bound <= exact.objective
    assert (got.placement is not None) == (got.status is Status.FEASIBLE)
    if got.placement is not None:
        assert got.feasible and got.objective is not None
        assert got.objective >= exact.objective * (1 - 1e-9)
