"""The sweep: expand a suite into runs, execute them isolated, keep every record.

:func:`plan` turns a :class:`~splitbench.harness.suite.Suite` into instances and
:class:`~splitbench.harness.record.RunTask` objects (generating every instance once,
before any run); :func:`run_suite` writes them to a results folder:

- ``instances/ID.json``: every instance, so any record can be re-solved or re-checked;
- ``records.jsonl``: one record per finished run, appended and flushed as it ends;
- ``environment.json`` and ``suite.toml``: where it ran and what was asked;
- ``results.parquet``: all records with the derived fields (reference optimum, gaps,
  disagreement) and the environment, written when the sweep ends.

``resume=True`` skips every run whose key is already recorded, so a killed sweep
goes on without repeating or losing a run. Graph methods run in batches (their runs
take milliseconds, a process round trip would dominate); solver-based runs go one
by one.

Examples
--------
>>> from splitbench.harness.suite import parse_suite
>>> suite = parse_suite('''
... [[families]]
... family = "tiny"
... seed = [0, 1]
... [[methods]]
... method = ["exhaustive", "fin"]
... ''', "demo.toml")
>>> instances, tasks = plan(suite)
>>> len(instances), len(tasks), tasks[0].method, tasks[0].time_limit_s
(2, 4, 'exhaustive', 60.0)
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from splitbench.errors import SplitbenchError, UsageError
from splitbench.families import generate
from splitbench.harness.env import environment
from splitbench.harness.executors import Batch, DaskExecutor, LocalExecutor
from splitbench.harness.metrics import derive
from splitbench.harness.record import Record, RunTask, canonical_params, now_iso, run_key
from splitbench.harness.store import ResultStore
from splitbench.harness.suite import Suite
from splitbench.instance import MultiInstance, dumps_any, instance_id, load_any
from splitbench.instance.dump import any_to_dict
from splitbench.instance.model import Instance
from splitbench.methods import check_settings, find_method, load_entry_points, load_plugin
from splitbench.params import parse_params
from splitbench.solvers.registry import make_solver
from splitbench.status import Termination

__all__ = ["PlannedInstance", "SweepSummary", "batches", "plan", "run_suite"]

MAX_BATCH = 50
"""The most graph-method runs sent to a worker at once."""

SUITE_COPY = "suite.toml"


@dataclass(frozen=True)
class PlannedInstance:
    """An instance of the sweep and where it came from."""

    instance_id: str
    instance: Instance | MultiInstance
    family: str
    params: str
    seed: int | None


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep did.

    Attributes
    ----------
    directory : Path
        The results folder.
    planned, ran, resumed : int
        Runs in the suite, run now, and found already recorded.
    errors, time_limits, skipped, disagreements : int
        Records (of the whole folder) with those outcomes.
    parquet : Path or None
        The consolidated file (None when interrupted).
    """

    directory: Path
    planned: int
    ran: int
    resumed: int
    errors: int
    time_limits: int
    skipped: int
    disagreements: int
    parquet: Path | None

    def text(self) -> str:
        """Two lines for the terminal."""
        first = (
            f"{self.planned} runs: {self.ran} run now, {self.resumed} already recorded; "
            f"{self.errors} errors, {self.time_limits} time limits, {self.skipped} skipped, "
            f"{self.disagreements} disagreements"
        )
        where = self.parquet if self.parquet is not None else self.directory / "records.jsonl"
        return f"{first}\nresults: {where}"


def _sizes(instance: Instance | MultiInstance) -> tuple[int, str]:
    """Blocks (over all requests) and the objective's name."""
    if isinstance(instance, MultiInstance):
        blocks = sum(instance.dnn(r.dnn).n_blocks for r in instance.requests)
        return blocks, instance.objective.value
    return instance.dnn.n_blocks, instance.request.objective.value


