"""User methods: the example plugin installed with pip and used from the CLI, and
``--plugin MODULE``; registration is idempotent and bad plugins are usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from splitbench.answer import MethodResult, RunOptions, Status
from splitbench.errors import UsageError
from splitbench.instance import Instance, example_instance
from splitbench.methods import METHODS, MethodSpec, load_plugin, register, solve

ROOT = Path(__file__).parents[2]
PLUGIN = ROOT / "examples" / "greedy-plugin"
EXAMPLE = ROOT / "src" / "splitbench" / "data" / "examples" / "fin-b-alexnet-cifar10.json"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "splitbench", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The example plugin installed by pip into a folder put on the path of the CLI."""
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(PLUGIN),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")])
    return env


def test_installed_plugin_is_a_method_of_the_cli(installed_plugin: dict[str, str]) -> None:
    listed = cli("list", "methods", env=installed_plugin)
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith("greedy ") for line in listed.stdout.splitlines())
    done = cli("solve", str(EXAMPLE), "--method", "greedy", "--json", env=installed_plugin)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["method"] == "greedy"
    # the greedy walk ignores the deadline: the evaluator judges its answer
    assert data["status"] in ("feasible", "invalid")
    assert (data["status"] == "invalid") == bool(data["violations"])
    assert data["exact"] is False


def test_plugin_option_loads_a_module() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PLUGIN / "src"), env.get("PYTHONPATH", "")])
    done = cli(
        "solve",
        str(EXAMPLE),
        "--method",
        "greedy",
        "--plugin",
        "greedy_placement",
        "--json",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["method"] == "greedy"


def test_unknown_plugin_is_one_usage_line() -> None:
    done = cli("solve", str(EXAMPLE), "--method", "greedy", "--plugin", "no_such_plugin_here")
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no_such_plugin_here" in lines[0], done.stderr


def test_load_plugin_refuses_a_module_without_methods() -> None:
    with pytest.raises(UsageError, match="registers no method"):
        load_plugin("json")


def _buggy(instance: Instance, options: RunOptions) -> MethodResult:
    raise RuntimeError("this heuristic has a bug")


def test_registering_the_same_spec_twice_is_harmless_and_a_clash_is_refused() -> None:
    spec = MethodSpec(name="test-buggy", run=_buggy, description="raises")
    register(spec)
    try:
        assert register(spec) is spec  # a module imported twice
        solution = solve(example_instance(), "test-buggy")
        assert solution.termination.value == "error"
        assert solution.status is Status.NONE
        assert solution.reason == "RuntimeError: this heuristic has a bug"
        with pytest.raises(ValueError, match="registered twice"):
            register(MethodSpec(name="test-buggy", run=_buggy, description="another"))
    finally:
        METHODS.unregister("test-buggy")
