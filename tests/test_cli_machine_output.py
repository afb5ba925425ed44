"""Machine-readable output as users get it: the CLI in a subprocess, stdout parsed as JSON.

Solver libraries print from C (highspy 1.16 prints a banner when a ``Highs`` object is
made) and from Python; none of it may reach stdout, for any method or backend.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from splitbench.methods import METHODS
from splitbench.solvers import available_solvers

EXAMPLE = Path(__file__).parents[1] / "src/splitbench/data/examples/fin-b-alexnet-cifar10.json"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "splitbench", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("method", ["assignment-milp", "routing-milp", "routing-lp"])
@pytest.mark.parametrize("solver", available_solvers())
def test_json_is_clean_for_every_backend(solver: str, method: str) -> None:
    done = run_cli("solve", str(EXAMPLE), "--method", method, "--solver", solver, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # nothing but the one JSON document
    assert data["solver"] == solver
    # the routing LP of the example is fractional (its deadline row binds): no answer
    expected = "none" if method == "routing-lp" else "optimal"
    assert data["status"] == expected, data["reason"]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_json_is_clean_for_every_method(method: str) -> None:
    done = run_cli("solve", str(EXAMPLE), "--method", method, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["method"] == method


def test_text_output_keeps_library_banners_off_stdout() -> None:
    done = run_cli("solve", str(EXAMPLE), "--method", "routing-milp")
    assert done.returncode == 0, done.stderr
    assert "Running HiGHS" not in done.stdout
    assert done.stdout.startswith("instance")
