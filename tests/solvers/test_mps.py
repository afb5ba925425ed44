"""MPS export: what one backend writes, another solves to the same optimum."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from splitbench.errors import UnknownNameError, UsageError
from splitbench.evaluate import evaluate
from splitbench.formulations import MILPBuilder, build_formulation
from splitbench.instance import Instance
from splitbench.solution import Status
from splitbench.solvers import available_solvers, export_mps, read_mps, solve_milp, solve_mps
from splitbench.solvers.mps import mps_column_names

sys.path.insert(0, str(Path(__file__).parents[1] / "formulations"))
from milp_instances import COMBOS, small_instance

READERS = [s for s in available_solvers(pyomo_names=False) if s != "scip"] + (
    ["scip"] if "scip" in available_solvers(pyomo_names=False) else []
)


@pytest.mark.parametrize("formulation", ["routing", "assignment"])
def test_exported_model_solves_to_the_same_optimum_elsewhere(
    formulation: str, tmp_path: Path
) -> None:
    checked = 0
    for objective, policy in COMBOS:
        for seed in range(4):
            instance = small_instance(seed, objective, policy)
            form = build_formulation(instance, formulation)
            direct = solve_milp(form.milp, "highs")
            path = tmp_path / f"{instance.name}-{formulation}.mps"
            export_mps(instance, formulation, path)
            assert mps_column_names(path) == form.milp.column_names()
            for solver in READERS:
                got = solve_mps(path, solver)
                assert got.status is direct.status, (solver, instance.name, got.message)
                if direct.status is not Status.OPTIMAL:
                    continue
                assert got.objective == pytest.approx(direct.objective, rel=1e-6, abs=1e-12)
                assert got.values is not None
                placement = form.decode(got.values)  # the file keeps the column order
                check = evaluate(instance, placement)
                assert check.feasible
                assert check.objective == pytest.approx(direct.objective, rel=1e-6, abs=1e-12)
                checked += 1
    assert checked > 20


def test_round_trip_keeps_every_array(example: Instance, tmp_path: Path) -> None:
    for name in ("routing", "assignment"):
        milp = build_formulation(example, name).milp
        path = tmp_path / f"{name}.mps"
        export_mps(example, name, path)
        back = read_mps(path)
        for field in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
            assert np.allclose(getattr(back, field), getattr(milp, field), rtol=1e-12, atol=0), (
                field
            )
        assert abs(back.A - milp.A).max() <= 1e-12
        assert list(back.var_blocks["col"].labels) == milp.column_names()


def test_objective_constant_and_ranges_survive(tmp_path: Path) -> None:
    b = MILPBuilder("ranged")
    x = b.add_vars("x", ["a", "b", "c"], cost=[1.0, 2.0, 0.5], upper=[1.0, 1.0, 4.0], integer=True)
    y = b.add_vars("y", ["d"], cost=0.25, upper=10.0)
    b.add_rows("cover", 1, rows=[0, 0, 0], cols=x, vals=1.0, lower=1.0, upper=3.0)
    b.add_rows("link", 1, rows=[0, 0], cols=[x[0], y[0]], vals=1.0, lower=1.5, upper=1.5)
    milp = b.build(objective_constant=10.0)
    from splitbench.solvers import write_mps

    path = tmp_path / "ranged.mps"
    write_mps(milp, path)
    expected = solve_milp(milp, "highs")
    assert expected.objective == pytest.approx(10.875)
    for solver in READERS:
        got = solve_mps(path, solver)
        assert got.status is Status.OPTIMAL, solver
        assert got.objective == pytest.approx(10.875), solver


def test_bad_files_and_names(tmp_path: Path, example: Instance) -> None:
    with pytest.raises(UsageError, match="no such MPS file"):
        solve_mps(tmp_path / "missing.mps", "cbc")
    junk = tmp_path / "junk.mps"
    junk.write_text("this is not MPS\n")
    with pytest.raises(UsageError, match="not a readable MPS file"):
        read_mps(junk)
    with pytest.raises(UnknownNameError, match="known: assignment, routing"):
        export_mps(example, "flow", tmp_path / "x.mps")
