"""The solver-neutral MILP: sparse arrays with named blocks of variables and rows.

A formulation builds one :class:`MILP`::

    minimise    c @ x + objective_constant
    subject to  row_lower <= A @ x <= row_upper
                col_lower <=     x <= col_upper
                x_j integer where integrality[j]

Columns come in named blocks (``"x"``, ``"f"``, ...) whose labels say what each
column stands for, e.g. ``(block, node)``, so a solution decodes back to a
:class:`~splitbench.evaluate.Placement`; rows come in named blocks too, named after
the numbered constraints of the formulation's docstring (``"R1_conservation"``).
Every backend (HiGHS, Pyomo, PuLP/CBC, an MPS file) translates these same arrays,
so every solver sees the identical model.

:class:`MILPBuilder` assembles the arrays block by block from coordinate triplets,
vectorised: a block of rows is one call with arrays of row, column and value.

Examples
--------
>>> import numpy as np
>>> b = MILPBuilder("knapsack")
>>> x = b.add_vars("x", labels=["a", "b", "c"], cost=[-3.0, -2.0, -4.0], upper=1.0,
...                integer=True, meaning="x[i] = 1 when item i is packed")
>>> _ = b.add_rows("K1_capacity", n_rows=1, rows=[0, 0, 0], cols=x, vals=[2.0, 1.0, 3.0],
...                upper=4.0, meaning="total weight <= 4")
>>> milp = b.build()
>>> milp.n_vars, milp.n_rows, milp.n_nonzeros, milp.n_binaries
(3, 1, 3, 3)
>>> milp.objective_value(np.array([1.0, 1.0, 0.0]))
-5.0
>>> milp.max_violation(np.array([1.0, 1.0, 1.0]))
2.0
>>> milp.relax().n_integers
0
>>> milp.var_blocks["x"].labels
('a', 'b', 'c')
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from splitbench.placement import Placement

__all__ = ["MILP", "Formulation", "LazyLabels", "MILPBuilder", "ModelSizes", "NamedBlock"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class NamedBlock:
    """A contiguous block of columns or rows.

    Attributes
    ----------
    name : str
        The block's name: a variable symbol (``"x"``) or a constraint name
        (``"A1_deploy"``) as in the formulation's docstring.
    start, stop : int
        The block is positions ``start .. stop - 1``.
    labels : sequence
        One label per position (e.g. ``(block, node id)``); may be a
        :class:`LazyLabels` that makes each label only when it is read.
    meaning : str
        One line saying what the block is.

    Examples
    --------
    >>> block = NamedBlock("x", 3, 5, ((1, "a"), (1, "b")), "x[l, n]")
    >>> block.slice, len(block)
    (slice(3, 5, None), 2)
    """

    name: str
    start: int
    stop: int
    labels: Sequence[Hashable]
    meaning: str = ""

    @property
    def slice(self) -> slice:
        """The positions of the block."""
        return slice(self.start, self.stop)

    def __len__(self) -> int:
        return self.stop - self.start


class LazyLabels(Sequence[Hashable]):
    """``n`` labels made on demand by ``make(i)`` (large blocks need no label list).

    Examples
    --------
    >>> labels = LazyLabels(3, lambda i: ("v", i))
    >>> len(labels), labels[2], list(labels)[0]
    (3, ('v', 2), ('v', 0))
    """

    def __init__(self, n: int, make: Callable[[int], Hashable]) -> None:
        self._n = n
        self._make = make

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> Hashable: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Hashable]: ...

    def __getitem__(self, index: int | slice) -> Hashable | Sequence[Hashable]:
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(self._n))]
        if not -self._n <= index < self._n:
            raise IndexError(index)
        return self._make(index % self._n)


def _labels(labels: Sequence[Hashable]) -> Sequence[Hashable]:
    return labels if isinstance(labels, LazyLabels | tuple) else tuple(labels)


def _frozen(array: npt.ArrayLike, dtype: Any) -> npt.NDArray[Any]:
    out = np.array(array, dtype=dtype)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class MILP:
    """A mixed-integer linear program in array form (always a minimisation).

    Attributes
    ----------
    name : str
        A short name (the formulation and instance).
    c : ndarray of float
        Objective coefficients, one per column.
    A : scipy.sparse.csr_matrix
        The constraint matrix, ``n_rows x n_vars``.
    row_lower, row_upper : ndarray of float
        Row bounds (``-inf`` / ``inf`` when absent).
    col_lower, col_upper : ndarray of float
        Column bounds.
    integrality : ndarray of bool
        True for integer columns.
    objective_constant : float
        Added to ``c @ x``.
    var_blocks, row_blocks : mapping of str to NamedBlock
        Named blocks of columns and rows, in order.
    """

    name: str
    c: FloatArray
    A: sp.csr_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    integrality: BoolArray
    objective_constant: float = 0.0
    var_blocks: Mapping[str, NamedBlock] = field(default_factory=dict)
    row_blocks: Mapping[str, NamedBlock] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, m = self.c.shape[0], self.row_lower.shape[0]
        if self.A.shape != (m, n):
            raise ValueError(f"A has shape {self.A.shape}, expected ({m}, {n})")
        for name in ("col_lower", "col_upper", "integrality"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have one entry per column ({n})")
        if self.row_upper.shape != (m,):
            raise ValueError(f"row_upper must have one entry per row ({m})")

    @property
    def n_vars(self) -> int:
        """Number of columns."""
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.row_lower.shape[0])

    @property
    def n_nonzeros(self) -> int:
        """Number of stored nonzeros of ``A``."""
        return int(self.A.nnz)

    @property
    def n_integers(self) -> int:
        """Number of integer columns."""
        return int(np.count_nonzero(self.integrality))

    @property
    def n_binaries(self) -> int:
        """Number of integer columns with bounds inside [0, 1]."""
        binary = self.integrality & (self.col_lower >= 0) & (self.col_upper <= 1)
        return int(np.count_nonzero(binary))

    @property
    def is_mip(self) -> bool:
        """Whether any column is integer."""
        return self.n_integers > 0

    def sizes(self) -> dict[str, int]:
        """Model size: ``n_vars``, ``n_binaries``, ``n_rows``, ``n_nonzeros``."""
        return {
            "n_vars": self.n_vars,
            "n_binaries": self.n_binaries,
            "n_rows": self.n_rows,
            "n_nonzeros": self.n_nonzeros,
        }

    def relax(self) -> MILP:
        """The LP relaxation: the same model with every column continuous."""
        return replace(
            self,
            name=f"{self.name} (LP relaxation)",
            integrality=_frozen(np.zeros(self.n_vars, dtype=bool), bool),
        )

    def scaled(self, objective_scale: float = 1.0, row_scale: npt.ArrayLike | None = None) -> MILP:
        """The same model with the objective (and its constant) multiplied by
        ``objective_scale`` and row ``i`` (its coefficients and bounds) by
        ``row_scale[i]``; columns, their bounds and the blocks are unchanged, so a
        solution of the copy is a solution of this model. Factors must be positive
        and finite; powers of two keep every value exact.

        Examples
        --------
        >>> b = MILPBuilder("m")
        >>> x = b.add_vars("x", ["a", "b"], cost=[1e-6, 2e-6], upper=1.0)
        >>> _ = b.add_rows("d", 1, rows=[0, 0], cols=x, vals=[1e-6, 3e-6], upper=2e-6)
        >>> s = b.build().scaled(2.0**20, [2.0**20])
        >>> s.c.round(4).tolist(), s.row_upper.round(4).tolist(), s.A.toarray().round(4).tolist()
        ([1.0486, 2.0972], [2.0972], [[1.0486, 3.1457]])
        """
        rows = (
            np.ones(self.n_rows)
            if row_scale is None
            else np.broadcast_to(np.asarray(row_scale, dtype=float), (self.n_rows,))
        )
        factors = np.append(rows, float(objective_scale))
        if not (np.all(np.isfinite(factors)) and np.all(factors > 0)):
            raise ValueError("scale factors must be positive and finite")
        matrix = sp.csr_matrix(self.A, copy=True)
        matrix.data = matrix.data * np.repeat(rows, np.diff(matrix.indptr))
        return replace(
            self,
            c=_frozen(self.c * objective_scale, float),
            A=matrix,
            row_lower=_frozen(self.row_lower * rows, float),
            row_upper=_frozen(self.row_upper * rows, float),
            objective_constant=float(self.objective_constant * objective_scale),
        )

    def objective_value(self, values: npt.ArrayLike) -> float:
        """``c @ values + objective_constant``."""
        return float(self.c @ np.asarray(values, dtype=float)) + self.objective_constant

    def row_activity(self, values: npt.ArrayLike) -> FloatArray:
        """``A @ values``."""
        out: FloatArray = np.asarray(self.A @ np.asarray(values, dtype=float), dtype=float)
        return out

    def max_violation(self, values: npt.ArrayLike, *, relative: bool = False) -> float:
        """Largest violation of a row bound, column bound or integrality by ``values``.

        With ``relative`` a bound's violation is divided by ``max(1, |bound|)``, so
        that rows in bytes and rows in seconds compare alike.
        """
        x = np.asarray(values, dtype=float)
        act = self.row_activity(x)

        def gap(over: FloatArray, bound: FloatArray) -> FloatArray:
            if not relative:
                return over
            scale = np.maximum(1.0, np.abs(np.where(np.isfinite(bound), bound, 0.0)))
            out: FloatArray = over / scale
            return out

        parts = [
            gap(self.row_lower - act, self.row_lower),
            gap(act - self.row_upper, self.row_upper),
            gap(self.col_lower - x, self.col_lower),
            gap(x - self.col_upper, self.col_upper),
            np.abs(x - np.round(x)) * self.integrality,
        ]
        worst = max((float(np.max(p)) for p in parts if p.size), default=0.0)
        return max(worst, 0.0)

    def block_values(self, name: str, values: npt.ArrayLike) -> FloatArray:
        """The entries of ``values`` in variable block ``name``."""
        out: FloatArray = np.asarray(values, dtype=float)[self.var_blocks[name].slice]
        return out

    def column_names(self) -> list[str]:
        """One name per column, ``<block><position in block>`` (safe for MPS files)."""
        names: list[str] = []
        for block in self.var_blocks.values():
            names.extend(f"{block.name}{i}" for i in range(len(block)))
        names.extend(f"v{j}" for j in range(len(names), self.n_vars))
        return names

    def row_names(self) -> list[str]:
        """One name per row, ``<block>_<position in block>``."""
        names: list[str] = []
        for block in self.row_blocks.values():
            names.extend(f"{block.name}_{i}" for i in range(len(block)))
        names.extend(f"r{i}" for i in range(len(names), self.n_rows))
        return names

    def empty_row_conflict(self) -> int | None:
        """A row with no nonzero whose bounds exclude 0 (the model is then trivially
        infeasible), or None."""
        counts = np.diff(self.A.indptr)
        bad = (counts == 0) & ((self.row_lower > 0) | (self.row_upper < 0))
        hits = np.flatnonzero(bad)
        return int(hits[0]) if hits.size else None

    def row_block_of(self, row: int) -> str:
        """The name of the row block holding ``row`` (``""`` if none)."""
        for block in self.row_blocks.values():
            if block.start <= row < block.stop:
                return block.name
        return ""


class MILPBuilder:
    """Assembles a :class:`MILP` block by block from coordinate triplets.

    Parameters
    ----------
    name : str
        The model's name.

    Examples
    --------
    >>> b = MILPBuilder("assign")
    >>> x = b.add_vars("x", [(i, j) for i in range(2) for j in range(2)], cost=[1, 4, 3, 2],
    ...                upper=1.0, integer=True)
    >>> _ = b.add_rows("one", 2, rows=[0, 0, 1, 1], cols=x, vals=1.0, lower=1.0, upper=1.0)
    >>> b.build().A.toarray().astype(int).tolist()
    [[1, 1, 0, 0], [0, 0, 1, 1]]
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._cols: list[tuple[FloatArray, FloatArray, FloatArray, BoolArray]] = []
        self._var_blocks: dict[str, NamedBlock] = {}
        self._rows: list[tuple[IntArray, IntArray, FloatArray]] = []
        self._row_bounds: list[tuple[FloatArray, FloatArray]] = []
        self._row_blocks: dict[str, NamedBlock] = {}
        self.n_vars = 0
        self.n_rows = 0

    def add_vars(
        self,
        name: str,
        labels: Sequence[Hashable],
        *,
        cost: npt.ArrayLike = 0.0,
        lower: npt.ArrayLike = 0.0,
        upper: npt.ArrayLike = np.inf,
        integer: bool = False,
        meaning: str = "",
    ) -> IntArray:
        """Add one column per label; scalars broadcast. Returns the column indices."""
        if name in self._var_blocks:
            raise ValueError(f"variable block {name!r} added twice")
        n = len(labels)
        shape = (n,)
        self._cols.append(
            (
                np.broadcast_to(np.asarray(cost, dtype=float), shape).copy(),
                np.broadcast_to(np.asarray(lower, dtype=float), shape).copy(),
                np.broadcast_to(np.asarray(upper, dtype=float), shape).copy(),
                np.full(n, integer, dtype=bool),
            )
        )
        self._var_blocks[name] = NamedBlock(
            name, self.n_vars, self.n_vars + n, _labels(labels), meaning
        )
        self.n_vars += n
        return np.arange(self.n_vars - n, self.n_vars, dtype=np.int64)

    def add_rows(
        self,
        name: str,
        n_rows: int,
        rows: npt.ArrayLike,
        cols: npt.ArrayLike,
        vals: npt.ArrayLike,
        *,
        lower: npt.ArrayLike = -np.inf,
        upper: npt.ArrayLike = np.inf,
        labels: Sequence[Hashable] | None = None,
        meaning: str = "",
    ) -> IntArray:
        """Add ``n_rows`` rows; ``rows`` are positions inside this block (0-based),
        ``cols`` global column indices; entries at the same place are summed.
        Returns the global row indices."""
        if name in self._row_blocks:
            raise ValueError(f"row block {name!r} added twice")
        r = np.asarray(rows, dtype=np.int64).ravel()
        c = np.asarray(cols, dtype=np.int64).ravel()
        v = np.broadcast_to(np.asarray(vals, dtype=float), r.shape).copy()
        if c.shape != r.shape:
            raise ValueError(f"{name}: rows and cols differ in length")
        if r.size and (r.min() < 0 or r.max() >= n_rows):
            raise ValueError(f"{name}: a row position is outside 0..{n_rows - 1}")
        if c.size and (c.min() < 0 or c.max() >= self.n_vars):
            raise ValueError(f"{name}: a column index is outside 0..{self.n_vars - 1}")
        shape = (n_rows,)
        self._rows.append((r + self.n_rows, c, v))
        self._row_bounds.append(
            (
                np.broadcast_to(np.asarray(lower, dtype=float), shape).copy(),
                np.broadcast_to(np.asarray(upper, dtype=float), shape).copy(),
            )
        )
        row_labels = _labels(labels) if labels is not None else LazyLabels(n_rows, int)
        if len(row_labels) != n_rows:
            raise ValueError(f"{name}: {len(row_labels)} labels for {n_rows} rows")
        self._row_blocks[name] = NamedBlock(
            name, self.n_rows, self.n_rows + n_rows, row_labels, meaning
        )
        self.n_rows += n_rows
        return np.arange(self.n_rows - n_rows, self.n_rows, dtype=np.int64)

    def var_labels(self, name: str) -> Sequence[Hashable]:
        """The labels of variable block ``name`` (to label rows one per variable)."""
        return self._var_blocks[name].labels

    def build(self, objective_constant: float = 0.0) -> MILP:
        """The assembled :class:`MILP` (duplicate entries summed, exact zeros dropped)."""

        def cat(parts: Sequence[npt.NDArray[Any]], dtype: Any) -> npt.NDArray[Any]:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        c, lo, up, integ = (cat([p[i] for p in self._cols], float) for i in range(4))
        rows = cat([p[0] for p in self._rows], np.int64)
        cols = cat([p[1] for p in self._rows], np.int64)
        vals = cat([p[2] for p in self._rows], float)
        matrix = sp.csr_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_vars))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return MILP(
            name=self.name,
            c=_frozen(c, float),
            A=matrix,
            row_lower=_frozen(cat([b[0] for b in self._row_bounds], float), float),
            row_upper=_frozen(cat([b[1] for b in self._row_bounds], float), float),
            col_lower=_frozen(lo, float),
            col_upper=_frozen(up, float),
            integrality=_frozen(integ.astype(bool), bool),
            objective_constant=float(objective_constant),
            var_blocks=dict(self._var_blocks),
            row_blocks=dict(self._row_blocks),
        )


