"""What a method returns, and the solution contract built from it.

A method returns a :class:`MethodResult` (its status, placement, bound and timings);
:func:`splitbench.methods.solve` passes the placement through the evaluator and
returns a :class:`Solution`, whose :meth:`Solution.to_dict` is the JSON that
``splitbench solve --json`` prints.

Examples
--------
>>> Status("time_limit") is Status.TIME_LIMIT
True
>>> Status.OPTIMAL.has_answer, Status.INFEASIBLE.has_answer
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from splitbench.evaluate import Evaluation, Placement

__all__ = ["MethodResult", "Solution", "Status"]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


class Status(StrEnum):
    """Why a method stopped (one vocabulary for every method and solver)."""

    OPTIMAL = "optimal"
    """A placement proven optimal (exact methods only)."""
    FEASIBLE = "feasible"
    """A placement without proof of optimality (heuristics, or a solver's incumbent)."""
    INFEASIBLE = "infeasible"
    """Proven: no placement meets the constraints."""
    TIME_LIMIT = "time_limit"
    """Stopped by the time limit; the incumbent, if any, is kept."""
    NO_SOLUTION = "no_solution"
    """Stopped without a placement and without proof of infeasibility."""
    ERROR = "error"
    """The method or solver failed; the message says why."""
    SKIPPED = "skipped"
    """The method declined the instance (too large, unsupported feature); the reason says why."""

    @property
    def has_answer(self) -> bool:
        """Whether a placement normally comes with this status."""
        return self in (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT)


@dataclass(frozen=True)
class MethodResult:
    """The raw answer of one method on one instance, before evaluation.

    Attributes
    ----------
    status : Status
        Why the method stopped.
    placement : Placement or None
        The answer, if any.
    claimed_objective : float or None
        The objective the method believes its placement has (kept, never trusted).
    bound : float or None
        A proven lower bound on the optimum (dual bound), if the method has one.
    reason : str or None
        Why a method declined (``skipped``) or failed (``error``).
    build_time_s, solve_time_s, solver_time_s : float or None
        Time to build the model or graph, to solve it, and the solver's own clock.
    info : mapping
        Method-specific facts (model size, nodes, guarantees), flat and JSON-ready.
    """

    status: Status
    placement: Placement | None = None
    claimed_objective: float | None = None
    bound: float | None = None
    reason: str | None = None
    build_time_s: float | None = None
    solve_time_s: float | None = None
    solver_time_s: float | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Solution:
    """A method's answer with the evaluator's verdict: the solution contract."""

    instance: str
    method: str
    solver: str | None
    status: Status
    placement: Placement | None
    evaluation: Evaluation | None
    bound: float | None
    build_time_s: float | None
    solve_time_s: float | None
    exact: bool
    reason: str | None = None
    claimed_objective: float | None = None
    solver_time_s: float | None = None
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def objective(self) -> float | None:
        """The objective recomputed by the evaluator (None without a placement)."""
        return self.evaluation.objective if self.evaluation else None

    @property
    def feasible(self) -> bool:
        """Whether there is a placement and it breaks no rule."""
        return self.evaluation is not None and self.evaluation.feasible

    def to_dict(self) -> dict[str, Any]:
        """The solution contract (ARCHITECTURE.md), as JSON-ready data.

        Non-finite numbers (the cost of a route over a missing arc, the bound of a
        proven infeasible instance) become null, so the output is strict JSON.
        """
        ev = self.evaluation
        return {
            "instance": self.instance,
            "method": self.method,
            "solver": self.solver,
            "status": self.status.value,
            "objective": _finite(ev.objective if ev else None),
            "latency_s": _finite(ev.latency_s if ev else None),
            "energy_j": _finite(ev.energy_j if ev else None),
            "accuracy": _finite(ev.accuracy if ev else None),
            "feasible": self.feasible,
            "violations": list(ev.violations) if ev else [],
            "bound": _finite(self.bound),
            "build_time_s": self.build_time_s,
            "solve_time_s": self.solve_time_s,
            "placement": self.placement.to_dict() if self.placement else None,
            "reason": self.reason,
        }
