"""The ``cbc`` backend: COIN-OR CBC through PuLP.

The arrays become a ``pulp.LpProblem`` (one ``LpAffineExpression`` per sparse row;
a row with both bounds finite and different becomes two constraints), which PuLP
writes as MPS and hands to CBC: the binary bundled with PuLP 3.x when present, else
a ``cbc`` on the ``PATH`` (PuLP 4 no longer bundles it). CBC's log, kept in a
temporary file, gives the stop reason, the dual bound, the node count and CBC's
own wall-clock time, which PuLP does not return.

==========================================  ==========================================
CBC ("Result - ..." line / PuLP status)     status
==========================================  ==========================================
Optimal solution found                      optimal
Problem proven infeasible / infeasible      infeasible
Stopped on time limit                       time_limit (incumbent if any)
Stopped otherwise (nodes, solutions, ...)   feasible with an incumbent, else no_solution
anything else                               error, with CBC's text
==========================================  ==========================================

Examples
--------
>>> from splitbench.formulations import build_routing
>>> from splitbench.instance import example_instance
>>> result = CbcAdapter().solve(build_routing(example_instance()).milp, SolverSettings())
>>> result.status.value, int(result.values.sum())  # arcs on the optimal path
('optimal', 6)
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from splitbench.solution import Status
from splitbench.solvers.base import SolverResult, SolverSettings, module_available

if TYPE_CHECKING:
    from splitbench.formulations.milp import MILP

__all__ = [
    "CbcAdapter",
    "cbc_executable",
    "cbc_solve_file",
    "parse_cbc_log",
    "pulp_from_milp",
]


def cbc_executable() -> str | None:
    """The CBC binary PuLP bundles (PuLP 3.x), else ``cbc`` on the ``PATH``, else None.

    Examples
    --------
    >>> import os
    >>> os.access(cbc_executable(), os.X_OK)
    True
    """
    if module_available("pulp"):
        from pulp.apis.coin_api import PULP_CBC_CMD

        path = getattr(PULP_CBC_CMD, "pulp_cbc_path", None)
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return str(path)
    return shutil.which("cbc")


def pulp_from_milp(milp: MILP, *, with_constant: bool = False) -> tuple[Any, list[Any]]:
    """A ``pulp.LpProblem`` holding ``milp`` and its variables in column order.

    Examples
    --------
    >>> from splitbench.formulations import build_routing
    >>> from splitbench.instance import example_instance
    >>> prob, variables = pulp_from_milp(build_routing(example_instance()).milp)
    >>> len(variables), len(prob.constraints())
    (64, 41)
    """
    import pulp

    prob = pulp.LpProblem("splitbench", pulp.LpMinimize)
    variables = []
    for j in range(milp.n_vars):
        lo, up = float(milp.col_lower[j]), float(milp.col_upper[j])
        variables.append(
            prob.add_variable(
                f"v{j}",
                lowBound=lo if math.isfinite(lo) else None,
                upBound=up if math.isfinite(up) else None,
                cat=pulp.LpInteger if milp.integrality[j] else pulp.LpContinuous,
            )
        )
    cost = np.flatnonzero(milp.c)
    objective = pulp.LpAffineExpression([(variables[j], float(milp.c[j])) for j in cost])
    if with_constant:
        objective.constant = milp.objective_constant
    prob.setObjective(objective)
    a = milp.A
    for i in range(milp.n_rows):
        cols = a.indices[a.indptr[i] : a.indptr[i + 1]]
        if cols.size == 0:
            continue  # empty rows were checked against their bounds by solve_milp
        vals = a.data[a.indptr[i] : a.indptr[i + 1]]
        terms = [
            (variables[j], float(v)) for j, v in zip(cols.tolist(), vals.tolist(), strict=True)
        ]
        lo, up = float(milp.row_lower[i]), float(milp.row_upper[i])
        if lo == up:
            prob.addConstraint(
                pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintEQ, f"r{i}", lo)
            )
            continue
        if math.isfinite(lo):
            prob.addConstraint(
                pulp.LpConstraint(
                    pulp.LpAffineExpression(terms), pulp.LpConstraintGE, f"r{i}_lo", lo
                )
            )
        if math.isfinite(up):
            prob.addConstraint(
                pulp.LpConstraint(
                    pulp.LpAffineExpression(terms), pulp.LpConstraintLE, f"r{i}_up", up
                )
            )
    return prob, variables


_LOG_FIELDS = {
    "result": re.compile(r"^Result - (.+)$", re.M),
    "objective": re.compile(r"^Objective value:\s+(\S+)", re.M),
    "bound": re.compile(r"^Lower bound:\s+(\S+)", re.M),
    "nodes": re.compile(r"^Enumerated nodes:\s+(\d+)", re.M),
    "wallclock": re.compile(r"\(Wallclock seconds\):\s+(\S+)"),
    "infeasible": re.compile(r"(?i)problem is infeasible|proven infeasible|infeasible - "),
}


def parse_cbc_log(text: str) -> dict[str, Any]:
    """The stop reason, objective, bound, nodes and wall-clock time in a CBC log.

    CBC prints the bound with few decimals (``Lower bound: 0.000``); it is lowered
    by half a unit of its last printed digit, so that it stays a valid bound.

    Examples
    --------
    >>> log = ("Result - Stopped on time limit\\n\\nObjective value:  17.0\\n"
    ...        "Lower bound:  0.000\\nEnumerated nodes:  6117\\n"
    ...        "Total time (CPU seconds):  1.68   (Wallclock seconds):  2.02\\n")
    >>> parse_cbc_log(log)
    {'result': 'Stopped on time limit', 'objective': 17.0, 'bound': -0.0005, 'nodes': 6117, \
'wallclock': 2.02, 'infeasible': False}
    >>> parse_cbc_log("Lower bound:  1.250\\n")["bound"]
    1.2495
    """
    out: dict[str, Any] = {}
    for key, pattern in _LOG_FIELDS.items():
        found = pattern.findall(text)
        if key == "infeasible":
            out[key] = bool(found)
        elif not found:
            out[key] = None
        elif key == "result":
            out[key] = found[-1].strip()
        elif key == "nodes":
            out[key] = int(found[-1])
        else:
            out[key] = _float(found[-1])
            if key == "bound" and out[key] is not None:
                out[key] -= _half_last_digit(found[-1])
    return out


def _half_last_digit(text: str) -> float:
    """Half a unit of the last digit of a number printed in fixed notation."""
    if "e" in text.lower() or "." not in text:
        return 0.5 if "e" not in text.lower() else 0.0
    return 0.5 * 10.0 ** -len(text.split(".", 1)[1])


class CbcAdapter:
    """Backend ``cbc``: CBC through PuLP."""

    name = "cbc"

    def unavailable_reason(self) -> str | None:
        """None when PuLP and a CBC binary are present."""
        if not module_available("pulp"):
            return "pulp is not installed"
        if cbc_executable() is None:
            return "no CBC binary (PuLP 4 does not bundle one: install cbc)"
        return None

    def version(self) -> str | None:
        """PuLP's version and the CBC binary used."""
        import pulp

        return f"pulp {pulp.__version__} (cbc {cbc_executable()})"

    def solve(self, milp: MILP, settings: SolverSettings) -> SolverResult:
        """Solve with CBC (the objective constant is left to the caller)."""
        import pulp

        start = time.perf_counter()
        prob, variables = pulp_from_milp(milp)
        translated = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="splitbench-cbc-") as tmp:
            log_path = os.path.join(tmp, "cbc.log")
            solver = pulp.COIN_CMD(
                path=cbc_executable(),
                mip=milp.is_mip,
                msg=False,
                timeLimit=settings.time_limit_s,
                gapRel=settings.mip_rel_gap,
                threads=settings.threads,
                logPath=log_path,
            )
            solver.tmpDir = tmp  # PuLP's model and solution files go here too
            prob.solve(solver)
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                log = parse_cbc_log(handle.read())
        done = time.perf_counter()
        result = _read(prob, variables, log, milp.is_mip)
        return replace(
            result,
            translate_time_s=translated - start,
            solve_time_s=done - translated,
            solver_version=self.version(),
        )


