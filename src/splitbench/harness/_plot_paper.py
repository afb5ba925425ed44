"""The FIN paper's two claims, read from the records: FIN finds the optimum, and it
saves energy against the cost-minimisation baseline MCP.

- ``fin-gamma-gap`` (:func:`fin_gamma_gaps`): the mean and max gap of ``fin``'s energy
  answers to the reference optimum against ``gamma``, one line per ``rounding``, and the
  share of the instances where FIN is at the optimum (gap at most :data:`AT_OPTIMUM`);
  made when ``fin`` ran at two ``gamma`` values or more on instances with a reference.
- ``mcp-savings`` (:func:`mcp_savings`): the energy saved against ``mcp``,
  ``(E_mcp - E_x) / E_mcp`` per instance, for the optimum and each ``fin`` label, a
  panel per ``latency_scale`` (10: the authors' code, 1: true latencies), the paper's
  claim (:data:`PAPER_SAVING`) drawn. Every MCP answer with an objective counts, also
  one the evaluator rejects (MCP does not check the deadline): the caption says how
  many; made when an energy instance has an ``mcp`` answer and a reference.

A record stores only the parameters its suite set, and the report reads records only:
a ``fin`` run that does not state ``gamma``, or an ``mcp`` run that does not state
``latency_scale``, is left out of these figures (the ``fin-paper`` suite states both);
a ``fin`` run without ``rounding`` is drawn as "default".

Examples
--------
>>> def run(method, inst, energy, params="{}", ok=True):
...     return Record(run_id=f"{method}{params}{inst}", instance_id=inst, method=method,
...                   method_params=params, objective_kind="energy", reference=0.04,
...                   status="feasible" if ok else "invalid", feasible=ok, objective=energy,
...                   gap_to_reference=energy / 0.04 - 1 if ok else None)
>>> runs = [run("mcp", i, 0.2, '{"latency_scale":10}') for i in ("a", "b")]
>>> one = '{"latency_scale":1}'
>>> runs += [run("mcp", "a", 0.05, one), run("mcp", "b", 0.03, one, ok=False)]
>>> runs += [run("fin", i, 0.04, f'{{"gamma":{g},"rounding":"step"}}')
...          for i in ("a", "b") for g in (3, 30)]
>>> runs[-3] = run("fin", "a", 0.05, '{"gamma":30,"rounding":"step"}')
>>> table = mcp_savings(runs)
>>> for row in table[table["label"] == "optimum"].round(3).values.tolist():
...     print(*row)
a 1.0 optimum 0.2 True
b 1.0 optimum -0.333 False
a 10.0 optimum 0.8 True
b 10.0 optimum 0.8 True
>>> sorted(set(table["label"]))
['fin gamma=3 rounding=step', 'fin gamma=30 rounding=step', 'optimum']
>>> gaps = fin_gamma_gaps(runs)
>>> list(gaps.columns)
['rounding', 'gamma', 'runs', 'instances', 'answered', 'mean_gap', 'max_gap', 'at_optimum']
>>> for row in gaps.round(3).values.tolist():
...     print(*row)
step 3.0 2 2 2 0.0 0.0 1.0
step 30.0 2 2 2 0.125 0.25 0.5
>>> from splitbench.harness.plots import figures
>>> [(f.name, f.runs) for f in figures(runs) if f.name in ("fin-gamma-gap", "mcp-savings")]
[('fin-gamma-gap', 4), ('mcp-savings', 8)]
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from splitbench.harness._plot_fin import Made, Palette, label, new_figure
from splitbench.harness.record import Record

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["AT_OPTIMUM", "OPTIMUM", "PAPER_SAVING",
           "fin_gamma_gaps", "mcp_savings", "paper_figures"]  # fmt: skip

AT_OPTIMUM = 1e-6
"""A relative gap at most this is FIN at the optimum."""

PAPER_SAVING = 0.65
"""The FIN paper's claim: over 65 % energy saved against MCP (INFOCOM 2024)."""

OPTIMUM = "optimum"
"""The label of the reference optimum in :func:`mcp_savings`."""

