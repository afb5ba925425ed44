"""The result record: one typed row per run, the harness's contract.

A sweep writes one :class:`Record` per run, first as a JSON line (appended and
flushed as each run ends), then as a row of the consolidated parquet file. The
fields are the ARCHITECTURE.md record; every one is typed (str, int, float, bool or
None), so the parquet columns have fixed types. Parameters are canonical JSON text
(sorted keys) so that they can be compared and grouped as plain strings.

Four fields are derived after the runs, from all records of an instance:
``reference`` (the proven optimum), ``gap_to_reference``, ``primal_gap`` and
``disagreement``; a record that has not been consolidated yet has them None or False.

Examples
--------
>>> rec = Record(run_id="abc", method="fin", status="feasible", feasible=True, objective=0.5)
>>> rec.solved, rec.has_answer
(True, True)
>>> Record.from_dict(rec.to_dict()) == rec
True
>>> run_key("id1", "fin", {"gamma": 10}, None, 3, 0)
'bc39c098156fba90'
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, get_type_hints

from splitbench.status import Status, Termination

__all__ = ["RECORD_TYPES", "Record", "RunTask", "canonical_params", "now_iso", "run_key"]


def now_iso() -> str:
    """The current time as a record's ``started_at`` (ISO 8601, UTC, milliseconds)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def canonical_params(params: Mapping[str, Any] | None) -> str:
    """Parameters as canonical JSON text: sorted keys, no spaces.

    Examples
    --------
    >>> canonical_params({"lambda": -1, "gamma": 10})
    '{"gamma":10,"lambda":-1}'
    >>> canonical_params(None)
    '{}'
    """
    return json.dumps(dict(params or {}), sort_keys=True, separators=(",", ":"), allow_nan=False)


def run_key(
    instance_id: str,
    method: str,
    method_params: Mapping[str, Any] | str,
    solver: str | None,
    seed: int | None,
    repetition: int,
) -> str:
    """The identity of one run, as 16 hex digits: what ``--resume`` skips on.

    It hashes the instance id, the method, its parameters, the solver, the seed and
    the repetition (and nothing else: a changed time limit is the same run).
    """
    text = method_params if isinstance(method_params, str) else canonical_params(method_params)
    key = json.dumps([instance_id, method, text, solver, seed, repetition])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Record:
    """One run: what was run, what came out, how long it took.

    Attributes
    ----------
    run_id : str
        :func:`run_key` of the run.
    started_at : str
        When the run started (ISO 8601, UTC).
    suite, family : str
        The suite's name and the instance family (``file`` for an instance file).
    instance_id : str
        Hash of the canonical instance JSON.
    instance_name : str
        The instance's name.
    instance_params : str
        The family parameters, canonical JSON.
    seed : int or None
        The family seed (None for an instance file).
    repetition : int
        Which repetition of the same run (0, 1, ...).
    n_blocks, n_nodes, n_arcs : int
        The instance's size.
    objective_kind : str
        ``latency`` or ``energy``.
    method, method_params : str
        The method and its parameters (canonical JSON).
    formulation, solver, solver_version : str or None
        The MILP built and its backend.
    exact : bool
        Whether the method is exact on this instance.
    guarantees_feasible : bool
        Whether the method promises that every answer it returns is feasible.
    status, termination, reason
        The two status fields of the solution contract, and why.
    feasible : bool
        Whether the evaluator accepted the placement.
    n_violations : int
        The evaluator's violations.
    objective, claimed_objective, bound : float or None
        The evaluated objective, the method's own claim, a proven lower bound.
    latency_s, energy_j, accuracy : float or None
        The evaluated figures of the placement.
    mip_gap : float or None
        ``(objective - bound) / max(|objective|, 1e-9)``, ours, not the solver's.
    reference, gap_to_reference, primal_gap : float or None
        The instance's proven optimum and this run's gaps to it (derived).
    disagreement : bool
        An exact method's answer contradicts the reference (derived).
    build_time_s, solve_time_s, verify_time_s : float or None
        The runner's phases.
    solver_time_s : float or None
        The solver's own clock.
    wall_time_s : float or None
        The whole run as the harness saw it (worker overhead included).
    n_vars, n_binaries, n_rows, n_nonzeros, nodes : int or None
        Model size and branch-and-bound nodes.
    lp_bound : float or None
        The LP relaxation's optimum; ``lp_integral`` whether it was integral.
    graph_vertices, graph_arcs : int or None
        The layered graph a graph method searched.
    time_limit_s : float or None
        The method's time limit.
    n_requests : int
        Requests served (1 for a format-1 instance).
    max_node_utilization, max_arc_utilization : float or None
        The largest shared-capacity loads (format 2).
    placement : str or None
        The placement's JSON (None without an answer).
    worker : str or None
        Where it ran (host and process id).
    """

    run_id: str
    started_at: str = ""
    suite: str = ""
    family: str = ""
    instance_id: str = ""
    instance_name: str = ""
    instance_params: str = "{}"
    seed: int | None = None
    repetition: int = 0
    n_blocks: int = 0
    n_nodes: int = 0
    n_arcs: int = 0
    objective_kind: str = ""
    method: str = ""
    method_params: str = "{}"
    formulation: str | None = None
    solver: str | None = None
    solver_version: str | None = None
    exact: bool = False
    guarantees_feasible: bool = False
    status: str = Status.NONE.value
    termination: str = Termination.COMPLETED.value
    reason: str | None = None
    feasible: bool = False
    n_violations: int = 0
    objective: float | None = None
    claimed_objective: float | None = None
    bound: float | None = None
    latency_s: float | None = None
    energy_j: float | None = None
    accuracy: float | None = None
    mip_gap: float | None = None
    reference: float | None = None
    gap_to_reference: float | None = None
    primal_gap: float | None = None
    disagreement: bool = False
    build_time_s: float | None = None
    solve_time_s: float | None = None
    verify_time_s: float | None = None
    solver_time_s: float | None = None
    wall_time_s: float | None = None
    n_vars: int | None = None
    n_binaries: int | None = None
    n_rows: int | None = None
    n_nonzeros: int | None = None
    nodes: int | None = None
    lp_bound: float | None = None
    lp_integral: bool | None = None
    graph_vertices: int | None = None
    graph_arcs: int | None = None
    time_limit_s: float | None = None
    n_requests: int = 1
    max_node_utilization: float | None = None
    max_arc_utilization: float | None = None
    placement: str | None = None
    worker: str | None = None

    def __post_init__(self) -> None:
        Status(self.status)  # a typo in a status is a bug, found here
        Termination(self.termination)

    @property
    def has_answer(self) -> bool:
        """Whether the run returned a placement the evaluator accepted."""
        return self.feasible and self.objective is not None

    @property
    def solved(self) -> bool:
        """Whether the run completed with what it set out to give: a proven
        optimum, a proof of infeasibility, or a feasible answer."""
        return self.termination == Termination.COMPLETED.value and self.status in (
            Status.OPTIMAL.value,
            Status.INFEASIBLE.value,
            Status.FEASIBLE.value,
        )

    @property
    def run_time_s(self) -> float | None:
        """Build plus solve time: the method's own time."""
        if self.build_time_s is None or self.solve_time_s is None:
            return None
        return self.build_time_s + self.solve_time_s

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (non-finite numbers become None)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
        return out

    def to_json(self) -> str:
        """One JSON line (no newline)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        """A record from :meth:`to_dict` data; unknown keys are a ``ValueError``,
        values are coerced to the field's type (parquet gives numpy scalars)."""
        unknown = sorted(set(data) - set(RECORD_TYPES))
        if unknown:
            raise ValueError(f"unknown record fields {unknown}")
        values = {key: _coerce(RECORD_TYPES[key], data[key]) for key in data}
        return cls(**values)

    def derive(self, **changes: Any) -> Record:
        """A copy with ``changes`` (the derived fields, say)."""
        return replace(self, **changes)


