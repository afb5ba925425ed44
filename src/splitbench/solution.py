"""The solution contract: a method's answer with the evaluator's verdict.

:func:`splitbench.methods.solve` returns a :class:`Solution`; its
:meth:`Solution.to_dict` is the JSON that ``splitbench solve --json`` prints, with
the two status fields of the contract: ``status`` (what the answer is) and
``termination`` (why the method stopped).

Examples
--------
>>> from splitbench.methods import solve
>>> from splitbench.instance import example_instance
>>> data = solve(example_instance(), "fin").to_dict()
>>> data["status"], data["termination"], data["exact"], data["feasible"]
('feasible', 'completed', False, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from splitbench.answer import RunFacts
from splitbench.evaluate import Evaluation
from splitbench.evaluate_multi import MultiEvaluation
from splitbench.placement import MultiPlacement, Placement
from splitbench.status import Status, Termination

__all__ = ["Solution"]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class Solution:
    """A method's answer with the evaluator's verdict: the solution contract.

    Attributes
    ----------
    instance, method : str
        The instance's name (or id) and the method.
    solver : str or None
        The backend of a solver-based method.
    status : Status
        What the answer is (optimal, feasible, invalid, infeasible, none).
    termination : Termination
        Why the method stopped.
    exact : bool
        Whether the method is exact on this instance.
    reason : str or None
        Why it declined, failed or stopped, or why its status is what it is.
    placement : Placement, MultiPlacement or None
        The answer (a MultiPlacement for a format-2 instance).
    evaluation : Evaluation, MultiEvaluation or None
        The evaluator's figures for it.
    bound : float or None
        A proven lower bound on the optimum.
    claimed_objective : float or None
        What the method believed its objective was.
    build_time_s, solve_time_s, verify_time_s : float
        The runner's phases: building, solving, and the evaluator.
    solver_time_s : float or None
        The solver's own clock.
    facts : RunFacts
        Typed facts for the result record (model size, nodes, versions, LP bound).
    info : mapping
        Method-specific diagnostics.
    """

    instance: str
    method: str
    solver: str | None
    status: Status
    termination: Termination
    exact: bool
    reason: str | None
    placement: Placement | MultiPlacement | None
    evaluation: Evaluation | MultiEvaluation | None
    bound: float | None
    claimed_objective: float | None
    build_time_s: float
    solve_time_s: float
    verify_time_s: float
    solver_time_s: float | None = None
    facts: RunFacts = field(default_factory=RunFacts)
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def objective(self) -> float | None:
        """The objective recomputed by the evaluator (None without a placement)."""
        return self.evaluation.objective if self.evaluation else None

    @property
    def feasible(self) -> bool:
        """Whether there is a placement and it breaks no rule."""
        return self.evaluation is not None and self.evaluation.feasible

    @property
    def violations(self) -> tuple[str, ...]:
        """The evaluator's violations (empty without a placement)."""
        return self.evaluation.violations if self.evaluation else ()

    def to_dict(self) -> dict[str, Any]:
        """The solution contract (ARCHITECTURE.md), as JSON-ready data.

        Non-finite numbers (the cost of a route over a missing arc, the bound of a
        proven infeasible instance) become null, so the output is strict JSON. The
        record facts (model size, nodes, versions, LP bound) follow the contract's
        fields.
        """
        ev = self.evaluation
        single = ev if isinstance(ev, Evaluation) else None
        out: dict[str, Any] = {
            "instance": self.instance,
            "method": self.method,
            "solver": self.solver,
            "status": self.status.value,
            "termination": self.termination.value,
            "exact": self.exact,
            "reason": self.reason,
            "objective": _finite(ev.objective if ev else None),
            "claimed_objective": _finite(self.claimed_objective),
            "latency_s": _finite(single.latency_s if single else None),
            "energy_j": _finite(single.energy_j if single else None),
            "accuracy": _finite(single.accuracy if single else None),
            "feasible": self.feasible,
            "violations": list(self.violations),
            "bound": _finite(self.bound),
            "build_time_s": self.build_time_s,
            "solve_time_s": self.solve_time_s,
            "verify_time_s": self.verify_time_s,
            "solver_time_s": self.solver_time_s,
            "placement": self.placement.to_dict() if self.placement else None,
            **self.facts.to_dict(),
        }
        if isinstance(ev, MultiEvaluation):
            out["requests"] = [
                {
                    "id": rid,
                    "latency_s": _finite(e.latency_s),
                    "energy_j": _finite(e.energy_j),
                    "accuracy": _finite(e.accuracy),
                    "feasible": e.feasible,
                }
                for rid, e in ev.requests
            ]
            out["max_node_utilization"] = _finite(ev.max_node_utilization)
            out["max_arc_utilization"] = _finite(ev.max_arc_utilization)
        return out
