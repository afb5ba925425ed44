"""The README's Python examples run as written (the heuristic's placeholder filled in)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from splitbench.methods import METHODS

README = Path(__file__).parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_its_python_examples() -> None:
    assert len(python_blocks()) == 2


def test_the_python_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    first, heuristic = python_blocks()
    heuristic = heuristic.replace("placement = ...", "placement = mine")
    namespace: dict[str, object] = {}
    cwd = os.getcwd()
    os.chdir(README.parent)
    try:
        exec(compile(first, "README (From Python)", "exec"), namespace)
        exec(compile(heuristic, "README (your own heuristic)", "exec"), namespace)
    finally:
        os.chdir(cwd)
        METHODS.unregister("my-heuristic")
    out = capsys.readouterr().out
    assert "0.199" in out
    assert "optimal 0.0856" in out
    # the MCP placement meets the 5 ms deadline but not the optimum: a gap, not a violation
    assert "gap to the optimum:" in out
