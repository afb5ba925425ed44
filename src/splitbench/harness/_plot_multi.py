"""The report's figures of many-request (format-2) runs: time and gap against requests.

:func:`multi_figures` draws, for the runs on format-2 instances (MULTI.md), how the
effective time and the gap to the optimum grow with the number of requests that
share the network:

- ``requests-time``: each label's effective time (build plus solve; a run that did
  not finish counts at its time limit, as
  :func:`~splitbench.harness.metrics.effective_time_s` does), the shifted geometric
  mean per request count, log-log, one panel per family (at most 4, else pooled);
  exact labels solid, bounds and heuristics dashed; the time limits as dotted lines.
- ``requests-ratio``: the assignment/routing MILP time ratio per instance and
  solver against the number of requests (the geometric mean per count);
- ``requests-gap``: the mean and max gap to the reference of the non-exact labels'
  answers per request count, and, in a second panel, the relative gap
  ``(z* - b) / |z*|`` (:func:`bound_gap`) of every finite bound that does not come
  with a proof of optimality (bound methods, exact methods stopped early).

Which instances count (:func:`request_counts`): those some record shows to be format
2 (``n_requests > 1``, or a shared-capacity utilisation set, which a format-1 run
never has), at the largest ``n_requests`` any of their records gives (the runner
sets it from the instance, whether or not the run answered; records written before
it did carry it only for runs that placed something). No figure is made unless some
instance serves more than one request. Exactness comes from the records (``exact``), never
from a list of method names.

Examples
--------
>>> def run(method, n, exact=True, gap=0.0, bound=None):
...     return Record(run_id=f"{method}-{n}", family="m", instance_id=f"i{n}",
...                   method=method, exact=exact, status="optimal" if exact else "feasible",
...                   feasible=True, objective=1.0 + gap, reference=1.0,
...                   gap_to_reference=gap, bound=bound, build_time_s=0.0,
...                   solve_time_s=0.01 * n, time_limit_s=10.0, n_requests=n,
...                   max_node_utilization=0.5)
>>> runs = [run(m, n) for m in ("routing-milp", "assignment-milp") for n in (1, 4, 8)]
>>> runs += [run("sequential", n, False, 0.02 * n) for n in (4, 8)]
>>> runs += [run("lagrangian", n, False, 0.1, bound=0.9) for n in (4, 8)]
>>> request_counts([*runs, Record(run_id="f1", instance_id="single")])
{'i1': 1, 'i4': 4, 'i8': 8}
>>> round(bound_gap(0.9, 1.0), 6), bound_gap(None, 1.0), bound_gap(0.0, 0.0)
(0.1, None, 0.0)
>>> from splitbench.harness.plots import figures
>>> [(f.name, f.runs) for f in figures(runs) if f.name.startswith("requests-")]
[('requests-time', 10), ('requests-gap', 4)]
>>> # requests-ratio needs routing-milp and assignment-milp runs with a solver
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from splitbench.harness._plot_fin import Made, Palette, add_legend, new_figure
from splitbench.harness.metrics import SHIFT_SMALL_S, shifted_geometric_mean
from splitbench.harness.record import Record
from splitbench.status import Status, Termination
from splitbench.tolerances import AGREEMENT_ATOL

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MAX_PANELS", "bound_gap", "multi_figures", "request_counts"]

MAX_PANELS = 4
"""At most this many families get a panel each in ``requests-time`` (else pooled)."""

_FLOOR_S = 1e-6  # times drawn on the log axis are at least this
_LINTHRESH = 1.0  # %, the linear part of the gap axes
_MAX_TICKS = 8  # up to this many request counts are each a tick


def request_counts(records: Iterable[Record]) -> dict[str, int]:
    """The number of requests of every instance some record shows to be format 2.

    Parameters
    ----------
    records : iterable of Record
        Runs on any instances.

    Returns
    -------
    dict of str to int
        ``instance_id -> requests``: the largest ``n_requests`` of the instance's
        records, for the instances with a record of ``n_requests > 1`` or with a
        shared-capacity utilisation (``max_node_utilization`` or
        ``max_arc_utilization``, set only by the format-2 evaluator), in the order
        first seen. A format-1 instance is never listed.
    """
    counts: dict[str, int] = {}
    multi: set[str] = set()
    for r in records:
        counts[r.instance_id] = max(counts.get(r.instance_id, 1), r.n_requests)
        utilised = r.max_node_utilization is not None or r.max_arc_utilization is not None
        if r.n_requests > 1 or utilised:
            multi.add(r.instance_id)
    return {key: n for key, n in counts.items() if key in multi}


def bound_gap(bound: float | None, reference: float | None) -> float | None:
    """The relative gap ``(z* - b) / |z*|`` of a lower bound ``b`` to the optimum ``z*``.

    Returns
    -------
    float or None
        None when either value is None or non-finite, or when ``z*`` is 0 (within
        ``AGREEMENT_ATOL``) and ``b`` is not; 0.0 when both are 0. Negative means a
        bound above the optimum (which ``splitbench check`` flags).
    """
    if bound is None or reference is None or not math.isfinite(bound + reference):
        return None
    if abs(reference) <= AGREEMENT_ATOL:
        return 0.0 if abs(bound - reference) <= AGREEMENT_ATOL else None
    return (reference - bound) / abs(reference)


def _proves_optimum(r: Record) -> bool:
    done = r.termination == Termination.COMPLETED.value
    return r.exact and done and r.status == Status.OPTIMAL.value


def _bound_gap_of(r: Record) -> float:
    """:func:`bound_gap` of a run whose bound comes without a proof of optimality."""
    gap = None if _proves_optimum(r) else bound_gap(r.bound, r.reference)
    return math.nan if gap is None else gap


def _positive(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) and value > 0 else math.nan


_COMPLETED = ("completed", "skipped")
"""Terminations of runs that were not stopped by a limit."""


def _data(frame: pd.DataFrame, records: Sequence[Record]) -> pd.DataFrame:
    """The rows of ``frame`` on format-2 instances, with ``requests``, ``limit_s``
    (the record's time limit) and ``bound_gap`` (NaN where it does not apply)."""
    counts = request_counts(records)
    nan = math.nan
    # a run that completed without an optimum (a bound, a heuristic's "none") took its
    # own time: only a run stopped at a limit counts at the limit here
    stopped = [r.termination not in _COMPLETED for r in records]
    own = [r.run_time_s if r.run_time_s is not None else r.wall_time_s for r in records]
    extra = pd.DataFrame(
        {
            "requests": [float(counts.get(r.instance_id, nan)) for r in records],
            "limit_s": [_positive(r.time_limit_s) for r in records],
            "bound_gap": [_bound_gap_of(r) for r in records],
        },
        index=frame.index,
    )
    data = pd.concat([frame, extra], axis=1)
    completed = ~pd.Series(stopped, index=frame.index, dtype=bool)
    times = pd.Series([nan if t is None else float(t) for t in own], index=frame.index)
    data["time"] = data["time"].where(~(completed & data["limit"]), times)
    data["limit"] = data["limit"] & ~completed
    return data[data["requests"].notna()]


def _styled(palette: Palette, data: pd.DataFrame) -> Palette:
    """The palette's colours and markers; solid lines for labels exact on all their
    runs here, dashed for the others (bounds, heuristics)."""
    exact = data.groupby("label")["exact"].all()
    return Palette(
        {
            str(lab): {**palette.style(str(lab)), "linestyle": "-" if bool(ex) else "--"}
            for lab, ex in exact.items()
        }
    )


def _longest(labels: Sequence[str]) -> int:
    return max(map(len, labels), default=0)


def _request_axis(ax: Axes, counts: Iterable[float]) -> None:
    """A log x axis of request counts, labelled as plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    ax.set_xscale("log")
    shown = sorted(set(counts))
    if len(shown) <= _MAX_TICKS:
        ax.set_xticks(shown)
        ax.xaxis.set_minor_locator(NullLocator())
    else:
        ax.xaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("requests sharing the network", fontsize=9)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _sgm(values: pd.Series) -> float:
    return shifted_geometric_mean(values.to_numpy(dtype=float), SHIFT_SMALL_S)


def _time_panel(ax: Axes, part: pd.DataFrame, styled: Palette) -> None:
    for lab, group in part.groupby("label"):
        style = styled.style(str(lab))
        means = group.groupby("requests")["time"].agg(_sgm).clip(lower=_FLOOR_S)
        xs, ys = means.index.to_numpy(dtype=float), means.to_numpy(dtype=float)
        ax.plot(xs, ys, label=str(lab), markersize=5, **style)
        hit = group[group["limit"]].drop_duplicates(["requests", "time"])
        if not hit.empty:
            ax.plot(
                hit["requests"].to_numpy(dtype=float),
                hit["time"].clip(lower=_FLOOR_S).to_numpy(dtype=float),
                ls="none", marker=style["marker"], ms=9, mfc="none", mec=style["color"],
            )  # fmt: skip
    for limit in sorted(set(part["limit_s"].dropna())):
        ax.axhline(limit, color="#555555", linewidth=0.9, linestyle=":")
        where = ax.get_yaxis_transform()
        ax.text(0.01, limit, f"limit {limit:g} s", transform=where, fontsize=7, va="bottom")
    ax.set_yscale("log")
    _request_axis(ax, part["requests"])
    ax.set_ylabel("effective time (s)", fontsize=9)


def _requests_time(data: pd.DataFrame, palette: Palette) -> Made | None:
    part = data[~data["skipped"] & data["time"].notna()]
    if part.empty or part["requests"].max() <= 1:
        return None
    families = sorted({str(f) for f in part["family"]})
    split = 1 < len(families) <= MAX_PANELS
    panels = [(f, part[part["family"] == f]) for f in families] if split else [("", part)]
    labels = sorted({str(x) for x in part["label"]})
    styled = _styled(palette, part)
    cols = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / cols)
    fig, axes = new_figure(rows, cols, legend=len(labels), longest=_longest(labels))
    for ax, (family, sub) in zip(axes, panels, strict=False):
        _time_panel(ax, sub, styled)
        pooled = families[0] if len(families) == 1 else f"{len(families)} families pooled"
        ax.set_title(family or pooled or "unknown family", fontsize=9)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    add_legend(fig, styled, labels)
    title = "Time against the number of requests (format 2)"
    fig.suptitle(title, fontsize=11)
    unfinished = int(part["limit"].sum())
    limits = sorted(set(part["limit_s"].dropna()))
    skipped = int(data["skipped"].sum())
    counts = sorted({int(n) for n in part["requests"]})
    caption = (
        "Effective time (build plus solve time; a run stopped at a limit counts at its "
        "time limit, a bound or heuristic that completed without an optimum its own "
        "time) of every label on the format-2 instances against the number of "
        "requests sharing the network, log-log: the shifted geometric mean (shift "
        f"{SHIFT_SMALL_S:g} s) per label and request count; solid lines: exact methods, "
        "dashed: bounds and heuristics; "
        + (
            f"hollow markers: {_n(unfinished, 'run')} that did not finish (time limit, "
            "error), drawn at their time limit"
            if unfinished
            else "every run finished within its time limit"
        )
        + (f"; dotted: the time limit ({', '.join(f'{v:g} s' for v in limits)})" if limits else "")
        + (f"; one panel per family ({len(families)})" if split else "")
        + (f"; {len(families)} families pooled" if len(families) > MAX_PANELS else "")
        + (f"; {_n(skipped, 'skipped run')} left out" if skipped else "")
        + f". Request counts {', '.join(map(str, counts))}. From "
        f"{_n(len(part), 'run')} on {_n(part['instance'].nunique(), 'instance')}."
    )
    return "requests-time", title, caption, len(part), fig


def _gap_panel(ax: Axes, part: pd.DataFrame, column: str, styled: Palette, what: str) -> None:
    for lab, group in part.groupby("label"):
        style = styled.style(str(lab))
        stats = group.groupby("requests")[column].agg(["mean", "max"]) * 100
        xs = stats.index.to_numpy(dtype=float)
        ax.plot(xs, stats["mean"].to_numpy(dtype=float), label=str(lab), markersize=5, **style)
        ax.plot(
            xs, stats["max"].to_numpy(dtype=float), color=style["color"], marker=style["marker"],
            mfc="none", ms=7, linestyle=":", linewidth=0.8,
        )  # fmt: skip
    values = part[column].to_numpy(dtype=float) * 100
    ax.set_yscale("symlog", linthresh=_LINTHRESH, linscale=0.5)
    ax.set_ylim(min(float(values.min()), 0.0) * 1.5 - 0.1, max(float(values.max()), 1.0) * 2)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    _request_axis(ax, part["requests"])
    ax.set_ylabel(f"{what} (%)", fontsize=9)


def _requests_gap(data: pd.DataFrame, palette: Palette) -> Made | None:
    live = data[~data["skipped"]]
    answers = live[~live["exact"] & live["answered"] & np.isfinite(live["gap"])]
    bounds = live[live["bound_gap"].notna()]
    panels = [
        (sub, column, heading, what)
        for sub, column, heading, what in (
            (answers, "gap", "answers of non-exact methods", "gap to the reference"),
            (bounds, "bound_gap", "bounds without a proof of optimality", "bound gap"),
        )
        if not sub.empty
    ]
    if not panels:
        return None
    used = pd.concat([sub for sub, *_ in panels])
    used = used[~used.index.duplicated()]
    labels = sorted({str(x) for x in used["label"]})
    styled = _styled(palette, used)
    fig, axes = new_figure(1, len(panels), legend=len(labels), longest=_longest(labels))
    for ax, (sub, column, heading, what) in zip(axes, panels, strict=True):
        _gap_panel(ax, sub, column, styled, what)
        ax.set_title(heading, fontsize=9)
    from matplotlib.lines import Line2D

    key = [
        Line2D([], [], color="black", marker="o", ms=5, label="mean"),
        Line2D([], [], color="black", marker="o", ms=6, mfc="none", ls=":", lw=0.8, label="max"),
    ]
    axes[0].legend(handles=key, fontsize=7, loc="upper left")
    add_legend(fig, styled, labels)
    title = "Gap against the number of requests (format 2)"
    fig.suptitle(title, fontsize=11)
    without = live[~live["exact"] & live["referenced"] & ~live["answered"]]
    infinite = int((live["answered"] & ~live["exact"] & np.isinf(live["gap"])).sum())
    parts = []
    if not answers.empty:
        parts.append(
            f"{'left' if len(panels) > 1 else 'the panel'}: the gap (z - z*) / |z*| of "
            f"{_n(len(answers), 'answer')} of non-exact methods on instances with a "
            "reference optimum z*"
            + (f" ({_n(len(without), 'run')} without an answer left out)" if len(without) else "")
            + (f" ({infinite} with an infinite gap, a zero optimum, left out)" if infinite else "")
        )
    if not bounds.empty:
        parts.append(
            f"{'right' if len(panels) > 1 else 'the panel'}: the bound gap (z* - b) / |z*| "
            f"of {_n(len(bounds), 'finite lower bound')} b that come without a proof of "
            "optimality (bound methods, exact methods stopped early; negative: a bound "
            "above the optimum)"
        )
    caption = (
        "Gap to the reference optimum on the format-2 instances against the number of "
        "requests sharing the network, in percent; "
        + "; ".join(parts)
        + ". Lines with filled markers: the mean per label and request count; hollow "
        "markers on a dotted line: the max; dashed lines: methods that are not exact. "
        f"The y axis is symlog: linear up to {_LINTHRESH:g} %, logarithmic above. From "
        f"{_n(len(used), 'run')} on {_n(used['instance'].nunique(), 'instance')}."
    )
    return "requests-gap", title, caption, len(used), fig


def _requests_ratio(data: pd.DataFrame, palette: Palette) -> Made | None:
    """assignment-milp time / routing-milp time per instance and solver, by requests."""
    both = data[~data["skipped"] & data["time"].notna() & (data["solver"] != "")]
    both = both[both["method"].isin(["routing-milp", "assignment-milp"])]
    table = both.groupby(["solver", "instance", "method"]).agg(
        time=("time", "median"), requests=("requests", "first"), limit=("limit", "any")
    )
    wide = table.unstack("method").dropna()
    if wide.empty or "assignment-milp" not in wide["time"] or "routing-milp" not in wide["time"]:
        return None
    floor = _FLOOR_S
    ratio = wide[("time", "assignment-milp")].clip(lower=floor) / wide[
        ("time", "routing-milp")
    ].clip(lower=floor)
    pairs = pd.DataFrame(
        {
            "ratio": ratio,
            "requests": wide[("requests", "routing-milp")].astype(float),
            "bounded": wide[("limit", "assignment-milp")].astype(bool),
        }
    ).reset_index()
    fig, (ax,) = new_figure(1, 1)
    solvers = sorted({str(x) for x in pairs["solver"]})
    for solver in solvers:
        mine = pairs[pairs["solver"] == solver]
        style = palette.style(f"routing-milp ({solver})")
        ax.scatter(mine["requests"], mine["ratio"], s=14, color=style["color"], alpha=0.45)
        means = np.exp(np.log(mine["ratio"]).groupby(mine["requests"]).mean())
        ax.plot(means.index.to_numpy(dtype=float), means.to_numpy(dtype=float), label=solver,
                markersize=5, **style)  # fmt: skip
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_yscale("log")
    _request_axis(ax, pairs["requests"])
    ax.set_ylabel("time ratio assignment / routing", fontsize=9)
    ax.legend(title="solver", fontsize=8, title_fontsize=8)
    title = "Assignment against routing MILP as requests grow (format 2)"
    fig.suptitle(title, fontsize=11)
    bounded = int(pairs["bounded"].sum())
    caption = (
        "Ratio of the effective times assignment-milp / routing-milp on the same format-2 "
        "instance with the same solver, against the number of requests: a point per "
        "instance pair, the line the geometric mean per request count; above 1 routing "
        "is faster. "
        + (f"{_n(bounded, 'pair')} with assignment stopped at its limit (lower bounds). "
           if bounded else "")
        + "Runs the assignment method declined (too many route variables) have no pair. "
        f"{_n(len(pairs), 'instance pair')} ({', '.join(solvers)}), from "
        f"{_n(2 * len(pairs), 'run')} on {_n(pairs['instance'].nunique(), 'instance')}."
    )  # fmt: skip
    runs = 2 * len(pairs)
    return "requests-ratio", title, caption, runs, fig


def multi_figures(frame: pd.DataFrame, records: Sequence[Record], palette: Palette) -> list[Made]:
    """The ``requests-time`` and ``requests-gap`` figures of format-2 runs.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per record, in the order of ``records``, with the columns
        ``label``, ``family``, ``instance``, ``exact``, ``skipped``, ``answered``,
        ``limit`` (unsolved with a time limit), ``referenced``, ``time`` (effective,
        NaN when missing) and ``gap`` (NaN when missing), as :mod:`.plots` makes it.
    records : sequence of Record
        The runs (for ``n_requests``, the utilisations, ``bound``, ``reference``
        and ``time_limit_s``).
    palette : Palette
        The colours and markers of the labels.

    Returns
    -------
    list of Made
        Each figure whose data is present; none unless some format-2 instance (see
        :func:`request_counts`) serves more than one request.
    """
    if len(frame) != len(records):
        raise ValueError(f"{len(frame)} frame rows for {len(records)} records")
    data = _data(frame, records)
    if data.empty or data["requests"].max() <= 1:
        return []
    made = [
        _requests_time(data, palette),
        _requests_ratio(data, palette),
        _requests_gap(data, palette),
    ]
    return [m for m in made if m is not None]
