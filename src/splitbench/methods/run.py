"""The runner of one method: :func:`solve`, the one way any method is run.

It owns the clock and the verdict. Before any timer it checks the options (an
unknown method or solver, a bad parameter or a non-positive time limit is bad input,
raised as a :class:`~splitbench.errors.SplitbenchError`) and imports the solver
package; then it times the method's build and solve phases on a :class:`Clock`,
passes the placement through the evaluator (``verify_time_s``), and decides the two
status fields of the :class:`~splitbench.solution.Solution`:

- a placement the evaluator rejects is ``invalid``, with its violations;
- ``optimal`` needs an exact method on this instance, or a bound that closes the
  gap; an evaluated objective further than :data:`AGREEMENT_RTOL` above the bound
  is not reported optimal either;
- a method that raises gives termination ``error`` with the message, never an
  exception.

Examples
--------
>>> from splitbench.instance import example_instance
>>> sol = solve(example_instance(), "exhaustive")
>>> sol.status.value, sol.termination.value, round(sol.objective, 4)
('optimal', 'completed', 0.0856)
>>> sol.placement.blocks
('md', 'md', 'md', 'cs', 'cs')
>>> heuristic = solve(example_instance(), "device-only")  # 6.56 ms > the 5 ms deadline
>>> heuristic.status.value, heuristic.violations[0][:25]
('invalid', 'latency 0.006564 s exceed')
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from threadpoolctl import threadpool_limits

from splitbench.answer import Clock, MethodResult, RunOptions, Settings
from splitbench.errors import PlacementError, UsageError
from splitbench.evaluate import Evaluation, evaluate
from splitbench.evaluate_multi import MultiEvaluation, evaluate_multi
from splitbench.instance import instance_id
from splitbench.instance.model import Instance
from splitbench.instance.multi import MultiInstance
from splitbench.methods.plugins import find_method
from splitbench.methods.registry import SOLVER_PARAMS, MethodSpec
from splitbench.params import parse_params
from splitbench.placement import MultiPlacement, Placement
from splitbench.solution import Solution
from splitbench.solvers import get_solver
from splitbench.status import Status, Termination
from splitbench.tolerances import AGREEMENT_ATOL, AGREEMENT_RTOL

__all__ = ["check_settings", "solve"]


def check_settings(time_limit_s: float | None, mip_rel_gap: float | None = None) -> None:
    """Refuse a time limit or gap that no solver can honour, before any work.

    Raises
    ------
    UsageError
        For a time limit that is not a positive finite number, or a gap outside [0, 1).

    Examples
    --------
    >>> check_settings(2.0, 1e-6)
    >>> check_settings(float("nan"))
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: --time-limit nan: must be a positive number of seconds
    """
    if time_limit_s is not None and not (math.isfinite(time_limit_s) and time_limit_s > 0):
        raise UsageError(f"--time-limit {time_limit_s:g}: must be a positive number of seconds")
    if mip_rel_gap is not None and not (0.0 <= mip_rel_gap < 1.0):
        raise UsageError(f"--param mip_rel_gap={mip_rel_gap:g}: must be in [0, 1)")


def _closes(objective: float, bound: float) -> bool:
    """Whether ``bound`` proves ``objective`` optimal within the agreement tolerance."""
    slack = AGREEMENT_RTOL * max(abs(objective), abs(bound)) + AGREEMENT_ATOL
    return objective - bound <= slack


def _verdict(
    spec: MethodSpec,
    instance: Instance | MultiInstance,
    result: MethodResult,
    evaluation: Evaluation | MultiEvaluation | None,
    params: Mapping[str, Any],
) -> tuple[Status, str | None]:
    """The status the runner reports, and the reason (the method's, or why it changed)."""
    status, reason = result.status, result.reason
    if evaluation is None:
        if status.has_answer:  # a claim of an answer without one
            return Status.NONE, reason
        return status, reason
    if not evaluation.feasible:
        return Status.INVALID, reason or "; ".join(evaluation.violations)
    if status is Status.OPTIMAL:
        bound = result.bound
        closes = bound is not None and _closes(evaluation.objective, bound)
        if bound is not None and not closes:
            return Status.FEASIBLE, (
                f"the evaluated objective {evaluation.objective:.6g} is above the bound "
                f"{bound:.6g}: optimality not proven"
            )
        if not spec.exact_on(instance, params) and not closes:
            return Status.FEASIBLE, reason or (
                f"method {spec.name!r} is not exact on this instance: optimality not proven"
            )
        return Status.OPTIMAL, reason
    if status in (Status.NONE, Status.INFEASIBLE, Status.INVALID):
        status = Status.FEASIBLE  # it returned a placement the evaluator accepts
    return status, reason


def _judge(
    instance: Instance | MultiInstance, placement: Placement | MultiPlacement
) -> Evaluation | MultiEvaluation:
    """The evaluator of the instance's format; a placement of the other kind is malformed."""
    if isinstance(instance, MultiInstance):
        if not isinstance(placement, MultiPlacement):
            raise PlacementError("a format-2 instance needs one placement per request")
        return evaluate_multi(instance, placement)
    if not isinstance(placement, Placement):
        raise PlacementError("a format-1 instance takes one placement, not one per request")
    return evaluate(instance, placement)


def _run(spec: MethodSpec, instance: Instance | MultiInstance, options: RunOptions) -> MethodResult:
    if not isinstance(instance, MultiInstance):
        if spec.multi_params:  # what only the format-2 form takes
            kept = {k: v for k, v in options.params.items() if k not in spec.multi_params}
            options = replace(options, params=kept)
        return spec.run(instance, options)
    if spec.run_multi is None:
        return MethodResult.skipped(
            f"method {spec.name!r} takes one request at a time (format 1); this instance "
            f"has {len(instance.requests)} requests sharing capacity (format 2)"
        )
    return spec.run_multi(instance, options)


def solve(
    instance: Instance | MultiInstance,
    method: str,
    *,
    solver: str | None = None,
    time_limit_s: float | None = None,
    params: Mapping[str, Any] | None = None,
    threads: int = 1,
) -> Solution:
    """Run ``method`` on ``instance`` and evaluate its answer.

    Parameters
    ----------
    instance : Instance or MultiInstance
        The instance (format 1, or format 2: many requests sharing capacity; a method
        without a format-2 form declines it, termination ``skipped``).
    method : str
        A registered method name (:data:`~splitbench.methods.METHODS`).
    solver : str, optional
        The MILP backend of a solver-based method (default ``highs``).
    time_limit_s : float, optional
        The method's time limit in seconds (every method honours it).
    params : mapping, optional
        Method parameters (strings are converted by the parameter's type).
    threads : int
        Solver threads.

    Raises
    ------
    UnknownNameError, UsageError
        For an unknown method, an unknown or unavailable solver, a solver given to
        a method that uses none, a bad parameter, or a bad time limit.

    Returns
    -------
    Solution
        The two status fields, the placement, and the objective, feasibility and
        violations recomputed by :func:`splitbench.evaluate.evaluate`.
    """
    spec = find_method(method)
    if solver is not None and not spec.uses_solver:
        raise UsageError(f"--solver {solver}: method {spec.name!r} uses no MILP solver")
    values = parse_params(f"method {spec.name!r}", spec.all_params, params or {})
    gap = values.pop("mip_rel_gap", None) if spec.uses_solver else None
    check_settings(time_limit_s, gap)
    backend = (solver or spec.default_solver) if spec.uses_solver else None
    solver_version = None
    if backend is not None:
        # an unknown or missing solver is bad input; importing its package is not timed
        solver_version = get_solver(backend).version()
    settings = Settings(
        time_limit_s=time_limit_s,
        mip_rel_gap=gap if gap is not None else SOLVER_PARAMS["mip_rel_gap"].default,
        threads=threads,
    )
    clock = Clock(time_limit_s)
    options = RunOptions(solver=backend, settings=settings, params=values, clock=clock)
    with threadpool_limits(limits=threads):  # numeric libraries too: no oversubscription
        clock.restart()
        try:
            result = _run(spec, instance, options)
        except MemoryError:
            result = MethodResult(
                Status.NONE, Termination.ERROR, reason="MemoryError: the method ran out of memory"
            )
        except Exception as err:  # a run never raises: the failure becomes a result
            result = MethodResult(
                Status.NONE, Termination.ERROR, reason=f"{type(err).__name__}: {err}"
            )
        finally:
            clock.stop()
    evaluation = None
    termination, reason = result.termination, result.reason
    start = time.perf_counter()
    if result.placement is not None:
        try:
            evaluation = _judge(instance, result.placement)
        except PlacementError as err:
            termination, reason = Termination.ERROR, f"malformed placement: {err}"
        except Exception as err:  # a plugin's placement of the wrong type, say
            termination = Termination.ERROR
            reason = f"malformed placement: {type(err).__name__}: {err}"
    verify_time = time.perf_counter() - start
    status, reason = _verdict(spec, instance, result, evaluation, values)
    if termination is Termination.ERROR and evaluation is None:
        status = Status.NONE
    facts = result.facts
    if solver_version is not None and facts.solver_version is None:
        facts = replace(facts, solver_version=solver_version)
    return Solution(
        instance=instance.name or instance_id(instance),
        method=spec.name,
        solver=backend,
        status=status,
        termination=termination,
        exact=spec.exact_on(instance, values),
        reason=reason,
        placement=result.placement if evaluation is not None else None,
        evaluation=evaluation,
        bound=result.bound,
        claimed_objective=result.claimed_objective,
        build_time_s=clock.build_time_s,
        solve_time_s=clock.solve_time_s,
        verify_time_s=verify_time,
        solver_time_s=result.solver_time_s,
        facts=facts,
        info=dict(result.info),
    )