_GAP_LINTHRESH = 1.0  # %, the linear part of the gap axis
_SAVING_LINTHRESH = 100.0  # %, the linear part of the saving axis (when it goes below)
_GAP_COLUMNS = ("instances", "answered", "mean_gap", "max_gap", "at_optimum")
_SAVING_TICKS = [-m * 10.0**k for k in range(5, 1, -1) for m in (5, 2, 1)]
_TOL = f"{AT_OPTIMUM:.0e}".replace("e-0", "e-")  # 1e-6
_WHITE = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}


def _short(name: str) -> str:
    """A tick label: ``fin gamma=30 rounding=step`` as ``fin γ30 step``."""
    return name.replace("gamma=", "γ").replace("rounding=", "")


def _plain(value: float, _: object) -> str:
    return f"{value:g}"


@functools.lru_cache(maxsize=4096)
def _params(text: str) -> tuple[tuple[str, Any], ...]:
    """The stored parameters of a run, sorted (non-JSON text gives none)."""
    try:
        values = json.loads(text)
    except ValueError:
        return ()
    return tuple(sorted(values.items())) if isinstance(values, dict) else ()


def _value(r: Record, key: str) -> Any:
    """A parameter the run stated (None when it ran with the default: the report reads
    records only, so a default it was not told is left out rather than guessed)."""
    return dict(_params(r.method_params)).get(key)


def _finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value) if math.isfinite(value) else math.nan


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value * 100:.3g} %"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _fin_runs(records: Sequence[Record]) -> pd.DataFrame:
    """fin's runs on energy instances with a reference: rounding, gamma, instance, gap."""
    rows = []
    for r in records:
        if r.method != "fin" or r.objective_kind != "energy" or math.isnan(_finite(r.reference)):
            continue
        gamma = _finite(_value(r, "gamma"))
        if math.isnan(gamma):
            continue
        others = [f"{k}={v}" for k, v in _params(r.method_params)]
        others = [o for o in others if not o.startswith(("gamma=", "rounding="))]
        rounding = str(_value(r, "rounding") or "default") + (
            f" ({' '.join(others)})" if others else ""
        )
        gap = _finite(r.gap_to_reference) if r.has_answer else math.nan
        rows.append((rounding, gamma, r.instance_id, gap))
    return pd.DataFrame(rows, columns=["rounding", "gamma", "instance_id", "gap"])


def fin_gamma_gaps(records: Sequence[Record]) -> pd.DataFrame:
    """FIN's gap to the optimum per rounding and gamma, over the energy instances.

    Parameters
    ----------
    records : sequence of Record
        Runs with the derived ``reference`` and ``gap_to_reference``; only ``fin``'s
        runs on energy instances with a finite reference count.

    Returns
    -------
    pandas.DataFrame
        One row per ``rounding`` (other stored parameters but ``gamma`` appended in
        parentheses) and ``gamma``, sorted: ``runs``, ``instances``, ``answered`` (the
        instances with a finite gap), ``mean_gap`` and ``max_gap`` (relative, over the
        answered instances, each the median of its repetitions; NaN if none) and
        ``at_optimum`` (the share of ``instances`` with a gap at most
        :data:`AT_OPTIMUM`; an instance without an answer is not at it).
    """
    runs = _fin_runs(records)
    if runs.empty:
        return pd.DataFrame(columns=["rounding", "gamma", "runs", *_GAP_COLUMNS])
    per = runs.groupby(["rounding", "gamma", "instance_id"])["gap"].median().reset_index()
    per["optimal"] = per["gap"] <= AT_OPTIMUM
    table = per.groupby(["rounding", "gamma"]).agg(
        instances=("instance_id", "size"),
        answered=("gap", "count"),
        mean_gap=("gap", "mean"),
        max_gap=("gap", "max"),
        at_optimum=("optimal", "mean"),
    )
    table.insert(0, "runs", runs.groupby(["rounding", "gamma"]).size())
    return table.reset_index()


def _is_mcp(r: Record) -> bool:
    return r.method == "mcp" and r.objective_kind == "energy" and _finite(r.objective) > 0


def _is_fin(r: Record) -> bool:
    return r.method == "fin" and r.objective_kind == "energy" and r.has_answer


