"""The example plugin as a CI gate: its suite passes ``check`` at the workflow's limit
and fails a zero limit, and its workflow and README name commands and files that exist.

Nothing is installed: the plugin's ``src`` goes on the import path (the runner's
workers inherit it) and the module is named as a plugin; afterwards the registry and
``sys.modules`` are as they were, so other tests see only the built-in methods.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from splitbench.harness import check_directory, load_suite, parse_thresholds, run_suite
from splitbench.methods import METHODS, load_plugin

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "greedy-plugin"
SUITE = EXAMPLE / "suite.toml"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "splitbench.yml"
README = EXAMPLE / "README.md"
MODULE = "greedy_placement"
METHOD = "greedy"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example suite run once into a folder, with the plugin importable from src."""
    before = set(METHODS.names())
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(EXAMPLE / "src"))
        try:
            load_plugin(MODULE)  # the suite names `greedy`: register it before loading
            out = tmp_path_factory.mktemp("greedy") / "out"
            run_suite(load_suite(SUITE), out, jobs=2, plugins=(MODULE,))
            yield out
        finally:
            for name in set(METHODS.names()) - before:  # leave the registry as it was
                METHODS.unregister(name)
            sys.modules.pop(MODULE, None)


def _workflow_limits() -> dict[str, float]:
    """The ``--max-gap`` limits of the workflow's ``splitbench check`` command."""
    (line,) = re.findall(r"run: (splitbench check .*)", WORKFLOW.read_text())
    pairs = re.findall(r"--max-gap[ =](\S+)", line)
    assert pairs, "the workflow sets no --max-gap"
    return parse_thresholds(pairs)


def test_the_suite_passes_the_check_at_the_workflows_limit(results: Path) -> None:
    plain = check_directory(results)
    assert plain.ok, plain.summary()
    assert plain.with_reference > 0
    limits = _workflow_limits()
    assert set(limits) == {METHOD}
    gated = check_directory(results, max_gap=limits)
    assert gated.ok, gated.summary()
    assert {m for m, _, _ in gated.groups} >= {METHOD, "fin", "exhaustive"}


def test_a_zero_limit_fails_where_greedy_misses_the_optimum(results: Path) -> None:
    result = check_directory(results, max_gap={METHOD: 0.0})
    assert not result.ok
    assert {p.kind for p in result.problems} == {"threshold"}
    assert all(p.method == METHOD for p in result.problems)
    assert any("max gap to reference" in p.message for p in result.problems)


def test_the_workflow_runs_the_suite_and_the_check() -> None:
    text = WORKFLOW.read_text()
    assert "splitbench run suite.toml -o results --jobs 2" in text
    assert "splitbench check results --junit results/junit.xml" in text
    assert "pip install ." in text and "actions/upload-artifact" in text
    assert re.search(r"python-version:\s*\"3\.11\"", text)


def test_the_workflow_is_valid_yaml_with_the_upload_always_run() -> None:
    data = yaml.safe_load(WORKFLOW.read_text())
    (job,) = data["jobs"].values()
    steps = job["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()" and upload["with"]["path"].rstrip("/") == "results"
    runs = [step.get("run", "") for step in steps]
    (run,) = [i for i, r in enumerate(runs) if "splitbench run " in r]
    (check,) = [i for i, r in enumerate(runs) if "splitbench check " in r]
    assert run < check < steps.index(upload)
    assert "continue-on-error" not in str(data)  # a failing check fails the job


def _readme_commands() -> list[list[str]]:
    """Every command line of the README's ``bash`` blocks, split like a shell would."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_commands_name_files_that_exist() -> None:
    commands = _readme_commands()
    assert any(c[:2] == ["splitbench", "run"] for c in commands)
    assert any(c[:2] == ["splitbench", "check"] for c in commands)
    cwd, made = ROOT, set()
    methods = {*METHODS.names(), METHOD}
    for words in commands:
        where = f"README command {shlex.join(words)!r}"
        while words and "=" in words[0]:  # VAR=value before the command
            name, _, value = words.pop(0).partition("=")
            if name == "PYTHONPATH":
                assert (cwd / value).is_dir(), where
        if words[0] == "cd":
            cwd = cwd / words[1]
            assert cwd.is_dir(), where
            continue
        if words[:3] == ["pip", "install", "-e"]:
            assert (cwd / words[3] / "pyproject.toml").is_file(), where
            continue
        assert words[0] == "splitbench", where
        options = dict(pairwise(words))
        for flag in ("-o", "--junit"):
            if flag in options:
                made.add(options[flag])
        if "--method" in options:
            assert options["--method"] in methods, where
        if "--plugin" in options:
            assert (cwd / "src" / options["--plugin"]).is_dir(), where
        if words[1] in ("run", "check", "solve"):
            target = words[2]
            assert target in made or (cwd / target).exists(), where
    assert cwd == EXAMPLE


def test_readme_names_files_of_the_example_that_exist() -> None:
    spans = re.findall(r"`([\w./-]+\.(?:toml|py|yml|md))`", README.read_text())
    files = [s for s in spans if not s.startswith("results/")]
    assert {"suite.toml", "pyproject.toml", ".github/workflows/splitbench.yml"} <= set(files)
    missing = [f for f in files if not (EXAMPLE / f).is_file()]
    assert not missing
