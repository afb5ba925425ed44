"""The CI gate of a sweep: ``splitbench check DIR`` fails on what must not happen.

The gate derives the references of the records (:func:`splitbench.harness.metrics.derive`)
and lists every :class:`Problem`, one line each naming the instance id and the method;
:data:`KINDS` says what each kind of problem is. A baseline (neither exact nor
guaranteeing feasibility) may return invalid answers: they are counted, not problems.

Examples
--------
>>> from splitbench.harness.record import Record
>>> runs = [Record(run_id="r1", family="f", instance_id="x", method="milp", exact=True,
...                status="optimal", feasible=True, objective=3.0, bound=3.0),
...         Record(run_id="r2", family="f", instance_id="x", method="greedy",
...                status="feasible", feasible=True, objective=3.6)]
>>> check_records(runs).ok
True
>>> result = check_records(runs, max_gap={"greedy": 0.1})
>>> result.ok, [p.kind for p in result.problems]
(False, ['threshold'])
>>> print(result.problems[0].message)
greedy on family f: max gap to reference 0.2 (instance x, run r2) above --max-gap 0.1
>>> [(c.method, c.family, c.runs, len(c.problems)) for c in result.cases()]
[('greedy', 'f', 1, 1), ('milp', 'f', 1, 0)]
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from splitbench.errors import SplitbenchError, UsageError
from splitbench.evaluate import Evaluation, evaluate
from splitbench.evaluate_multi import MultiEvaluation, evaluate_multi
from splitbench.harness import metrics, store
from splitbench.harness.record import Record
from splitbench.instance import Instance, MultiInstance, instance_id, load_any
from splitbench.placement import MultiPlacement, Placement
from splitbench.status import Status, Termination
from splitbench.tolerances import AGREEMENT_RTOL

__all__ = [
    "KINDS",
    "Case",
    "CheckResult",
    "Problem",
    "check_directory",
    "check_records",
    "parse_thresholds",
    "write_junit",
]

KINDS: dict[str, str] = {
    "disagreement": "an exact method contradicts the reference (its optimum or infeasibility)",
    "below-reference": "an answer below the optimum: an exact method or the evaluator is wrong",
    "invalid": "a rejected answer from an exact method or one that promises feasible answers",
    "bound": "a lower bound above the reference or above the best known answer",
    "not-exact-optimal": "optimal from a non-exact method whose bound does not close its gap",
    "reverify": "a stored placement evaluates otherwise, or cannot be read or reloaded",
    "error": "a run that raised or whose worker died (unless errors are allowed)",
    "threshold": "a gap above a --max-gap limit (no answer counts), or a limit for no method",
}
"""The kinds of :class:`Problem` and what each means, in the order they are listed."""

_ORDER = list(KINDS)

MAX_LISTED = 20
"""How many problems :meth:`CheckResult.summary` lists before "... and N more"."""

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EVALUATION_ERRORS = (SplitbenchError, ValueError, TypeError, KeyError, IndexError, ArithmeticError)


def _line(text: str) -> str:
    """One line of text that XML can carry."""
    return _NOT_XML.sub("?", " ".join(text.split()))


def _num(value: float | None) -> str:
    return "none" if value is None else f"{value:.6g}"


@dataclass(frozen=True)
class Problem:
    """One thing that fails the check: a ``kind`` of :data:`KINDS` about ``method`` on
    ``family``, for the run ``run_id`` (None for an aggregate, a threshold say), with a
    one-line ``message`` naming the instance id and the method."""

    method: str
    family: str
    run_id: str | None
    kind: str
    message: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown problem kind {self.kind!r}")


def _of_run(r: Record, kind: str, text: str) -> Problem:
    where = f"instance {r.instance_id}: {r.method} (run {r.run_id})"
    return Problem(r.method, r.family, r.run_id, kind, _line(f"{where} {text}"))


@dataclass(frozen=True)
class Case:
    """One JUnit test case: a method on a family, its run count and its problems."""

    method: str
    family: str
    runs: int
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check_records` found.

    Attributes
    ----------
    problems : tuple of Problem
        Every problem, in the order of :data:`KINDS`.
    records, instances, methods, with_reference : int
        Runs, distinct instances, distinct methods, instances with a proven optimum.
    answers, invalid_baseline, time_limits, skipped : int
        Runs with a feasible answer, invalid answers of baselines (allowed), runs
        stopped by their time limit, runs a method declined.
    groups : tuple of (str, str, int)
        ``(method, family, runs)`` of every method and family of the records.
    """

    problems: tuple[Problem, ...]
    records: int = 0
    instances: int = 0
    methods: int = 0
    with_reference: int = 0
    answers: int = 0
    invalid_baseline: int = 0
    time_limits: int = 0
    skipped: int = 0
    groups: tuple[tuple[str, str, int], ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the check passes: no problem at all."""
        return not self.problems

    def summary(self) -> str:
        """A line of counts, then the problems (at most :data:`MAX_LISTED` of them)."""
        lines = [
            f"{self.records} records, {self.instances} instances ({self.with_reference} with "
            f"a reference), {self.methods} methods: {self.answers} answers, "
            f"{self.invalid_baseline} invalid baseline answers, {self.time_limits} time "
            f"limits, {self.skipped} skipped",
            f"check failed: {len(self.problems)} problems" if self.problems else "check passed",
        ]
        lines += [f"  {p.kind}: {p.message}" for p in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            lines.append(f"  ... and {len(self.problems) - MAX_LISTED} more")
        return "\n".join(lines)

    def cases(self) -> tuple[Case, ...]:
        """One :class:`Case` per (method, family) of the records, problems attached.

        Problems about a method without records (a ``--max-gap`` typo) go to one extra
        case, method ``check`` in family ``config``, so that they fail the suite too.
        """
        known = {(m, f) for m, f, _ in self.groups}
        out = [
            Case(m, f, n, tuple(p for p in self.problems if (p.method, p.family) == (m, f)))
            for m, f, n in self.groups
        ]
        stray = tuple(p for p in self.problems if (p.method, p.family) not in known)
        return (*out, Case("check", "config", 0, stray)) if stray else tuple(out)


def _run_problems(r: Record, ref: metrics.Reference, allow_errors: bool) -> Iterator[Problem]:
    """The problems one derived record shows on its own, with its instance's reference."""
    known = f"reference {_num(ref.value)}, best known {_num(ref.best_known)}"
    gap = r.gap_to_reference
    if r.disagreement and r.status == Status.INFEASIBLE.value:
        yield _of_run(r, "disagreement", f"is exact and proved infeasibility; {known}")
    elif r.disagreement:
        yield _of_run(r, "disagreement", f"is exact, says optimal {_num(r.objective)}; {known}")
    elif r.exact and r.termination == Termination.COMPLETED.value and gap and gap > AGREEMENT_RTOL:
        yield _of_run(r, "disagreement", f"is exact, completed with {_num(r.objective)}; {known}")
    if gap is not None and gap < -AGREEMENT_RTOL:
        yield _of_run(r, "below-reference", f"answers {_num(r.objective)}, below the {known}")
    if r.status == Status.INVALID.value and (r.exact or r.guarantees_feasible):
        what = "is exact" if r.exact else "guarantees feasible answers"
        yield _of_run(r, "invalid", f"{what} but returned an answer the evaluator rejects")
    if r.bound is not None and math.isfinite(r.bound):
        for label, value in (("reference", ref.value), ("best known answer", ref.best_known)):
            if value is not None and r.bound > value and not metrics.agrees(r.bound, value):
                yield _of_run(
                    r, "bound", f"has bound {_num(r.bound)} above the {label} {value:.6g}"
                )
                break
    if r.status == Status.OPTIMAL.value and not r.exact:
        b, z = r.bound, r.objective
        if b is None or z is None or not metrics.agrees(b, z):
            text = f"is not exact, says optimal with objective {_num(z)} and bound {_num(b)}"
            yield _of_run(r, "not-exact-optimal", text)
    if r.termination == Termination.ERROR.value and not allow_errors:
        yield _of_run(r, "error", f"failed: {r.reason}")


def _reverify_one(r: Record, instance: Instance | MultiInstance) -> str | None:
    """Why the stored placement of ``r`` does not evaluate to what ``r`` says, or None."""
    try:
        data = json.loads(r.placement or "null")
        ev: Evaluation | MultiEvaluation
        if isinstance(instance, MultiInstance):
            ev = evaluate_multi(instance, MultiPlacement.from_dict(data))
        else:
            ev = evaluate(instance, Placement.from_dict(data))
    except _EVALUATION_ERRORS as err:
        return f"has a placement that cannot be evaluated: {err}"
    if ev.feasible != r.feasible:
        return f"says feasible {r.feasible}; the evaluator says {ev.feasible}"
    z = ev.objective if math.isfinite(ev.objective) else None
    if (z is None) != (r.objective is None) or (
        z is not None and r.objective is not None and not metrics.agrees(z, r.objective)
    ):
        return f"says objective {_num(r.objective)}; the evaluator gives {_num(z)}"
    return None


def _reverify(
    records: Sequence[Record],
    instances: Mapping[str, Instance | MultiInstance],
    missing: Mapping[str, str],
) -> list[Problem]:
    """Evaluate every stored placement again; ``missing`` says why an instance is absent."""
    out: list[Problem] = []
    absent: dict[tuple[str, str, str], int] = {}
    for r in records:
        instance = instances.get(r.instance_id)
        if r.placement is None:
            if r.feasible or r.status in (Status.OPTIMAL.value, Status.FEASIBLE.value):
                text = f"says {r.status} (feasible {r.feasible}) but stores no placement"
                out.append(_of_run(r, "reverify", text))
        elif instance is None:
            key = (r.instance_id, r.method, r.family)
            absent[key] = absent.get(key, 0) + 1
        elif (why := _reverify_one(r, instance)) is not None:
            out.append(_of_run(r, "reverify", why))
    for (iid, method, family), count in absent.items():
        why = missing.get(iid, "the instance was not given")
        text = f"instance {iid}: {count} runs of {method} cannot be reverified: {why}"
        out.append(Problem(method, family, None, "reverify", _line(text)))
    return out


def _thresholds(
    groups: Mapping[tuple[str, str], list[Record]],
    refs: Mapping[str, metrics.Reference],
    max_gap: Mapping[str, float],
) -> Iterator[Problem]:
    """Per method and family under a limit: the worst gap and the runs without answer."""
    methods = {m for m, _ in groups}
    inexact = {m for (m, _), rs in groups.items() if any(not r.exact for r in rs)}
    for name, limit in max_gap.items():
        if name != "*" and name not in methods:
            text = f"--max-gap {name}={limit:g} names method {name!r}, which has no records"
            yield Problem(name, "", None, "threshold", _line(text))
    for (method, family), records in groups.items():
        limit = max_gap.get(method, max_gap.get("*", math.nan) if method in inexact else math.nan)
        if math.isnan(limit):
            continue
        runs = [r for r in records if refs[r.instance_id].value is not None]
        gaps = [r for r in runs if r.has_answer and r.gap_to_reference is not None]
        worst = max(gaps, key=lambda r: r.gap_to_reference or 0.0, default=None)
        unanswered = [r for r in runs if not r.has_answer]
        parts = []
        if worst is not None and (worst.gap_to_reference or 0.0) > limit:
            parts.append(
                f"max gap to reference {_num(worst.gap_to_reference)} (instance "
                f"{worst.instance_id}, run {worst.run_id}) above --max-gap {limit:g}"
            )
        if unanswered:
            skipped = sum(1 for r in unanswered if r.termination == Termination.SKIPPED.value)
            first = unanswered[0]
            parts.append(
                f"{len(unanswered)} runs without an answer"
                + (f" ({skipped} skipped)" if skipped else "")
                + f" on instances with a reference, counted as above --max-gap {limit:g} "
                f"(first: instance {first.instance_id}, run {first.run_id})"
            )
        if parts:
            text = f"{method} on family {family}: " + "; ".join(parts)
            yield Problem(method, family, None, "threshold", _line(text))


def _check(
    records: Iterable[Record],
    max_gap: Mapping[str, float] | None,
    allow_errors: bool,
    instances: Mapping[str, Instance | MultiInstance] | None,
    missing: Mapping[str, str],
) -> CheckResult:
    items = metrics.derive(records)
    refs = metrics.references(items)
    groups: dict[tuple[str, str], list[Record]] = {}
    for r in items:
        groups.setdefault((r.method, r.family), []).append(r)
    found = [p for r in items for p in _run_problems(r, refs[r.instance_id], allow_errors)]
    if instances is not None:
        found += _reverify(items, instances, missing)
    found += _thresholds(groups, refs, max_gap or {})
    found.sort(key=lambda p: _ORDER.index(p.kind))

    def count(keep: Iterable[bool]) -> int:
        return sum(1 for k in keep if k)

    return CheckResult(
        problems=tuple(found),
        records=len(items),
        instances=len(refs),
        methods=len({m for m, _ in groups}),
        with_reference=count(ref.value is not None for ref in refs.values()),
        answers=count(r.has_answer for r in items),
        invalid_baseline=count(
            r.status == Status.INVALID.value and not (r.exact or r.guarantees_feasible)
            for r in items
        ),
        time_limits=count(r.termination == Termination.TIME_LIMIT.value for r in items),
        skipped=count(r.termination == Termination.SKIPPED.value for r in items),
        groups=tuple(
            (m, f, len(rs)) for (m, f), rs in sorted(groups.items(), key=lambda g: g[0][::-1])
        ),
    )


def check_records(
    records: Iterable[Record],
    *,
    max_gap: Mapping[str, float] | None = None,
    allow_errors: bool = False,
    instances: Mapping[str, Instance | MultiInstance] | None = None,
) -> CheckResult:
    """Check the records of a sweep (their derived fields are filled first).

    Parameters
    ----------
    records : iterable of Record
        The runs.
    max_gap : mapping of str to float, optional
        ``method -> limit`` on the gap to the reference (``*``: every non-exact method);
        a run without an answer on an instance with a reference crosses the limit.
    allow_errors : bool
        Whether runs that ended in ``error`` pass.
    instances : mapping of str to Instance, optional
        ``instance_id -> Instance``: when given, every stored placement is evaluated
        again (a placement whose instance is not given is a problem).

    Returns
    -------
    CheckResult
        The problems and the counts.
    """
    return _check(records, max_gap, allow_errors, instances, {})


def check_directory(
    directory: str | Path,
    *,
    max_gap: Mapping[str, float] | None = None,
    allow_errors: bool = False,
    reverify: bool = True,
) -> CheckResult:
    """Check a results folder: its records and, when ``reverify`` and the folder has an
    ``instances/`` folder, its stored placements against those instance files (one that
    is missing, does not load or holds another instance is a ``reverify`` problem).

    Raises
    ------
    UsageError
        For a folder without results.
    """
    records, _ = store.load_records(directory, derive=metrics.derive)
    folder = Path(directory) / "instances"
    if not (reverify and folder.is_dir()):
        return _check(records, max_gap, allow_errors, None, {})
    loaded: dict[str, Instance | MultiInstance] = {}
    missing: dict[str, str] = {}
    for iid in sorted({r.instance_id for r in records}):
        name = f"instances/{iid}.json"
        try:
            instance = load_any(folder / f"{iid}.json")
        except (SplitbenchError, ValueError, OSError, RecursionError) as err:
            exists = (folder / f"{iid}.json").exists()
            missing[iid] = f"{name} does not load: {err}" if exists else f"no file {name}"
            continue
        if instance_id(instance) == iid:
            loaded[iid] = instance
        else:
            missing[iid] = f"{name} holds another instance, {instance_id(instance)}"
    return _check(records, max_gap, allow_errors, loaded, missing)


def parse_thresholds(pairs: Sequence[str]) -> dict[str, float]:
    """``--max-gap`` values: ``METHOD=LIMIT``, or a bare ``LIMIT`` for every method (``*``).

    Raises
    ------
    UsageError
        For a pair without a method or a number, a negative or non-finite limit, or a
        method given twice; the message names ``--max-gap`` and the pair.

    Examples
    --------
    >>> parse_thresholds(["fin=0.05", "0.5"])
    {'fin': 0.05, '*': 0.5}
    >>> parse_thresholds(["fin=lots"])
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: --max-gap 'fin=lots': expected METHOD=LIMIT or a bare ...
    """
    out: dict[str, float] = {}
    for pair in pairs:
        method, sep, text = pair.rpartition("=")
        method = method.strip() if sep else "*"
        try:
            limit = float(text)
        except ValueError:
            limit = math.nan
        if not method or not (math.isfinite(limit) and limit >= 0):
            raise UsageError(
                f"--max-gap {pair!r}: expected METHOD=LIMIT or a bare LIMIT, the limit a "
                "finite number >= 0 (the largest gap to the reference allowed)"
            )
        if method in out:
            raise UsageError(f"--max-gap {pair!r}: a limit for {method!r} is given twice")
        out[method] = limit
    return out


def write_junit(result: CheckResult, path: str | Path, *, name: str = "splitbench check") -> None:
    """Write the result as JUnit XML: one test case per (method, family).

    A case with problems has one ``<failure>`` (``type`` its kinds, ``message`` its
    first problem, the text all of them); ``<system-out>`` gives its run count.
    """
    cases = result.cases()
    counts = {"tests": str(len(cases)), "failures": str(sum(1 for c in cases if c.problems))}
    root = ET.Element("testsuites", {"name": name, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": name, **counts, "errors": "0"})
    for case in cases:
        element = ET.SubElement(
            suite, "testcase", classname=f"splitbench.{case.family}", name=case.method
        )
        if case.problems:
            more = len(case.problems) - 1
            failure = ET.SubElement(
                element,
                "failure",
                message=case.problems[0].message + (f" (and {more} more)" if more else ""),
                type=",".join(sorted({p.kind for p in case.problems}, key=_ORDER.index)),
            )
            failure.text = "\n".join(f"{p.kind}: {p.message}" for p in case.problems)
        ET.SubElement(
            element, "system-out"
        ).text = f"{case.runs} runs of {case.method} on family {case.family}"
    ET.indent(root)
    ET.ElementTree(root).write(Path(path), encoding="utf-8", xml_declaration=True)
