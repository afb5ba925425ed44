"""The figures of the benchmark report, drawn from stored records (no method is run).

:func:`figures` makes every figure the records hold the data for (never an empty
plot); :func:`save` writes one as PNG (120 dpi) and SVG; :func:`png_bytes` gives the
PNG alone. Each label (:func:`label`: the method, its stored parameters, its solver)
keeps its colour and marker in every figure of one call. The figures use
matplotlib's object-oriented API with an Agg canvas: no pyplot, no global state.

========================  =================================================================
name                      what it needs
========================  =================================================================
``time-vs-size``          exact runs with a time (skipped runs left out)
``formulation-ratio``     ``routing-milp`` and ``assignment-milp`` on one instance and solver
``profile-time``          exact runs (the performance profile of their effective time)
``profile-gap``           non-exact answers with a finite gap to a reference
``gap-distribution``      the same
``requests-time``         runs on format-2 instances, one of them with n_requests > 1
``requests-gap``          the same, with gaps of answers or of bounds (see :mod:`._plot_multi`)
``fin-accuracy``          energy answers on ``fin-branchy`` or on a family whose parameters
``fin-deadline``          set ``min_accuracy`` and ``deadline_s`` (see :mod:`._plot_fin`)
``fin-gamma-gap``         ``fin`` energy runs with a reference, two ``gamma`` values or more
``mcp-savings``           ``mcp`` and a reference on an energy instance (:mod:`._plot_paper`)
``compare-ratio``         a :class:`~splitbench.harness.compare.Comparison` with time ratios
========================  =================================================================

Examples
--------
>>> def run(method, size, time, solver="highs", exact=True, gap=0.0):
...     return Record(run_id=f"{method}-{size}", instance_id=f"i{size}", method=method,
...                   solver=solver, exact=exact, status="optimal" if exact else "feasible",
...                   feasible=True, objective=1.0 + gap, reference=1.0,
...                   gap_to_reference=gap, build_time_s=0.0, solve_time_s=time,
...                   n_blocks=size, n_nodes=2, n_arcs=3, objective_kind="latency")
>>> runs = [run(m, s, t * s) for m, t in (("routing-milp", 0.01), ("assignment-milp", 0.03))
...         for s in (3, 6)]
>>> runs += [run("fin", s, 0.001, None, False, g) for s, g in ((3, 0.0), (6, 0.1))]
>>> made = figures(runs)
>>> [f.name for f in made]
['time-vs-size', 'formulation-ratio', 'profile-time', 'profile-gap', 'gap-distribution']
>>> label(runs[0]), label(runs[-1]), made[0].runs, made[1].runs
('routing-milp (highs)', 'fin', 4, 4)
>>> label(Record(run_id="x", method="fin", method_params='{"gamma":3}'))
'fin gamma=3'
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from splitbench.harness._plot_fin import (
    Made,
    Palette,
    add_legend,
    fin_figures,
    label,
    new_figure,
)
from splitbench.harness._plot_multi import multi_figures
from splitbench.harness._plot_paper import paper_figures
from splitbench.harness.compare import Comparison
from splitbench.harness.metrics import SHIFT_SMALL_S, effective_time_s, performance_profile
from splitbench.harness.record import Record
from splitbench.status import Status, Termination

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

__all__ = ["DPI", "Figure", "figures", "label", "png_bytes", "save"]

DPI = 120
"""The PNG resolution (a figure is 800 px wide at it)."""

ROUTING, ASSIGNMENT = "routing-milp", "assignment-milp"
SIZE_LABEL = "graph size n_blocks·(n_nodes + n_arcs)"
_FLOOR_S = 1e-6  # times drawn on a log axis are at least this
_GAP_LINTHRESH = 0.01  # %, the linear part of the profile-gap axis
_BOX_LINTHRESH = 1.0  # %, the linear part of the gap-distribution axis


@dataclass(frozen=True)
class Figure:
    """One figure of the report.

    Attributes
    ----------
    name : str
        File stem, unique within one :func:`figures` call (``time-vs-size``).
    title : str
        A one-line title.
    caption : str
        What it shows, from how many runs on how many instances.
    runs : int
        The runs it draws on.
    figure : matplotlib.figure.Figure
        The drawing (with an Agg canvas).
    """

    name: str
    title: str
    caption: str
    runs: int
    figure: MplFigure


_DTYPES: dict[str, Any] = {
    **dict.fromkeys(("label", "method", "solver", "family", "instance", "params", "kind"), object),
    **dict.fromkeys(("exact", "skipped", "proven", "answered", "limit", "referenced"), bool),
    "size": np.int64,
    **dict.fromkeys(("time", "objective", "gap"), np.float64),
}


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else math.nan


def _frame(records: Sequence[Record]) -> pd.DataFrame:
    """One row per record with what the figures read (NaN for a missing number)."""
    done, skipped = Termination.COMPLETED.value, Termination.SKIPPED.value
    proofs = (Status.OPTIMAL.value, Status.INFEASIBLE.value)
    rows = []
    for r in records:
        time = _finite(effective_time_s(r))
        # fmt: off
        rows.append((
            label(r), r.method, r.solver or "", r.family, r.instance_id, r.instance_params,
            r.objective_kind, r.exact, r.termination == skipped,
            r.status in proofs and r.termination == done, r.has_answer,
            not r.solved and r.time_limit_s is not None,
            r.reference is not None and math.isfinite(r.reference),
            r.n_blocks * (r.n_nodes + r.n_arcs), time if time >= 0 else math.nan,
            _finite(r.objective) if r.has_answer else math.nan,
            math.nan if r.gap_to_reference is None else r.gap_to_reference,
        ))
        # fmt: on
    frame = pd.DataFrame(rows, columns=list(_DTYPES))
    return frame.astype(_DTYPES)


def _n(count: int, noun: str) -> str:
    """``3 runs``, ``1 run``."""
    return f"{count} {noun}{'s' * (count != 1)}"


def _runs_text(runs: int, instances: int) -> str:
    return f"{_n(runs, 'run')} on {_n(instances, 'instance')}"


def _labels(ax: Axes, x: str, y: str) -> None:
    ax.set_xlabel(x, fontsize=9)
    ax.set_ylabel(y, fontsize=9)


def _plain_ticks(ax: Axes, axis: str, *, log: bool = False) -> None:
    """Tick labels as plain numbers (``0.01``, ``20``); on a log axis at 1, 2 and 5
    times the powers of ten, without minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    if log:
        target.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
        target.set_minor_formatter(NullFormatter())
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _time_vs_size(df: pd.DataFrame, palette: Palette) -> Made | None:
    data = df[df["exact"] & ~df["skipped"] & df["time"].notna() & (df["size"] > 0)]
    if data.empty:
        return None
    kinds = sorted(set(data["kind"]))
    labels = sorted(set(data["label"]))
    fig, axes = new_figure(1, len(kinds), legend=len(labels), longest=max(map(len, labels)))
    for ax, kind in zip(axes, kinds, strict=True):
        part = data[data["kind"] == kind]
        medians = part.groupby(["label", "size"])["time"].median().clip(lower=_FLOOR_S)
        for lab, series in medians.groupby(level=0):
            xs = series.index.get_level_values(1).to_numpy(dtype=float)
            ys = series.to_numpy(dtype=float)
            ax.plot(xs, ys, label=str(lab), markersize=5, **palette.style(str(lab)))
        hit = part[part["limit"]].drop_duplicates(["label", "size", "time"])
        for lab, group in hit.groupby("label"):
            style = palette.style(str(lab))
            size, limit = group["size"], group["time"].clip(lower=_FLOOR_S)
            ax.plot(
                size, limit, ls="none", marker=style["marker"], ms=9, mfc="none", mec=style["color"]
            )
        ax.set(xscale="log", yscale="log")
        ax.set_title(f"{kind or 'unknown'} objective", fontsize=9)
        _plain_ticks(ax, "x", log=True)
        _labels(ax, SIZE_LABEL, "effective time (s)")
    add_legend(fig, palette, labels)
    title = "Time against instance size (exact methods)"
    fig.suptitle(title, fontsize=11)
    unfinished = int(data["limit"].sum())
    skipped = int((df["exact"] & df["skipped"]).sum())
    caption = (
        "Effective time of the exact methods (build plus solve time; an unsolved run "
        "counts at its time limit) against the size of the layered graph, "
        "n_blocks × (n_nodes + n_arcs), log-log; filled markers and lines: the median "
        "per label and size; "
        + (
            f"hollow markers: {_n(unfinished, 'run')} that did not finish (time limit, "
            "error), drawn at their time limit"
            if unfinished
            else "every run finished within its time limit"
        )
        + (f"; {_n(skipped, 'skipped run')} left out" if skipped else "")
        + (f"; one panel per objective ({', '.join(kinds)})" if len(kinds) > 1 else "")
        + f". From {_runs_text(len(data), data['instance'].nunique())}."
    )
    return "time-vs-size", title, caption, len(data), fig