def mcp_savings(records: Sequence[Record]) -> pd.DataFrame:
    """The energy saved against each MCP answer, per instance and compared answer.

    Parameters
    ----------
    records : sequence of Record
        Runs with the derived ``reference``; runs on energy instances count, paired
        on ``instance_id``.

    Returns
    -------
    pandas.DataFrame
        Columns ``instance_id``, ``scale`` (MCP's ``latency_scale``), ``label``
        (:data:`OPTIMUM` for the reference, else a ``fin`` label as
        :func:`~.plots.label` spells it), ``saving`` ``(E_mcp - E_x) / E_mcp`` and
        ``mcp_valid`` (the evaluator accepted every MCP answer), sorted by scale, label
        and instance. ``E_mcp`` is the median objective of the ``mcp`` runs with a
        positive one, valid or not; ``E_x`` the reference or the median objective of a
        ``fin`` label's feasible answers.
    """
    mcp: dict[tuple[str, float], list[Record]] = {}
    fin: dict[str, dict[str, list[float]]] = {}
    refs: dict[str, float] = {}
    for r in records:
        if r.objective_kind == "energy" and not math.isnan(_finite(r.reference)):
            refs.setdefault(r.instance_id, _finite(r.reference))
        if _is_mcp(r):
            scale = _finite(_value(r, "latency_scale"))
            if not math.isnan(scale):  # a run that does not state its scale is left out
                mcp.setdefault((r.instance_id, scale), []).append(r)
        elif _is_fin(r):
            fin.setdefault(r.instance_id, {}).setdefault(label(r), []).append(_finite(r.objective))
    rows = []
    for (instance, scale), answers in mcp.items():
        e_mcp = float(np.median([_finite(r.objective) for r in answers]))
        valid = all(r.has_answer for r in answers)
        compared = [(lab, float(np.median(e))) for lab, e in fin.get(instance, {}).items()]
        if instance in refs:
            compared.append((OPTIMUM, refs[instance]))
        for lab, e_x in compared:
            rows.append((instance, scale, lab, (e_mcp - e_x) / e_mcp, valid))
    columns = ["instance_id", "scale", "label", "saving", "mcp_valid"]
    table = pd.DataFrame(rows, columns=columns).astype({"saving": float, "mcp_valid": bool})
    return table.sort_values(["scale", "label", "instance_id"], ignore_index=True)


