"""The solver-neutral MILP object and its builder (:mod:`splitbench.milp`)."""

from __future__ import annotations

import numpy as np
import pytest

from splitbench.milp import MILP, LazyLabels, MILPBuilder


def _model() -> MILP:
    b = MILPBuilder("m")
    x = b.add_vars("x", [("a", 1), ("b", 2)], cost=[1.0, 2.0], upper=1.0, integer=True)
    y = b.add_vars("y", ["s"], cost=0.5, lower=-1.0, upper=np.inf)
    b.add_rows("C1_cover", 1, rows=[0, 0], cols=x, vals=1.0, lower=1.0, labels=["cover"])
    # the two entries at (0, y) are summed; the two at (1, x1) cancel and are dropped
    b.add_rows(
        "C2_mix",
        2,
        rows=[0, 0, 1, 1, 1],
        cols=[y[0], y[0], x[1], x[1], x[0]],
        vals=[1.0, 2.0, 1.0, -1.0, 4.0],
        upper=[3.0, 2.0],
    )
    return b.build(objective_constant=7.0)


def test_builder_assembles_blocks_and_sums_duplicates() -> None:
    milp = _model()
    assert (milp.n_vars, milp.n_rows, milp.n_nonzeros) == (3, 3, 4)
    assert milp.A.toarray().tolist() == [[1, 1, 0], [0, 0, 3], [4, 0, 0]]
    assert milp.var_blocks["x"].slice == slice(0, 2)
    assert milp.var_blocks["x"].labels == (("a", 1), ("b", 2))
    assert milp.row_blocks["C2_mix"].slice == slice(1, 3)
    assert milp.n_binaries == 2 and milp.n_integers == 2 and milp.is_mip
    assert milp.sizes() == {"n_vars": 3, "n_binaries": 2, "n_rows": 3, "n_nonzeros": 4}
    assert milp.row_block_of(2) == "C2_mix"
    assert milp.column_names() == ["x0", "x1", "y0"]
    assert milp.row_names() == ["C1_cover_0", "C2_mix_0", "C2_mix_1"]


def test_arrays_are_read_only_and_relaxation_keeps_everything_else() -> None:
    milp = _model()
    with pytest.raises(ValueError):
        milp.c[0] = 5.0
    lp = milp.relax()
    assert lp.n_integers == 0 and not lp.is_mip
    assert lp.A is milp.A and lp.objective_constant == 7.0
    assert milp.n_integers == 2


def test_objective_and_violations() -> None:
    milp = _model()
    assert milp.objective_value([1.0, 0.0, 0.0]) == 8.0
    assert milp.max_violation([1.0, 0.0, 0.0]) == 2.0  # row C2_mix_1: 4 > 2
    assert milp.max_violation([0.0, 1.0, 0.5]) == 0.0
    assert milp.max_violation([0.0, 0.5, 0.5]) == 0.5  # cover and integrality
    big = MILPBuilder("big")
    v = big.add_vars("v", ["v"], upper=10.0)
    big.add_rows("cap", 1, rows=[0], cols=v, vals=1.0, upper=1e6)
    scaled = big.build()
    assert scaled.max_violation([10.0]) == 0.0
    assert scaled.max_violation([11.0]) == 1.0
    assert scaled.max_violation([11.0], relative=True) == pytest.approx(0.1)


def test_empty_rows() -> None:
    b = MILPBuilder("e")
    x = b.add_vars("x", ["a"], upper=1.0)
    b.add_rows("free", 1, rows=[], cols=[], vals=[], lower=-1.0, upper=1.0)
    assert b.build().empty_row_conflict() is None
    b.add_rows("must", 2, rows=[0], cols=x, vals=1.0, lower=1.0, upper=1.0)
    assert b.build().empty_row_conflict() == 2


def test_builder_rejects_mistakes() -> None:
    b = MILPBuilder("bad")
    x = b.add_vars("x", ["a", "b"])
    with pytest.raises(ValueError, match="twice"):
        b.add_vars("x", ["c"])
    with pytest.raises(ValueError, match="column index"):
        b.add_rows("r", 1, rows=[0], cols=[5], vals=1.0)
    with pytest.raises(ValueError, match="row position"):
        b.add_rows("r", 1, rows=[1], cols=x[:1], vals=1.0)
    with pytest.raises(ValueError, match="labels"):
        b.add_rows("r", 2, rows=[0], cols=x[:1], vals=1.0, labels=["one"])
    b.add_rows("r", 1, rows=[0], cols=x[:1], vals=1.0)
    with pytest.raises(ValueError, match="twice"):
        b.add_rows("r", 1, rows=[0], cols=x[:1], vals=1.0)


def test_lazy_labels() -> None:
    labels = LazyLabels(4, lambda i: ("v", i))
    assert len(labels) == 4 and labels[-1] == ("v", 3) and labels[1:3] == [("v", 1), ("v", 2)]
    with pytest.raises(IndexError):
        labels[4]