def _instances(suite: Suite) -> list[PlannedInstance]:
    source = str(suite.path) if suite.path else suite.name
    out: list[PlannedInstance] = []
    for i, entry in enumerate(suite.families):
        for point in entry.points():
            for seed in entry.seeds:
                try:
                    inst = generate(entry.family, point, seed=seed)
                except SplitbenchError as err:
                    raise UsageError(f"{source}: families[{i}]: {err}") from None
                out.append(
                    PlannedInstance(
                        instance_id(inst), inst, entry.family, canonical_params(point), seed
                    )
                )
    for path in suite.instance_files:
        inst = load_any(path)
        out.append(
            PlannedInstance(
                instance_id(inst), inst, "file", canonical_params({"path": str(path)}), None
            )
        )
    return out


def plan(
    suite: Suite, *, time_limit_s: float | None = None
) -> tuple[list[PlannedInstance], list[RunTask]]:
    """The instances and runs of ``suite`` (a run listed twice is kept once).

    ``time_limit_s`` overrides the suite's limits (the command line's ``--time-limit``).
    """
    instances = _instances(suite)
    tasks: dict[str, RunTask] = {}
    for planned in instances:
        inst = planned.instance
        blocks, objective = _sizes(inst)
        for entry in suite.methods:
            for name in entry.methods:
                spec = find_method(name)
                solvers: Sequence[str | None] = (
                    (entry.solvers or suite.solvers) if spec.uses_solver else (None,)
                )
                limit = time_limit_s or entry.time_limit_s or suite.time_limit_s
                for point in entry.points():
                    values = parse_params(f"method {name!r}", spec.all_params, point)
                    given = {key: values[key] for key in point}
                    for solver in solvers:
                        for rep in range(suite.repetitions):
                            key = run_key(
                                planned.instance_id, name, given, solver, planned.seed, rep
                            )
                            tasks.setdefault(
                                key,
                                RunTask(
                                    run_id=key,
                                    suite=suite.name,
                                    family=planned.family,
                                    instance_id=planned.instance_id,
                                    instance_name=inst.name or planned.instance_id,
                                    instance_params=planned.params,
                                    seed=planned.seed,
                                    repetition=rep,
                                    n_blocks=blocks,
                                    n_nodes=len(inst.network.nodes),
                                    n_arcs=len(inst.network.arcs),
                                    objective_kind=objective,
                                    method=name,
                                    method_params=given,
                                    solver=solver,
                                    time_limit_s=limit,
                                    exact=spec.exact_on(inst, values),
                                    guarantees_feasible=spec.guarantees_feasible,
                                    n_requests=(
                                        len(inst.requests) if isinstance(inst, MultiInstance) else 1
                                    ),
                                ),
                            )
    return instances, list(tasks.values())


def batches(tasks: Sequence[RunTask], jobs: int, instances: Mapping[str, Any]) -> list[Batch]:
    """Group runs for the workers: solver-based runs alone, graph runs together.

    Graph runs are cut into batches of at most :data:`MAX_BATCH`, and small enough
    that every job gets several (so the last batches do not leave a worker idle).
    """
    solver_runs = [t for t in tasks if t.solver is not None]
    graph_runs = [t for t in tasks if t.solver is None]
    size = max(1, min(MAX_BATCH, math.ceil(len(graph_runs) / (4 * max(1, jobs)))))
    groups: list[tuple[RunTask, ...]] = [(t,) for t in solver_runs]
    groups += [tuple(graph_runs[i : i + size]) for i in range(0, len(graph_runs), size)]
    out = []
    for group in groups:
        wanted = {t.instance_id for t in group}
        out.append(Batch(group, {k: instances[k] for k in wanted}))
    return out


def _unavailable(tasks: Sequence[RunTask]) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for name in {t.solver for t in tasks if t.solver is not None}:
        reason = make_solver(name).unavailable_reason()
        if reason is not None:
            reasons[name] = f"solver {name!r} is not available here: {reason}"
    return reasons


def _suite_text(suite: Suite) -> bytes:
    return suite.path.read_bytes() if suite.path else b""


def _prepare(store: ResultStore, suite: Suite, resume: bool) -> None:
    store.open(resume=resume)
    copy = store.directory / SUITE_COPY
    text = _suite_text(suite)
    if copy.exists() and resume:
        if hashlib.sha256(copy.read_bytes()).digest() != hashlib.sha256(text).digest():
            store.close()
            raise UsageError(
                f"-o {store.directory}: was run with another suite ({copy}); "
                "resume it with the same suite, or choose another folder"
            )
    else:
        copy.write_bytes(text)
    store.write_environment(environment(suite.path))


