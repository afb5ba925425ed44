"""What the formulations build: named blocks that match their docstrings, labels that
decode, sizes that grow as stated, and the exactness of the assignment form."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from milp_instances import COMBOS, chain_instance, small_instance

import splitbench.formulations.assignment as assignment_module
import splitbench.formulations.routing as routing_module
from splitbench.formulations import (
    FORMULATIONS,
    assignment_is_exact,
    build_assignment,
    build_formulation,
    build_routing,
)
from splitbench.instance import (
    DNN,
    Block,
    Instance,
    Link,
    Network,
    Node,
    Objective,
    Request,
    validate_instance,
)
from splitbench.methods import get_method, solve
from splitbench.solvers import solve_milp
from splitbench.status import Status


def _documented(module: object) -> set[str]:
    return set(re.findall(r"\(([AR]\d+_[a-z_]+)\)", module.__doc__ or ""))


@pytest.mark.parametrize(
    ("name", "module"), [("assignment", assignment_module), ("routing", routing_module)]
)
def test_row_blocks_are_the_numbered_constraints_of_the_docstring(
    name: str, module: object
) -> None:
    documented = _documented(module)
    assert documented
    used: set[str] = set()
    for objective, policy in COMBOS:
        for seed in range(25):
            form = build_formulation(small_instance(seed, objective, policy), name)
            used |= set(form.milp.row_blocks)
            assert form.milp.n_binaries == form.milp.n_vars  # all binary
    assert used == documented


def test_assignment_labels_decode_to_the_placement(example: Instance) -> None:
    form = build_assignment(example)
    result = solve_milp(form.milp, "highs")
    assert result.values is not None
    placement = form.decode(result.values)
    x = form.milp.var_blocks["x"]
    on = [x.labels[i] for i in np.flatnonzero(result.values[x.slice] > 0.5)]
    assert on == [(block, node) for block, node in enumerate(placement.blocks, start=1)]
    y = form.milp.var_blocks["y"]
    assert [y.labels[i] for i in np.flatnonzero(result.values[y.slice] > 0.5)] == [placement.exit]


def test_routing_labels_name_layered_graph_vertices(example: Instance) -> None:
    form = build_routing(example)
    f = form.milp.var_blocks["f"]
    rows = form.milp.row_blocks["R1_conservation"]
    assert len(f) == form.milp.n_vars
    assert f.labels[0][0] == ("md", 0, 0)
    assert "sink" in set(rows.labels)


def test_sizes_grow_as_stated() -> None:
    sizes = {name: [] for name in FORMULATIONS}
    for n in (4, 8, 16):
        instance = chain_instance(n, n, 0)
        for name in FORMULATIONS:
            sizes[name].append(build_formulation(instance, name).n_vars)
    # assignment: L |N|^2 pairs (x8 per doubling); routing: L (|N| + |A|) (x4 to x8)
    assert sizes["assignment"][2] / sizes["assignment"][1] > 6
    assert sizes["routing"][2] < sizes["assignment"][2]


def _two_routes(deadline: float | None) -> Instance:
    """Input at d, one block allowed on c only; d -> c directly is frugal but slow,
    d -> r -> c is fast but costly in energy."""
    network = Network(
        nodes=(
            Node("d", "device", 1e9, power_w=1.0),
            Node("r", "router", 0.0),
            Node("c", "cloud", 1e11, power_w=10.0),
        ),
        links=(
            Link("d", "c", 1e5, energy_per_bit_j=1e-9),
            Link("d", "r", 1e8, energy_per_bit_j=1e-7),
            Link("r", "c", 1e8, energy_per_bit_j=1e-7),
        ),
    )
    dnn = DNN("one", 1e5, (Block("b1", 1e9, 10.0),))
    request = Request(
        source="d", objective=Objective.ENERGY, deadline_s=deadline, allowed_nodes=((1, ("c",)),)
    )
    instance = Instance("two-routes", network, dnn, request)
    validate_instance(instance)
    return instance


def test_assignment_is_a_restriction_when_energy_routes_are_slow() -> None:
    free = _two_routes(None)
    assert assignment_is_exact(free)
    assert solve(free, "assignment-milp").objective == pytest.approx(
        solve(free, "exhaustive").objective
    )
    tight = _two_routes(0.5)  # the frugal route takes 8 s, the fast one 0.016 s
    assert not assignment_is_exact(tight)
    assert not get_method("assignment-milp").exact_on(tight)
    assert not build_assignment(tight).exact
    oracle = solve(tight, "exhaustive")
    assert oracle.status is Status.OPTIMAL
    assert oracle.placement is not None and oracle.placement.routes[0] == ("d", "r", "c")
    got = solve(tight, "assignment-milp")
    assert got.status is Status.NONE and got.placement is None and not got.exact
    assert "restriction" in (got.reason or "")
    routing = solve(tight, "routing-milp")
    assert routing.objective == pytest.approx(oracle.objective)
    loose = _two_routes(10.0)  # both routes meet it; the frugal one is fixed and optimal
    assert not assignment_is_exact(loose)
    restricted = solve(loose, "assignment-milp")
    assert restricted.objective == pytest.approx(solve(loose, "exhaustive").objective)
    # optimal here, but not proven so: the restriction's answer is reported feasible
    assert restricted.status is Status.FEASIBLE and restricted.bound is None


def test_unmeetable_accuracy_is_infeasible_with_a_note() -> None:
    instance = small_instance(1, Objective.LATENCY, COMBOS[0][1])
    accuracy = max(ex.accuracy or 0.0 for ex in instance.dnn.exits)
    strict = replace(instance, request=replace(instance.request, min_accuracy=1.0))
    if accuracy >= 1.0:
        pytest.skip("an exit is perfectly accurate")
    for form in (build_routing(strict), build_assignment(strict)):
        assert form.note is not None and "min_accuracy" in form.note
    for method in ("routing-milp", "assignment-milp", "routing-lp"):
        got = solve(strict, method)
        assert got.status is Status.INFEASIBLE, (method, got.reason)
        assert "min_accuracy" in (got.reason or "")
