"""The regression gate between two sweeps: ``splitbench compare DIR_A DIR_B``.

Runs of A (the baseline) and B (the candidate) are paired by instance, method, method
parameters, solver and repetition. For each method and family, the paired runs give
the shifted geometric mean of their effective times
(:func:`splitbench.harness.metrics.effective_time_s`: an unsolved run counts at its
time limit) with the two shifts (:data:`~splitbench.harness.metrics.SHIFT_SMALL_S`
and :data:`~splitbench.harness.metrics.SHIFT_MIPLIB_S`), the mean gap to the
reference, and the solved counts. B regresses when its time ratio B/A (small shift)
exceeds ``max_time_ratio``, its mean gap grows by more than ``max_gap_increase``, or
it solves fewer runs.

Examples
--------
>>> from splitbench.harness.record import Record
>>> def run(method, time, objective, exact=False):
...     return Record(run_id=method, family="f", instance_id="x", method=method,
...                   exact=exact, status="optimal" if exact else "feasible",
...                   feasible=True, objective=objective, build_time_s=0.0,
...                   solve_time_s=time)
>>> a = [run("milp", 1.0, 3.0, exact=True), run("greedy", 0.1, 3.3)]
>>> b = [run("milp", 3.0, 3.0, exact=True), run("greedy", 0.1, 3.6)]
>>> result = compare_records(a, b)
>>> [(r.method, round(r.time_ratio or 0, 2), r.reasons) for r in result.rows]
[('greedy', 1.0, ('mean gap 0.1 -> 0.2',)), ('milp', 3.0, ('time B/A 3 above 2',))]
>>> result.ok, compare_records(a, a).ok
(False, True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from splitbench.errors import UsageError
from splitbench.harness import env, metrics, store
from splitbench.harness.record import Record

__all__ = ["Comparison", "Row", "compare_directories", "compare_records", "pair_key"]

Key = tuple[str, str, str, str | None, int]


def pair_key(record: Record) -> Key:
    """What pairs a run of A with a run of B: instance, method, parameters, solver and
    repetition (a changed time limit or seed of the harness is the same run)."""
    return (
        record.instance_id,
        record.method,
        record.method_params,
        record.solver,
        record.repetition,
    )


@dataclass(frozen=True)
class Row:
    """The comparison of one method on one family.

    Attributes
    ----------
    method, family : str
        What is compared.
    pairs : int
        Paired runs.
    time_a, time_b, time_ratio : float or None
        Shifted geometric means (shift ``SHIFT_SMALL_S``) of the effective times of A
        and of B, and B / A (None without times).
    time_a_miplib, time_b_miplib, time_ratio_miplib : float or None
        The same with the shift ``SHIFT_MIPLIB_S``.
    gap_a, gap_b : float or None
        Mean gap to the reference over the pairs where both runs have one.
    gap_pairs : int
        How many pairs that is.
    solved_a, solved_b : int
        Solved runs among the pairs.
    reasons : tuple of str
        Why this row is a regression (empty when it is not).
    """

    method: str
    family: str
    pairs: int
    time_a: float | None
    time_b: float | None
    time_ratio: float | None
    time_a_miplib: float | None
    time_b_miplib: float | None
    time_ratio_miplib: float | None
    gap_a: float | None
    gap_b: float | None
    gap_pairs: int
    solved_a: int
    solved_b: int
    reasons: tuple[str, ...] = ()

    @property
    def regression(self) -> bool:
        """Whether B is worse than A on this row beyond the thresholds."""
        return bool(self.reasons)


def _cell(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare_records` found.

    Attributes
    ----------
    rows : tuple of Row
        One per (method, family) with paired runs, sorted by family then method.
    warnings : tuple of str
        Environment differences and runs present on one side only (counted).
    max_time_ratio, max_gap_increase : float
        The thresholds the rows were judged by.
    """

    rows: tuple[Row, ...]
    warnings: tuple[str, ...] = ()
    max_time_ratio: float = 2.0
    max_gap_increase: float = 1e-6

    @property
    def regressions(self) -> tuple[Row, ...]:
        """The rows on which B regresses."""
        return tuple(row for row in self.rows if row.regression)

    @property
    def ok(self) -> bool:
        """Whether B shows no regression (warnings do not fail)."""
        return not self.regressions

    def summary(self) -> str:
        """An aligned text table of the rows, then the warnings and the verdict."""
        head: tuple[str, ...] = ("family", "method", "pairs", "time A", "time B", "B/A")
        head += ("time10 A", "time10 B", "B/A10", "gap A", "gap B", "solved A", "solved B")
        head += ("regression",)
        table: list[tuple[str, ...]] = [head]
        for r in self.rows:
            table.append(
                (
                    r.family,
                    r.method,
                    str(r.pairs),
                    _cell(r.time_a),
                    _cell(r.time_b),
                    _cell(r.time_ratio, 3),
                    _cell(r.time_a_miplib),
                    _cell(r.time_b_miplib),
                    _cell(r.time_ratio_miplib, 3),
                    _cell(r.gap_a),
                    _cell(r.gap_b),
                    str(r.solved_a),
                    str(r.solved_b),
                    "; ".join(r.reasons) or "-",
                )
            )
        widths = [max(len(line[i]) for line in table) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)).rstrip() for t in table
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        n = len(self.regressions)
        lines.append(
            f"{n} regression{'s' if n != 1 else ''} (time ratio above {self.max_time_ratio:g}, "
            f"mean gap increase above {self.max_gap_increase:g}, or fewer solved)"
            if n
            else "no regression"
        )
        return "\n".join(lines)