def _formulation_ratio(df: pd.DataFrame, palette: Palette) -> Made | None:
    data = df[
        df["exact"]
        & ~df["skipped"]
        & df["time"].notna()
        & (df["solver"] != "")
        & df["method"].isin([ROUTING, ASSIGNMENT])
    ]
    if set(data["method"]) != {ROUTING, ASSIGNMENT}:
        return None
    table = data.groupby(["solver", "instance", "method"]).agg(
        time=("time", "median"), size=("size", "first"), runs=("time", "size")
    )
    wide = table.unstack("method")
    wide = wide[wide[("time", ROUTING)].notna() & wide[("time", ASSIGNMENT)].notna()]
    if wide.empty:
        return None
    ratio = wide[("time", ASSIGNMENT)].clip(lower=_FLOOR_S) / wide[("time", ROUTING)].clip(
        lower=_FLOOR_S
    )
    pairs = pd.DataFrame({"ratio": ratio, "size": wide[("size", ROUTING)]}).reset_index()
    fig, (ax,) = new_figure(1, 1)
    solvers = sorted(set(pairs["solver"]))
    for solver in solvers:
        mine = pairs[pairs["solver"] == solver]
        routing = data[(data["method"] == ROUTING) & (data["solver"] == solver)]["label"]
        style = palette.style(str(routing.iloc[0]))
        ax.scatter(mine["size"], mine["ratio"], s=14, color=style["color"], alpha=0.45)
        means = np.exp(np.log(mine["ratio"]).groupby(mine["size"]).mean())
        xs, ys = means.index.to_numpy(dtype=float), means.to_numpy(dtype=float)
        ax.plot(xs, ys, label=solver, markersize=5, **style)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set(xscale="log", yscale="log")
    _plain_ticks(ax, "x", log=True)
    _labels(ax, SIZE_LABEL, "time ratio assignment / routing")
    ax.legend(title="solver", fontsize=8, title_fontsize=8)
    title = "Assignment against routing MILP formulation"
    fig.suptitle(title, fontsize=11)
    runs = int(wide[("runs", ROUTING)].sum() + wide[("runs", ASSIGNMENT)].sum())
    caption = (
        "Ratio of the effective times assignment-milp / routing-milp on the same instance "
        "with the same solver, against the layered graph's size n_blocks × (n_nodes + "
        "n_arcs), log-log: a point per instance pair, the line the geometric mean per size; "
        "above 1 routing-milp is faster, below 1 assignment-milp. "
        f"{len(pairs)} instance pairs ({', '.join(solvers)}), from "
        f"{_runs_text(runs, pairs['instance'].nunique())}."
    )
    return "formulation-ratio", title, caption, runs, fig