def _coerce(kind: type, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value) and kind is not float:
        return None  # a missing value that went through a float column
    if kind is float:
        value = float(value)
        return None if math.isnan(value) else value
    return kind(value)


def _base_type(hint: Any) -> type:
    args = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
    base = args[0] if args else hint
    if base not in (str, int, float, bool):
        raise TypeError(f"record field of type {hint!r}: only str, int, float, bool")
    return base  # type: ignore[no-any-return]


RECORD_TYPES: dict[str, type] = {
    f.name: _base_type(get_type_hints(Record)[f.name]) for f in fields(Record)
}
"""Every record field and its base type (str, int, float or bool), in order."""


@dataclass(frozen=True)
class RunTask:
    """One run to do: what a worker receives (JSON-ready, so it crosses processes).

    It carries what the record of the run needs even when the run never answers (a
    worker killed by the guard): the instance's size, the method's exactness.

    Examples
    --------
    >>> task = RunTask("r1", "smoke", "tiny", "id1", "demo", "{}", 0, 0, 2, 3, 4,
    ...                "latency", "fin", {"gamma": 10}, None, 5.0, False, True)
    >>> rec = task.record(termination="time_limit", reason="killed")
    >>> rec.method_params, rec.status, rec.n_arcs
    ('{"gamma":10}', 'none', 4)
    >>> RunTask.from_dict(task.to_dict()) == task
    True
    """

    run_id: str
    suite: str
    family: str
    instance_id: str
    instance_name: str
    instance_params: str
    seed: int | None
    repetition: int
    n_blocks: int
    n_nodes: int
    n_arcs: int
    objective_kind: str
    method: str
    method_params: Mapping[str, Any]
    solver: str | None
    time_limit_s: float | None
    exact: bool
    guarantees_feasible: bool
    n_requests: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        out = asdict(self)
        out["method_params"] = dict(self.method_params)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunTask:
        """The task of :meth:`to_dict` data."""
        return cls(**data)

    def record(self, **outcome: Any) -> Record:
        """The record of this run with ``outcome`` (status, times, ...) filled in."""
        values: dict[str, Any] = dict(
            run_id=self.run_id,
            suite=self.suite,
            family=self.family,
            instance_id=self.instance_id,
            instance_name=self.instance_name,
            instance_params=self.instance_params,
            seed=self.seed,
            repetition=self.repetition,
            n_blocks=self.n_blocks,
            n_nodes=self.n_nodes,
            n_arcs=self.n_arcs,
            objective_kind=self.objective_kind,
            method=self.method,
            method_params=canonical_params(self.method_params),
            solver=self.solver,
            exact=self.exact,
            guarantees_feasible=self.guarantees_feasible,
            time_limit_s=self.time_limit_s,
            n_requests=self.n_requests,
        )
        values.update(outcome)
        return Record(**values)
