"""MPS files: export a MILP, read one back, and solve a file with any backend.

:func:`write_mps` writes through HiGHS (``Highs.writeModel``), with column names
``<block><position>`` (``x0``, ``f12``) and row names ``<row block>_<position>``
(``R1_conservation_3``), so the file can be read by people and other tools; the
objective constant is the objective row's right-hand side, as MPS has it.

:func:`solve_mps` solves a file with a backend that reads it itself where one can:
``highs`` with ``Highs.readModel``, ``cbc`` by running the CBC binary on the file
(CoinMpsIO, a parser independent of HiGHS's); any other backend gets the model
read by :func:`read_mps` (HiGHS's reader) as a :class:`~splitbench.formulations.MILP`.
Values come back in the file's column order; the objective and bound include the
file's objective constant.

Examples
--------
>>> import os, tempfile
>>> from splitbench.formulations import build_routing
>>> from splitbench.instance import example_instance
>>> milp = build_routing(example_instance()).milp
>>> path = os.path.join(tempfile.mkdtemp(), "routing.mps")
>>> write_mps(milp, path)
>>> read_mps(path).sizes() == milp.sizes()
True
>>> result = solve_mps(path, "cbc")
>>> result.status.value, round(result.objective, 4)
('optimal', 0.0856)
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from splitbench.errors import UsageError
from splitbench.formulations.milp import MILP, Formulation, LazyLabels, NamedBlock
from splitbench.instance.model import Instance
from splitbench.solution import Status
from splitbench.solvers.base import SolverResult, SolverSettings, get_solver, solve_milp

__all__ = [
    "export_mps",
    "mps_column_names",
    "mps_objective",
    "read_mps",
    "solve_mps",
    "write_mps",
]


def write_mps(milp: MILP, path: str | os.PathLike[str]) -> None:
    """Write ``milp`` to the MPS file ``path`` (through highspy).

    Raises
    ------
    UsageError
        When highspy is missing or HiGHS cannot write the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from splitbench.formulations import build_assignment
    >>> from splitbench.instance import example_instance
    >>> milp = build_assignment(example_instance()).milp
    >>> path = os.path.join(tempfile.mkdtemp(), "assignment.mps")
    >>> write_mps(milp, path)
    >>> read_mps(path).n_nonzeros == milp.n_nonzeros
    True
    >>> round(solve_mps(path, "pyomo-highs").objective, 4)
    0.0856
    """
    from splitbench.solvers.highs import highs_from_milp

    get_solver("highs")
    h = highs_from_milp(milp, SolverSettings(), with_constant=True)
    for j, name in enumerate(milp.column_names()):
        h.passColName(j, name)
    for i, name in enumerate(milp.row_names()):
        h.passRowName(i, name)
    status = h.writeModel(str(path))
    if status.name == "kError":
        raise UsageError(f"{path}: HiGHS could not write the model ({status.name})")


def export_mps(instance: Instance, formulation: str, path: str | os.PathLike[str]) -> Formulation:
    """Build formulation ``formulation`` of ``instance`` and write it to ``path``
    (what ``splitbench export INSTANCE --formulation F -o FILE.mps`` does).

    Returns
    -------
    Formulation
        The formulation written (its sizes are worth printing).

    Raises
    ------
    UnknownNameError
        For an unknown formulation name.
    UsageError
        When highspy is missing or the file cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> from splitbench.instance import example_instance
    >>> path = os.path.join(tempfile.mkdtemp(), "a.mps")
    >>> export_mps(example_instance(), "assignment", path).sizes()["n_vars"]
    40
    >>> solve_mps(path, "highs").status.value
    'optimal'
    """
    from splitbench.formulations import build_formulation

    form = build_formulation(instance, formulation)
    write_mps(form.milp, path)
    return form


def read_mps(path: str | os.PathLike[str]) -> MILP:
    """Read an MPS file into a :class:`~splitbench.formulations.MILP` (through highspy).

    The columns form one block ``"col"`` labelled by their names in the file, the
    rows one block ``"row"``.

    Raises
    ------
    UsageError
        When the file cannot be read.

    Examples
    --------
    >>> import os, tempfile
    >>> from splitbench.formulations import build_assignment
    >>> from splitbench.instance import example_instance
    >>> milp = build_assignment(example_instance()).milp
    >>> path = os.path.join(tempfile.mkdtemp(), "assignment.mps")
    >>> write_mps(milp, path)
    >>> read_mps(path).n_nonzeros == milp.n_nonzeros
    True
    >>> round(solve_mps(path, "pyomo-highs").objective, 4)
    0.0856
    """
    import highspy

    from splitbench.solvers.highs import configured_highs

    get_solver("highs")
    h = configured_highs()
    if not os.path.isfile(path) or h.readModel(str(path)).name == "kError":
        raise UsageError(f"{path}: not a readable MPS file")
    lp = h.getLp()
    n, m = int(lp.num_col_), int(lp.num_row_)
    a = lp.a_matrix_
    start, index, value = (
        np.asarray(a.start_),
        np.asarray(a.index_, dtype=np.int64),
        np.asarray(a.value_, dtype=float),
    )
    if a.format_ == highspy.MatrixFormat.kColwise:
        matrix = sp.csc_matrix((value, index, start), shape=(m, n)).tocsr()
    else:
        matrix = sp.csr_matrix((value, index, start), shape=(m, n))
    integrality = np.zeros(n, dtype=bool)
    if len(lp.integrality_):
        integrality = np.array(
            [int(t) == int(highspy.HighsVarType.kInteger) for t in lp.integrality_], dtype=bool
        )
    col_names = list(lp.col_names_) or [f"c{j}" for j in range(n)]
    row_names = list(lp.row_names_) or [f"r{i}" for i in range(m)]
    sense = -1.0 if int(lp.sense_) == int(highspy.ObjSense.kMaximize) else 1.0
    inf = highspy.kHighsInf

    def bounds(values: object) -> np.ndarray:
        out = np.asarray(values, dtype=float).copy()
        out[out >= inf] = np.inf
        out[out <= -inf] = -np.inf
        return out

    return MILP(
        name=os.path.basename(str(path)),
        c=sense * np.asarray(lp.col_cost_, dtype=float),
        A=matrix,
        row_lower=bounds(lp.row_lower_),
        row_upper=bounds(lp.row_upper_),
        col_lower=bounds(lp.col_lower_),
        col_upper=bounds(lp.col_upper_),
        integrality=integrality,
        objective_constant=sense * float(lp.offset_),
        var_blocks={"col": NamedBlock("col", 0, n, tuple(col_names), "columns of the file")},
        row_blocks={
            "row": NamedBlock("row", 0, m, LazyLabels(m, row_names.__getitem__), "rows of the file")
        },
    )


def mps_column_names(path: str | os.PathLike[str]) -> list[str]:
    """The column names of an MPS file in the order they first appear in COLUMNS.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.mps")
    >>> _ = open(path, "w").write("NAME t\\nROWS\\n N obj\\nCOLUMNS\\n"
    ...     "    M1 'MARKER' 'INTORG'\\n    a obj 1\\n    a r 1\\n    M2 'MARKER' 'INTEND'\\n"
    ...     "    b obj 2\\nRHS\\nENDATA\\n")
    >>> mps_column_names(path)
    ['a', 'b']
    """
    names: list[str] = []
    seen: set[str] = set()
    in_columns = False
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip() or line.startswith("*"):
                continue
            if not line[0].isspace():
                in_columns = line.split()[0] == "COLUMNS"
                continue
            if in_columns:
                parts = line.split()
                if len(parts) > 1 and parts[1] == "'MARKER'":
                    continue
                if parts[0] not in seen:
                    seen.add(parts[0])
                    names.append(parts[0])
    return names


def mps_objective(path: str | os.PathLike[str]) -> tuple[dict[str, float], float]:
    """The objective of an MPS file: cost per column name and the constant (minus the
    objective row's right-hand side). A plain reader, independent of any solver's.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.mps")
    >>> _ = open(path, "w").write("NAME t\\nROWS\\n N obj\\n L r\\nCOLUMNS\\n"
    ...     "    a obj 1.5 r 1\\n    b r 1\\nRHS\\n    RHS obj -10 r 3\\nENDATA\\n")
    >>> mps_objective(path)
    ({'a': 1.5}, 10.0)
    """
    objective_row = None
    section = ""
    costs: dict[str, float] = {}
    constant = 0.0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip() or line.startswith("*"):
                continue
            parts = line.split()
            if not line[0].isspace():
                section = parts[0]
                continue
            if section == "ROWS" and parts[0] == "N" and objective_row is None:
                objective_row = parts[1]
            elif section == "COLUMNS" and len(parts) > 1 and parts[1] != "'MARKER'":
                for row, value in zip(parts[1::2], parts[2::2], strict=False):
                    if row == objective_row:
                        costs[parts[0]] = costs.get(parts[0], 0.0) + float(value)
            elif section == "RHS":
                pairs = parts[1:] if len(parts) % 2 == 1 else parts
                for row, value in zip(pairs[0::2], pairs[1::2], strict=False):
                    if row == objective_row:
                        constant = -float(value)
    return costs, constant


def solve_mps(
    path: str | os.PathLike[str],
    solver: str = "highs",
    *,
    time_limit_s: float | None = None,
    mip_rel_gap: float | None = None,
    threads: int = 1,
) -> SolverResult:
    """Solve the MPS file ``path`` with backend ``solver`` (see the module docstring).

    Returns
    -------
    SolverResult
        Values in the file's column order; objective and bound with the file's
        objective constant. A solver failure is status ``error``, never an exception.

    Raises
    ------
    UsageError
        For an unknown or unavailable solver, or an unreadable file.

    Examples
    --------
    >>> import os, tempfile
    >>> from splitbench.formulations import build_assignment
    >>> from splitbench.instance import example_instance
    >>> milp = build_assignment(example_instance()).milp
    >>> path = os.path.join(tempfile.mkdtemp(), "assignment.mps")
    >>> write_mps(milp, path)
    >>> read_mps(path).n_nonzeros == milp.n_nonzeros
    True
    >>> round(solve_mps(path, "pyomo-highs").objective, 4)
    0.0856
    """
    settings = SolverSettings(time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, threads=threads)
    get_solver(solver)
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such MPS file")
    if solver == "cbc":
        from splitbench.solvers.cbc import cbc_solve_file

        return cbc_solve_file(path, settings, mps_column_names(path))
    if solver == "highs":
        return _highs_solve_file(path, settings)
    milp = read_mps(path)
    return solve_milp(
        milp, solver, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, threads=threads
    )


def _highs_solve_file(path: str | os.PathLike[str], settings: SolverSettings) -> SolverResult:
    import highspy

    from splitbench.solvers.highs import HighsAdapter, configured_highs, read_highs_result

    start = time.perf_counter()
    h = configured_highs(settings)
    if h.readModel(str(path)).name == "kError":
        raise UsageError(f"{path}: not a readable MPS file")
    lp = h.getLp()
    is_mip = any(int(t) != 0 for t in lp.integrality_)
    bounded = bool(
        np.all(np.abs(np.asarray(lp.col_lower_)) < highspy.kHighsInf)
        and np.all(np.abs(np.asarray(lp.col_upper_)) < highspy.kHighsInf)
    )
    read = time.perf_counter()
    h.run()
    done = time.perf_counter()
    result = read_highs_result(h, is_mip=is_mip, bounded=bounded)
    objective = float(h.getInfo().objective_function_value) if result.values is not None else None
    bound = result.bound if is_mip else (objective if result.status is Status.OPTIMAL else None)
    return replace(
        result,
        objective=objective,
        bound=bound,
        solver="highs",
        translate_time_s=read - start,
        solve_time_s=done - read,
        solver_version=HighsAdapter().version(),
    )