class ModelSizes:
    """The model-size facts of a formulation, read from its :attr:`milp`."""

    milp: MILP

    @property
    def n_vars(self) -> int:
        """Number of variables."""
        return self.milp.n_vars

    @property
    def n_binaries(self) -> int:
        """Number of binary variables."""
        return self.milp.n_binaries

    @property
    def n_rows(self) -> int:
        """Number of constraints."""
        return self.milp.n_rows

    @property
    def n_nonzeros(self) -> int:
        """Number of constraint-matrix nonzeros."""
        return self.milp.n_nonzeros

    def sizes(self) -> dict[str, int]:
        """``n_vars``, ``n_binaries``, ``n_rows``, ``n_nonzeros``."""
        return self.milp.sizes()


@dataclass(frozen=True, eq=False)
class Formulation(ModelSizes):
    """A built formulation: its MILP and how a solution becomes a placement.

    Attributes
    ----------
    name : str
        ``"assignment"`` or ``"routing"``.
    milp : MILP
        The model.
    decoder : callable
        ``decoder(values) -> Placement`` for an integral solution vector.
    exact : bool
        Whether the MILP's optimum is the instance's optimum (False for a
        restriction, e.g. fixed routes).
    note : str or None
        Why the instance is infeasible whatever the solver, when known in advance.

    Examples
    --------
    >>> from splitbench.formulations import build_routing
    >>> from splitbench.instance import example_instance
    >>> form = build_routing(example_instance())
    >>> form.name, form.exact, form.n_rows
    ('routing', True, 41)
    """

    name: str
    milp: MILP
    decoder: Callable[[FloatArray], Placement]
    exact: bool
    note: str | None = None

    def decode(self, values: npt.ArrayLike) -> Placement:
        """The placement of an integral solution ``values`` (binaries read as > 0.5)."""
        return self.decoder(np.asarray(values, dtype=float))