def _step(ax: Axes, xs: np.ndarray, ys: np.ndarray, name: str, palette: Palette) -> None:
    """A step curve of one label (a marker every sixth of its steps)."""
    every = max(1, len(xs) // 6)
    ax.step(xs, ys, where="post", label=name, markevery=every, markersize=5, **palette.style(name))


def _profile_time(df: pd.DataFrame, palette: Palette) -> Made | None:
    data = df[df["exact"]]
    never = data.groupby("label")["skipped"].all()
    data = data[data["label"].isin(never[~never].index)]
    solved = data[data["proven"] & data["time"].notna()]
    if solved.empty:
        return None
    table: dict[str, dict[str, float | None]] = {}
    for lab, inst in data[["label", "instance"]].drop_duplicates().itertuples(index=False):
        table.setdefault(str(lab), {})[str(inst)] = None
    for (lab, inst), value in solved.groupby(["label", "instance"])["time"].median().items():
        table[str(lab)][str(inst)] = float(value)
    profile = performance_profile(table)
    top = max(profile.taus[-1] * 1.5, 10.0)
    labels = sorted(table)
    fig, (ax,) = new_figure(1, 1, legend=len(labels), longest=max(map(len, labels)))
    xs = np.array([*profile.taus, top])
    for lab in labels:
        shares = profile.shares[lab]
        _step(ax, xs, np.array([*shares, shares[-1]]), lab, palette)
    ax.set(xscale="log", xlim=(1.0, top), ylim=(0.0, 1.02))
    _labels(ax, "τ (time / fastest time on the instance)", "share of instances solved within τ")
    add_legend(fig, palette, labels)
    title = "Performance profile of the time (exact methods)"
    fig.suptitle(title, fontsize=11)
    n_instances = data["instance"].nunique()
    dropped = len(never) - len(labels)
    caption = (
        "Dolan-Moré performance profile of the effective time of the exact methods: the "
        f"share of the {n_instances} instances each label solved (optimal, or proven "
        "infeasible, the run completed) within a factor τ of the fastest label on the "
        "instance (no shift); an unsolved run never counts"
        + (f"; {_n(dropped, 'label')} whose runs were all skipped left out" if dropped else "")
        + f". {_n(len(labels), 'label')}, from {_runs_text(len(data), n_instances)}."
    )
    return "profile-time", title, caption, len(data), fig


def _gap_data(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Non-exact runs on instances with a reference, and those with a finite gap."""
    data = df[~df["exact"] & df["referenced"]]
    gapped = data[data["answered"] & np.isfinite(data["gap"])]
    return None if gapped.empty else (data, gapped)


def _profile_gap(df: pd.DataFrame, palette: Palette) -> Made | None:
    found = _gap_data(df)
    if found is None:
        return None
    data, gapped = found
    per = gapped.groupby(["label", "instance"])["gap"].median().clip(lower=0.0) * 100
    counts = data.groupby("label")["instance"].nunique()
    labels = sorted(counts.index.astype(str))
    top = max(float(per.max()) * 2, 1.0)
    fig, (ax,) = new_figure(1, 1, legend=len(labels), longest=max(map(len, labels)))
    for lab in labels:
        values = np.sort(per[lab].to_numpy(dtype=float)) if lab in per.index else np.zeros(0)
        xs = np.unique(np.concatenate([[0.0], values]))
        ys = np.searchsorted(values, xs, side="right") / counts[lab]
        _step(ax, np.append(xs, top), np.append(ys, ys[-1]), lab, palette)
    ax.set_xscale("symlog", linthresh=_GAP_LINTHRESH, linscale=0.5)
    ax.set(xlim=(0.0, top), ylim=(0.0, 1.02))
    _plain_ticks(ax, "x")
    _labels(ax, "gap to the reference x (%)", "share of instances with gap ≤ x")
    add_legend(fig, palette, labels)
    title = "Performance profile of the gap (non-exact methods)"
    fig.suptitle(title, fontsize=11)
    missing = int((~data["answered"]).sum())
    caption = (
        "Performance profile of the gap: for each non-exact label, the share of the "
        "instances with a reference optimum it ran on whose gap (z - z*) / |z*| is at "
        "most x (the median over repeated runs); a run without an answer never counts. "
        f"The x axis is symlog: linear from 0 to {_GAP_LINTHRESH:g} %, so a gap of 0 (the "
        "optimum found) is drawn at x = 0, logarithmic above. "
        f"{_n(len(labels), 'label')}, from {_runs_text(len(data), data['instance'].nunique())}"
        f" with a reference ({_n(missing, 'run')} without an answer)."
    )
    return "profile-gap", title, caption, len(data), fig


def _gap_distribution(df: pd.DataFrame, palette: Palette) -> Made | None:
    found = _gap_data(df)
    if found is None:
        return None
    data, gapped = found
    labels = sorted(set(data["label"]))
    values = {str(k): g["gap"].to_numpy(dtype=float) * 100 for k, g in gapped.groupby("label")}
    missing = data[~data["answered"]].groupby("label").size()
    fig, (ax,) = new_figure(1, 1, panel_in=4.4)
    filled = [i for i, lab in enumerate(labels) if lab in values]
    boxes = ax.boxplot(
        [values[labels[i]] for i in filled],
        positions=[i + 1 for i in filled],
        widths=0.6,
        showfliers=False,
        patch_artist=True,
        medianprops={"color": "black"},
    )
    rng = np.random.default_rng(0)
    for box, i in zip(boxes["boxes"], filled, strict=True):
        colour = palette.style(labels[i])["color"]
        box.set(facecolor=colour, alpha=0.3)
        ys = values[labels[i]]
        xs = i + 1 + rng.uniform(-0.2, 0.2, len(ys))
        ax.scatter(xs, ys, s=9, color=colour, alpha=0.6, linewidths=0, zorder=3)
    where: dict[str, Any] = {"transform": ax.get_xaxis_transform(), "va": "bottom", "fontsize": 7}
    for i, lab in enumerate(labels):
        n = int(missing.get(lab, 0))
        ax.text(i + 1, 1.01, str(n), ha="center", color="#d62728" if n else "#555", **where)
    ax.text(0.4, 1.01, "no answer:", ha="right", **where)
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=40, ha="right", fontsize=8)
    ax.set_xlim(0.4, len(labels) + 0.6)
    ax.set_yscale("symlog", linthresh=_BOX_LINTHRESH, linscale=0.5)
    shown = gapped["gap"].to_numpy(dtype=float) * 100
    ax.set_ylim(min(float(shown.min()), 0.0) - 0.2, max(float(shown.max()), 1.0) * 2)
    _plain_ticks(ax, "y")
    ax.set_ylabel("gap to the reference (%)", fontsize=9)
    title = "Distribution of the gap (non-exact methods)"
    fig.suptitle(title, fontsize=11)
    infinite = int((data["answered"] & ~np.isfinite(data["gap"])).sum())
    caption = (
        "Gap to the reference optimum, (z - z*) / |z*| in percent, of every answered run "
        "of each non-exact label on an instance with a reference: a box (quartiles, "
        "whiskers at 1.5 IQR) with the runs overlaid as points; the number above each box "
        f"counts its runs without an answer ({int(missing.sum())} in all)"
        + (
            f"; {infinite} answers with an infinite gap (a zero optimum) left out"
            if infinite
            else ""
        )
        + f". The y axis is symlog: linear up to {_BOX_LINTHRESH:g} %, logarithmic above. "
        f"From {_runs_text(len(data), data['instance'].nunique())}."
    )
    return "gap-distribution", title, caption, len(data), fig


def _compare_ratio(comparison: Comparison) -> Made | None:
    rows = [
        r
        for r in comparison.rows
        if r.time_ratio is not None and math.isfinite(r.time_ratio) and r.time_ratio > 0
    ]
    if not rows:
        return None
    ratios = np.array([r.time_ratio for r in rows], dtype=float)
    fig, (ax,) = new_figure(1, 1, panel_in=max(2.0, 0.22 * len(rows) + 1.0))
    ys = np.arange(len(rows))[::-1]
    colours = ["#d62728" if r.regression else "#1f77b4" for r in rows]
    ax.barh(ys, ratios - 1.0, left=1.0, color=colours, height=0.6)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.axvline(comparison.max_time_ratio, color="#d62728", linewidth=0.8, linestyle="--")
    low = min(float(ratios.min()), 1.0 / comparison.max_time_ratio, 1.0) / 1.5
    high = max(float(ratios.max()), comparison.max_time_ratio, 1.0) * 1.5
    ax.set(xscale="log", xlim=(low, high))
    ax.set_yticks(ys, [f"{r.family}: {r.method}" for r in rows], fontsize=8)
    ax.set_xlabel(
        f"time ratio B / A (shifted geometric mean, shift {SHIFT_SMALL_S:g} s)", fontsize=9
    )
    title = "Time ratio of the candidate B to the baseline A"
    fig.suptitle(title, fontsize=11)
    pairs = sum(r.pairs for r in rows)
    regressions = sum(r.regression for r in rows)
    left = len(comparison.rows) - len(rows)
    caption = (
        "Time ratio B/A per method and family: the shifted geometric mean (shift "
        f"{SHIFT_SMALL_S:g} s) of the effective times of B's paired runs over A's, log "
        f"scale; the solid line is 1, the dashed one the gate's limit "
        f"{comparison.max_time_ratio:g}; regressions (on any criterion) in red, "
        f"{regressions} of {_n(len(rows), 'row')}"
        + (f"; {_n(left, 'row')} without a time ratio left out" if left else "")
        + f". From {_n(pairs, 'run pair')} ({2 * pairs} runs)."
    )
    return "compare-ratio", title, caption, 2 * pairs, fig


def figures(records: Sequence[Record], *, comparison: Comparison | None = None) -> list[Figure]:
    """Every figure the records (and the comparison) hold the data for.

    Parameters
    ----------
    records : sequence of Record
        Runs with the derived fields (``reference``, ``gap_to_reference``), as
        :func:`~splitbench.harness.results.load_records` gives them.
    comparison : Comparison, optional
        A regression comparison, for ``compare-ratio``.

    Returns
    -------
    list of Figure
        In the order ``time-vs-size``, ``formulation-ratio``, ``profile-time``,
        ``profile-gap``, ``gap-distribution``, ``requests-time``, ``requests-gap``,
        the ``fin-*`` figures, ``mcp-savings`` and ``compare-ratio``, each present only
        when its data is (see the module's table).
    """
    made: list[Made | None] = []
    if records:
        df = _frame(records)
        palette = Palette.of(df["label"])
        draws = (_time_vs_size, _formulation_ratio, _profile_time, _profile_gap, _gap_distribution)
        made += [draw(df, palette) for draw in draws]
        made += multi_figures(df, records, palette)
        made += fin_figures(df, palette)
        made += paper_figures(records, palette)
    if comparison is not None:
        made.append(_compare_ratio(comparison))
    return [Figure(*m) for m in made if m is not None]


def save(fig: Figure, folder: Path) -> tuple[Path, Path]:
    """Write ``NAME.png`` (:data:`DPI` dpi) and ``NAME.svg`` into ``folder`` (created
    if missing); returns the two paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{fig.name}.png", folder / f"{fig.name}.svg"
    fig.figure.savefig(png, format="png", dpi=DPI)
    fig.figure.savefig(svg, format="svg", metadata={"Date": None})
    return png, svg


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (:data:`DPI` dpi)."""
    buffer = io.BytesIO()
    fig.figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
