"""MPS files: write a MILP as (free) MPS text, read one back, and export a formulation.

:func:`write_mps` writes the arrays themselves, with column names
``<block><position>`` (``x0``, ``f12``) and row names ``<row block>_<position>``
(``R1_conservation_3``), so the file can be read by people and other tools (HiGHS,
CBC, SCIP, Gurobi read it). Numbers are written with the shortest text that reads
back to the same double, so a file round-trips exactly. Conventions:

- the objective row is ``OBJ``; the objective constant is minus its right-hand side;
- integer columns sit between ``'MARKER' 'INTORG'`` / ``'INTEND'`` lines, and every
  bound that differs from the default ``[0, inf)`` is written, integer columns'
  infinite upper bounds too (``PL``: some readers default integers to ``[0, 1]``);
- a row with two different finite bounds is a ``G`` row with a ``RANGES`` entry;
  a row with none is an ``N`` row after the objective (HiGHS's reader drops those).

:func:`read_mps` reads free MPS (the sections ``NAME``, ``OBJSENSE``, ``ROWS``,
``COLUMNS``, ``RHS``, ``RANGES``, ``BOUNDS``, ``ENDATA``) without any solver.
:func:`export_mps` is the one export the command line uses.

Examples
--------
>>> import os, tempfile
>>> from splitbench.formulations import build_routing
>>> from splitbench.instance import example_instance
>>> milp = build_routing(example_instance()).milp
>>> path = os.path.join(tempfile.mkdtemp(), "routing.mps")
>>> write_mps(milp, path)
>>> back = read_mps(path)
>>> back.sizes() == milp.sizes(), bool((back.A != milp.A).nnz == 0)
(True, True)
>>> back.var_blocks["col"].labels[:2]
('f0', 'f1')
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from splitbench.errors import UsageError
from splitbench.formulations import build_formulation
from splitbench.instance.model import Instance
from splitbench.instance.multi import MultiInstance
from splitbench.milp import MILP, LazyLabels, ModelSizes, NamedBlock

__all__ = ["MPS_SUFFIX", "export_mps", "read_mps", "write_mps"]

MPS_SUFFIX = ".mps"
"""The one file suffix :func:`export_mps` writes."""

_OBJECTIVE = "OBJ"
_SECTIONS = ("NAME", "OBJSENSE", "ROWS", "COLUMNS", "RHS", "RANGES", "BOUNDS", "ENDATA")
_VALUE_BOUNDS = ("UP", "LO", "FX", "LI", "UI")
_FLAG_BOUNDS = ("MI", "PL", "FR", "BV")


def _num(value: float) -> str:
    return repr(float(value))


def _safe(names: list[str]) -> list[str]:
    """Names without whitespace (an MPS line is split on it)."""
    return ["_".join(name.split()) or "_" for name in names]


def _mps_lines(milp: MILP) -> Iterator[str]:
    """The lines of ``milp`` as free MPS."""
    columns, rows = _safe(milp.column_names()), _safe(milp.row_names())
    yield f"NAME {'_'.join(milp.name.split()) or 'splitbench'}"
    yield "ROWS"
    yield f" N  {_OBJECTIVE}"
    lower, upper = milp.row_lower, milp.row_upper
    kinds: list[str] = []
    for i, name in enumerate(rows):
        lo, up = float(lower[i]), float(upper[i])
        if lo > up:
            raise UsageError(f"row {name} has lower bound {lo} above upper bound {up}")
        if lo == up:
            kind = "E"
        elif math.isfinite(lo):
            kind = "G"
        elif math.isfinite(up):
            kind = "L"
        else:
            kind = "N"
        kinds.append(kind)
        yield f" {kind}  {name}"
    yield "COLUMNS"
    matrix = sp.csc_matrix(milp.A)
    integer = False
    for j, column in enumerate(columns):
        if bool(milp.integrality[j]) != integer:
            integer = not integer
            yield f"    M{j} 'MARKER' '{'INTORG' if integer else 'INTEND'}'"
        start, stop = int(matrix.indptr[j]), int(matrix.indptr[j + 1])
        if milp.c[j] != 0 or start == stop:  # a column with no entry still appears
            yield f"    {column} {_OBJECTIVE} {_num(milp.c[j])}"
        for i, value in zip(matrix.indices[start:stop], matrix.data[start:stop], strict=True):
            yield f"    {column} {rows[i]} {_num(value)}"
    if integer:
        yield f"    M{milp.n_vars} 'MARKER' 'INTEND'"
    yield "RHS"
    if milp.objective_constant != 0:
        yield f"    RHS {_OBJECTIVE} {_num(-milp.objective_constant)}"
    for i, name in enumerate(rows):
        rhs = float(upper[i]) if kinds[i] == "L" else float(lower[i])
        if kinds[i] != "N" and rhs != 0:
            yield f"    RHS {name} {_num(rhs)}"
    ranged = [i for i, kind in enumerate(kinds) if kind == "G" and math.isfinite(upper[i])]
    if ranged:
        yield "RANGES"
        for i in ranged:
            yield f"    RNG {rows[i]} {_num(float(upper[i]) - float(lower[i]))}"
    yield "BOUNDS"
    for j, column in enumerate(columns):
        yield from _bound_lines(
            column, float(milp.col_lower[j]), float(milp.col_upper[j]), bool(milp.integrality[j])
        )
    yield "ENDATA"


def _bound_lines(column: str, lo: float, up: float, integer: bool) -> Iterator[str]:
    if lo == up:
        yield f" FX BND {column} {_num(lo)}"
        return
    if not math.isfinite(lo) and not math.isfinite(up):
        yield f" FR BND {column}"
        return
    if not math.isfinite(lo):
        yield f" MI BND {column}"
    elif lo != 0 or up < 0:  # written when UP < 0 would otherwise make the lower -inf
        yield f" LO BND {column} {_num(lo)}"
    if math.isfinite(up):
        yield f" UP BND {column} {_num(up)}"
    elif integer:
        yield f" PL BND {column}"


def write_mps(milp: MILP, path: str | os.PathLike[str]) -> None:
    """Write ``milp`` to the MPS file ``path`` (see the module docstring).

    Raises
    ------
    UsageError
        When the file cannot be written (the message names it), or a row's lower
        bound lies above its upper bound (MPS cannot hold such a row).

    Examples
    --------
    >>> import os, tempfile
    >>> from splitbench.milp import MILPBuilder
    >>> b = MILPBuilder("tiny")
    >>> x = b.add_vars("x", ["a", "b"], cost=[1.0, 2.0], upper=1.0, integer=True)
    >>> _ = b.add_rows("cover", 1, rows=[0, 0], cols=x, vals=1.0, lower=1.0, upper=2.0)
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.mps")
    >>> write_mps(b.build(objective_constant=0.5), path)
    >>> print(open(path).read())  # doctest: +NORMALIZE_WHITESPACE
    NAME tiny
    ROWS
     N  OBJ
     G  cover_0
    COLUMNS
        M0 'MARKER' 'INTORG'
        x0 OBJ 1.0
        x0 cover_0 1.0
        x1 OBJ 2.0
        x1 cover_0 1.0
        M2 'MARKER' 'INTEND'
    RHS
        RHS OBJ -0.5
        RHS cover_0 1.0
    RANGES
        RNG cover_0 1.0
    BOUNDS
     UP BND x0 1.0
     UP BND x1 1.0
    ENDATA
    """
    text = "\n".join(_mps_lines(milp)) + "\n"
    try:
        with open(path, "w", encoding="ascii", errors="replace") as handle:
            handle.write(text)
    except OSError as err:
        raise UsageError(f"{path}: cannot write the MPS file ({err.strerror or err})") from None


def export_mps(
    instance: Instance | MultiInstance,
    formulation_name: str,
    path: str | os.PathLike[str],
    *,
    relax: bool = False,
) -> ModelSizes:
    """Build formulation ``formulation_name`` of ``instance`` and write it to ``path``
    (what ``splitbench export INSTANCE --formulation F -o FILE.mps`` does).

    Parameters
    ----------
    instance : Instance or MultiInstance
        The instance (format 2: the coupled model of its requests).
    formulation_name : str
        ``assignment`` or ``routing``.
    path : path-like
        The file to write; its suffix must be ``.mps``.
    relax : bool
        Write the LP relaxation (every column continuous).

    Returns
    -------
    ModelSizes
        The formulation built (its sizes are worth printing).

    Raises
    ------
    UsageError
        When the suffix is not ``.mps`` (checked before any work) or the file
        cannot be written.
    UnknownNameError
        For an unknown formulation name.

    Examples
    --------
    >>> import os, tempfile
    >>> from splitbench.instance import example_instance
    >>> folder = tempfile.mkdtemp()
    >>> export_mps(example_instance(), "assignment", os.path.join(folder, "a.mps")).n_vars
    40
    >>> read_mps(os.path.join(folder, "a.mps")).n_integers
    40
    >>> _ = export_mps(example_instance(), "assignment", os.path.join(folder, "r.mps"),
    ...                relax=True)
    >>> read_mps(os.path.join(folder, "r.mps")).n_integers
    0
    >>> export_mps(example_instance(), "routing", os.path.join(folder, "a.lp"))
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: ...a.lp: an export is an MPS file: the name must end in .mps
    """
    if Path(path).suffix.lower() != MPS_SUFFIX:
        raise UsageError(f"{path}: an export is an MPS file: the name must end in {MPS_SUFFIX}")
    form = build_formulation(instance, formulation_name)
    write_mps(form.milp.relax() if relax else form.milp, path)
    return form


class _Reader:
    """The state of one pass over a free MPS file."""

    def __init__(self) -> None:
        self.name = ""
        self.maximize = False
        self.objective: str | None = None
        self.row_kind: dict[str, str] = {}
        self.row_index: dict[str, int] = {}
        self.columns: dict[str, int] = {}
        self.integer: list[bool] = []
        self.entries: list[tuple[int, int, float]] = []
        self.costs: dict[int, float] = {}
        self.rhs: dict[str, float] = {}
        self.ranges: dict[str, float] = {}
        self.lower: dict[int, float] = {}
        self.upper: dict[int, float] = {}
        self.forced_integer: set[int] = set()
        self.constant = 0.0
        self.in_integer = False

    def row(self, parts: list[str]) -> None:
        kind, name = parts[0].upper(), parts[1]
        if kind not in ("N", "E", "L", "G"):
            raise ValueError(f"row type {parts[0]!r}")
        if kind == "N" and self.objective is None:
            self.objective = name
            return
        if name in self.row_kind:
            raise ValueError(f"row {name!r} declared twice")
        self.row_kind[name] = kind
        self.row_index[name] = len(self.row_index)

    def column(self, parts: list[str]) -> None:
        if len(parts) >= 3 and parts[1].strip("'\"").upper() == "MARKER":
            marker = parts[2].strip("'\"").upper()
            if marker not in ("INTORG", "INTEND"):
                raise ValueError(f"marker {parts[2]!r}")
            self.in_integer = marker == "INTORG"
            return
        if len(parts) not in (3, 5):
            raise ValueError("a COLUMNS line holds a column and one or two (row, value) pairs")
        j = self.columns.setdefault(parts[0], len(self.columns))
        if j == len(self.integer):
            self.integer.append(self.in_integer)
        rows = self.row_index
        for row, value in zip(parts[1::2], parts[2::2], strict=True):
            if row == self.objective:
                self.costs[j] = self.costs.get(j, 0.0) + float(value)
            elif row in rows:
                self.entries.append((rows[row], j, float(value)))
            else:
                raise ValueError(f"unknown row {row!r}")

    def pairs(self, parts: list[str], into: dict[str, float]) -> None:
        pairs = parts[1:] if len(parts) % 2 == 1 else parts
        for row, value in zip(pairs[0::2], pairs[1::2], strict=True):
            if row == self.objective and into is self.rhs:
                self.constant = -float(value)
            elif row in self.row_kind:
                into[row] = float(value)
            else:
                raise ValueError(f"unknown row {row!r}")

    def bound(self, parts: list[str]) -> None:
        kind = parts[0].upper()
        if kind in _VALUE_BOUNDS:
            if len(parts) not in (3, 4):
                raise ValueError(f"bound {kind} needs a column and a value")
            column, value = parts[-2], float(parts[-1])
        elif kind in _FLAG_BOUNDS:
            column = parts[2] if len(parts) >= 3 and parts[2] in self.columns else parts[-1]
            value = float(parts[3]) if kind == "BV" and len(parts) == 4 else 1.0
        else:
            raise ValueError(f"bound type {parts[0]!r}")
        if column not in self.columns:
            raise ValueError(f"unknown column {column!r}")
        j = self.columns[column]
        if kind in ("UP", "UI"):
            self.upper[j] = value
            if value < 0 and j not in self.lower:
                self.lower[j] = -math.inf  # the usual reading of a negative UP
        elif kind in ("LO", "LI"):
            self.lower[j] = value
        elif kind == "FX":
            self.lower[j] = self.upper[j] = value
        elif kind == "MI":
            self.lower[j] = -math.inf
        elif kind == "PL":
            self.upper[j] = math.inf
        elif kind == "FR":
            self.lower[j], self.upper[j] = -math.inf, math.inf
        else:  # BV
            self.lower[j], self.upper[j] = 0.0, value
        if kind in ("LI", "UI", "BV"):
            self.forced_integer.add(j)


def read_mps(path: str | os.PathLike[str]) -> MILP:
    """Read a free MPS file into a :class:`~splitbench.milp.MILP` (no solver needed).

    The columns form one block ``"col"`` labelled by their names in the file, the
    rows one block ``"row"`` labelled by theirs. A maximisation is turned into a
    minimisation (costs and constant negated).

    Raises
    ------
    UsageError
        When the file is missing or is not MPS the reader understands (the message
        names the line).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.mps")
    >>> _ = open(path, "w").write(
    ...     "NAME t\\nROWS\\n N obj\\n L r\\nCOLUMNS\\n    M1 'MARKER' 'INTORG'\\n"
    ...     "    a obj 1.5 r 1\\n    M2 'MARKER' 'INTEND'\\n    b r 2\\nRHS\\n"
    ...     "    RHS obj -10 r 3\\nBOUNDS\\n UP BND a 4\\nENDATA\\n")
    >>> milp = read_mps(path)
    >>> milp.c.tolist(), milp.objective_constant, milp.integrality.tolist()
    ([1.5, 0.0], 10.0, [True, False])
    >>> milp.row_upper.tolist(), milp.col_upper.tolist(), milp.A.toarray().tolist()
    ([3.0], [4.0, inf], [[1.0, 2.0]])
    >>> _ = open(path, "w").write("this is not MPS\\n")
    >>> read_mps(path)
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: ...t.mps: not a readable MPS file (line 1: unknown section 'this')
    """
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such MPS file")
    reader = _Reader()
    section = ""
    number = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):  # noqa: B007 (used on error)
                section = _read_line(reader, section, line)
                if section == "ENDATA":
                    break
    except (ValueError, IndexError) as err:
        raise UsageError(f"{path}: not a readable MPS file (line {number}: {err})") from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read the MPS file ({err.strerror or err})") from None
    if reader.objective is None and not reader.row_kind:
        raise UsageError(f"{path}: not a readable MPS file (no ROWS section)")
    return _build(reader, os.path.basename(str(path)))


def _read_line(reader: _Reader, section: str, line: str) -> str:
    """Read one line; returns the section it leaves the reader in."""
    if not line.strip() or line.startswith("*"):
        return section
    parts = line.split()
    if not line[0].isspace():
        head = parts[0].upper()
        if head not in _SECTIONS:
            raise ValueError(f"unknown section {parts[0]!r}")
        if head == "NAME":
            reader.name = " ".join(parts[1:])
        elif head == "OBJSENSE" and len(parts) > 1:
            reader.maximize = parts[1].upper() in ("MAX", "MAXIMIZE")
        return head
    if section == "OBJSENSE":
        reader.maximize = parts[0].upper() in ("MAX", "MAXIMIZE")
    elif section == "ROWS":
        reader.row(parts)
    elif section == "COLUMNS":
        reader.column(parts)
    elif section == "RHS":
        reader.pairs(parts, reader.rhs)
    elif section == "RANGES":
        reader.pairs(parts, reader.ranges)
    elif section == "BOUNDS":
        reader.bound(parts)
    else:
        raise ValueError(f"data outside a section: {line.strip()!r}")
    return section


def _build(reader: _Reader, name: str) -> MILP:
    n, m = len(reader.columns), len(reader.row_kind)
    c = np.zeros(n)
    for j, value in reader.costs.items():
        c[j] = value
    row_lower, row_upper = np.full(m, -np.inf), np.full(m, np.inf)
    for i, (row, kind) in enumerate(reader.row_kind.items()):
        rhs = reader.rhs.get(row, 0.0)
        width = reader.ranges.get(row)
        if kind == "E":
            row_lower[i] = row_upper[i] = rhs
            if width is not None:
                row_lower[i], row_upper[i] = (
                    (rhs, rhs + width) if width >= 0 else (rhs + width, rhs)
                )
        elif kind == "G":
            row_lower[i] = rhs
            row_upper[i] = rhs + abs(width) if width is not None else np.inf
        elif kind == "L":
            row_upper[i] = rhs
            row_lower[i] = rhs - abs(width) if width is not None else -np.inf
    col_lower, col_upper = np.zeros(n), np.full(n, np.inf)
    for j, value in reader.lower.items():
        col_lower[j] = value
    for j, value in reader.upper.items():
        col_upper[j] = value
    integrality = np.array(reader.integer, dtype=bool).reshape(n)
    integrality[list(reader.forced_integer)] = True
    entries = reader.entries
    matrix = sp.csr_matrix(
        (
            np.array([e[2] for e in entries], dtype=float),
            (
                np.array([e[0] for e in entries], dtype=np.int64),
                np.array([e[1] for e in entries], dtype=np.int64),
            ),
        ),
        shape=(m, n),
    )
    matrix.sum_duplicates()
    sense = -1.0 if reader.maximize else 1.0
    row_names = list(reader.row_kind)
    return MILP(
        name=reader.name or name,
        c=_frozen(sense * c),
        A=matrix,
        row_lower=_frozen(row_lower),
        row_upper=_frozen(row_upper),
        col_lower=_frozen(col_lower),
        col_upper=_frozen(col_upper),
        integrality=integrality,
        objective_constant=sense * reader.constant,
        var_blocks={"col": NamedBlock("col", 0, n, tuple(reader.columns), "columns of the file")},
        row_blocks={
            "row": NamedBlock("row", 0, m, LazyLabels(m, row_names.__getitem__), "rows of the file")
        },
    )


def _frozen(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    values.setflags(write=False)
    return values
