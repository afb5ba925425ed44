"""The metrics of MODEL.md section 8 (:mod:`splitbench.harness.metrics`).

- every gap's edge cases: zero, negative and missing objectives, no reference;
- the shifted geometric mean and the time that enters it;
- the performance profile on a hand-computed example;
- the reference rules (disagreement) and the derived fields of the records.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from splitbench.harness.metrics import (
    SHIFT_MIPLIB_S,
    SHIFT_SMALL_S,
    Profile,
    agrees,
    derive,
    effective_time_s,
    gap_to_reference,
    mip_gap,
    performance_profile,
    primal_gap,
    references,
    shifted_geometric_mean,
)
from splitbench.harness.record import Record
from splitbench.tolerances import AGREEMENT_ATOL, AGREEMENT_RTOL

INF = math.inf
NAN = math.nan


def rec(run_id: str, method: str, **fields: Any) -> Record:
    """A record on instance ``x``: feasible when it has an objective, unless told."""
    fields.setdefault("instance_id", "x")
    fields.setdefault("feasible", fields.get("objective") is not None)
    return Record(run_id=run_id, method=method, **fields)


def exact_optimal(run_id: str, method: str, objective: float, **fields: Any) -> Record:
    return rec(run_id, method, exact=True, status="optimal", objective=objective, **fields)


def heuristic(run_id: str, objective: float, **fields: Any) -> Record:
    fields.setdefault("status", "feasible")
    return rec(run_id, "greedy", objective=objective, **fields)


# -- agreement -------------------------------------------------------------------------


def test_agrees_within_the_relative_and_absolute_tolerance() -> None:
    assert agrees(100.0, 100.0 * (1 + 0.5 * AGREEMENT_RTOL))
    assert not agrees(100.0, 100.0 * (1 + 2 * AGREEMENT_RTOL))
    assert agrees(0.0, 0.5 * AGREEMENT_ATOL) and not agrees(0.0, 2 * AGREEMENT_ATOL)
    assert agrees(-5.0, -5.0) and not agrees(-5.0, 5.0)


def test_agrees_nothing_that_is_not_finite() -> None:
    assert not agrees(INF, INF) and not agrees(NAN, NAN) and not agrees(1.0, INF)


# -- gap to reference ------------------------------------------------------------------


def test_gap_to_reference() -> None:
    assert gap_to_reference(12.0, 10.0) == pytest.approx(0.2)
    assert gap_to_reference(10.0, 10.0) == 0.0
    # a heuristic below the optimum: negative, for the check to flag
    assert gap_to_reference(9.0, 10.0) == pytest.approx(-0.1)
    # a negative optimum divides by its magnitude
    assert gap_to_reference(-8.0, -10.0) == pytest.approx(0.2)
    assert gap_to_reference(-12.0, -10.0) == pytest.approx(-0.2)


def test_gap_to_a_zero_reference() -> None:
    assert gap_to_reference(0.0, 0.0) == 0.0
    assert gap_to_reference(0.5 * AGREEMENT_ATOL, 0.0) == 0.0
    assert gap_to_reference(1.0, 0.0) == INF
    assert gap_to_reference(-1.0, 0.0) == -INF


@pytest.mark.parametrize(
    ("objective", "reference"), [(None, 1.0), (1.0, None), (None, None), (INF, 1.0), (1.0, NAN)]
)
def test_gap_to_reference_without_both_values_is_none(
    objective: float | None, reference: float | None
) -> None:
    assert gap_to_reference(objective, reference) is None


# -- primal gap ------------------------------------------------------------------------


def test_primal_gap() -> None:
    assert primal_gap(12.0, 10.0) == pytest.approx(2 / 12)
    assert primal_gap(8.0, 10.0) == pytest.approx(0.2)  # below the optimum: still >= 0
    assert primal_gap(10.0, 10.0) == 0.0
    assert primal_gap(-8.0, -10.0) == pytest.approx(0.2)


def test_primal_gap_edge_cases() -> None:
    assert primal_gap(None, 10.0) == 1.0  # no answer
    assert primal_gap(INF, 10.0) == 1.0
    assert primal_gap(5.0, None) is None  # no reference
    assert primal_gap(None, None) is None
    assert primal_gap(0.0, 0.0) == 0.0
    assert primal_gap(0.5 * AGREEMENT_ATOL, -0.5 * AGREEMENT_ATOL) == 0.0
    assert primal_gap(3.0, 0.0) == 1.0
    assert primal_gap(-1.0, 2.0) == 1.0  # different signs
    assert primal_gap(1.0, -2.0) == 1.0


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


@given(finite, finite)
def test_primal_gap_lies_in_the_unit_interval(objective: float, reference: float) -> None:
    gap = primal_gap(objective, reference)
    assert gap is not None and 0.0 <= gap <= 1.0


# -- MIP gap ---------------------------------------------------------------------------


def test_mip_gap() -> None:
    assert mip_gap(10.0, 9.0) == pytest.approx(0.1)
    assert mip_gap(10.0, 10.0) == 0.0
    assert mip_gap(-10.0, -11.0) == pytest.approx(0.1)
    assert mip_gap(0.0, -1e-12) == pytest.approx(1e-3)  # the 1e-9 floor, not a division by 0
    for objective, bound in [(None, 1.0), (1.0, None), (1.0, -INF), (INF, 1.0), (NAN, 1.0)]:
        assert mip_gap(objective, bound) is None


# -- shifted geometric mean ------------------------------------------------------------


def test_shifted_geometric_mean() -> None:
    assert SHIFT_MIPLIB_S == 10.0 and SHIFT_SMALL_S == 0.01
    got = shifted_geometric_mean([1.0, 10.0, 100.0], SHIFT_MIPLIB_S)
    assert got == pytest.approx((11 * 20 * 110) ** (1 / 3) - 10)
    assert shifted_geometric_mean([2.0, 8.0], 0.0) == pytest.approx(4.0)
    assert shifted_geometric_mean(iter([3.0, 3.0, 3.0]), SHIFT_SMALL_S) == pytest.approx(3.0)
    assert shifted_geometric_mean([0.0, 5.0], 0.0) == 0.0  # a zero factor
    assert shifted_geometric_mean([0.0, 0.0], 1.0) == 0.0


def test_shifted_geometric_mean_of_nothing_is_nan() -> None:
    assert math.isnan(shifted_geometric_mean([], SHIFT_MIPLIB_S))


@pytest.mark.parametrize(
    ("values", "shift"), [([-1.0], 1.0), ([INF], 1.0), ([NAN], 1.0), ([1.0], -0.1), ([1.0], INF)]
)
def test_shifted_geometric_mean_refuses_bad_input(values: list[float], shift: float) -> None:
    with pytest.raises(ValueError):
        shifted_geometric_mean(values, shift)


@given(
    st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=30),
    st.sampled_from([0.0, SHIFT_SMALL_S, 1.0, SHIFT_MIPLIB_S]),
)
def test_shifted_geometric_mean_lies_between_min_and_max(values: list[float], shift: float) -> None:
    got = shifted_geometric_mean(values, shift)
    assert min(values) <= got <= max(values)


# -- effective time --------------------------------------------------------------------


def test_effective_time() -> None:
    times = {"build_time_s": 1.0, "solve_time_s": 2.0, "wall_time_s": 4.0, "time_limit_s": 60.0}
    solved = heuristic("a", 1.0, **times)
    assert effective_time_s(solved) == 3.0
    unsolved = rec("b", "milp", termination="time_limit", status="feasible", objective=1.0, **times)
    assert not unsolved.solved and effective_time_s(unsolved) == 60.0
    no_limit = unsolved.derive(time_limit_s=None)
    assert effective_time_s(no_limit) == 3.0
    killed = rec("c", "milp", termination="error", wall_time_s=4.0)
    assert effective_time_s(killed) == 4.0
    assert effective_time_s(solved.derive(solve_time_s=None)) == 4.0
    assert effective_time_s(rec("d", "milp", termination="error")) is None


# -- performance profile ---------------------------------------------------------------

THREE_METHODS: dict[str, dict[str, float | None]] = {
    "a": {"i1": 1.0, "i2": 2.0, "i3": None},  # i4 missing: unsolved
    "b": {"i1": 2.0, "i2": 2.0, "i3": 3.0, "i4": None},
    "c": {"i1": 4.0, "i2": 1.0, "i3": 6.0},
}
"""Best: i1 1 (a), i2 1 (c), i3 3 (b), i4 none. Ratios: a (1, 2, -, -), b (2, 2, 1, -),
c (4, 1, 2, -); over 4 instances."""


def test_profile_of_three_methods_by_hand() -> None:
    profile = performance_profile(THREE_METHODS)
    assert profile.taus == (1.0, 2.0, 4.0)
    assert profile.shares == {
        "a": (0.25, 0.5, 0.5),
        "b": (0.25, 0.75, 0.75),
        "c": (0.25, 0.5, 0.75),
    }
    assert profile.share("c", 0.99) == 0.0
    assert profile.share("c", 1.0) == 0.25
    assert profile.share("c", 3.9) == 0.5
    assert profile.share("c", 1e9) == 0.75
    with pytest.raises(KeyError):
        profile.share("d", 1.0)


def test_profile_shares_step_up_to_the_solved_share() -> None:
    profile = performance_profile(THREE_METHODS)
    instances = {key for row in THREE_METHODS.values() for key in row}
    assert profile.taus[0] == 1.0 and list(profile.taus) == sorted(set(profile.taus))
    for method, row in THREE_METHODS.items():
        steps = profile.shares[method]
        assert len(steps) == len(profile.taus)
        assert all(x <= y for x, y in pairwise(steps))
        solved = sum(value is not None for value in row.values())
        assert steps[-1] == solved / len(instances)


def test_profile_with_shift_and_zero_best() -> None:
    table: dict[str, dict[str, float | None]] = {"a": {"i": 0.0}, "b": {"i": 1.0}}
    unshifted = performance_profile(table)
    assert unshifted.taus == (1.0,) and unshifted.shares == {"a": (1.0,), "b": (0.0,)}
    shifted = performance_profile(table, shift=1.0)
    assert shifted.taus == (1.0, 2.0) and shifted.shares == {"a": (1.0, 1.0), "b": (0.0, 1.0)}


def test_profile_without_solved_instances() -> None:
    profile = performance_profile({"a": {"i": None, "j": INF}, "b": {"i": NAN}})
    assert profile == Profile(taus=(1.0,), shares={"a": (0.0,), "b": (0.0,)})
    assert performance_profile({}) == Profile(taus=(1.0,), shares={})
    assert performance_profile({"a": {}}).shares == {"a": (0.0,)}


def test_profile_refuses_negative_values_and_shifts() -> None:
    with pytest.raises(ValueError):
        performance_profile({"a": {"i": -1.0}})
    with pytest.raises(ValueError):
        performance_profile({"a": {"i": 1.0}}, shift=-1.0)


# -- references ------------------------------------------------------------------------


def test_reference_of_agreeing_exact_methods() -> None:
    runs = [
        exact_optimal("r1", "milp", 10.0),
        exact_optimal("r2", "label", 10.0 * (1 + 0.1 * AGREEMENT_RTOL)),
        heuristic("r3", 12.0),
        rec("r4", "milp", exact=True, termination="time_limit"),
    ]
    ref = references(runs)["x"]
    assert ref.value == 10.0 and ref.best_known == 10.0
    assert ref.methods == ("label", "milp")
    assert ref.disagreeing == frozenset() and not ref.infeasible


def test_an_exact_method_that_misses_the_optimum_disagrees() -> None:
    runs = [exact_optimal("r1", "milp", 10.0), exact_optimal("r2", "label", 10.5)]
    ref = references(runs)["x"]
    assert ref.value == 10.0 and ref.methods == ("milp",)
    assert ref.disagreeing == {"r2"}


def test_an_optimum_above_a_heuristic_answer_disagrees() -> None:
    runs = [exact_optimal("r1", "milp", 10.0), heuristic("r2", 9.0)]
    ref = references(runs)["x"]
    assert ref.value == 10.0 and ref.best_known == 9.0
    assert ref.disagreeing == {"r1"}
    # within the tolerance it is no contradiction
    close = [exact_optimal("r1", "milp", 10.0), heuristic("r2", 10.0 * (1 - 0.1 * AGREEMENT_RTOL))]
    assert references(close)["x"].disagreeing == frozenset()


def test_infeasibility_against_an_answer_disagrees() -> None:
    proof = rec("r1", "milp", exact=True, status="infeasible")
    alone = references([proof, heuristic("r2", 3.0, feasible=False, status="invalid")])["x"]
    assert alone.infeasible and alone.disagreeing == frozenset() and alone.best_known is None
    contradicted = references([proof, heuristic("r2", 3.0)])["x"]
    assert not contradicted.infeasible and contradicted.disagreeing == {"r1"}
    assert contradicted.value is None and contradicted.best_known == 3.0
    # a proof that did not complete proves nothing
    stopped = proof.derive(termination="time_limit", run_id="r3")
    assert not references([stopped])["x"].infeasible


def test_only_exact_optimal_records_make_the_reference() -> None:
    runs = [
        rec("r1", "greedy", status="optimal", objective=5.0),  # not exact
        rec("r2", "milp", exact=True, status="feasible", objective=6.0),
        rec("r3", "milp", exact=True, status="optimal", objective=None),
    ]
    ref = references(runs)["x"]
    assert ref.value is None and ref.methods == () and ref.best_known == 5.0
    assert ref.disagreeing == frozenset()


def test_references_per_instance() -> None:
    runs = [exact_optimal("r1", "milp", 1.0), exact_optimal("r2", "milp", 2.0, instance_id="y")]
    refs = references(iter(runs))
    assert set(refs) == {"x", "y"} and refs["x"].value == 1.0 and refs["y"].value == 2.0
    assert references([]) == {}


# -- derive ----------------------------------------------------------------------------


def test_derive_fills_the_derived_fields() -> None:
    runs = [
        heuristic("r1", 12.0),
        exact_optimal("r2", "milp", 10.0),
        exact_optimal("r3", "label", 11.0),
        rec("r4", "greedy", status="invalid", objective=8.0, feasible=False),
        rec("r5", "other", status="feasible", objective=7.0, instance_id="y"),
    ]
    out = derive(runs)
    assert [r.run_id for r in out] == ["r1", "r2", "r3", "r4", "r5"]
    assert [r.reference for r in out] == [10.0, 10.0, 10.0, 10.0, None]
    assert out[0].gap_to_reference == pytest.approx(0.2)
    assert out[0].primal_gap == pytest.approx(2 / 12)
    assert out[1].gap_to_reference == 0.0 and out[1].primal_gap == 0.0
    assert [r.disagreement for r in out] == [False, False, True, False, False]
    # an answer the evaluator rejected counts as none
    assert out[3].gap_to_reference is None and out[3].primal_gap == 1.0
    # no reference: no gaps
    assert out[4].gap_to_reference is None and out[4].primal_gap is None


def test_derive_is_idempotent_and_ignores_stale_fields() -> None:
    runs = [exact_optimal("r1", "milp", 10.0), heuristic("r2", 9.0), heuristic("r3", 11.0)]
    once = derive(runs)
    assert derive(once) == once
    stale = [r.derive(reference=1.0, primal_gap=0.5, disagreement=not r.disagreement) for r in once]
    assert derive(stale) == once
    assert derive([]) == []
