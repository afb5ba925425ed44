"""Shared fixtures: the shipped example, its file, and writing instance files."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from splitbench.instance import Instance, instance_to_dict, load_instance


@pytest.fixture(scope="session")
def example_path() -> Path:
    """The shipped example file (B-AlexNet on CIFAR-10, the FIN scenario)."""
    ref = resources.files("splitbench") / "data" / "examples" / "fin-b-alexnet-cifar10.json"
    path = Path(str(ref))
    assert path.is_file(), path
    return path


@pytest.fixture(scope="session")
def example(example_path: Path) -> Instance:
    """The example instance, loaded from its file."""
    return load_instance(example_path)


@pytest.fixture
def example_dict(example: Instance) -> dict[str, Any]:
    """A fresh, mutable copy of the example in its JSON form."""
    result: dict[str, Any] = json.loads(json.dumps(instance_to_dict(example)))
    return result


@pytest.fixture
def write_json(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Write JSON-ready data (or raw text) to a file under ``tmp_path``; returns its path."""

    def write(data: Any, name: str = "instance.json") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else json.dumps(data, indent=2)
        path.write_text(text, encoding="utf-8")
        return path

    return write
