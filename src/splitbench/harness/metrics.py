"""The benchmark's metrics, each defined once (MODEL.md section 8).

All objectives are minimised. ``z*`` is the reference optimum of an instance (the best
proven optimum), ``z`` a method's objective as the evaluator recomputed it, and ``b`` a
solver's dual bound. Two numbers agree when they are equal within
:data:`~splitbench.tolerances.AGREEMENT_RTOL` (relative) plus
:data:`~splitbench.tolerances.AGREEMENT_ATOL` (absolute).

Examples
--------
>>> round(gap_to_reference(10.5, 10.0), 6), round(primal_gap(10.5, 10.0), 6)
(0.05, 0.047619)
>>> primal_gap(None, 10.0), gap_to_reference(None, 10.0), primal_gap(2.0, None)
(1.0, None, None)
>>> round(mip_gap(10.0, 9.0), 6), agrees(1.0, 1.0 + 1e-9), agrees(1.0, 1.001)
(0.1, True, False)
>>> round(shifted_geometric_mean([1.0, 10.0, 100.0], SHIFT_MIPLIB_S), 3)
18.925
>>> profile = performance_profile({"a": {"i": 1.0, "j": 4.0}, "b": {"i": 2.0, "j": 2.0}})
>>> profile.taus, profile.shares["a"], profile.share("b", 1.5)
((1.0, 2.0), (0.5, 1.0), 0.5)
>>> runs = [Record(run_id="r1", instance_id="x", method="milp", exact=True,
...                status="optimal", feasible=True, objective=3.0),
...         Record(run_id="r2", instance_id="x", method="greedy", status="feasible",
...                feasible=True, objective=3.3)]
>>> ref = references(runs)["x"]
>>> ref.value, ref.best_known, ref.methods, sorted(ref.disagreeing)
(3.0, 3.0, ('milp',), [])
>>> [round(r.gap_to_reference, 6) for r in derive(runs) if r.gap_to_reference is not None]
[0.0, 0.1]
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from splitbench.harness.record import Record
from splitbench.status import Status, Termination
from splitbench.tolerances import AGREEMENT_ATOL, AGREEMENT_RTOL

__all__ = [
    "SHIFT_MIPLIB_S",
    "SHIFT_SMALL_S",
    "Profile",
    "Reference",
    "agrees",
    "derive",
    "effective_time_s",
    "gap_to_reference",
    "mip_gap",
    "performance_profile",
    "primal_gap",
    "references",
    "shifted_geometric_mean",
]

SHIFT_MIPLIB_S = 10.0
"""The shift of the shifted geometric mean of run times (s), as in MIPLIB reports."""

SHIFT_SMALL_S = 0.01
"""The shift (s) for suites whose runs take milliseconds, which 10 s would flatten."""


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def agrees(a: float, b: float) -> bool:
    """Whether ``|a - b| <= AGREEMENT_RTOL * max(|a|, |b|) + AGREEMENT_ATOL``.

    Parameters
    ----------
    a, b : float
        Two objectives. A NaN or an infinity agrees with nothing, not even itself.
    """
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= AGREEMENT_RTOL * max(abs(a), abs(b)) + AGREEMENT_ATOL


def gap_to_reference(objective: float | None, reference: float | None) -> float | None:
    """The relative gap ``(z - z*) / |z*|`` of an objective ``z`` to the optimum ``z*``.

    Returns
    -------
    float or None
        None when either value is None or non-finite. For a zero optimum
        (``|z*| <= AGREEMENT_ATOL``) the ratio is undefined: 0.0 when
        ``|z - z*| <= AGREEMENT_ATOL``, else an infinity with the sign of ``z - z*``.
        A negative gap (``z`` below a proven optimum) is a contradiction to flag.
    """
    if not _finite(objective) or not _finite(reference):
        return None
    assert objective is not None and reference is not None
    diff = objective - reference
    if abs(reference) <= AGREEMENT_ATOL:
        return 0.0 if abs(diff) <= AGREEMENT_ATOL else math.copysign(math.inf, diff)
    return diff / abs(reference)


def primal_gap(objective: float | None, reference: float | None) -> float | None:
    """Berthold's primal gap of an objective ``z`` to the optimum ``z*``, in [0, 1].

    Returns
    -------
    float or None
        None without a (finite) reference; 1.0 without a (finite) objective; 0.0 when
        ``|z|`` and ``|z*|`` are both at most ``AGREEMENT_ATOL``; 1.0 when they have
        different signs; else ``|z* - z| / max(|z*|, |z|)``.
    """
    if not _finite(reference):
        return None
    if not _finite(objective):
        return 1.0
    assert objective is not None and reference is not None
    if abs(objective) <= AGREEMENT_ATOL and abs(reference) <= AGREEMENT_ATOL:
        return 0.0
    if objective * reference < 0:
        return 1.0
    return abs(reference - objective) / max(abs(reference), abs(objective))


def mip_gap(objective: float | None, bound: float | None) -> float | None:
    """The MIP gap ``(z - b) / max(|z|, 1e-9)`` of an incumbent ``z`` and a bound ``b``.

    Ours, from what the run returned, never the solver's own figure; None when either
    value is missing or non-finite.
    """
    if not _finite(objective) or not _finite(bound):
        return None
    assert objective is not None and bound is not None
    return (objective - bound) / max(abs(objective), 1e-9)


def _check_shift(shift: float) -> None:
    if not (math.isfinite(shift) and shift >= 0):
        raise ValueError(f"the shift must be finite and non-negative, not {shift!r}")


def shifted_geometric_mean(values: Iterable[float], shift: float) -> float:
    """The shifted geometric mean ``exp(mean(log(t + s))) - s``.

    Parameters
    ----------
    values : iterable of float
        Finite, non-negative values (run times, say).
    shift : float
        ``s >= 0``, which damps the weight of the smallest values.

    Returns
    -------
    float
        The mean (kept within the values' range against rounding); NaN if empty.

    Raises
    ------
    ValueError
        For a negative or non-finite value or shift.
    """
    _check_shift(shift)
    items = [float(v) for v in values]
    if not items:
        return math.nan
    for v in items:
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"values must be finite and non-negative, not {v!r}")
    if any(v + shift == 0 for v in items):
        return 0.0  # a zero factor, only possible with no shift
    mean = math.exp(math.fsum(math.log(v + shift) for v in items) / len(items)) - shift
    return min(max(mean, min(items)), max(items))


def effective_time_s(record: Record) -> float | None:
    """The time of a run that enters means and profiles.

    A solved run counts its ``run_time_s``, an unsolved one its ``time_limit_s`` when
    set, else its ``run_time_s``. Where ``run_time_s`` is missing (a killed worker),
    ``wall_time_s`` stands in; None when that is missing too.
    """
    if not record.solved and record.time_limit_s is not None:
        return record.time_limit_s
    run = record.run_time_s
    return run if run is not None else record.wall_time_s


@dataclass(frozen=True)
class Profile:
    """A performance profile (Dolan and Moré 2002).

    Attributes
    ----------
    taus : tuple of float
        The sorted distinct finite performance ratios, starting at 1.0.
    shares : dict of str to tuple of float
        For each method, ``rho(tau)`` at each of :attr:`taus`: the share of all
        instances on which it is within a factor ``tau`` of the best method.
    """

    taus: tuple[float, ...]
    shares: dict[str, tuple[float, ...]]

    def share(self, method: str, tau: float) -> float:
        """``rho_method(tau)``, a step function (0.0 below 1.0); KeyError for an unknown
        method."""
        index = bisect.bisect_right(self.taus, tau) - 1
        return 0.0 if index < 0 else self.shares[method][index]


def performance_profile(
    table: Mapping[str, Mapping[str, float | None]], *, shift: float = 0.0
) -> Profile:
    """The performance profile of methods over instances.

    ``rho_m(tau)`` is the share of instances with ``v + shift <= tau * best``, ``best``
    the least ``v + shift`` over the methods that solved the instance. The instances
    are the union of the keys over all methods; instances no method solved stay in the
    denominator and are never counted. Where ``best`` is 0, a value equal to it has
    ratio 1 and the others none. Without instances every share is 0.0.

    Parameters
    ----------
    table : mapping of str to mapping of str to float or None
        ``method -> {instance key -> value}``; None, a non-finite value or a missing
        key means unsolved.
    shift : float
        Added to every value before the ratios are taken.

    Raises
    ------
    ValueError
        For a negative or non-finite shift, or a value below 0 after the shift.
    """
    _check_shift(shift)
    instances = {key for row in table.values() for key in row}
    solved: dict[str, dict[str, float]] = {method: {} for method in table}
    for method, row in table.items():
        for key, value in row.items():
            if value is not None and math.isfinite(value):
                if value + shift < 0:
                    raise ValueError(f"{method} on {key}: negative value {value!r}")
                solved[method][key] = value + shift
    ratios: dict[str, list[float]] = {method: [] for method in table}
    for key in instances:
        values = {m: row[key] for m, row in solved.items() if key in row}
        best = min(values.values(), default=math.inf)
        for method, value in values.items():
            if best > 0:
                ratios[method].append(value / best)
            elif value == best:
                ratios[method].append(1.0)
    taus = tuple(sorted({1.0, *(r for rs in ratios.values() for r in rs)}))
    n = len(instances)
    shares = {
        m: tuple(bisect.bisect_right(sorted(rs), t) / n if n else 0.0 for t in taus)
        for m, rs in ratios.items()
    }
    return Profile(taus=taus, shares=shares)


@dataclass(frozen=True)
class Reference:
    """What the records of one instance establish about it.

    Attributes
    ----------
    value : float or None
        The reference optimum ``z*``: the least objective of an exact ``optimal`` record.
    infeasible : bool
        An exact method proved infeasibility (completed) and no run has an answer.
    best_known : float or None
        The least objective of any run with an answer.
    disagreeing : frozenset of str
        The run ids of exact records that contradict the others (see :func:`references`).
    methods : tuple of str
        The sorted names of the exact methods whose optimum agrees with ``value``.
    """

    value: float | None
    infeasible: bool
    best_known: float | None
    disagreeing: frozenset[str]
    methods: tuple[str, ...]


def _reference(records: list[Record]) -> Reference:
    exact = [r for r in records if r.exact]
    optimal = [r for r in exact if r.status == Status.OPTIMAL.value and _finite(r.objective)]
    proofs = [
        r
        for r in exact
        if r.status == Status.INFEASIBLE.value and r.termination == Termination.COMPLETED.value
    ]
    answers = [r.objective for r in records if r.has_answer and r.objective is not None]
    value = min((r.objective for r in optimal if r.objective is not None), default=None)
    best = min(answers, default=None)
    disagreeing = {r.run_id for r in proofs if answers}
    methods: set[str] = set()
    for r in optimal:
        assert r.objective is not None and value is not None
        above_best = best is not None and r.objective > best and not agrees(r.objective, best)
        if agrees(r.objective, value):
            methods.add(r.method)
        if above_best or not agrees(r.objective, value):
            disagreeing.add(r.run_id)
    return Reference(
        value=value,
        infeasible=bool(proofs) and not answers,
        best_known=best,
        disagreeing=frozenset(disagreeing),
        methods=tuple(sorted(methods)),
    )


def references(records: Iterable[Record]) -> dict[str, Reference]:
    """The :class:`Reference` of every instance that has a record, by ``instance_id``.

    An exact record disagrees when it is ``optimal`` with an objective that does not
    agree with the reference value or lies beyond the tolerance above the best known
    answer (a feasible answer better than a claimed optimum), or when it proved the
    instance infeasible (completed) while a run of any method has an answer.
    """
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(record.instance_id, []).append(record)
    return {key: _reference(group) for key, group in groups.items()}


def derive(records: Iterable[Record]) -> list[Record]:
    """The same records, in the same order, with the derived fields filled.

    ``reference`` is the instance's :attr:`Reference.value`; ``gap_to_reference`` and
    ``primal_gap`` compare to it the objective of a run with an answer (a run without
    one has no objective for them: primal gap 1.0, gap to reference None; both None
    without a reference); ``disagreement`` is whether the run id is among the
    instance's disagreeing runs. The input's derived fields are not read, so
    ``derive(derive(records)) == derive(records)``.
    """
    items = list(records)
    refs = references(items)
    out: list[Record] = []
    for record in items:
        ref = refs[record.instance_id]
        objective = record.objective if record.has_answer else None
        out.append(
            record.derive(
                reference=ref.value,
                gap_to_reference=gap_to_reference(objective, ref.value),
                primal_gap=primal_gap(objective, ref.value),
                disagreement=record.run_id in ref.disagreeing,
            )
        )
    return out
