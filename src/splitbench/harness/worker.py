"""The worker process: runs batches of runs and answers one record per run.

``python -m splitbench.harness.worker [--plugin MODULE]...`` reads batches as JSON
lines on stdin and writes, on the stdout it started with, one line per finished run
(``{"record": {...}}``) and one per finished batch (``{"done": N}``). Whatever a
library prints (a solver's banner, from C or Python) goes to stderr instead, so the
protocol stays clean. The parent (:mod:`splitbench.harness.executors`) watches the
process: a run that does not answer within its guard, or a process that dies, is
recorded there.

A batch is ``{"tasks": [RunTask data, ...], "instances": {id: instance data or
path}}``; instances are parsed once and kept for the next batches.

Examples
--------
>>> from splitbench.instance import example_instance, instance_id, instance_to_dict
>>> inst = example_instance()
>>> task = RunTask("r1", "demo", "file", instance_id(inst), inst.name, "{}", None, 0,
...                5, 3, 4, "energy", "exhaustive", {}, None, 10.0, True, True)
>>> rec = run_task(task, inst)
>>> rec.status, rec.termination, round(rec.objective, 4), rec.mip_gap
('optimal', 'completed', 0.0856, 0.0)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

from splitbench.errors import SplitbenchError
from splitbench.harness.metrics import mip_gap
from splitbench.harness.record import Record, RunTask, now_iso
from splitbench.instance import any_from_dict, load_any
from splitbench.instance.model import Instance
from splitbench.instance.multi import MultiInstance
from splitbench.methods import load_entry_points, load_plugin, solve
from splitbench.status import Status, Termination

__all__ = ["InstanceCache", "main", "run_task"]

CACHE_SIZE = 32
"""Parsed instances a worker keeps between batches."""


def _where() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_task(task: RunTask, instance: Instance | MultiInstance) -> Record:
    """Run one task in this process and return its record (never raises).

    Bad input that the suite check could not see (a solver that cannot run here, a
    plugin's parameter refused at run time) gives termination ``skipped`` with the
    message; a failure of the method itself is ``error`` (the runner catches it).
    """
    started_at, start = now_iso(), time.perf_counter()
    try:
        sol = solve(
            instance,
            task.method,
            solver=task.solver,
            time_limit_s=task.time_limit_s,
            params=task.method_params,
        )
    except SplitbenchError as err:
        return task.record(
            started_at=started_at,
            termination=Termination.SKIPPED.value,
            reason=str(err),
            wall_time_s=time.perf_counter() - start,
            worker=_where(),
        )
    facts = sol.facts
    data = sol.to_dict()
    objective, bound = data["objective"], data["bound"]
    return task.record(
        started_at=started_at,
        instance_name=instance.name or task.instance_name,
        exact=sol.exact,
        status=sol.status.value,
        termination=sol.termination.value,
        reason=sol.reason,
        feasible=sol.feasible,
        n_violations=len(sol.violations),
        objective=objective,
        claimed_objective=data["claimed_objective"],
        bound=bound,
        latency_s=data["latency_s"],
        energy_j=data["energy_j"],
        accuracy=data["accuracy"],
        mip_gap=mip_gap(objective, bound) if sol.status is not Status.INFEASIBLE else None,
        build_time_s=sol.build_time_s,
        solve_time_s=sol.solve_time_s,
        verify_time_s=sol.verify_time_s,
        solver_time_s=sol.solver_time_s,
        wall_time_s=time.perf_counter() - start,
        formulation=facts.formulation,
        solver_version=facts.solver_version,
        n_vars=facts.n_vars,
        n_binaries=facts.n_binaries,
        n_rows=facts.n_rows,
        n_nonzeros=facts.n_nonzeros,
        nodes=facts.nodes,
        lp_bound=data["lp_bound"],
        lp_integral=facts.lp_integral,
        graph_vertices=facts.graph_vertices,
        graph_arcs=facts.graph_arcs,
        placement=(
            json.dumps(sol.placement.to_dict(), separators=(",", ":"))
            if sol.placement is not None
            else None
        ),
        max_node_utilization=data.get("max_node_utilization"),
        max_arc_utilization=data.get("max_arc_utilization"),
        worker=_where(),
    )


class InstanceCache:
    """Instances by id, parsed once (from data or a file), the newest kept."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[str, Instance | MultiInstance] = OrderedDict()

    def get(
        self, instance_id: str, source: Mapping[str, Any] | str | None
    ) -> Instance | MultiInstance:
        """The instance ``instance_id``, parsed from ``source`` if not kept yet."""
        if instance_id in self._items:
            self._items.move_to_end(instance_id)
            return self._items[instance_id]
        if source is None:
            raise KeyError(f"instance {instance_id} was neither sent nor kept")
        instance = load_any(source) if isinstance(source, str) else any_from_dict(source)
        self._items[instance_id] = instance
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return instance


def run_batch(batch: Mapping[str, Any], cache: InstanceCache, out: IO[str]) -> int:
    """Run every task of ``batch``, writing one record line per run to ``out``."""
    instances = batch.get("instances", {})
    count = 0
    for data in batch["tasks"]:
        task = RunTask.from_dict(data)
        try:
            instance = cache.get(task.instance_id, instances.get(task.instance_id))
        except Exception as err:  # an instance that cannot be read is this run's failure
            record = task.record(
                started_at=now_iso(),
                termination=Termination.ERROR.value,
                reason=f"cannot read the instance: {type(err).__name__}: {err}",
                worker=_where(),
            )
        else:
            try:
                record = run_task(task, instance)
            except Exception as err:  # recording failed: still one record for the run
                record = task.record(
                    started_at=now_iso(),
                    termination=Termination.ERROR.value,
                    reason=f"the run could not be recorded: {type(err).__name__}: {err}",
                    worker=_where(),
                )
        out.write(json.dumps({"record": record.to_dict()}, allow_nan=False) + "\n")
        out.flush()
        count += 1
    out.write(json.dumps({"done": count}) + "\n")
    out.flush()
    return count


def _protocol_stream() -> IO[str]:
    """The original stdout for the protocol; fd 1 and ``sys.stdout`` go to stderr."""
    sys.stdout.flush()
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    return proto


def main(argv: list[str] | None = None) -> int:
    """Serve batches from stdin until it closes."""
    parser = argparse.ArgumentParser(prog="python -m splitbench.harness.worker")
    parser.add_argument("--plugin", action="append", default=[])
    args = parser.parse_args(argv)
    proto = _protocol_stream()
    load_entry_points()
    for module in args.plugin:
        load_plugin(module)
    proto.write(json.dumps({"ready": _where()}) + "\n")
    proto.flush()
    cache = InstanceCache()
    for line in sys.stdin:
        if line.strip():
            run_batch(json.loads(line), cache, proto)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