def _read(prob: Any, variables: list[Any], log: dict[str, Any], is_mip: bool) -> SolverResult:
    import pulp

    reason = log["result"] or ""
    text = reason or pulp.LpStatus.get(prob.status, str(prob.status))
    has_solution = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    values = (
        np.array([v.varValue if v.varValue is not None else 0.0 for v in variables], dtype=float)
        if has_solution
        else None
    )
    if prob.status == pulp.LpStatusInfeasible or log["infeasible"] or "infeasible" in reason:
        status, values = Status.INFEASIBLE, None
    elif "time" in reason.lower():
        status = Status.TIME_LIMIT
    elif prob.status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal:
        status = Status.OPTIMAL
    elif reason.startswith("Stopped") or prob.status == pulp.LpStatusNotSolved:
        status = Status.FEASIBLE if values is not None else Status.NO_SOLUTION
    else:
        status = Status.ERROR
    # an optimal status's bound is its incumbent, computed exactly by solve_milp:
    # CBC's printed objective has 8 decimals only
    bound = None if status is Status.OPTIMAL else log["bound"]
    if bound is not None and not math.isfinite(bound):
        bound = None
    return SolverResult(
        status=status,
        values=values,
        bound=bound if is_mip else None,
        nodes=log["nodes"] if is_mip else None,
        solver_time_s=log["wallclock"],
        message=text,
    )


