"""The sweep runner with real worker processes: isolation, guard, resume, batching."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from splitbench.harness import executors
from splitbench.harness.record import Record
from splitbench.harness.runner import batches, plan, run_suite
from splitbench.harness.store import ResultStore
from splitbench.harness.suite import load_suite, parse_suite
from splitbench.methods import METHODS

PLUGIN = textwrap.dedent(
    '''
    """Methods that misbehave, for the harness tests."""
    import os
    import signal
    import time

    from splitbench.answer import MethodResult
    from splitbench.methods import MethodSpec
    from splitbench.status import Status


    def _raise(instance, options):
        raise RuntimeError("the heuristic broke")


    def _exit(instance, options):
        os._exit(3)


    def _segfault(instance, options):
        os.kill(os.getpid(), signal.SIGSEGV)


    def _hang(instance, options):
        time.sleep(600)
        return MethodResult(Status.NONE)


    SPLITBENCH_METHODS = [
        MethodSpec("bad-raise", _raise, "raises"),
        MethodSpec("bad-exit", _exit, "calls os._exit(3)"),
        MethodSpec("bad-signal", _segfault, "kills itself with SIGSEGV"),
        MethodSpec("bad-hang", _hang, "ignores its time limit"),
    ]
    '''
)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "misbehave.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(folder))
    before = set(METHODS.names())
    yield "misbehave"
    for name in set(METHODS.names()) - before:  # leave the registry as it was
        METHODS.unregister(name)
    sys.modules.pop("misbehave", None)


def _records(folder: Path) -> list[Record]:
    return ResultStore(folder).read_records()


def test_failures_become_records_and_the_sweep_goes_on(
    tmp_path: Path, plugin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors, "GUARD_MARGIN_S", 1.0)
    suite = parse_suite(
        f"""
        plugin = "{plugin}"
        time-limit = 0.5
        [[families]]
        family = "tiny"
        seed = [0, 1]
        [[methods]]
        method = ["fin", "bad-raise", "bad-exit", "bad-signal", "bad-hang", "exhaustive"]
        """,
        "misbehave.toml",
    )
    summary = run_suite(suite, tmp_path / "out", jobs=2)
    records = {(r.method, r.seed): r for r in _records(tmp_path / "out")}
    assert len(records) == summary.planned == 12
    for seed in (0, 1):
        assert records["fin", seed].termination == "completed"
        assert records["exhaustive", seed].status == "optimal"
        raised = records["bad-raise", seed]
        assert (raised.termination, raised.status) == ("error", "none")
        assert raised.reason == "RuntimeError: the heuristic broke"
        assert records["bad-exit", seed].termination == "error"
        assert "exited with status 3" in (records["bad-exit", seed].reason or "")
        assert "SIGSEGV" in (records["bad-signal", seed].reason or "")
        hung = records["bad-hang", seed]
        assert hung.termination == "time_limit"
        assert "killed by the harness" in (hung.reason or "")
        assert hung.wall_time_s is not None and hung.wall_time_s < 5
    assert summary.errors == 6 and summary.time_limits == 2
    assert (tmp_path / "out" / "results.parquet").is_file()


def test_a_second_run_needs_resume(tmp_path: Path) -> None:
    from splitbench.errors import UsageError

    suite = parse_suite('[[families]]\nfamily = "tiny"\n[[methods]]\nmethod = "fin"\n', "a.toml")
    run_suite(suite, tmp_path / "out")
    with pytest.raises(UsageError, match="add --resume"):
        run_suite(suite, tmp_path / "out")
    again = run_suite(suite, tmp_path / "out", resume=True)
    assert (again.ran, again.resumed) == (0, 1)


def test_resume_refuses_another_suite(tmp_path: Path) -> None:
    from splitbench.errors import UsageError

    one = tmp_path / "one.toml"
    one.write_text('[[families]]\nfamily = "tiny"\n[[methods]]\nmethod = "fin"\n')
    run_suite(load_suite(one), tmp_path / "out")
    two = tmp_path / "two.toml"
    two.write_text('[[families]]\nfamily = "tiny"\n[[methods]]\nmethod = "larac"\n')
    with pytest.raises(UsageError, match="another suite"):
        run_suite(load_suite(two), tmp_path / "out", resume=True)


def test_graph_runs_are_batched_solver_runs_are_not() -> None:
    suite = parse_suite(
        """
        [[families]]
        family = "tiny"
        seed = { start = 0, count = 20 }
        [[methods]]
        method = ["fin", "layered-sp", "routing-milp"]
        """,
        "b.toml",
    )
    instances, tasks = plan(suite)
    work = batches(tasks, 2, {p.instance_id: "x" for p in instances})
    solver_batches = [b for b in work if b.tasks[0].solver is not None]
    graph_batches = [b for b in work if b.tasks[0].solver is None]
    assert all(len(b.tasks) == 1 for b in solver_batches) and len(solver_batches) == 20
    assert len(graph_batches) == 8 and {len(b.tasks) for b in graph_batches} == {5}
    assert sum(len(b.tasks) for b in work) == len(tasks) == 60


SLOW_SUITE = """
time-limit = 20
[[families]]
family = "tiny"
param = { distribution = ["milp", "graph"] }
seed = { start = 0, count = 8 }
[[methods]]
method = ["routing-milp", "assignment-milp"]
solver = ["highs", "cbc"]
[[methods]]
method = ["exhaustive", "fin", "label-setting"]
"""


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "splitbench", *args]


def test_sigkill_then_resume_keeps_every_record_once(tmp_path: Path) -> None:
    suite = tmp_path / "slow.toml"
    suite.write_text(SLOW_SUITE)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _cli("run", str(suite), "-o", str(out), "--jobs", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    records = out / "records.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if records.exists() and records.read_bytes().count(b"\n") >= 10:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = records.read_bytes()
    kept = [json.loads(line) for line in before.split(b"\n")[:-1]]
    assert 10 <= len(kept) < 16 * 7, "the kill came too late to test anything"
    assert not (out / "results.parquet").exists()
    done = subprocess.run(
        _cli("run", str(suite), "-o", str(out), "--jobs", "2", "--resume"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    after = _records(out)
    ids = [r.run_id for r in after]
    assert len(ids) == len(set(ids)) == 16 * 7  # none repeated, none lost
    assert {r["run_id"] for r in kept} <= set(ids)
    whole = records.read_bytes()
    complete = before[: before.rfind(b"\n") + 1]
    assert whole.startswith(complete)  # the finished records are kept as they were
    assert f"{16 * 7} runs" in done.stdout and "already recorded" in done.stdout


def test_workers_do_not_outlive_a_killed_runner(tmp_path: Path, plugin: str) -> None:
    suite = tmp_path / "hang.toml"
    suite.write_text(
        f'plugin = "{plugin}"\ntime-limit = 600\n[[families]]\nfamily = "tiny"\n'
        '[[methods]]\nmethod = "bad-hang"\n'
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(
        _cli("run", str(suite), "-o", str(tmp_path / "out")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    time.sleep(3)
    children = subprocess.run(
        ["pgrep", "-f", "splitbench.harness.worker --plugin misbehave"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert children, "no worker process was found"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    time.sleep(0.5)
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        )
