"""Careless and hostile input at the command line: one line naming the file and the
field, exit status 2, never a traceback, never unbounded work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from splitbench.instance import example_instance, instance_to_dict


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "splitbench", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def one_usage_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def write(tmp_path: Path, data: Any, name: str = "inst.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_a_device_is_not_read() -> None:
    one_usage_line(cli("validate", "/dev/zero"), "/dev/zero", "not a regular file")


def test_a_fifo_without_a_writer_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    # opening a FIFO for reading blocks until a writer comes: the check must not open it
    one_usage_line(cli("validate", str(fifo)), "pipe.json", "not a regular file")


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(300 * 2**20)  # sparse: no disk used
    one_usage_line(cli("validate", str(path)), "huge.json", "MiB")


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    text = json.dumps(instance_to_dict(example_instance()))
    text = text.replace('"name": ', '"name": "first", "name": ', 1)
    one_usage_line(cli("validate", str(write(tmp_path, text))), "name", "given twice")


@pytest.mark.parametrize(
    ("field", "value"),
    [("ops", 1.7e308), ("output_bytes", 1e300)],
)
def test_numbers_that_would_overflow_are_refused(tmp_path: Path, field: str, value: float) -> None:
    data = instance_to_dict(example_instance())
    data["dnn"]["blocks"][0][field] = value
    one_usage_line(cli("validate", str(write(tmp_path, data))), f"dnn.blocks[0].{field}")


def test_a_denormal_bandwidth_is_refused(tmp_path: Path) -> None:
    data = instance_to_dict(example_instance())
    data["network"]["links"][0]["bandwidth_bps"] = 5e-324
    one_usage_line(cli("validate", str(write(tmp_path, data))), "network.links[0].bandwidth_bps")


def test_output_into_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "x.json"
    one_usage_line(cli("generate", "tiny", "-o", str(target)), "does not exist")


def test_output_onto_a_folder(tmp_path: Path) -> None:
    one_usage_line(cli("generate", "tiny", "-o", str(tmp_path)), "is a folder")


def test_export_names_its_file_after_the_id_not_the_name(tmp_path: Path) -> None:
    data = instance_to_dict(example_instance())
    data["name"] = "../escaped"
    path = write(tmp_path, data)
    work = tmp_path / "work"
    work.mkdir()
    done = cli("export", str(path), "--formulation", "routing", cwd=work)
    assert done.returncode == 0, done.stderr
    written = list(work.iterdir())
    assert len(written) == 1 and written[0].suffix == ".mps"
    assert not (tmp_path / "escaped-routing.mps").exists()


def test_export_refuses_another_format(tmp_path: Path, example_path: Path) -> None:
    one_usage_line(
        cli("export", str(example_path), "--formulation", "routing", "-o", str(tmp_path / "x.lp")),
        ".mps",
    )


def test_control_characters_in_ids_are_escaped(tmp_path: Path) -> None:
    data = instance_to_dict(example_instance())
    data["name"] = "two\nlines\x1b[31m"
    done = cli("solve", str(write(tmp_path, data)), "--method", "fin")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    assert done.stdout.splitlines()[0] == "instance     two\\nlines\\x1b[31m"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["generate", "tiny", "--seed", "-1"], ["seed"]),
        (["generate", "random-chain", "--param", "blocks=0"], ["blocks"]),
        (["generate", "random-chain", "--param", "nodes=-3"], ["nodes"]),
        (["generate", "random-chain", "--param", "nodes=10000000000"], ["nodes"]),
    ],
)
def test_family_parameters_are_bounded(args: list[str], words: list[str]) -> None:
    one_usage_line(cli(*args), *words)


@pytest.mark.parametrize("limit", ["nan", "-1", "0", "inf"])
def test_bad_time_limits(example_path: Path, limit: str) -> None:
    one_usage_line(
        cli("solve", str(example_path), "--method", "routing-milp", "--time-limit", limit),
        "time-limit",
    )


def test_an_empty_pyomo_solver_name(example_path: Path) -> None:
    one_usage_line(
        cli("solve", str(example_path), "--method", "routing-milp", "--solver", "pyomo:"),
        "pyomo:",
    )


def test_a_method_that_fails_exits_1(tmp_path: Path, example_path: Path) -> None:
    (tmp_path / "broken_plugin.py").write_text(
        "from splitbench.methods import MethodSpec\n"
        "def run(instance, options):\n"
        "    raise RuntimeError('boom')\n"
        "SPLITBENCH_METHODS = [MethodSpec(name='broken', run=run, description='raises')]\n",
        encoding="utf-8",
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "splitbench",
            "solve",
            str(example_path),
            "--method",
            "broken",
            "--plugin",
            "broken_plugin",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert (data["status"], data["termination"]) == ("none", "error")
    assert data["reason"] == "RuntimeError: boom"
