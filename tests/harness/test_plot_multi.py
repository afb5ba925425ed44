"""The report's figures of many-request (format-2) runs (:mod:`splitbench.harness._plot_multi`).

- ``requests-time`` and ``requests-gap`` appear for format-2 runs with more than one
  request, with the right run and instance counts in their captions, and never for
  format-1 runs;
- the time is the shifted geometric mean per label and request count, exact labels
  solid, the others dashed, the time limit drawn; the gaps are the mean and max per
  request count, bounds in their own panel;
- a run without a placement is drawn at the request count other runs of its instance
  give; missing times, NaN gaps and bounds crash nothing;
- a real tiny format-2 sweep's report has ``requests-time``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.lines import Line2D

from splitbench.harness import plots
from splitbench.harness._plot_fin import Palette
from splitbench.harness._plot_multi import bound_gap, multi_figures, request_counts
from splitbench.harness.metrics import SHIFT_SMALL_S, shifted_geometric_mean
from splitbench.harness.record import Record
from splitbench.harness.report import write_report
from splitbench.harness.results import load_records
from splitbench.harness.runner import run_suite
from splitbench.harness.suite import parse_suite

COUNTS = (1, 2, 5, 10)
LIMIT_S = 10.0


def run(run_id: str, n: int, **fields: Any) -> Record:
    """A finished exact routing-milp run on the format-2 instance ``m{n}`` of ``n``
    requests, 0.01 * n s."""
    values: dict[str, Any] = dict(
        family="fin-multi",
        instance_id=f"m{n}",
        n_blocks=3 * n,
        n_nodes=n + 2,
        n_arcs=2 * n + 1,
        objective_kind="energy",
        method="routing-milp",
        solver="highs",
        exact=True,
        status="optimal",
        feasible=True,
        objective=1.0,
        bound=1.0,
        reference=1.0,
        gap_to_reference=0.0,
        build_time_s=0.0,
        solve_time_s=0.01 * n,
        time_limit_s=LIMIT_S,
        n_requests=n,
        max_node_utilization=0.5,
        max_arc_utilization=0.25,
    )
    values.update(fields)
    return Record(run_id=run_id, **values)


def heuristic(run_id: str, n: int, gap: float | None, **fields: Any) -> Record:
    """A non-exact run with the given gap (None: no answer) on ``m{n}``."""
    answer = gap is not None
    return run(
        run_id,
        n,
        method=fields.pop("method", "sequential"),
        solver=fields.pop("solver", None),
        exact=False,
        status="feasible" if answer else "none",
        feasible=answer,
        objective=1.0 + gap if gap is not None else None,
        gap_to_reference=fields.pop("gap_to_reference", gap),
        bound=fields.pop("bound", None),
        solve_time_s=0.001 * n,
        **fields,
    )


def sweep() -> list[Record]:
    """routing-milp, assignment-milp (at its limit on 10 requests, with a bound), a
    heuristic (twice on 5 requests) and a bound method on 1, 2, 5 and 10 requests."""
    out: list[Record] = []
    for n in COUNTS:
        out.append(run(f"r{n}", n))
        if n < 10:
            out.append(run(f"a{n}", n, method="assignment-milp", solve_time_s=0.05 * n**2))
        else:
            out.append(
                run(
                    f"a{n}", n, method="assignment-milp", status="feasible",
                    termination="time_limit", objective=1.05, gap_to_reference=0.05,
                    bound=0.8, solve_time_s=LIMIT_S + 0.3,
                )
            )  # fmt: skip
        out.append(heuristic(f"s{n}", n, 0.01 * n))
        out.append(heuristic(f"l{n}", n, 0.1, method="lagrangian", bound=1.0 - 0.02 * n))
    out.append(heuristic("s5b", 5, 0.15, repetition=1))
    return out


def made(records: list[Record]) -> dict[str, plots.Figure]:
    return {f.name: f for f in plots.figures(records) if f.name.startswith("requests-")}


def lines(fig: plots.Figure, name: str) -> list[Line2D]:
    return [ln for ax in fig.figure.axes for ln in ax.get_lines() if ln.get_label() == name]


def values(ln: Line2D, axis: str) -> list[float]:
    data = ln.get_xdata() if axis == "x" else ln.get_ydata()
    return [float(v) for v in np.asarray(data, dtype=float)]


def visible_axes(fig: plots.Figure) -> list[Any]:
    return [ax for ax in fig.figure.axes if ax.get_visible()]


# --- which figures, with which counts ----------------------------------------------------


def test_both_figures_with_their_run_and_instance_counts() -> None:
    figs = made(sweep())
    assert list(figs) == ["requests-time", "requests-ratio", "requests-gap"]
    time, gap = figs["requests-time"], figs["requests-gap"]
    assert time.runs == 17 and "From 17 runs on 4 instances." in time.caption
    # 5 heuristic answers, 4 Lagrangian answers with bounds, 1 stopped assignment bound
    assert gap.runs == 10 and "From 10 runs on 4 instances." in gap.caption
    assert "9 answers" in gap.caption and "5 finite lower bounds" in gap.caption
    assert "Request counts 1, 2, 5, 10" in time.caption


def test_they_follow_the_single_request_figures_in_order() -> None:
    names = [f.name for f in plots.figures(sweep())]
    assert names.index("gap-distribution") < names.index("requests-time")
    assert names.index("requests-time") + 1 == names.index("requests-ratio")
    assert names.index("requests-ratio") + 1 == names.index("requests-gap")


def test_format_1_runs_give_no_request_figure() -> None:
    single = [r.derive(n_requests=1, max_node_utilization=None, max_arc_utilization=None)
              for r in sweep()]  # fmt: skip
    assert plots.figures(single) and not made(single)
    assert request_counts(single) == {}


def test_format_2_instances_of_one_request_alone_give_no_figure() -> None:
    ones = [r for r in sweep() if r.n_requests == 1]
    assert request_counts(ones) == {"m1": 1} and not made(ones)


def test_format_1_runs_among_them_are_left_out() -> None:
    fmt1 = run("f1", 1, instance_id="single", n_requests=1, max_node_utilization=None,
               max_arc_utilization=None, family="tiny")  # fmt: skip
    figs = made([*sweep(), fmt1])
    assert figs["requests-time"].runs == 17
    assert {ax.get_title() for ax in visible_axes(figs["requests-time"])} == {"fin-multi"}


def test_no_answers_nor_bounds_give_the_time_figure_alone() -> None:
    exact = [r.derive(bound=None) for r in sweep() if r.exact and r.method == "routing-milp"]
    assert list(made(exact)) == ["requests-time"]


# --- what they draw ----------------------------------------------------------------------


def test_time_is_the_shifted_geometric_mean_per_request_count() -> None:
    records = sweep()
    records.append(run("r5b", 5, repetition=1, solve_time_s=0.2))
    fig = made(records)["requests-time"]
    (routing,) = lines(fig, "routing-milp (highs)")
    assert values(routing, "x") == [1.0, 2.0, 5.0, 10.0]
    expected = [0.01, 0.02, shifted_geometric_mean([0.05, 0.2], SHIFT_SMALL_S), 0.1]
    assert values(routing, "y") == pytest.approx(expected)
    (assignment,) = lines(fig, "assignment-milp (highs)")
    assert values(assignment, "y")[-1] == pytest.approx(LIMIT_S)  # at its limit
    assert routing.get_linestyle() == "-" and assignment.get_linestyle() == "-"
    (sequential,) = lines(fig, "sequential")
    assert sequential.get_linestyle() == "--"
    assert fig.figure.axes[0].get_yscale() == "log"


def test_time_limit_line_and_the_unfinished_run_marked() -> None:
    fig = made(sweep())["requests-time"]
    (ax,) = visible_axes(fig)
    flat = [ln for ln in ax.get_lines() if values(ln, "y") == [LIMIT_S, LIMIT_S]]
    assert flat, "the time limit is drawn"
    hollow = [ln for ln in ax.get_lines() if ln.get_markerfacecolor() == "none"]
    assert [values(ln, "x") for ln in hollow] == [[10.0]]
    assert "hollow markers: 1 run that did not finish" in fig.caption
    assert "the time limit (10 s)" in fig.caption
    no_limit = [r.derive(time_limit_s=None) for r in sweep() if r.termination == "completed"]
    assert "time limit (" not in made(no_limit)["requests-time"].caption


def test_one_time_panel_per_family() -> None:
    other = [r.derive(family="multi-tiered", instance_id=f"t{r.instance_id}", run_id=f"t{r.run_id}")
             for r in sweep()]  # fmt: skip
    fig = made([*sweep(), *other])["requests-time"]
    assert sorted(ax.get_title() for ax in visible_axes(fig)) == ["fin-multi", "multi-tiered"]
    assert fig.runs == 34 and "one panel per family (2)" in fig.caption


def test_more_families_than_panels_are_pooled() -> None:
    records = [
        r.derive(family=f"fam{i}", instance_id=f"{i}{r.instance_id}", run_id=f"{i}{r.run_id}")
        for i in range(5)
        for r in sweep()
    ]
    fig = made(records)["requests-time"]
    assert [ax.get_title() for ax in visible_axes(fig)] == ["5 families pooled"]
    assert "; 5 families pooled" in fig.caption and fig.runs == 5 * 17


def test_gap_mean_and_max_per_request_count_and_bound_gaps() -> None:
    fig = made(sweep())["requests-gap"]
    answers, bounds = visible_axes(fig)
    assert "non-exact" in answers.get_title() and "bound" in bounds.get_title()
    (mean,) = [ln for ln in answers.get_lines() if ln.get_label() == "sequential"]
    assert values(mean, "y") == pytest.approx([1.0, 2.0, 10.0, 10.0])  # 5 and 15 % at 5
    colour = mean.get_color()
    worst = next(ln for ln in answers.get_lines() if ln is not mean and ln.get_color() == colour)
    assert values(worst, "y") == pytest.approx([1.0, 2.0, 15.0, 10.0])
    (lagrangian,) = [ln for ln in bounds.get_lines() if ln.get_label() == "lagrangian"]
    assert values(lagrangian, "y") == pytest.approx([2.0, 4.0, 10.0, 20.0])
    (stopped,) = [ln for ln in bounds.get_lines() if ln.get_label() == "assignment-milp (highs)"]
    assert values(stopped, "x") == [10.0] and values(stopped, "y") == pytest.approx([20.0])
    labels = {ln.get_label() for ln in answers.get_lines()}
    assert "routing-milp (highs)" not in labels  # exact answers are not heuristics' gaps


def test_save_writes_png_and_svg(tmp_path: Path) -> None:
    for fig in made(sweep()).values():
        png, svg = plots.save(fig, tmp_path)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
        assert b"<svg" in svg.read_bytes()[:2000] and svg.stat().st_size > 1000


# --- awkward data -----------------------------------------------------------------------


def test_a_run_without_placement_takes_its_instance_count() -> None:
    records = sweep()
    killed = run("k10", 10, method="routing-milp", solver="cbc", status="none",
                 termination="time_limit", feasible=False, objective=None, bound=None,
                 gap_to_reference=None, build_time_s=None, solve_time_s=None, n_requests=1,
                 max_node_utilization=None, max_arc_utilization=None)  # fmt: skip
    fig = made([*records, killed])["requests-time"]
    (cbc,) = lines(fig, "routing-milp (cbc)")
    assert values(cbc, "x") == [10.0] and values(cbc, "y") == pytest.approx([LIMIT_S])
    assert fig.runs == 18


def test_missing_time_nan_gap_and_nan_bound_crash_nothing(tmp_path: Path) -> None:
    odd = [
        run("t", 5, build_time_s=None, solve_time_s=None, wall_time_s=None, time_limit_s=None),
        heuristic("g", 5, float("nan")),
        heuristic("b", 2, 0.1, method="lp-rounding", bound=float("nan")),
        heuristic("z", 2, None, method="fin"),
        heuristic("r", 10, 0.2, method="fin", reference=None, gap_to_reference=None, bound=0.5),
        run("s", 10, method="assignment-milp", termination="skipped", status="none"),
    ]
    figs = made([*sweep(), *odd])
    assert set(figs) == {"requests-time", "requests-ratio", "requests-gap"}
    assert figs["requests-time"].runs == 17 + 4  # the missing time and the skipped left out
    assert "1 skipped run left out" in figs["requests-time"].caption
    assert figs["requests-gap"].runs == 10 + 1  # lp-rounding's gap; NaN bound left out
    assert "1 run without an answer left out" in figs["requests-gap"].caption
    for fig in figs.values():
        plots.save(fig, tmp_path)
    bad = [*odd, run("m", 3, bound=float("nan"), reference=float("nan"))]
    bad += [run("i", 3, time_limit_s=float("inf")), run("o", 3, time_limit_s=0.0)]
    assert set(made(bad)) == {"requests-time", "requests-gap"}


def test_only_skipped_or_timeless_runs_give_no_figure() -> None:
    records = [run(f"x{n}", n, build_time_s=None, solve_time_s=None, time_limit_s=None,
                   gap_to_reference=None, bound=None) for n in (2, 4)]  # fmt: skip
    assert made(records) == {}


def test_request_counts_and_bound_gap() -> None:
    records = [run("a", 4), run("b", 4, n_requests=1, max_node_utilization=None),
               run("c", 1, instance_id="one"), run("d", 1, instance_id="fmt1",
               max_node_utilization=None, max_arc_utilization=None)]  # fmt: skip
    assert request_counts(records) == {"m4": 4, "one": 1}
    assert bound_gap(0.9, 1.0) == pytest.approx(0.1)
    assert bound_gap(-1.1, -1.0) == pytest.approx(0.1)
    assert bound_gap(1.2, 1.0) == pytest.approx(-0.2)
    assert bound_gap(None, 1.0) is None and bound_gap(1.0, None) is None
    assert bound_gap(float("inf"), 1.0) is None and bound_gap(1.0, float("nan")) is None
    assert bound_gap(0.0, 0.0) == 0.0 and bound_gap(-1.0, 0.0) is None


def test_multi_figures_needs_one_frame_row_per_record() -> None:
    frame = pd.DataFrame({"label": ["x"]})
    with pytest.raises(ValueError, match="1 frame rows for 0 records"):
        multi_figures(frame, [], Palette.of(["x"]))


# --- a real sweep -----------------------------------------------------------------------

TINY = """
description = "fin-multi with 1, 2 and 3 users of b-lenet"
time-limit = 10
[[families]]
family = "fin-multi"
param = { users = [1, 2, 3], dnns = "b-lenet" }
[[methods]]
method = ["routing-milp", "assignment-milp"]
"""


def test_a_format_2_sweep_reports_requests_time(tmp_path: Path) -> None:
    suite = parse_suite(TINY, str(tmp_path / "tiny-multi.toml"))
    folder = tmp_path / "results"
    run_suite(suite, folder, jobs=1)
    records, _ = load_records(folder)
    routing = [r for r in records if r.method == "routing-milp"]
    assert sorted(r.n_requests for r in routing) == [1, 2, 3]
    # every record knows its instance's request count, answered or not
    for r in records:
        assert r.n_requests == next(x.n_requests for x in routing if x.instance_id == r.instance_id)
    report = write_report(folder)
    assert report.md is not None and report.html is not None
    md = report.md.read_text(encoding="utf-8")
    assert "](figures/requests-time.png)" in md
    assert 'id="figure-requests-time"' in report.html.read_text(encoding="utf-8")
    assert {p.name for p in report.figures} >= {"requests-time.png", "requests-time.svg"}
    fig = made(records)["requests-time"]
    # assignment-milp counts unless it declines format 2 (skipped)
    ran = [r for r in records if r.method == "assignment-milp" and r.termination != "skipped"]
    assert fig.runs == len(routing) + len(ran)
    assert f"From {fig.runs} runs on 3 instances." in fig.caption


def test_the_ratio_pairs_both_formulations_on_one_instance_and_solver() -> None:
    runs = []
    for n, (routing, assignment) in {2: (0.01, 1.0), 5: (0.02, 0.2)}.items():
        for solver in ("highs", "cbc"):
            runs.append(run(f"r{n}{solver}", n, solver=solver, solve_time_s=routing))
            runs.append(run(f"a{n}{solver}", n, method="assignment-milp", solver=solver,
                            solve_time_s=assignment))  # fmt: skip
    runs.append(run("s10", 10, method="assignment-milp", termination="skipped", status="none"))
    runs.append(run("r10", 10))
    fig = made(runs)["requests-ratio"]
    assert fig.runs == 8
    assert "4 instance pairs (cbc, highs), from 8 runs on 2 instances" in fig.caption
    line = next(ln for ln in fig.figure.axes[0].get_lines() if ln.get_label() == "highs")
    assert list(line.get_xdata()) == [2.0, 5.0]
    assert list(line.get_ydata()) == pytest.approx([100.0, 10.0])
