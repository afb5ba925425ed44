"""Every registry: one shape, every registered name resolves and is exercised once.

Methods are exercised in depth by ``test_agreement.py`` (which also fails when a
method is registered but not checked); here every name of every registry is looked
up and used on a small input, and an unknown name lists the known ones.
"""

from __future__ import annotations

import pytest

from splitbench.errors import UnknownNameError, UsageError
from splitbench.families import FAMILIES, generate
from splitbench.formulations import FORMULATIONS, build_formulation
from splitbench.instance import MultiInstance, example_instance
from splitbench.methods import METHODS, solve
from splitbench.registry import Registry
from splitbench.solvers import SOLVERS, available_solvers, get_solver
from splitbench.topology import BUILDERS, build_network
from splitbench.zoo import MODELS, get_dnn

REGISTRIES: dict[str, Registry[object]] = {
    "method": METHODS,  # type: ignore[dict-item]
    "solver": SOLVERS,  # type: ignore[dict-item]
    "formulation": FORMULATIONS,  # type: ignore[dict-item]
    "family": FAMILIES,  # type: ignore[dict-item]
    "network builder": BUILDERS,  # type: ignore[dict-item]
    "model": MODELS,  # type: ignore[dict-item]
}

BUILDER_PARAMS = {
    "geometric": {"n_nodes": 8, "seed": 1},
    "random": {"n_nodes": 8, "density": 0.5, "seed": 1},
    "waxman": {"n_nodes": 8, "seed": 1},
    "tiered": {"seed": 1},
    "topohub": {"name": "sndlib/abilene"},
}


@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_one_shape_and_unknown_names_list_the_known(kind: str) -> None:
    registry = REGISTRIES[kind]
    assert isinstance(registry, Registry) and registry.kind == kind
    assert len(registry) > 0
    with pytest.raises(UnknownNameError, match=f"unknown {kind} 'nope'; known"):
        registry.get("nope")
    for name in registry:
        assert registry.get(name) is registry[name]


@pytest.mark.parametrize("name", METHODS.names())
def test_every_method_runs(name: str) -> None:
    sol = solve(example_instance(), name)
    assert sol.method == name
    assert sol.termination.value in ("completed", "skipped")


@pytest.mark.parametrize("name", SOLVERS.names())
def test_every_solver_resolves(name: str) -> None:
    if name in available_solvers(pyomo_names=False):
        assert get_solver(name).name == name
    else:  # an optional backend that is not installed: a usage error with the reason
        with pytest.raises(UsageError, match=f"solver '{name}' is not available"):
            get_solver(name)


@pytest.mark.parametrize("name", FORMULATIONS.names())
def test_every_formulation_builds(name: str) -> None:
    assert build_formulation(example_instance(), name).milp.n_vars > 0


@pytest.mark.parametrize("name", FAMILIES.names())
def test_every_family_generates(name: str) -> None:
    inst = generate(name, seed=1)
    singles = [one for _, one in inst.singles()] if isinstance(inst, MultiInstance) else [inst]
    assert singles and all(one.dnn.n_blocks >= 1 for one in singles)


@pytest.mark.parametrize("name", BUILDERS.names())
def test_every_network_builder_builds(name: str) -> None:
    assert len(build_network(name, **BUILDER_PARAMS[name]).nodes) >= 2


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_loads(name: str) -> None:
    assert get_dnn(name).n_blocks >= 1
