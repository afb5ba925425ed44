"""The environment of a sweep: its keys, and what differences() reports or ignores."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from pathlib import Path
from typing import Any

import pytest

from splitbench.harness import env as env_module
from splitbench.harness.env import COMPARED, PACKAGES, differences, environment

KEYS = {
    "python",
    "implementation",
    "platform",
    "machine",
    "cpu",
    "cpu_count",
    "memory_bytes",
    "packages",
    "splitbench_commit",
    "suite_file",
    "suite_sha256",
    "suite_commit",
    "created_at",
}


@pytest.fixture(scope="module")
def env() -> dict[str, Any]:
    return environment()


def test_environment_has_the_keys_and_is_json_ready(env: dict[str, Any]) -> None:
    assert set(env) == KEYS
    assert json.loads(json.dumps(env)) == env
    assert env["python"] == platform.python_version()
    assert env["cpu_count"] == os.cpu_count()
    assert env["memory_bytes"] is None or env["memory_bytes"] > 0
    assert env["created_at"].endswith("+00:00")
    assert list(env["packages"]) == list(PACKAGES)


def test_package_versions_come_from_the_metadata(env: dict[str, Any]) -> None:
    import pyarrow

    assert env["packages"]["pyarrow"] == pyarrow.__version__
    assert env["packages"]["splitbench"] is not None


def test_a_missing_package_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env_module, "PACKAGES", ("no-such-distribution-xyz",))
    assert environment()["packages"] == {"no-such-distribution-xyz": None}


def test_the_commit_is_a_hash_or_none(env: dict[str, Any]) -> None:
    commit = env["splitbench_commit"]
    assert commit is None or re.fullmatch(r"[0-9a-f]{40}(-dirty)?", commit), commit


def test_a_suite_file_outside_git(tmp_path: Path) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_bytes(b"name = 'tiny'\n")
    got = environment(suite)
    assert got["suite_file"] == str(suite)
    assert got["suite_sha256"] == hashlib.sha256(b"name = 'tiny'\n").hexdigest()
    assert got["suite_commit"] is None


def test_no_suite_file(env: dict[str, Any]) -> None:
    assert env["suite_file"] is env["suite_sha256"] is env["suite_commit"] is None


def test_a_missing_suite_file_does_not_raise(tmp_path: Path) -> None:
    got = environment(tmp_path / "gone.toml")
    assert got["suite_sha256"] is None and got["suite_commit"] is None


def test_not_a_checkout_and_no_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env_module, "_PACKAGE_DIR", tmp_path)
    assert environment(None)["splitbench_commit"] is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on the path at all
    monkeypatch.setattr(env_module, "_PACKAGE_DIR", Path(env_module.__file__).parent)
    suite = tmp_path / "s.toml"
    suite.write_text("x = 1\n", encoding="utf-8")
    got = environment(suite)
    assert got["splitbench_commit"] is None and got["suite_commit"] is None


def test_differences_finds_a_changed_package(env: dict[str, Any]) -> None:
    other = {**env, "packages": {**env["packages"], "highspy": "0.0.1"}}
    lines = differences(env, other)
    assert lines == [f"highspy: {env['packages']['highspy'] or 'not installed'} vs 0.0.1"]


def test_differences_ignores_time_commits_and_suite(env: dict[str, Any]) -> None:
    other = {
        **env,
        "created_at": "2000-01-01T00:00:00+00:00",
        "splitbench_commit": "f" * 40,
        "suite_file": "elsewhere.toml",
        "suite_sha256": "0" * 64,
        "suite_commit": "e" * 40,
        "memory_bytes": 1,
    }
    assert differences(env, other) == []
    assert differences(env, env) == []


def test_differences_names_each_machine_entry() -> None:
    a: dict[str, Any] = {key: f"a-{key}" for key in COMPARED}
    b: dict[str, Any] = {key: f"b-{key}" for key in COMPARED}
    assert differences(a, b) == [f"{key}: a-{key} vs b-{key}" for key in COMPARED]


def test_differences_with_packages_on_one_side_only() -> None:
    a = {"packages": {"numpy": "2.0.0"}}
    b = {"packages": {"numpy": "2.0.0", "pyscipopt": "5.1.1"}}
    assert differences(a, b) == ["pyscipopt: not installed vs 5.1.1"]
    assert differences(b, a) == ["pyscipopt: 5.1.1 vs not installed"]
    assert differences({}, {"cpu_count": 4}) == ["cpu_count: unknown vs 4"]


def test_a_tracked_suite_file_has_its_commit() -> None:
    tracked = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if environment()["splitbench_commit"] is None:
        pytest.skip("not run from a git checkout")
    commit = environment(tracked)["suite_commit"]
    assert commit is not None and re.fullmatch(r"[0-9a-f]{40}", commit), commit