def _progress_bar(total: int, initial: int) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="run",
        dynamic_ncols=True,
        disable=not sys.stderr.isatty(),
        file=sys.stderr,
    )


def run_suite(
    suite: Suite,
    directory: str | Path,
    *,
    jobs: int = 1,
    time_limit_s: float | None = None,
    resume: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    plugins: Sequence[str] = (),
) -> SweepSummary:
    """Run every run of ``suite`` not yet recorded in ``directory``.

    Parameters
    ----------
    suite : Suite
        What to run.
    directory : path
        The results folder (created).
    jobs : int
        Runs at once (worker processes, or local Dask workers).
    time_limit_s : float, optional
        Overrides the suite's time limits.
    resume : bool
        Go on with a folder that holds records of this suite.
    executor : {"local", "dask"}
        Where runs execute.
    scheduler : str, optional
        A Dask scheduler's address (default: a local cluster of ``jobs`` workers).
    plugins : sequence of str
        Modules of user methods (the suite's own ``plugin`` list is added).

    Raises
    ------
    UsageError
        For a folder that holds another sweep, or a suite whose instances cannot
        be generated.
    """
    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: must be at least 1")
    check_settings(time_limit_s)
    if executor not in ("local", "dask"):
        raise UsageError(f"--executor {executor}: expected local or dask")
    modules = tuple(dict.fromkeys([*plugins, *suite.plugins]))
    load_entry_points()
    for module in modules:
        load_plugin(module)
    instances, tasks = plan(suite, time_limit_s=time_limit_s)
    store = ResultStore(Path(directory))
    _prepare(store, suite, resume)
    folder = store.directory / "instances"
    folder.mkdir(exist_ok=True)
    sources: dict[str, str] = {}
    for planned in instances:
        path = folder / f"{planned.instance_id}.json"
        if not path.exists():
            path.write_text(dumps_any(planned.instance), encoding="utf-8")
        sources[planned.instance_id] = str(path.resolve())
    done = store.finished_ids()
    pending = [t for t in tasks if t.run_id not in done]
    resumed = len(tasks) - len(pending)
    unavailable = _unavailable(pending)
    bar = _progress_bar(len(tasks), resumed)
    failures = 0

    def keep(record: Record) -> None:
        nonlocal failures
        store.append(record)
        if record.termination in (Termination.ERROR.value, Termination.TIME_LIMIT.value):
            failures += 1
        bar.update(1)
        bar.set_postfix(failures=failures, refresh=False)

    try:
        for task in pending:
            if task.solver in unavailable:
                keep(
                    task.record(
                        started_at=now_iso(),
                        termination=Termination.SKIPPED.value,
                        reason=unavailable[task.solver],
                    )
                )
        runnable = [t for t in pending if t.solver not in unavailable]
        if executor == "dask":
            data = {p.instance_id: any_to_dict(p.instance) for p in instances}
            work = batches(runnable, jobs, {k: v for k, v in data.items()})
            runner = DaskExecutor(scheduler, jobs, modules).run(work)
        else:
            work = batches(runnable, jobs, {k: v for k, v in sources.items()})
            runner = LocalExecutor(jobs, modules, store.directory / "logs").run(work)
        for record in runner:
            keep(record)
    except KeyboardInterrupt:
        bar.close()
        kept = len(store.finished_ids())
        print(
            f"interrupted: {kept} records kept in {store.directory}; "
            "run again with --resume to go on",
            file=sys.stderr,
        )
        raise
    finally:
        bar.close()
        store.close()
    records = derive(store.read_records())
    parquet = store.consolidate(records, store.read_environment())
    return SweepSummary(
        directory=store.directory,
        planned=len(tasks),
        ran=len(pending),
        resumed=resumed,
        errors=sum(r.termination == Termination.ERROR.value for r in records),
        time_limits=sum(r.termination == Termination.TIME_LIMIT.value for r in records),
        skipped=sum(r.termination == Termination.SKIPPED.value for r in records),
        disagreements=sum(r.disagreement for r in records),
        parquet=parquet,
    )