def _time(record: Record) -> float | None:
    """The effective time of a run, None when it is missing or not a time."""
    t = metrics.effective_time_s(record)
    return t if t is not None and math.isfinite(t) and t >= 0 else None


def _means(
    a: list[float], b: list[float], shift: float
) -> tuple[float | None, float | None, float | None]:
    """The shifted geometric means of A and B and their ratio B / A."""
    if not a or not b:
        return None, None, None
    ma = metrics.shifted_geometric_mean(a, shift)
    mb = metrics.shifted_geometric_mean(b, shift)
    ratio = mb / ma if ma > 0 else (1.0 if mb == 0 else math.inf)
    return ma, mb, ratio


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _row(
    method: str, family: str, pairs: Sequence[tuple[Record, Record]], ratio: float, gap: float
) -> Row:
    times = [
        (tx, ty) for x, y in pairs if (tx := _time(x)) is not None and (ty := _time(y)) is not None
    ]
    ta, tb = [t for t, _ in times], [t for _, t in times]
    small = _means(ta, tb, metrics.SHIFT_SMALL_S)
    large = _means(ta, tb, metrics.SHIFT_MIPLIB_S)
    gapped = [
        (x.gap_to_reference, y.gap_to_reference)
        for x, y in pairs
        if x.gap_to_reference is not None and y.gap_to_reference is not None
    ]
    gap_a = _mean([g for g, _ in gapped if g is not None])
    gap_b = _mean([g for _, g in gapped if g is not None])
    solved_a = sum(1 for x, _ in pairs if x.solved)
    solved_b = sum(1 for _, y in pairs if y.solved)
    reasons: list[str] = []
    if small[2] is not None and small[2] > ratio:
        reasons.append(f"time B/A {small[2]:.3g} above {ratio:g}")
    if gap_a is not None and gap_b is not None and gap_a != gap_b and not gap_b - gap_a <= gap:
        reasons.append(f"mean gap {gap_a:.4g} -> {gap_b:.4g}")
    if solved_b < solved_a:
        reasons.append(f"solved {solved_a} -> {solved_b}")
    return Row(
        method,
        family,
        len(pairs),
        *small,
        *large,
        gap_a,
        gap_b,
        len(gapped),
        solved_a,
        solved_b,
        tuple(reasons),
    )


def _by_key(records: Iterable[Record], side: str, warnings: list[str]) -> dict[Key, Record]:
    out: dict[Key, Record] = {}
    twice = 0
    for record in records:
        key = pair_key(record)
        twice += key in out
        out[key] = record
    if twice:
        warnings.append(f"{twice} runs of {side} recorded more than once (the last one counts)")
    return out


def compare_records(
    a: Iterable[Record],
    b: Iterable[Record],
    *,
    env_a: Mapping[str, Any] | None = None,
    env_b: Mapping[str, Any] | None = None,
    max_time_ratio: float = 2.0,
    max_gap_increase: float = 1e-6,
) -> Comparison:
    """Compare the runs of B against those of A (both passed through ``metrics.derive``).

    Parameters
    ----------
    a, b : iterable of Record
        The baseline's and the candidate's runs.
    env_a, env_b : mapping, optional
        Their environments; when both are given, each difference is a warning.
    max_time_ratio : float
        The largest allowed ratio B / A of the shifted geometric mean times (small shift).
    max_gap_increase : float
        The largest allowed increase of the mean gap to the reference.

    Returns
    -------
    Comparison
        The rows, the warnings and the verdict.

    Raises
    ------
    UsageError
        For a ratio that is not positive or an increase that is negative or NaN.
    """
    if not max_time_ratio > 0:
        raise UsageError(f"max_time_ratio must be positive, got {max_time_ratio!r}")
    if not max_gap_increase >= 0:
        raise UsageError(f"max_gap_increase must be >= 0, got {max_gap_increase!r}")
    warnings: list[str] = []
    if env_a is not None and env_b is not None:
        warnings += [f"environments differ: {d}" for d in env.differences(env_a, env_b)]
    runs_a = _by_key(metrics.derive(a), "A", warnings)
    runs_b = _by_key(metrics.derive(b), "B", warnings)
    for side, mine, other in (("A", runs_a, runs_b), ("B", runs_b, runs_a)):
        alone = [key for key in mine if key not in other]
        if alone:
            methods = ", ".join(sorted({key[1] for key in alone}))
            warnings.append(f"{len(alone)} runs only in {side}, not compared ({methods})")
    groups: dict[tuple[str, str], list[tuple[Record, Record]]] = {}
    for key, x in runs_a.items():
        if key in runs_b:
            groups.setdefault((x.family, x.method), []).append((x, runs_b[key]))
    rows = tuple(
        _row(method, family, pairs, max_time_ratio, max_gap_increase)
        for (family, method), pairs in sorted(groups.items())
    )
    return Comparison(rows, tuple(warnings), max_time_ratio, max_gap_increase)


def compare_directories(
    dir_a: str | Path,
    dir_b: str | Path,
    *,
    max_time_ratio: float = 2.0,
    max_gap_increase: float = 1e-6,
) -> Comparison:
    """Compare two results folders (see :func:`compare_records`).

    Raises
    ------
    UsageError
        For a folder without results, or a bad threshold.
    """
    records_a, env_a = store.load_records(dir_a, derive=metrics.derive)
    records_b, env_b = store.load_records(dir_b, derive=metrics.derive)
    return compare_records(
        records_a,
        records_b,
        env_a=env_a,
        env_b=env_b,
        max_time_ratio=max_time_ratio,
        max_gap_increase=max_gap_increase,
    )