def _file_status(head: str, log: dict[str, Any]) -> tuple[Status, bool]:
    """Status and whether a solution exists, from the first line of CBC's solution
    file (e.g. ``Stopped on time - objective value 17``) and its log."""
    lowered = head.lower()
    words = head.split()
    value = None
    if "objective value" in lowered and words:
        value = _float(words[-1])
    has_solution = value is not None and abs(value) < 1e50
    reason = (log["result"] or "").lower()
    if "infeasible" in lowered or log["infeasible"] or "infeasible" in reason:
        return Status.INFEASIBLE, False
    if "time" in lowered or "time" in reason:
        return Status.TIME_LIMIT, has_solution
    if lowered.startswith("optimal"):
        return Status.OPTIMAL, has_solution
    if lowered.startswith("stopped"):
        return (Status.FEASIBLE if has_solution else Status.NO_SOLUTION), has_solution
    return Status.ERROR, False


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def cbc_solve_file(
    path: str | os.PathLike[str], settings: SolverSettings, columns: Sequence[str]
) -> SolverResult:
    """Run the CBC binary on the MPS file ``path`` (CBC reads the file itself).

    ``columns`` are the file's column names in order; the values come back in that
    order. Objective and bound include the file's objective constant.
    """
    executable = cbc_executable()
    if executable is None:
        return SolverResult(status=Status.ERROR, solver="cbc", message="no CBC binary")
    with tempfile.TemporaryDirectory(prefix="splitbench-cbc-") as tmp:
        solution = os.path.join(tmp, "solution.txt")
        command = [executable, str(path), "-threads", str(settings.threads)]
        if settings.time_limit_s is not None:
            command += ["-sec", str(settings.time_limit_s)]
        if settings.mip_rel_gap is not None:
            command += ["-ratio", str(settings.mip_rel_gap)]
        command += ["-solve", "-solution", solution]
        start = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        done = time.perf_counter()
        log = parse_cbc_log(run.stdout)
        if not os.path.isfile(solution):
            return SolverResult(
                status=Status.ERROR,
                solver="cbc",
                solve_time_s=done - start,
                message=f"CBC wrote no solution (exit {run.returncode})",
            )
        with open(solution, encoding="utf-8", errors="replace") as handle:
            head = handle.readline().strip()
            rows = [line.replace("**", " ").split() for line in handle]
    status, has_solution = _file_status(head, log)
    values = None
    if has_solution and status is not Status.INFEASIBLE:
        position = {name: j for j, name in enumerate(columns)}
        values = np.zeros(len(columns))
        for parts in rows:
            if len(parts) >= 3 and parts[1] in position:
                values[position[parts[1]]] = float(parts[2])
    objective = None
    if values is not None:  # from the values: CBC prints the objective with 8 decimals
        from splitbench.solvers.mps import mps_objective

        costs, constant = mps_objective(path)
        objective = constant + sum(
            costs.get(name, 0.0) * v for name, v in zip(columns, values.tolist(), strict=True)
        )
    bound = objective if status is Status.OPTIMAL else log["bound"]
    return SolverResult(
        status=status,
        values=values,
        objective=objective,
        bound=bound if bound is not None and math.isfinite(bound) else None,
        nodes=log["nodes"],
        solver_time_s=log["wallclock"],
        solve_time_s=done - start,
        translate_time_s=0.0,
        solver="cbc",
        solver_version=f"cbc {executable}",
        message=head,
    )
