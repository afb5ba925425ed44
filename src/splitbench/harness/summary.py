"""The report's tables, computed from stored records alone.

:func:`method_table` gives one :class:`MethodRow` per method (as
:func:`splitbench.harness.plots.label` names it) on each family: how often it solved,
answered and agreed with the optimum, its shifted geometric mean times, its gaps to
the reference, and on how many instances it found the best answer or was the fastest.
:func:`failures` lists the runs that raised or hit their time limit, :func:`problems`
what ``splitbench check`` would fail on, and :func:`overview` the counts and the
environment of the sweep. Nothing here runs a method or reads an instance file.

Examples
--------
>>> runs = [
...     Record(run_id="a", family="f", instance_id="x", method="milp", solver="highs",
...            exact=True, status="optimal", feasible=True, objective=4.0,
...            build_time_s=0.0, solve_time_s=0.5),
...     Record(run_id="b", family="f", instance_id="x", method="greedy",
...            status="feasible", feasible=True, objective=5.0,
...            build_time_s=0.0, solve_time_s=0.01),
... ]
>>> for row in method_table(runs):
...     print(row.label, row.exact, row.agreement, row.mean_gap, row.best, row.fastest)
milp (highs) True 1.0 0.0 1 0
greedy False 0.0 0.25 0 1
>>> overview(runs, {"python": "3.11.7"})["methods"], len(failures(runs)), problems(runs)
(2, 0, [])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from splitbench.harness import check, metrics
from splitbench.harness.plots import label
from splitbench.harness.record import Record
from splitbench.status import Status, Termination

__all__ = [
    "ENVIRONMENT_KEYS",
    "LEGEND",
    "NONE",
    "Failure",
    "MethodRow",
    "failures",
    "format_seconds",
    "format_share",
    "method_table",
    "overview",
    "problems",
    "sig",
]

ENVIRONMENT_KEYS: tuple[str, ...] = (
    "python", "platform", "cpu", "cpu_count", "splitbench_commit",
    "suite_file", "suite_sha256", "suite_commit", "created_at",
)  # fmt: skip
"""The entries of ``environment.json`` that :func:`overview` passes on (and ``packages``)."""

_FAILED = (Termination.ERROR.value, Termination.TIME_LIMIT.value)

NONE = "–"
"""What a cell without a value shows."""

LEGEND: tuple[tuple[str, str], ...] = (
    ("method", "the method, its non-default parameters, its solver in brackets"),
    ("exact", "whether the method is exact (proves optimality) on these instances"),
    ("runs / instances", "its runs, and the distinct instances they ran on"),
    ("solved", "share of runs that completed with what they set out to give: a proven "
               "optimum, a proof of infeasibility, or a feasible answer"),
    ("feasible", "share of runs with an answer the evaluator accepted"),
    ("agreement", "exact methods: share of their optimal answers equal to the reference "
                  "optimum (1e-6 relative); other methods: share of the instances with a "
                  "known optimum on which they found it; in brackets how many answers or "
                  "instances that is"),
    ("time 0.01 s / time 10 s", "shifted geometric mean of the run times (build plus solve, "
                                "s) with shift 0.01 s and 10 s (MIPLIB); an unsolved run "
                                "counts at its time limit, skipped runs (nothing ran) are "
                                "left out"),
    ("mean gap / max gap", "gap to the reference optimum, (z - z*) / |z*|, over the answers "
                           "on instances with a known optimum"),
    ("no answer", "runs on instances with a known optimum that gave no accepted answer"),
    ("best", "instances on which its best answer equals the best any run found (ties count "
             "for each)"),
    ("fastest", "instances on which it was the fastest of the methods that solved them (ties "
                "count for each)"),
)  # fmt: skip
"""The columns of the method table (as the report shows it) and what they mean."""


@dataclass(frozen=True)
class MethodRow:
    """One method (one label: method, solver, non-default parameters) on one family.

    Attributes
    ----------
    family, label, method : str
        The family, the label of :func:`~splitbench.harness.plots.label`, the method.
    solver : str or None
        The backend of a solver-based method.
    exact : bool
        Whether the method is exact on every run of the row.
    runs, instances : int
        Its runs and their distinct instances.
    solved_share : float
        Share of runs that are :attr:`Record.solved` (optimum, infeasibility proof or
        feasible answer, completed).
    feasible_share : float
        Share of runs with an answer the evaluator accepted.
    agreement : float or None
        Exact: the share of its ``optimal`` answers (on instances with a reference)
        that agree with the reference. Otherwise: the share of the instances with a
        reference on which its best answer agrees with the optimum
        (:func:`~splitbench.harness.metrics.agrees`). None when there is nothing to
        agree on.
    agreement_base : int
        The denominator of :attr:`agreement` (answers or instances).
    sgm_time_small, sgm_time_miplib : float or None
        Shifted geometric means of :func:`~splitbench.harness.metrics.effective_time_s`
        with the shifts ``SHIFT_SMALL_S`` and ``SHIFT_MIPLIB_S``; skipped runs (the
        method declined, nothing ran) do not enter. None without a timed run.
    timed_runs : int
        How many runs the means are over.
    mean_gap, max_gap : float or None
        Mean and largest gap to the reference over the runs with an answer on an
        instance with a reference; None when there is none.
    no_answer : int
        Runs on an instance with a reference that gave no accepted answer.
    best : int
        Instances where its best answer equals the best answer any run found (ties
        count for every method that has them).
    fastest : int
        Instances where it was the fastest of the labels that solved the instance
        (their least effective time among solved runs; ties count).
    """

    family: str
    label: str
    method: str
    solver: str | None
    exact: bool
    runs: int
    instances: int
    solved_share: float
    feasible_share: float
    agreement: float | None
    agreement_base: int
    sgm_time_small: float | None
    sgm_time_miplib: float | None
    timed_runs: int
    mean_gap: float | None
    max_gap: float | None
    no_answer: int
    best: int
    fastest: int


@dataclass(frozen=True)
class Failure:
    """A run that ended in ``error`` or ``time_limit``, and why."""

    family: str
    method: str
    label: str
    instance_name: str
    instance_id: str
    run_id: str
    termination: str
    reason: str


def sig(value: float) -> str:
    """A number with 3 significant digits, without an exponent where readable.

    Examples
    --------
    >>> sig(0.000123456), sig(95.652), sig(100.0), sig(0.99996), sig(12345.6)
    ('0.000123', '95.7', '100', '1.00', '12346')
    """
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:.0f}"
    rounded = float(f"{value:.3g}")
    exponent = math.floor(math.log10(abs(rounded)))
    if exponent < -6:
        return f"{value:.2e}"
    return f"{rounded:.{max(0, 2 - exponent)}f}"


def format_seconds(value: float | None) -> str:
    """A time in seconds with 3 significant digits (``NONE`` for None)."""
    return NONE if value is None else f"{sig(value)} s"


def format_share(value: float | None) -> str:
    """A share (or a relative gap) as a percentage with 3 significant digits."""
    return NONE if value is None else f"{sig(100.0 * value)} %"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _mean(values: Sequence[float]) -> float | None:
    if not values:
        return None
    if all(math.isfinite(v) for v in values):
        return math.fsum(values) / len(values)
    return sum(values) / len(values)  # an infinite gap (zero optimum) makes it infinite


def _best_answers(runs: Iterable[Record]) -> dict[str, float]:
    """The least accepted objective of the runs on each instance."""
    out: dict[str, float] = {}
    for r in runs:
        if r.has_answer and _finite(r.objective):
            assert r.objective is not None
            old = out.get(r.instance_id)
            out[r.instance_id] = r.objective if old is None else min(old, r.objective)
    return out


def _agreement(
    runs: Sequence[Record], exact: bool, refs: Mapping[str, metrics.Reference]
) -> tuple[float | None, int]:
    if exact:
        hits = [
            metrics.agrees(r.objective, value)
            for r in runs
            if r.status == Status.OPTIMAL.value
            and r.objective is not None
            and (value := refs[r.instance_id].value) is not None
        ]
    else:
        answers = _best_answers(runs)
        with_ref = {r.instance_id for r in runs if refs[r.instance_id].value is not None}
        hits = []
        for iid in sorted(with_ref):
            value = refs[iid].value
            found = answers.get(iid)
            hits.append(found is not None and value is not None and metrics.agrees(found, value))
    return (sum(hits) / len(hits) if hits else None), len(hits)


def _times(runs: Iterable[Record]) -> list[float]:
    out = []
    for r in runs:
        if r.termination == Termination.SKIPPED.value:
            continue
        t = metrics.effective_time_s(r)
        if t is not None and math.isfinite(t) and t >= 0:
            out.append(t)
    return out


def _sgm(times: Sequence[float], shift: float) -> float | None:
    return metrics.shifted_geometric_mean(times, shift) if times else None


def _fastest(groups: Mapping[tuple[str, str], Sequence[Record]]) -> dict[tuple[str, str], int]:
    """For each (family, label): on how many instances it was the fastest solver."""
    per_instance: dict[tuple[str, str], dict[str, float]] = {}
    for (family, name), runs in groups.items():
        for r in runs:
            t = metrics.effective_time_s(r) if r.solved else None
            if t is None or not math.isfinite(t):
                continue
            times = per_instance.setdefault((family, r.instance_id), {})
            times[name] = min(t, times.get(name, math.inf))
    out: dict[tuple[str, str], int] = {}
    for (family, _), times in per_instance.items():
        least = min(times.values())
        for name, t in times.items():
            if t <= least:
                out[(family, name)] = out.get((family, name), 0) + 1
    return out


def _row(
    family: str,
    name: str,
    runs: Sequence[Record],
    refs: Mapping[str, metrics.Reference],
    fastest: int,
) -> MethodRow:
    n = len(runs)
    exact = all(r.exact for r in runs)
    agreement, base = _agreement(runs, exact, refs)
    times = _times(runs)
    gaps = [
        g
        for r in runs
        if r.has_answer
        and (g := metrics.gap_to_reference(r.objective, refs[r.instance_id].value)) is not None
    ]
    answers = _best_answers(runs)
    best = 0
    for iid, found in answers.items():
        known = refs[iid].best_known
        best += known is not None and metrics.agrees(found, known)
    return MethodRow(
        family=family,
        label=name,
        method=runs[0].method,
        solver=runs[0].solver,
        exact=exact,
        runs=n,
        instances=len({r.instance_id for r in runs}),
        solved_share=sum(r.solved for r in runs) / n,
        feasible_share=sum(r.has_answer for r in runs) / n,
        agreement=agreement,
        agreement_base=base,
        sgm_time_small=_sgm(times, metrics.SHIFT_SMALL_S),
        sgm_time_miplib=_sgm(times, metrics.SHIFT_MIPLIB_S),
        timed_runs=len(times),
        mean_gap=_mean(gaps),
        max_gap=max(gaps) if gaps else None,
        no_answer=sum(
            1 for r in runs if refs[r.instance_id].value is not None and not r.has_answer
        ),
        best=best,
        fastest=fastest,
    )


def method_table(records: Iterable[Record]) -> list[MethodRow]:
    """One :class:`MethodRow` per (family, label) of the records.

    The references are computed from the records given
    (:func:`~splitbench.harness.metrics.references`), so underived records work too.
    Rows are sorted by family, then exact methods before the others, then label.

    Parameters
    ----------
    records : iterable of Record
        The runs of a sweep.

    Returns
    -------
    list of MethodRow
        Empty without records.
    """
    items = list(records)
    refs = metrics.references(items)
    groups: dict[tuple[str, str], list[Record]] = {}
    for r in items:
        groups.setdefault((r.family, label(r)), []).append(r)
    fastest = _fastest(groups)
    rows = [
        _row(family, name, runs, refs, fastest.get((family, name), 0))
        for (family, name), runs in groups.items()
    ]
    return sorted(rows, key=lambda row: (row.family, not row.exact, row.label))


def failures(records: Iterable[Record]) -> list[Failure]:
    """The runs with termination ``error`` or ``time_limit``, in record order.

    Examples
    --------
    >>> bad = Record(run_id="r", family="f", instance_name="n", method="fin",
    ...              termination="error", reason="boom")
    >>> [(f.label, f.instance_name, f.termination, f.reason) for f in failures([bad])]
    [('fin', 'n', 'error', 'boom')]
    """
    return [
        Failure(
            family=r.family,
            method=r.method,
            label=label(r),
            instance_name=r.instance_name,
            instance_id=r.instance_id,
            run_id=r.run_id,
            termination=r.termination,
            reason=r.reason if r.reason else "(no reason recorded)",
        )
        for r in records
        if r.termination in _FAILED
    ]


def problems(records: Iterable[Record]) -> list[check.Problem]:
    """What :func:`splitbench.harness.check.check_records` finds (disagreements,
    answers below the optimum, invalid answers, bad bounds, errors, ...), in its order.

    The stored placements are not evaluated again (that needs the instance files and
    the evaluator; ``splitbench check`` does it).
    """
    return list(check.check_records(records).problems)


def overview(records: Iterable[Record], environment: Mapping[str, Any]) -> dict[str, Any]:
    """The headline of a sweep: its suite, its counts and where it ran.

    Parameters
    ----------
    records : iterable of Record
        The runs.
    environment : mapping
        ``environment.json`` of the folder (:func:`splitbench.harness.env.environment`).

    Returns
    -------
    dict
        ``suite`` (the suite names of the records, joined; ``""`` without records),
        ``runs``, ``instances``, ``methods``, ``labels``, ``families``, ``solved``,
        ``answers``, ``skipped``, ``errors``, ``time_limits`` (counts),
        ``with_reference`` (instances with a proven optimum), ``environment``: the
        entries of :data:`ENVIRONMENT_KEYS` (None when missing), ``packages`` (name to
        version or None) and ``resumed`` (how many other environments resumed it).

    Examples
    --------
    >>> info = overview([Record(run_id="r", suite="smoke", method="fin")], {"cpu_count": 2})
    >>> info["suite"], info["runs"], info["environment"]["cpu_count"], info["solved"]
    ('smoke', 1, 2, 0)
    """
    items = list(records)
    refs = metrics.references(items)
    env: dict[str, Any] = {key: environment.get(key) for key in ENVIRONMENT_KEYS}
    packages = environment.get("packages")
    env["packages"] = dict(packages) if isinstance(packages, Mapping) else {}
    resumed = environment.get("resumed")
    env["resumed"] = len(resumed) if isinstance(resumed, list) else 0
    return {
        "suite": ", ".join(sorted({r.suite for r in items if r.suite})),
        "runs": len(items),
        "instances": len(refs),
        "with_reference": sum(ref.value is not None for ref in refs.values()),
        "methods": len({r.method for r in items}),
        "labels": len({label(r) for r in items}),
        "families": len({r.family for r in items}),
        "solved": sum(r.solved for r in items),
        "answers": sum(r.has_answer for r in items),
        "skipped": sum(r.termination == Termination.SKIPPED.value for r in items),
        "errors": sum(r.termination == Termination.ERROR.value for r in items),
        "time_limits": sum(r.termination == Termination.TIME_LIMIT.value for r in items),
        "environment": env,
    }
