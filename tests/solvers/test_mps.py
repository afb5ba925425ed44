"""MPS files: what we write reads back exactly, other tools read it to the same model
and optimum, and the one export refuses what it cannot do."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from splitbench.errors import UnknownNameError, UsageError
from splitbench.evaluate import evaluate
from splitbench.formulations import build_formulation
from splitbench.instance import Instance, load_instance
from splitbench.milp import MILP, MILPBuilder
from splitbench.solvers import available_solvers, export_mps, read_mps, solve_milp, write_mps
from splitbench.solvers.base import cbc_executable
from splitbench.solvers.solve import solve_mps
from splitbench.status import Status

READERS = [
    s for s in ("highs", "cbc", "pyomo-highs", "pyomo:cbc", "scip") if s in available_solvers()
]
DATA = Path(__file__).parent / "data"
ARRAYS = ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integrality")


@pytest.fixture(scope="module")
def instances(example: Instance) -> list[Instance]:
    return [example, load_instance(DATA / "fin-b-lenet-latency-expected.json")]


def assert_same_model(back: MILP, milp: MILP) -> None:
    for name in ARRAYS:
        assert np.array_equal(getattr(back, name), getattr(milp, name)), name
    assert (back.A != milp.A).nnz == 0
    assert back.objective_constant == milp.objective_constant
    assert list(back.var_blocks["col"].labels) == milp.column_names()
    assert list(back.row_blocks["row"].labels) == milp.row_names()


@pytest.mark.parametrize("formulation", ["routing", "assignment"])
def test_round_trip_keeps_every_array_exactly(
    instances: list[Instance], formulation: str, tmp_path: Path
) -> None:
    for instance in instances:
        form = export_mps(instance, formulation, tmp_path / f"{formulation}.mps")
        assert_same_model(read_mps(tmp_path / f"{formulation}.mps"), form.milp)


def awkward() -> MILP:
    """Ranges, a free row, fixed, free, negative and general-integer columns, an empty
    column, a tiny coefficient and an objective constant."""
    b = MILPBuilder("awkward model")
    x = b.add_vars("x", ["a", "b", "c"], cost=[1.0, 2.0, 0.5], upper=[1.0, 1.0, 4.0], integer=True)
    y = b.add_vars("y", ["d"], cost=0.25, lower=-np.inf, upper=10.0)
    z = b.add_vars("z", ["e", "f", "g"], cost=[0.0, 1e-11, -1.0], lower=[2.0, -5.0, -3.0])
    b.add_vars("k", ["h"], lower=-2.0, upper=np.inf, integer=True)  # in no row
    b.add_vars("fixed", ["i"], lower=1.5, upper=1.5)
    b.add_rows("cover", 1, rows=[0, 0, 0], cols=x, vals=1.0, lower=1.0, upper=3.0)
    b.add_rows("link", 1, rows=[0, 0], cols=[x[0], y[0]], vals=1.0, lower=1.5, upper=1.5)
    b.add_rows("free", 1, rows=[0, 0], cols=[z[0], z[1]], vals=[1.0, 3e-7])
    b.add_rows("neg", 1, rows=[0, 0], cols=[z[1], z[2]], vals=[1.0, 1.0], upper=-0.1)
    b.add_rows("cap", 1, rows=[0], cols=[z[2]], vals=[1.0], upper=-1.0)
    b.add_rows("ceil", 1, rows=[0], cols=[z[0]], vals=[1.0], upper=2.0)
    return b.build(objective_constant=10.0)


def test_awkward_models_round_trip_and_solve_alike(tmp_path: Path) -> None:
    milp = awkward()
    path = tmp_path / "awkward.mps"
    write_mps(milp, path)
    back = read_mps(path)
    assert_same_model(back, milp)
    assert back.name == "awkward_model"
    expected = solve_milp(milp, "highs")
    assert expected.objective is not None
    for solver in READERS:
        got = solve_mps(path, solver)
        assert got.status is Status.OPTIMAL, (solver, got.message)
        assert got.objective == pytest.approx(expected.objective, rel=1e-9), solver


def test_highs_reads_our_file_to_the_same_arrays(instances: list[Instance], tmp_path: Path) -> None:
    highspy = pytest.importorskip("highspy")
    for instance in instances:
        for name in ("routing", "assignment"):
            milp = build_formulation(instance, name).milp
            path = tmp_path / f"{name}.mps"
            write_mps(milp, path)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            assert h.readModel(str(path)).name != "kError"
            lp = h.getLp()
            assert (lp.num_col_, lp.num_row_) == (milp.n_vars, milp.n_rows)
            assert list(lp.col_names_) == milp.column_names()
            assert np.array_equal(np.asarray(lp.col_cost_), milp.c)
            assert np.array_equal(np.asarray(lp.col_upper_), milp.col_upper)
            assert np.array_equal(np.asarray(lp.row_upper_), milp.row_upper)
            assert [int(t) for t in lp.integrality_] == milp.integrality.astype(int).tolist()


@pytest.mark.skipif(cbc_executable() is None, reason="no CBC binary")
def test_cbc_reads_our_file_itself_to_the_same_optimum(
    instances: list[Instance], tmp_path: Path
) -> None:
    """CBC's own MPS reader (CoinMpsIO) shares no code with ours or HiGHS's."""
    for instance in instances:
        for name in ("routing", "assignment"):
            form = build_formulation(instance, name)
            direct = solve_milp(form.milp, "highs")
            assert direct.objective is not None
            path, solution = tmp_path / f"{name}.mps", tmp_path / f"{name}.sol"
            write_mps(form.milp.scaled(1e6), path)  # CBC's own tolerances want ~1
            command = [str(cbc_executable()), str(path), "-ratio", "1e-9", "-allow", "0"]
            command += ["-solve", "-solution", str(solution)]
            subprocess.run(command, capture_output=True, check=True, timeout=60)
            head, *rows = solution.read_text().splitlines()
            assert head.startswith("Optimal"), head
            assert float(head.split()[-1]) / 1e6 == pytest.approx(direct.objective, rel=1e-6)
            values = np.zeros(form.milp.n_vars)
            position = {column: j for j, column in enumerate(form.milp.column_names())}
            for parts in (r.replace("**", " ").split() for r in rows):
                if len(parts) >= 3 and parts[1] in position:
                    values[position[parts[1]]] = float(parts[2])
            check = evaluate(instance, form.decode(values))
            assert check.feasible
            assert check.objective == pytest.approx(direct.objective, rel=1e-6)


def test_free_mps_variants_read(tmp_path: Path) -> None:
    path = tmp_path / "max.mps"
    path.write_text(
        "* a comment\nNAME demo\nOBJSENSE\n    MAX\nROWS\n N profit\n L cap\n E bal\n"
        "COLUMNS\n    a profit 3 cap 2\n    b profit 2 cap 1\n    b bal 1\n    c bal -1\n"
        "RHS\n    cap 4\n    bal 0\nRANGES\n    RNG bal -2\n"
        "BOUNDS\n BV BND a\n UP BND b 5\n UI BND c 3\n MI BND c\nENDATA\n",
        encoding="utf-8",
    )
    milp = read_mps(path)
    assert milp.c.tolist() == [-3.0, -2.0, 0.0]  # a maximisation, turned around
    assert milp.integrality.tolist() == [True, False, True]
    assert (milp.col_lower.tolist(), milp.col_upper.tolist()) == ([0, 0, -np.inf], [1, 5, 3])
    assert (milp.row_lower.tolist(), milp.row_upper.tolist()) == ([-np.inf, -2.0], [4.0, 0.0])
    negative = tmp_path / "neg.mps"
    negative.write_text(
        "NAME n\nROWS\n N obj\nCOLUMNS\n    x obj 1\nBOUNDS\n UP BND x -1\nENDATA\n"
    )
    assert read_mps(negative).col_lower.tolist() == [-np.inf]  # the usual reading of UP < 0


def test_bad_files_and_names(tmp_path: Path, example: Instance) -> None:
    with pytest.raises(UsageError, match="no such MPS file"):
        read_mps(tmp_path / "missing.mps")
    with pytest.raises(UsageError, match="no such MPS file"):
        solve_mps(tmp_path / "missing.mps", "cbc")
    junk = tmp_path / "junk.mps"
    junk.write_text("this is not MPS\n")
    with pytest.raises(UsageError, match=r"not a readable MPS file \(line 1"):
        read_mps(junk)
    junk.write_text("NAME x\nROWS\n N obj\nCOLUMNS\n    a nosuchrow 1\nENDATA\n")
    with pytest.raises(UsageError, match=r"line 5: unknown row 'nosuchrow'"):
        read_mps(junk)
    with pytest.raises(UnknownNameError, match="assignment, routing"):
        export_mps(example, "flow", tmp_path / "x.mps")


@pytest.mark.parametrize("name", ["x.lp", "x", "x.mps.gz", "mps"])
def test_export_writes_mps_only(tmp_path: Path, example: Instance, name: str) -> None:
    with pytest.raises(UsageError, match=r"must end in \.mps"):
        export_mps(example, "routing", tmp_path / name)
    assert not (tmp_path / name).exists()


def test_export_names_the_file_it_cannot_write(tmp_path: Path, example: Instance) -> None:
    with pytest.raises(UsageError, match=r"missing.*x\.mps: cannot write the MPS file"):
        export_mps(example, "routing", tmp_path / "missing" / "x.mps")
    (tmp_path / "folder.mps").mkdir()
    with pytest.raises(UsageError, match="cannot write the MPS file"):
        export_mps(example, "routing", tmp_path / "folder.mps")


def test_export_of_the_relaxation(tmp_path: Path, example: Instance) -> None:
    form = export_mps(example, "routing", tmp_path / "lp.mps", relax=True)
    back = read_mps(tmp_path / "lp.mps")
    assert back.n_integers == 0 and form.milp.n_integers > 0
    lp = solve_milp(back, "highs")
    assert lp.objective == pytest.approx(solve_milp(form.milp.relax(), "highs").objective)
