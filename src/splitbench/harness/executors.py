"""Where runs execute: isolated worker processes, here or on a Dask cluster.

Every run executes in a worker process (:mod:`splitbench.harness.worker`) that the
parent watches through an :class:`IsolatedWorker`:

- a run that raises is a record with termination ``error`` (the worker catches it);
- a worker that dies (``os._exit``, a signal, a crash inside a solver library) gives
  the run it was on a record with termination ``error`` and the exit status or
  signal; a fresh worker takes the rest of the batch;
- a run that does not answer within its guard (the time limit plus
  :func:`guard_s`'s margin) is killed: termination ``time_limit``, with the reason.

So a sweep goes on whatever a method does. :class:`LocalExecutor` keeps ``jobs``
workers busy from threads; :class:`DaskExecutor` sends the same batches to a Dask
distributed cluster, where each task drives an :class:`IsolatedWorker` of its own,
so the records are the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from splitbench.harness.record import Record, RunTask, now_iso
from splitbench.status import Termination

__all__ = [
    "Batch",
    "DaskExecutor",
    "IsolatedWorker",
    "LocalExecutor",
    "guard_s",
]

GUARD_MARGIN_S = 10.0
"""Seconds a run may take beyond its time limit before the harness kills it."""

GUARD_FACTOR = 0.5
"""And a share of the time limit on top (long limits get a longer grace)."""

NO_LIMIT_GUARD_S = 3600.0
"""The guard of a run without a time limit."""

STARTUP_TIMEOUT_S = 120.0
"""How long a new worker may take to import its packages."""

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def guard_s(time_limit_s: float | None) -> float:
    """The wall-clock guard above a run's own time limit.

    Examples
    --------
    >>> guard_s(2.0), guard_s(60.0)
    (13.0, 100.0)
    """
    if time_limit_s is None:
        return NO_LIMIT_GUARD_S
    return time_limit_s * (1.0 + GUARD_FACTOR) + GUARD_MARGIN_S


@dataclass(frozen=True)
class Batch:
    """Runs sent to one worker together, with the instances they need.

    ``instances`` maps instance id to the instance's JSON data or a file path.
    """

    tasks: tuple[RunTask, ...]
    instances: Mapping[str, Any] = field(default_factory=dict)

    def message(self, tasks: Sequence[RunTask] | None = None) -> str:
        """The batch as one JSON line for the worker."""
        chosen = self.tasks if tasks is None else tasks
        wanted = {t.instance_id for t in chosen}
        data = {
            "tasks": [t.to_dict() for t in chosen],
            "instances": {k: v for k, v in self.instances.items() if k in wanted},
        }
        return json.dumps(data, allow_nan=False) + "\n"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _death(returncode: int | None) -> str:
    if returncode is None:
        return "the worker process stopped answering"
    if returncode < 0:
        return f"the worker process was killed by {_signal_name(-returncode)}"
    return f"the worker process exited with status {returncode}"


class IsolatedWorker:
    """One worker process, restarted whenever a run kills or outlives it.

    Parameters
    ----------
    plugins : sequence of str
        Modules the worker imports for user methods.
    log : path, optional
        Where the worker's stderr goes (solver chatter, tracebacks); discarded if None.
    """

    def __init__(self, plugins: Sequence[str] = (), log: Path | None = None) -> None:
        self._plugins = tuple(plugins)
        self._log = log
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._log_file: IO[bytes] | None = None

    def _command(self) -> list[str]:
        cmd = [sys.executable, "-m", "splitbench.harness.worker"]
        for module in self._plugins:
            cmd += ["--plugin", module]
        return cmd

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env.update({name: "1" for name in _THREAD_VARIABLES})
        # the parent's import path, so a --plugin module found here is found there
        env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path)
        if self._log is not None and self._log_file is None:
            self._log.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = open(self._log, "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file if self._log_file is not None else subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # a Ctrl-C of the terminal reaches the parent only
        )
        self._proc, self._buffer = proc, b""
        ready = self._read_message(STARTUP_TIMEOUT_S)
        if ready is None or "ready" not in ready:
            self.stop()
            raise RuntimeError(f"a worker process did not start: {_death(proc.poll())}")
        return proc

    def _read_message(self, timeout_s: float) -> dict[str, Any] | None:
        """The next protocol line, or None on timeout or end of output."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def stop(self) -> None:
        """Kill the worker process (if any) and reap it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def close(self) -> None:
        """Stop the worker and close its log."""
        self.stop()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def run(self, batch: Batch) -> Iterator[Record]:
        """The records of ``batch``'s runs, as each one ends (in the batch's order)."""
        pending = list(batch.tasks)
        while pending:
            proc = self._proc if self._proc and self._proc.poll() is None else self._start()
            assert proc.stdin is not None
            try:
                proc.stdin.write(batch.message(pending).encode())
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.stop()
                continue
            while pending:
                task = pending[0]
                guard = guard_s(task.time_limit_s)
                started, started_at = time.monotonic(), now_iso()
                message = self._read_message(guard)
                if message is not None and "record" in message:
                    pending.pop(0)
                    yield Record.from_dict(message["record"])
                    continue
                if message is not None and "done" in message:
                    continue  # the batch's end marker after its last record
                waited = time.monotonic() - started
                if message is None and proc.poll() is None and waited >= guard:
                    termination = Termination.TIME_LIMIT.value
                    reason = (
                        f"killed by the harness after {waited:.1f} s without an answer "
                        f"(time limit {task.time_limit_s} s, guard {guard:.1f} s)"
                    )
                    self.stop()
                else:
                    if proc.poll() is None:  # no answer, yet alive: closed its output
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            proc.wait(timeout=2.0)
                    died = _death(proc.poll())
                    self.stop()
                    termination = Termination.ERROR.value
                    reason = f"{died} during this run"
                pending.pop(0)
                yield task.record(
                    started_at=started_at,
                    termination=termination,
                    reason=reason,
                    wall_time_s=waited,
                    worker="harness",
                )
                break
            else:
                done = self._read_message(5.0)  # the batch's end marker
                if done is None or "done" not in done:
                    self.stop()


class LocalExecutor:
    """``jobs`` isolated workers on this machine, fed from threads.

    Parameters
    ----------
    jobs : int
        Worker processes running at once.
    plugins : sequence of str
        Modules for user methods.
    log_dir : path, optional
        Where each worker's stderr is kept (``worker-N.log``).
    """

    def __init__(
        self, jobs: int = 1, plugins: Sequence[str] = (), log_dir: Path | None = None
    ) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs, self.plugins, self.log_dir = jobs, tuple(plugins), log_dir

    def run(self, batches: Sequence[Batch]) -> Iterator[Record]:
        """The records of every batch, as runs end (order across batches varies)."""
        work: queue.Queue[Batch | None] = queue.Queue()
        for batch in batches:
            work.put(batch)
        results: queue.Queue[Record | BaseException | None] = queue.Queue()
        stop = threading.Event()
        workers: list[IsolatedWorker] = []

        def serve(index: int) -> None:
            log = self.log_dir / f"worker-{index}.log" if self.log_dir else None
            worker = IsolatedWorker(self.plugins, log)
            workers.append(worker)
            try:
                while not stop.is_set():
                    try:
                        batch = work.get_nowait()
                    except queue.Empty:
                        return
                    if batch is None:
                        return
                    for record in worker.run(batch):
                        results.put(record)
                        if stop.is_set():
                            return
            except BaseException as err:
                results.put(err)
            finally:
                worker.close()
                results.put(None)

        threads = [
            threading.Thread(target=serve, args=(i,), daemon=True)
            for i in range(min(self.jobs, max(1, len(batches))))
        ]
        for thread in threads:
            thread.start()
        running = len(threads)
        try:
            while running:
                item = results.get()
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            stop.set()
            for worker in list(workers):
                worker.stop()
            for thread in threads:
                thread.join(timeout=10)


_DASK_WORKERS: dict[tuple[str, ...], IsolatedWorker] = {}
_DASK_LOCK = threading.Lock()


def run_batch_isolated(batch: Batch, plugins: tuple[str, ...]) -> list[dict[str, Any]]:
    """A Dask task: run ``batch`` in an isolated worker of this Dask worker process.

    The isolated worker is kept for the next tasks (one per plugin set), so its
    start-up is paid once per Dask worker, as with the local executor.
    """
    with _DASK_LOCK:
        worker = _DASK_WORKERS.get(plugins)
        if worker is None:
            worker = _DASK_WORKERS[plugins] = IsolatedWorker(plugins)
        return [record.to_dict() for record in worker.run(batch)]


class DaskExecutor:
    """The same batches on a Dask distributed cluster.

    Parameters
    ----------
    scheduler : str, optional
        The scheduler's address; without one a ``LocalCluster`` of ``jobs``
        single-threaded worker processes is started and stopped here.
    jobs : int
        Workers of the local cluster (ignored with a scheduler).
    plugins : sequence of str
        Modules for user methods (importable on every worker).
    """

    def __init__(
        self, scheduler: str | None = None, jobs: int = 1, plugins: Sequence[str] = ()
    ) -> None:
        self.scheduler, self.jobs, self.plugins = scheduler, jobs, tuple(plugins)

    def run(self, batches: Sequence[Batch]) -> Iterator[Record]:
        """The records of every batch, as batches end."""
        try:
            from dask.distributed import Client, LocalCluster, as_completed
        except ImportError:
            raise RuntimeError(
                "--executor dask needs Dask distributed: pip install 'splitbench[dask]'"
            ) from None
        cluster = None
        if self.scheduler is None:
            cluster = LocalCluster(
                n_workers=self.jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            client = Client(self.scheduler)
        try:
            futures = [
                client.submit(run_batch_isolated, batch, self.plugins, pure=False)
                for batch in batches
            ]
            for future in as_completed(futures):
                for data in future.result():
                    yield Record.from_dict(data)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
