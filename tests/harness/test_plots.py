"""The report's figures (:mod:`splitbench.harness.plots`), from hand-built records and a
real smoke sweep.

- which figures appear for which data (no formulation ratio without both MILPs on one
  solver, FIN figures only with FIN parameters, none from empty data);
- every figure draws data, and its caption names its run count;
- ``save`` writes a PNG and an SVG, ``png_bytes`` a PNG;
- labels are stable and carry the parameters and the solver; a label keeps its colour
  in every figure;
- missing times, objectives and gaps crash nothing;
- the smoke sweep gives every figure but the comparison's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib.colors
import numpy as np
import pytest
from matplotlib.collections import Collection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from splitbench.harness import plots
from splitbench.harness.compare import compare_records
from splitbench.harness.record import Record
from splitbench.harness.results import load_records
from splitbench.harness.runner import run_suite
from splitbench.harness.suite import load_suite

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def rec(run_id: str, **fields: Any) -> Record:
    """A finished exact run of 0.01 s on instance ``i`` (size 2 x (3 + 4) = 14)."""
    values: dict[str, Any] = dict(
        family="tiny",
        instance_id="i",
        n_blocks=2,
        n_nodes=3,
        n_arcs=4,
        objective_kind="latency",
        method="routing-milp",
        solver="highs",
        exact=True,
        status="optimal",
        feasible=True,
        objective=1.0,
        reference=1.0,
        gap_to_reference=0.0,
        build_time_s=0.0,
        solve_time_s=0.01,
        time_limit_s=10.0,
    )
    values.update(fields)
    return Record(run_id=run_id, **values)


def heuristic(run_id: str, gap: float | None, **fields: Any) -> Record:
    """A non-exact run with the given gap (None: no answer)."""
    answer = gap is not None
    return rec(
        run_id,
        method=fields.pop("method", "fin"),
        solver=None,
        exact=False,
        status="feasible" if answer else "none",
        feasible=answer,
        objective=1.0 + gap if gap is not None else None,
        gap_to_reference=gap,
        **fields,
    )


def milps(sizes: Iterable[int], solver_b: str = "highs") -> list[Record]:
    """routing-milp (highs) and assignment-milp (``solver_b``) on one instance per size."""
    out = []
    for n in sizes:
        common = dict(instance_id=f"i{n}", n_blocks=n)
        out.append(rec(f"r{n}", solve_time_s=0.01 * n, **common))
        out.append(
            rec(f"a{n}", method="assignment-milp", solver=solver_b, solve_time_s=0.03 * n, **common)
        )
    return out


def fin_runs(settings: Iterable[dict[str, Any]], family: str = "fin-branchy") -> list[Record]:
    """Energy answers of two labels on one instance per parameter setting."""
    out = []
    for i, params in enumerate(settings):
        text = json.dumps(params, sort_keys=True, separators=(",", ":"))
        common = dict(
            family=family, instance_id=f"f{i}", instance_params=text, objective_kind="energy"
        )
        out.append(
            rec(f"e{i}", method="exhaustive", solver=None, objective=0.01 * (i + 1), **common)
        )
        out.append(heuristic(f"h{i}", 0.1, **common))
    return out


def names(records: list[Record], **kwargs: Any) -> list[str]:
    return [f.name for f in plots.figures(records, **kwargs)]


def xs(ln: Line2D) -> list[float]:
    return [float(v) for v in np.asarray(ln.get_xdata(), dtype=float)]


def ys(ln: Line2D) -> list[float]:
    return [float(v) for v in np.asarray(ln.get_ydata(), dtype=float)]


def has_data(artist: Any) -> bool:
    """Whether an artist draws data: a line with points, a collection with offsets or
    paths, a bar or a box with a size."""
    if isinstance(artist, Line2D):
        return len(xs(artist)) > 0
    if isinstance(artist, Collection):
        return np.asarray(artist.get_offsets()).size > 0 or len(artist.get_paths()) > 0
    if isinstance(artist, Rectangle):
        return artist.get_width() != 0 or artist.get_height() != 0
    return False


def drawn(fig: plots.Figure) -> int:
    """How many artists on the figure's axes draw data (the axes' backgrounds aside)."""
    return sum(
        has_data(artist)
        for ax in fig.figure.axes
        for artist in ax.get_children()
        if artist is not ax.patch
    )


def line(fig: plots.Figure, name: str) -> Line2D:
    found = [ln for ax in fig.figure.axes for ln in ax.get_lines() if ln.get_label() == name]
    assert found, f"no line {name!r} in {fig.name}"
    return found[0]


def legend_colours(fig: plots.Figure) -> dict[str, str]:
    (legend,) = fig.figure.legends
    return {
        text.get_text(): matplotlib.colors.to_hex(handle.get_color())
        for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)
        if isinstance(handle, Line2D)
    }


# --- which figures, for which data --------------------------------------------------


def test_no_records_and_no_comparison_give_no_figure() -> None:
    assert plots.figures([]) == []


def test_exact_runs_alone_give_time_figures_only() -> None:
    runs = [rec(f"r{n}", instance_id=f"i{n}", n_blocks=n) for n in (2, 4, 8)]
    assert names(runs) == ["time-vs-size", "profile-time"]


def test_formulation_ratio_needs_both_milps_on_one_solver() -> None:
    both = milps([2, 4, 8])
    assert "formulation-ratio" in names(both)
    assert "formulation-ratio" not in names([r for r in both if r.method == "routing-milp"])
    assert "formulation-ratio" not in names(milps([2, 4, 8], solver_b="cbc"))
    skipped = [
        r.derive(termination="skipped", status="none") if r.method == "assignment-milp" else r
        for r in both
    ]
    assert "formulation-ratio" not in names(skipped)


def test_formulation_ratio_counts_pairs_and_puts_routing_faster_above_one() -> None:
    fig = next(f for f in plots.figures(milps([2, 4, 8])) if f.name == "formulation-ratio")
    assert fig.runs == 6
    assert "3 instance pairs" in fig.caption and "6 runs on 3 instances" in fig.caption
    assert "above 1 routing-milp is faster" in fig.caption
    mean = line(fig, "highs")
    assert ys(mean) == pytest.approx([3.0, 3.0, 3.0])


def test_gap_figures_need_non_exact_runs_with_a_reference() -> None:
    exact = [rec("x")]
    with_ref = [*exact, heuristic("h1", 0.1), heuristic("h2", None, method="mcp")]
    assert {"profile-gap", "gap-distribution"} <= set(names(with_ref))
    no_ref = [r.derive(reference=None, gap_to_reference=None) for r in with_ref]
    assert not {"profile-gap", "gap-distribution"} & set(names(no_ref))
    only_unanswered = [*exact, heuristic("h2", None)]
    assert not {"profile-gap", "gap-distribution"} & set(names(only_unanswered))


def test_fin_figures_only_with_fin_parameters() -> None:
    fin = fin_runs([{"dnn": "b-lenet", "min_accuracy": a} for a in (0.6, 0.8)])
    assert {"fin-accuracy", "fin-deadline"} <= set(names(fin))
    tiny = fin_runs([{"min_accuracy": 0.6}, {"min_accuracy": 0.8}], family="tiny")
    assert not any(n.startswith("fin-") for n in names(tiny))
    both = [{"min_accuracy": 0.6, "deadline_s": d} for d in (0.01, 0.02)]
    assert {"fin-accuracy", "fin-deadline"} <= set(names(fin_runs(both, family="tiered")))
    latency = [r.derive(objective_kind="latency") for r in fin]
    assert not any(n.startswith("fin-") for n in names(latency))


def test_fin_panels_and_the_fin_defaults() -> None:
    settings = [{"dnn": d, "min_accuracy": a} for d in ("b-alexnet", "b-lenet") for a in (0.6, 0.8)]
    made = {f.name: f for f in plots.figures(fin_runs(settings))}
    accuracy = made["fin-accuracy"]
    titles = sorted(ax.get_title() for ax in accuracy.figure.axes if ax.get_visible())
    assert titles == ["b-alexnet / cifar10, deadline 5 ms", "b-lenet / mnist, deadline 5 ms"]
    assert accuracy.runs == 8 and "8 runs on 4 instances" in accuracy.caption
    assert xs(line(accuracy, "exhaustive")) == [60.0, 80.0]
    deadline = made["fin-deadline"]
    assert len([ax for ax in deadline.figure.axes if ax.get_visible()]) == 4
    assert xs(line(deadline, "fin")) == [5.0]


def test_more_than_four_panels_make_one_figure_per_dnn() -> None:
    settings = [
        {"dnn": d, "dataset": s, "min_accuracy": 0.8, "deadline_s": t}
        for d, s in (("b-alexnet", "cifar10"), ("b-alexnet", "cifar100"), ("b-resnet", None))
        for t in (0.005, 0.01)
    ]
    got = names(fin_runs(settings))
    assert "fin-accuracy-b-alexnet" in got and "fin-accuracy-b-resnet" in got
    assert "fin-accuracy" not in got and len(got) == len(set(got))


def test_compare_ratio_only_with_a_comparison() -> None:
    a = milps([2, 4])
    b = [r.derive(solve_time_s=(r.solve_time_s or 0) * 3) for r in a]
    comparison = compare_records(a, b)
    assert "compare-ratio" not in names(a)
    made = plots.figures(a, comparison=comparison)
    assert made[-1].name == "compare-ratio"
    fig = made[-1]
    assert fig.runs == 8 and "4 run pairs (8 runs)" in fig.caption
    bars = [p for p in fig.figure.axes[0].patches if isinstance(p, Rectangle)]
    assert {matplotlib.colors.to_hex(p.get_facecolor()) for p in bars} == {"#d62728"}
    assert plots.figures([], comparison=compare_records(a, a))[0].name == "compare-ratio"


# --- what the figures draw ------------------------------------------------------------


def mixed() -> list[Record]:
    """Every kind of run: MILPs, a timed-out one, heuristics with and without answers,
    FIN answers."""
    runs = milps([2, 4, 8])
    runs.append(
        rec(
            "t",
            method="label-setting",
            solver=None,
            instance_id="i8",
            n_blocks=8,
            status="feasible",
            termination="time_limit",
            solve_time_s=10.5,
        )
    )
    runs += [heuristic(f"h{n}", 0.05 * n, instance_id=f"i{n}", n_blocks=n) for n in (2, 4)]
    runs.append(heuristic("h8", None, instance_id="i8", n_blocks=8))
    runs += fin_runs([{"min_accuracy": 0.6}, {"min_accuracy": 0.8, "deadline_s": 0.01}])
    return runs


def test_every_figure_draws_data_and_counts_its_runs() -> None:
    a = milps([2, 4])
    made = plots.figures(mixed(), comparison=compare_records(a, a))
    assert len(made) == 8
    assert len({f.name for f in made}) == len(made)
    for fig in made:
        assert drawn(fig) > 0, fig.name
        assert f"{fig.runs} run" in fig.caption, fig.name
        assert fig.title and fig.figure.get_size_inches()[0] * plots.DPI == pytest.approx(800)


def test_time_vs_size_marks_the_unsolved_run_hollow() -> None:
    fig = plots.figures(mixed())[0]
    assert fig.name == "time-vs-size"
    assert fig.runs == 9 and "hollow markers: 1 run that did not finish" in fig.caption
    lines = [ln for ax in fig.figure.axes for ln in ax.get_lines()]
    hollow = [ln for ln in lines if ln.get_markerfacecolor() == "none"]
    assert [ys(ln) for ln in hollow] == [[10.0]]  # at its time limit


def test_profile_time_counts_only_proven_runs() -> None:
    runs = [rec(f"r{i}", instance_id=i) for i in "xyz"]
    slow = dict(method="exhaustive", solver=None, solve_time_s=0.02)
    runs += [
        rec("e1", instance_id="x", **slow),
        rec("e2", instance_id="y", status="feasible", termination="time_limit", **slow),
        rec("e3", instance_id="z", status="feasible", **slow),  # completed, optimality unproven
    ]
    fig = next(f for f in plots.figures(runs) if f.name == "profile-time")
    assert ys(line(fig, "routing-milp (highs)"))[-1] == 1.0
    exhaustive = line(fig, "exhaustive")
    assert ys(exhaustive)[0] == 0.0 and ys(exhaustive)[-1] == pytest.approx(1 / 3)
    assert 2.0 in xs(exhaustive)  # twice as slow on x
    assert fig.runs == 6 and "3 instances" in fig.caption


def test_profile_gap_shares_and_runs_without_answers() -> None:
    runs = [rec("x", instance_id=i) for i in "abc"]
    runs += [
        heuristic("g0", 0.0, instance_id="a"),
        heuristic("g1", 0.1, instance_id="b"),
        heuristic("g2", None, instance_id="c"),
    ]
    made = {f.name: f for f in plots.figures(runs)}
    curve = line(made["profile-gap"], "fin")
    assert xs(curve)[0] == 0.0  # a gap of 0 sits at x = 0
    assert ys(curve) == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    assert (
        made["profile-gap"].runs == 3 and "1 run without an answer" in made["profile-gap"].caption
    )
    box = made["gap-distribution"]
    assert box.runs == 3 and "(1 in all)" in box.caption
    texts = [t.get_text() for t in box.figure.axes[0].texts]
    assert texts == ["1", "no answer:"]


def test_colours_follow_the_label_across_figures() -> None:
    made = plots.figures(mixed())
    time_colours = legend_colours(made[0])
    profile_colours = legend_colours(next(f for f in made if f.name == "profile-time"))
    assert time_colours == profile_colours
    fin = legend_colours(next(f for f in made if f.name == "fin-accuracy"))
    assert fin["exhaustive"] != fin["fin"]
    again = legend_colours(plots.figures(list(reversed(mixed())))[0])
    assert again == time_colours


def test_labels_are_stable_and_carry_parameters_and_solver() -> None:
    r = rec("a", method_params='{"time_limit":5}', solver="cbc")
    assert plots.label(r) == "routing-milp time_limit=5 (cbc)"
    assert plots.label(r) == plots.label(r.derive(run_id="b", instance_id="other"))
    fin = Record(run_id="f", method="fin", method_params='{"rounding":"arc","gamma":3}')
    assert plots.label(fin) == "fin gamma=3 rounding=arc"
    assert plots.label(Record(run_id="g", method="greedy")) == "greedy"
    assert plots.label(rec("h", solver="pyomo:cbc")) == "routing-milp (pyomo:cbc)"


def test_missing_times_objectives_and_gaps_crash_nothing(tmp_path: Path) -> None:
    holes = dict(build_time_s=None, solve_time_s=None, wall_time_s=None, time_limit_s=None)
    runs = [r.derive(**holes) if i % 2 else r for i, r in enumerate(mixed())]
    runs += [r.derive(objective=None, gap_to_reference=None, reference=None) for r in mixed()]
    runs.append(
        rec("n", status="none", feasible=False, objective=None, termination="error", **holes)
    )
    runs.append(rec("inf", exact=False, method="mcp", solver=None, gap_to_reference=float("inf")))
    made = plots.figures(runs)
    assert "time-vs-size" in [f.name for f in made]
    for fig in made:
        assert plots.png_bytes(fig).startswith(PNG_SIGNATURE)
    nothing = [rec(f"z{i}", **holes, objective=None, reference=None) for i in range(3)]
    assert names(nothing) == []


def test_save_writes_png_and_svg(tmp_path: Path) -> None:
    fig = plots.figures(milps([2, 4]))[0]
    png, svg = plots.save(fig, tmp_path / "figures")
    assert (png.name, svg.name) == ("time-vs-size.png", "time-vs-size.svg")
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert b"<svg" in svg.read_bytes()[:2000] and svg.stat().st_size > 1000
    assert plots.png_bytes(fig) == png.read_bytes()


# --- a real sweep -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke suite's results, run once per session (about 15 s; the report's tests
    look for the same folder)."""
    folder = tmp_path_factory.getbasetemp() / "smoke-results"
    if not (folder / "results.parquet").exists():
        run_suite(load_suite("smoke"), folder, jobs=2, resume=True)
    return folder


def test_the_smoke_sweep_gives_every_figure(smoke: Path) -> None:
    records, _ = load_records(smoke)
    made = {f.name: f for f in plots.figures(records)}
    expected = {"time-vs-size", "formulation-ratio", "profile-time", "profile-gap"}
    expected |= {"gap-distribution", "fin-accuracy", "fin-deadline"}
    assert expected <= set(made)
    for fig in made.values():
        assert drawn(fig) > 0 and f"{fig.runs} runs" in fig.caption
    assert made["profile-gap"].runs == sum(
        1 for r in records if not r.exact and r.reference is not None
    )
    timed = made["time-vs-size"].figure.axes
    assert sorted(ax.get_title() for ax in timed) == ["energy objective", "latency objective"]
