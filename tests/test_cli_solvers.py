"""Command-line wiring of solver-based methods: --solver, list solvers, export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from splitbench.cli import main
from splitbench.instance import example_instance
from splitbench.methods import solve
from splitbench.solvers import solve_mps


def test_solve_with_each_backend(example_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    optimum = solve(example_instance(), "exhaustive").objective
    for solver in ("highs", "cbc", "pyomo-highs"):
        assert (
            main(
                [
                    "solve",
                    str(example_path),
                    "--method",
                    "routing-milp",
                    "--solver",
                    solver,
                    "--json",
                ]
            )
            == 0
        )
        out = json.loads(capsys.readouterr().out)
        assert out["solver"] == solver and out["status"] == "optimal"
        assert out["objective"] == pytest.approx(optimum, rel=1e-6)


def test_bad_solver_is_a_usage_error(
    example_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["solve", str(example_path), "--method", "routing-milp", "--solver", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "available: highs" in err
    assert main(["solve", str(example_path), "--method", "fin", "--solver", "cbc"]) == 2
    assert "uses no MILP solver" in capsys.readouterr().err


def test_list_solvers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "solvers"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "not available" not in lines["highs"] and "available" in lines["highs"]
    assert {"cbc", "pyomo-highs", "scip"} <= set(lines)


@pytest.mark.parametrize("formulation", ["routing", "assignment"])
def test_export_then_solve_elsewhere(
    formulation: str, example_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "model.mps"
    assert main(["export", str(example_path), "--formulation", formulation, "-o", str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    result = solve_mps(target, "cbc")
    optimum = solve(example_instance(), "exhaustive").objective
    assert result.objective == pytest.approx(optimum, rel=1e-6)


def test_export_unknown_formulation(example_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(example_path), "--formulation", "flow"]) == 2
    assert "known formulations: assignment, routing" in capsys.readouterr().err