def _axes(ax: Axes, gammas: Sequence[float], ylabel: str, title: str) -> None:
    """A gamma axis (log, a tick at each gamma) and the panel's labels."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(list(gammas)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(_plain)
    ax.set_xlim(min(gammas) / 1.3, max(gammas) * 1.3)
    ax.set_xlabel("gamma (log axis)", fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.set_title(title, fontsize=9)


def _fin_gamma_gap(records: Sequence[Record]) -> Made | None:
    table = fin_gamma_gaps(records)
    if table.empty or table["gamma"].nunique() < 2:
        return None
    from matplotlib.lines import Line2D

    roundings = sorted(set(table["rounding"]))
    colours = Palette.of(roundings)
    fig, (left, right) = new_figure(1, 2, legend=len(roundings) + 2, longest=30)
    ends = []
    for rounding in roundings:
        part = table[table["rounding"] == rounding]
        style = colours.style(rounding)
        xs = part["gamma"].to_numpy(dtype=float)
        for column, ls, face in (("mean_gap", "-", style["color"]), ("max_gap", ":", "none")):
            ys = part[column].to_numpy(dtype=float) * 100
            keep = ~np.isnan(ys)
            left.plot(xs[keep], ys[keep], color=style["color"], marker=style["marker"], ms=6,
                      ls=ls, mfc=face, label=f"{rounding} {column[:-4]}")  # fmt: skip
        right.plot(xs, part["at_optimum"].to_numpy(dtype=float) * 100, ms=6, **style)
        said = [
            f"at gamma={g:g} mean {_pct(row.mean_gap)}, max {_pct(row.max_gap)}, at the "
            f"optimum on {round(row.at_optimum * row.instances)} of {row.instances}"
            for row in part.iloc[[0, -1]].drop_duplicates("gamma").itertuples()
            for g in [float(row.gamma)]
        ]
        ends.append(f"rounding={rounding}: " + "; ".join(said))
    top = float(np.nanmax(table["max_gap"].to_numpy(dtype=float), initial=0.0)) * 100
    left.set_yscale("symlog", linthresh=_GAP_LINTHRESH, linscale=0.5)
    left.set_ylim(-0.05, max(top, 1.0) * 2)
    left.yaxis.set_major_formatter(_plain)
    right.set_ylim(-3, 103)
    gammas = sorted(set(table["gamma"]))
    _axes(left, gammas, "gap to the optimum (%)", "mean (filled) and max (hollow) gap")
    _axes(right, gammas, "share at the optimum (%)", f"instances with gap ≤ {_TOL}")
    handles = [Line2D([], [], label=f"rounding={r}", **colours.style(r)) for r in roundings]
    black: dict[str, Any] = {"color": "black", "marker": "o"}
    handles += [Line2D([], [], label="mean", **black),
                Line2D([], [], mfc="none", ls=":", label="max", **black)]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    title = "FIN's gap to the optimum against gamma"
    fig.suptitle(title, fontsize=11)
    runs = int(table["runs"].sum())
    instances = _fin_runs(records)["instance_id"].nunique()
    missing = int((table["instances"] - table["answered"]).sum())
    caption = (
        "Gap (z - z*) / |z*| of FIN's energy answers to the reference optimum, in percent, "
        "against gamma, one colour per rounding: left, the mean (filled markers) and the "
        "max (hollow markers, dotted) over the instances (symlog axis, linear up to "
        f"{_GAP_LINTHRESH:g} %); right, the share of the instances where FIN is at the "
        f"optimum (gap ≤ {_TOL}; an instance without an answer is not"
        + (f"; {_n(missing, 'instance-gamma pair')} without one" if missing else "")
        + "). " + ". ".join(ends)
        + f". From {_n(runs, 'run')} on {_n(instances, 'instance')} with a reference."
    )  # fmt: skip
    return "fin-gamma-gap", title, caption, runs, fig


_MAX_VALUE_LABELS = 5
"""Above this many compared answers per panel the means are not written on the plot
(they would overlap); the caption gives them."""


def _box(
    ax: Axes, at: int, part: pd.DataFrame, colour: str, rng: np.random.Generator, text: bool
) -> None:
    """One compared answer's savings (%): box, points (hollow: invalid MCP), mean."""
    ys = part["saving"].to_numpy(dtype=float) * 100
    valid = part["mcp_valid"].to_numpy(dtype=bool)
    box = ax.boxplot([ys], positions=[at], widths=0.6, showfliers=False, patch_artist=True,
                     medianprops={"color": "black"})  # fmt: skip
    box["boxes"][0].set(facecolor=colour, alpha=0.25)
    xs = at + rng.uniform(-0.2, 0.2, len(ys))
    ax.scatter(xs[valid], ys[valid], s=12, color=colour, alpha=0.7, linewidths=0, zorder=3)
    ax.scatter(xs[~valid], ys[~valid], s=16, facecolors="none", edgecolors=colour, zorder=3)
    mean = float(ys.mean())
    ax.plot([at], [mean], marker="D", color="black", markersize=5, ls="none", zorder=4)
    if text:
        ax.annotate(f"{mean:.0f} %", (at, mean), xytext=(8, 0), textcoords="offset points",
                    fontsize=7, va="center", bbox=_WHITE)  # fmt: skip


