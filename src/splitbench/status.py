"""The two status fields of every answer: what the answer is, and why the method stopped.

Two questions, two enums (the solution contract): :class:`Status` says what we hold,
:class:`Termination` says why the method or solver stopped. A solver's native status
is mapped by its adapter's table into a :class:`Termination` and a :class:`Proof`
(what the solver proved); :func:`status_of` is the one function that turns those,
with whether there is an answer, into the :class:`Status`.

Examples
--------
>>> status_of(Termination.COMPLETED, Proof.OPTIMAL, has_answer=True).value
'optimal'
>>> status_of(Termination.TIME_LIMIT, Proof.NONE, has_answer=True).value
'feasible'
>>> status_of(Termination.COMPLETED, Proof.INFEASIBLE_OR_UNBOUNDED, has_answer=False,
...           all_bounded=True).value
'infeasible'
>>> status_of(Termination.ERROR, Proof.NONE, has_answer=False).value
'none'
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Proof", "Status", "Termination", "status_of"]


class Status(StrEnum):
    """What the answer is."""

    OPTIMAL = "optimal"
    """Evaluator-feasible and proven optimal (an exact method, or a bound that closes the gap)."""
    FEASIBLE = "feasible"
    """Evaluator-feasible; optimality not proven."""
    INVALID = "invalid"
    """A placement the evaluator rejects; its violations are listed."""
    INFEASIBLE = "infeasible"
    """Proven: no feasible placement exists."""
    NONE = "none"
    """No answer."""

    @property
    def has_answer(self) -> bool:
        """Whether a placement comes with this status."""
        return self in (Status.OPTIMAL, Status.FEASIBLE, Status.INVALID)


class Termination(StrEnum):
    """Why the method stopped."""

    COMPLETED = "completed"
    """It ran to its end (an optimum, a heuristic answer, a proof of infeasibility)."""
    TIME_LIMIT = "time_limit"
    """The time limit stopped it; the best answer so far, if any, is kept."""
    OTHER_LIMIT = "other_limit"
    """Another limit stopped it (iterations, nodes, labels, memory)."""
    SKIPPED = "skipped"
    """The method declined the instance; the reason says why."""
    ERROR = "error"
    """The method or solver failed; the reason holds the message."""
    INTERRUPTED = "interrupted"
    """Stopped by the user (Ctrl-C) or a signal."""


class Proof(StrEnum):
    """What a solver proved when it stopped (the other half of a native status)."""

    OPTIMAL = "optimal"
    """Its incumbent is optimal within its tolerances."""
    INFEASIBLE = "infeasible"
    """The model has no feasible point."""
    UNBOUNDED = "unbounded"
    """The objective is unbounded below."""
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    """One of the two, the solver does not say which."""
    NONE = "none"
    """Nothing."""


def status_of(
    termination: Termination,
    proof: Proof,
    *,
    has_answer: bool,
    all_bounded: bool = False,
) -> Status:
    """The :class:`Status` of a solver's or method's answer.

    Parameters
    ----------
    termination : Termination
        Why it stopped.
    proof : Proof
        What it proved.
    has_answer : bool
        Whether it returned an incumbent.
    all_bounded : bool
        Whether every variable has finite bounds, so that the model cannot be
        unbounded and "infeasible or unbounded" means infeasible.

    Returns
    -------
    Status
        ``optimal`` only for a completed run with an incumbent proven optimal;
        ``infeasible`` only with a proof; ``feasible`` for any other incumbent; else
        ``none``. The evaluator may still turn an answer into ``invalid``.
    """
    if proof is Proof.INFEASIBLE or (proof is Proof.INFEASIBLE_OR_UNBOUNDED and all_bounded):
        return Status.INFEASIBLE
    if not has_answer:
        return Status.NONE
    if proof is Proof.OPTIMAL and termination is Termination.COMPLETED:
        return Status.OPTIMAL
    return Status.FEASIBLE
