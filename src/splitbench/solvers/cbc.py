"""The ``cbc`` backend: COIN-OR CBC through PuLP.

The arrays become a ``pulp.LpProblem`` (one ``LpAffineExpression`` per sparse row;
a row with both bounds finite and different becomes two constraints), which PuLP
writes as MPS. The CBC binary (the one bundled with PuLP 3.x when present, else a
``cbc`` on the ``PATH``) runs on that file with the options PuLP would give it
(``-sec``, ``-ratio`` = ``gapRel``, ``-allow`` = ``gapAbs``, ``-timeMode elapsed``)
under a wall-clock guard: CBC checks its time limit only between nodes, so a
process still running :data:`KILL_MARGIN_S` (plus 5 %) after the limit is killed,
and the answer is termination ``time_limit``. PuLP reads the solution file back
(its status and ``sol_status`` codes); CBC's log, captured from its output, gives
which limit stopped it, the dual bound, the node count and CBC's own clock.

The absolute gap is 0 and the relative gap explicit. CBC prints its bound with few
digits; the most precise printed value (``best possible`` has six significant
digits, ``Lower bound:`` three decimals) is taken and lowered by half a unit of its
last digit, so that it stays a valid bound (after :func:`~splitbench.solvers.solve_milp`
scales the objective to about 1 that is a relative error of at most 5e-6).

Native statuses (:data:`NATIVE_STATUS`, PuLP's ``(status, sol_status)``):

=================  ====================================  ===========================
(status, sol)      CBC's solution file says              (termination, proof)
=================  ====================================  ===========================
(1, 1)             Optimal                               completed, optimal
(-1, -1), (-1, 0)  Infeasible, Integer infeasible        completed, infeasible
(-2, -2)           Unbounded                             completed, unbounded
(1, 2), (0, 0)     Stopped on ... (incumbent or not)     other_limit; time_limit when
                                                         CBC names time, interrupted
                                                         for ctrl-c
(-3, 0), anything  anything else                         error, with CBC's text
=================  ====================================  ===========================

Examples
--------
>>> from splitbench.formulations import build_routing
>>> from splitbench.instance import example_instance
>>> result = CbcAdapter().solve(build_routing(example_instance()).milp, SolverSettings())
>>> result.status.value, int(result.values.round().sum())  # arcs on the optimal path
('optimal', 6)
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from splitbench.milp import MILP
from splitbench.solvers.base import (
    NativeStatusTable,
    SolverResult,
    SolverSettings,
    all_bounded,
    cbc_executable,
    map_native_status,
    module_available,
    result_from_native,
    solver_time_limit,
    stamped,
)
from splitbench.status import Proof, Status, Termination

__all__ = [
    "KILL_MARGIN_S",
    "NATIVE_STATUS",
    "CbcAdapter",
    "cbc_command",
    "parse_cbc_log",
    "pulp_from_milp",
    "read_cbc_result",
]

FloatArray = npt.NDArray[np.float64]

KILL_MARGIN_S = 0.5
"""Seconds (plus 5 % of the limit) CBC may run past its time limit before it is killed."""

NATIVE_STATUS: NativeStatusTable = {
    (1, 1): (Termination.COMPLETED, Proof.OPTIMAL),
    (-1, -1): (Termination.COMPLETED, Proof.INFEASIBLE),
    (-1, 0): (Termination.COMPLETED, Proof.INFEASIBLE),
    (-2, -2): (Termination.COMPLETED, Proof.UNBOUNDED),
    (1, 2): (Termination.OTHER_LIMIT, Proof.NONE),
    (0, 0): (Termination.OTHER_LIMIT, Proof.NONE),
    (-3, 0): (Termination.ERROR, Proof.NONE),
}
"""PuLP's ``(status, sol_status)`` after reading CBC's solution -> (termination, proof)."""

_STOPPED_BY = (("time", Termination.TIME_LIMIT), ("ctrl-c", Termination.INTERRUPTED))
"""PuLP's codes do not say which limit stopped CBC; these words in CBC's text do."""

_NO_SOLUTION = 1e50  # CBC writes "objective value 1e+50" when it holds no incumbent

_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_LOG_FIELDS = {
    "result": re.compile(r"^Result - (.+)$", re.M),
    "objective": re.compile(r"^Objective value:\s+" + _NUMBER, re.M),
    "nodes": re.compile(r"^Enumerated nodes:\s+(\d+)", re.M),
    "wallclock": re.compile(r"\(Wallclock seconds\):\s+" + _NUMBER),
}
_BOUND_FIELDS = (  # (pattern, significant digits of a %g print, or None for fixed decimals)
    (re.compile(r"^Lower bound:\s+" + _NUMBER, re.M), None),
    (re.compile(r"best possible\s+" + _NUMBER), 6),
)


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
        senses = (
            [(pulp.LpConstraintEQ, lo, f"r{i}")]
            if lo == up
            else [
                (sense, rhs, f"r{i}_{tag}")
                for sense, rhs, tag in (
                    (pulp.LpConstraintGE, lo, "lo"),
                    (pulp.LpConstraintLE, up, "up"),
                )
                if math.isfinite(rhs)
            ]
        )
        for sense, rhs, name in senses:
            prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), sense, name, rhs))
    return prob, variables


def cbc_command(
    executable: str,
    model: str,
    solution: str,
    settings: SolverSettings,
    *,
    time_limit_s: float | None,
    mip: bool,
) -> list[str]:
    """The CBC command line for ``model`` (what PuLP's ``COIN_CMD`` would run, with an
    absolute gap of 0).

    Examples
    --------
    >>> cbc_command("cbc", "m.mps", "m.sol", SolverSettings(), time_limit_s=2.0, mip=True)
    ['cbc', 'm.mps', '-sec', '2.0', '-timeMode', 'elapsed', '-ratio', '1e-09', '-allow', '0', \
'-solve', '-printingOptions', 'all', '-solution', 'm.sol']
    """
    command = [executable, model]
    if time_limit_s is not None:
        command += ["-sec", repr(float(time_limit_s)), "-timeMode", "elapsed"]
    if mip:
        command += ["-ratio", repr(float(settings.mip_rel_gap)), "-allow", "0"]
    if settings.threads > 1:  # -threads 1 would start CBC's threaded code for nothing
        command += ["-threads", str(settings.threads)]
    command += ["-solve" if mip else "-initialSolve", "-printingOptions", "all"]
    return [*command, "-solution", solution]


def parse_cbc_log(text: str) -> dict[str, Any]:
    """The stop reason, objective, dual bound, nodes and wall-clock time in a CBC log.

    The bound is the most precise one printed, lowered by half a unit of its last
    printed digit so that it stays a valid bound.

    Examples
    --------
    >>> log = ("Cbc0010I After 1000 nodes, 611 on tree, 32 best solution, best possible "
    ...        "0.977431 (0.38 seconds)\\nResult - Stopped on time limit\\n\\n"
    ...        "Objective value:  17.0\\nLower bound:  0.977\\nEnumerated nodes:  6117\\n"
    ...        "Total time (CPU seconds):  1.68   (Wallclock seconds):  2.02\\n")
    >>> found = parse_cbc_log(log)
    >>> found["result"], found["objective"], found["nodes"], found["wallclock"]
    ('Stopped on time limit', 17.0, 6117, 2.02)
    >>> round(found["bound"], 9)  # best possible 0.977431 (6 digits) less 5e-7
    0.9774305
    >>> parse_cbc_log("Lower bound:  1.250\\n")["bound"]
    1.2495
    """
    out: dict[str, Any] = {}
    for key, pattern in _LOG_FIELDS.items():
        found = pattern.findall(text)
        if not found:
            out[key] = None
        elif key == "result":
            out[key] = found[-1].strip()
        elif key == "nodes":
            out[key] = int(found[-1])
        else:
            out[key] = float(found[-1])
    bounds = [
        _lowered(found[-1], digits) for p, digits in _BOUND_FIELDS if (found := p.findall(text))
    ]
    finite = [b for b in bounds if math.isfinite(b)]
    out["bound"] = max(finite) if finite else None
    return out


def _lowered(text: str, significant: int | None) -> float:
    """``text`` as a number, lowered by half a unit of its last digit: the last
    printed decimal, or the last of ``significant`` digits (``%g`` drops trailing
    zeros, so the printed digits understate its precision)."""
    value = float(text)
    if significant is None:
        mantissa, _, exponent = text.lower().partition("e")
        decimals = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
        return value - 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    if value == 0 or not math.isfinite(value):
        return value
    return value - 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - significant + 1)


def read_cbc_result(
    status: int,
    sol_status: int,
    *,
    head: str,
    log: Mapping[str, Any],
    values: FloatArray | None,
    is_mip: bool,
    bounded: bool,
) -> SolverResult:
    """The result of one CBC run from PuLP's codes, the solution file's first line
    ``head`` (``Stopped on time - objective value 17``) and the parsed ``log``.

    Examples
    --------
    >>> log = parse_cbc_log("Result - Stopped on time limit\\nLower bound: 0.500\\n")
    >>> r = read_cbc_result(1, 2, head="Stopped on time - objective value 3", log=log,
    ...                     values=np.ones(2), is_mip=True, bounded=True)
    >>> r.status.value, r.termination.value, r.bound
    ('feasible', 'time_limit', 0.4995)
    """
    words = head.split()
    if values is not None and words and _objective_in(words) >= _NO_SOLUTION:
        values, status, sol_status = None, 0, 0
    native = (status, sol_status)
    result = result_from_native(
        NATIVE_STATUS,
        native,
        values=values,
        all_bounded=bounded,
        text=head.split(" - objective value")[0] or log.get("result") or f"PuLP status {native}",
        bound=log.get("bound") if is_mip else None,
        nodes=log.get("nodes") if is_mip else None,
        solver_time_s=log.get("wallclock"),
    )
    if map_native_status(NATIVE_STATUS, native)[0] is Termination.OTHER_LIMIT:
        said = f"{head} {log.get('result') or ''}".lower()
        for word, termination in _STOPPED_BY:
            if word in said:
                return replace(result, termination=termination)
    return result


def _objective_in(words: list[str]) -> float:
    try:
        return abs(float(words[-1]))
    except ValueError:
        return 0.0


class CbcAdapter:
    """Backend ``cbc``: CBC through PuLP."""

    name = "cbc"
    native_status = NATIVE_STATUS

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

        executable = cbc_executable()
        if executable is None:
            raise RuntimeError("no CBC binary")
        start = time.perf_counter()
        prob, variables = pulp_from_milp(milp)
        with tempfile.TemporaryDirectory(prefix="splitbench-cbc-") as tmp:
            model, solution = os.path.join(tmp, "model.mps"), os.path.join(tmp, "model.sol")
            written, names, rows, _ = prob.writeMPS(model, rename=1)
            translated = time.perf_counter()
            limit = solver_time_limit(settings, translated - start)
            command = cbc_command(
                executable, model, solution, settings, time_limit_s=limit, mip=milp.is_mip
            )
            guard = None if limit is None else limit * 1.05 + KILL_MARGIN_S
            try:
                run = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    timeout=guard,
                    check=False,
                    stdin=subprocess.DEVNULL,
                )
            except subprocess.TimeoutExpired as err:  # subprocess.run has killed CBC
                done = time.perf_counter()
                result = _killed(err, milp.is_mip, done - translated)
            else:
                done = time.perf_counter()
                log = parse_cbc_log(run.stdout)
                if not os.path.isfile(solution):
                    last = (run.stdout.strip().splitlines() or [""])[-1]
                    raise RuntimeError(
                        f"CBC exited with code {run.returncode} and wrote no solution: {last}"
                    )
                with open(solution, encoding="utf-8", errors="replace") as handle:
                    head = handle.readline().strip()
                reader = pulp.COIN_CMD(path=executable, msg=False)
                status, found, _, _, _, sol_status = reader.readsol_MPS(
                    solution, prob, written, names, rows
                )
                values = None
                if sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
                    values = _values(milp, variables, found, {v.name for v in written})
                result = read_cbc_result(
                    status,
                    sol_status,
                    head=head,
                    log=log,
                    values=values,
                    is_mip=milp.is_mip,
                    bounded=all_bounded(milp),
                )
                if result.status is Status.OPTIMAL and milp.is_mip and result.values is not None:
                    result = _with_proven_bound(result, float(milp.c @ result.values), settings)
        return stamped(result, self, start, translated, done)


def _with_proven_bound(
    result: SolverResult, objective: float, settings: SolverSettings
) -> SolverResult:
    """An optimal CBC answer's bound: at least what CBC's stopping rule proves.

    CBC stops when ``objective - bound <= gap * max(|objective|, |bound|)``, so the
    bound is at least ``objective - gap * |objective| / (1 - gap)``; its printed
    bounds are often coarser (or an earlier, weaker value).
    """
    gap = float(settings.mip_rel_gap)
    proven = objective - gap * abs(objective) / (1.0 - gap)
    printed = result.bound if result.bound is not None else -math.inf
    return replace(result, bound=max(printed, proven))


def _values(
    milp: MILP, variables: list[Any], found: Mapping[str, float], written: set[str]
) -> FloatArray:
    """The incumbent in column order; a column PuLP left out of the file (in no row
    and not in the objective) takes the point of its bounds nearest 0."""
    unseen = np.clip(0.0, milp.col_lower, milp.col_upper)
    return np.array(
        [
            float(found[v.name]) if v.name in written and v.name in found else unseen[j]
            for j, v in enumerate(variables)
        ],
        dtype=float,
    )


def _killed(err: subprocess.TimeoutExpired, is_mip: bool, elapsed: float) -> SolverResult:
    """CBC ran past its time limit and was killed: no incumbent, the bound of its log."""
    output = err.stdout.decode(errors="replace") if isinstance(err.stdout, bytes) else err.stdout
    log = parse_cbc_log(output or "")
    return SolverResult(
        status=Status.NONE,
        termination=Termination.TIME_LIMIT,
        bound=log["bound"] if is_mip else None,
        nodes=log["nodes"] if is_mip else None,
        solver_time_s=elapsed,
        message=f"CBC ran past its time limit and was stopped after {elapsed:.2f} s",
    )