def _mcp_savings(records: Sequence[Record], palette: Palette) -> Made | None:
    table = mcp_savings(records)
    table = table[table["saving"].notna() & table["scale"].notna()]
    table = table[table["instance_id"].isin(set(table[table["label"] == OPTIMUM]["instance_id"]))]
    if table.empty:
        return None
    from matplotlib.lines import Line2D

    scales = sorted(set(table["scale"]), reverse=True)
    labels = [OPTIMUM, *sorted(set(table["label"]) - {OPTIMUM})]
    fig, axes = new_figure(1, len(scales), legend=4, longest=40, panel_in=3.6)
    rng = np.random.default_rng(0)
    low = min(float(table["saving"].min()) * 100, 0.0)
    paper = f"paper: > {PAPER_SAVING * 100:g} %"
    for ax, scale in zip(axes, scales, strict=True):
        mine = table[table["scale"] == scale]
        for at, lab in enumerate(labels, start=1):
            part = mine[mine["label"] == lab]
            if not part.empty:
                colour = "#333333" if lab == OPTIMUM else palette.style(lab)["color"]
                _box(ax, at, part, colour, rng, len(labels) <= _MAX_VALUE_LABELS)
        ax.axhline(PAPER_SAVING * 100, color="#d62728", ls="--", lw=1, label=paper)
        ax.text(0.45, PAPER_SAVING * 100, paper, color="#d62728", fontsize=7, va="center",
                bbox=_WHITE, zorder=5)  # fmt: skip
        short = [_short(x) for x in labels]
        ax.set_xticks(range(1, len(labels) + 1), short, rotation=60, ha="right", fontsize=7)
        ax.set_xlim(0.4, len(labels) + 0.6)
        if low < -_SAVING_LINTHRESH:  # symlog below -100 %, ticks at 1, 2, 5 x 10^k
            ax.set_yscale("symlog", linthresh=_SAVING_LINTHRESH, linscale=2)
            ax.set_yticks([t for t in _SAVING_TICKS if t >= low * 1.1] + [-50, 0, 50, 100])
        ax.set_ylim(low * (1.1 if low < -_SAVING_LINTHRESH else 1) - 5, 105)
        ax.yaxis.set_major_formatter(_plain)
        ax.set_title(f"against mcp latency_scale={scale:g}", fontsize=9)
        ax.set_ylabel("energy saved against MCP (%)", fontsize=9)
    dots: dict[str, Any] = {"ls": "none", "marker": "o", "color": "#555"}
    handles = [Line2D([], [], label="MCP answer valid", **dots),
               Line2D([], [], mfc="none", label="MCP answer invalid", **dots),
               Line2D([], [], color="black", marker="D", ls="none", label="mean"),
               Line2D([], [], color="#d62728", ls="--", label=paper)]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    title = "Energy saved against the MCP baseline"
    fig.suptitle(title, fontsize=11)
    pairs = table.drop_duplicates(["instance_id", "scale"])
    valid = pairs.groupby("scale")["mcp_valid"]
    invalid = [f"{len(valid.get_group(s)) - valid.get_group(s).sum()} of "
               f"{len(valid.get_group(s))} at latency_scale={s:g}" for s in scales]  # fmt: skip
    means = []
    for lab in labels:
        mine = table[table["label"] == lab].groupby("scale")["saving"].mean()
        found = [s for s in scales if s in mine.index]
        said = [f"{_pct(mine[s])} at {'latency_scale=' * (i == 0)}{s:g}"
                for i, s in enumerate(found)]  # fmt: skip
        means.append(f"of {'the ' * (lab == OPTIMUM)}{lab}: {', '.join(said)}")
    shown = set(table["instance_id"])
    used = [r for r in records if r.instance_id in shown and (_is_mcp(r) or _is_fin(r))]
    fin = [r for r in records if r.instance_id in shown and r.method == "fin"]
    unanswered = sum(not _is_fin(r) for r in fin)
    caption = (
        "Energy saved against the FIN paper's cost-minimisation baseline MCP, "
        "(E_mcp - E_x) / E_mcp per instance in percent, for the optimum (the reference) "
        "and each FIN label; one panel per MCP latency_scale (10 reproduces the authors' "
        "code, whose score takes latencies ten times too large; 1 scores the true "
        "latencies). Boxes: quartiles (whiskers at 1.5 IQR); points: the instances; "
        "black diamonds: the mean; dashed red line: the paper's claim (over "
        f"{PAPER_SAVING * 100:g} %). Every MCP answer with an objective counts, also the "
        "invalid ones (hollow points: the evaluator rejects them, MCP does not check the "
        f"deadline): {', '.join(invalid)}"
        + (f"; {_n(unanswered, 'FIN run')} without a feasible answer left out" * bool(unanswered))
        + ". Mean saving against MCP " + "; ".join(means) + ". On the "
        f"{_n(len(shown), 'energy instance')} with both an MCP answer and a reference; "
        f"from {_n(len(used), 'run')} on {_n(len(shown), 'instance')}."
    )  # fmt: skip
    return "mcp-savings", title, caption, len(used), fig


def paper_figures(records: Sequence[Record], palette: Palette) -> list[Made]:
    """The ``fin-gamma-gap`` and ``mcp-savings`` figures of ``records`` (with the derived
    fields), each when its data is there; the FIN labels keep their ``palette`` colours."""
    made = [_fin_gamma_gap(records), _mcp_savings(records, palette)]
    return [m for m in made if m is not None]
