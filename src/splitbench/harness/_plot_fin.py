"""The FIN paper's two figure types, and the drawing helpers :mod:`.plots` shares.

:func:`fin_figures` draws the energy of each label's feasible answers against the
minimum accuracy target (at each deadline) and against the deadline (at each accuracy
target), for the ``fin-branchy`` family and any family whose parameters set both
``min_accuracy`` and ``deadline_s``. ``fin-branchy`` stores only the parameters a suite
set, so :data:`FIN_DEFAULTS` fills the others (the family's own defaults).

The helpers: :class:`Palette` (one colour and marker per label, the same in every
figure of a report), :func:`new_figure` (a matplotlib figure without pyplot, with an
Agg canvas) and :func:`add_legend` (below the panels, in as many columns as fit).

Examples
--------
>>> fin_setting("fin-branchy", '{"dnn":"b-lenet","min_accuracy":0.6}')
('b-lenet', 'mnist', 0.6, 0.005)
>>> fin_setting("tiny", '{"distribution":"milp"}') is None
True
>>> Palette.of(["b", "a"]).style("a")["color"]
'#1f77b4'
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from splitbench.harness.record import Record

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "FIN_DEFAULTS",
    "WIDTH_IN",
    "Made",
    "Palette",
    "add_legend",
    "fin_figures",
    "fin_setting",
    "label",
    "new_figure",
]

WIDTH_IN = 800 / 120
"""Figure width (inches): 800 px at the PNG's 120 dpi."""

FIN_DEFAULTS: dict[str, Any] = {
    "dnn": "b-alexnet",
    "dataset": None,
    "deadline_s": 0.005,
    "min_accuracy": 0.8,
}
"""The ``fin-branchy`` family's defaults for what a record's parameters leave out
(the dataset: ``mnist`` for ``b-lenet``, else ``cifar10``)."""

Made = tuple[str, str, str, int, "MplFigure"]
"""What a figure function gives: name, title, caption, runs and the figure."""

_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
    "#000000", "#e7ba52", "#6b6ecf", "#ce6dbd", "#00a087",
)  # fmt: skip
_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">")
_MAX_PANELS = 4


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


@functools.lru_cache(maxsize=4096)
def _label(method: str, params: str, solver: str | None) -> str:
    try:
        values = json.loads(params)
    except ValueError:
        values = {}
    items = sorted(values.items()) if isinstance(values, dict) else []
    text = " ".join([method, *(f"{k}={_value_text(v)}" for k, v in items)])
    return f"{text} ({solver})" if solver else text


def label(record: Record) -> str:
    """The name a run's method goes by in the figures.

    ``method``, then each stored method parameter as ``key=value`` in key order, then
    the solver in parentheses: ``fin gamma=3 rounding=arc``, ``routing-milp (highs)``.
    A record stores only the parameters its suite set (the method's defaults are
    not written), so every stored parameter differs from the defaults' spelling.
    """
    return _label(record.method, record.method_params, record.solver)


@dataclass(frozen=True)
class Palette:
    """A colour, a marker and a line style per label.

    Attributes
    ----------
    styles : dict of str to dict
        ``label -> {"color", "marker", "linestyle"}``: matplotlib line keywords.
    """

    styles: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, labels: Iterable[str]) -> Palette:
        """The palette of ``labels``, assigned in sorted order (so the same set of
        labels always gets the same colours); 20 colours, then the markers and a
        dashed line tell the labels apart."""
        styles: dict[str, dict[str, Any]] = {}
        for i, name in enumerate(sorted(set(labels))):
            styles[name] = {
                "color": _COLOURS[i % len(_COLOURS)],
                "marker": _MARKERS[(i + i // len(_COLOURS)) % len(_MARKERS)],
                "linestyle": "-" if i < len(_COLOURS) else "--",
            }
        return cls(styles)

    def style(self, name: str) -> dict[str, Any]:
        """The line keywords of a label (grey for a label the palette lacks)."""
        return self.styles.get(name, {"color": "#7f7f7f", "marker": "o", "linestyle": ":"})


def new_figure(
    rows: int, cols: int, *, legend: int = 0, longest: int = 0, panel_in: float = 3.0
) -> tuple[MplFigure, list[Axes]]:
    """A figure of ``rows`` x ``cols`` panels, :data:`WIDTH_IN` wide.

    Parameters
    ----------
    rows, cols : int
        The panel grid.
    legend : int
        Entries of the legend to come below the panels (it adds to the height).
    longest : int
        Characters of the longest legend entry.
    panel_in : float
        Height of one row of panels (inches).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    height = rows * panel_in + 0.4 + 0.19 * math.ceil(legend / _columns(longest))
    fig = MplFigure(figsize=(WIDTH_IN, height), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.subplots(rows, cols, squeeze=False)
    axes: list[Axes] = list(grid.flat)
    for ax in axes:
        ax.tick_params(labelsize=8)
        ax.grid(True, which="major", alpha=0.3)
    return fig, axes


def _columns(longest: int) -> int:
    return max(1, min(5, 105 // (longest + 5)))


def add_legend(fig: MplFigure, palette: Palette, labels: Iterable[str]) -> None:
    """A legend of ``labels`` (line, marker and colour) below the panels."""
    from matplotlib.lines import Line2D

    names = sorted(set(labels))
    if not names:
        return
    handles = [Line2D([], [], label=n, markersize=5, **palette.style(n)) for n in names]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=_columns(max(len(n) for n in names)),
        fontsize=8,
        frameon=False,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@functools.lru_cache(maxsize=4096)
def fin_setting(family: str, params: str) -> tuple[str, str, float | None, float | None] | None:
    """``(dnn, dataset, min_accuracy, deadline_s)`` of an instance, None if not FIN-like.

    Parameters
    ----------
    family : str
        The record's family: ``fin-branchy`` gets :data:`FIN_DEFAULTS` for what
        ``params`` leaves out; another family counts only when ``params`` sets both
        ``min_accuracy`` and ``deadline_s`` (its dnn is ``params["dnn"]`` or the family).
    params : str
        The record's ``instance_params`` (JSON text).
    """
    try:
        values = json.loads(params)
    except ValueError:
        return None
    if not isinstance(values, dict):
        return None
    fin = family == "fin-branchy"
    if fin:
        values = {**FIN_DEFAULTS, **values}
    elif not {"min_accuracy", "deadline_s"} <= values.keys():
        return None
    dnn = str(values.get("dnn") or family)
    dataset = values.get("dataset") or (
        "" if not fin else "mnist" if dnn == "b-lenet" else "cifar10"
    )
    return dnn, str(dataset), _number(values["min_accuracy"]), _number(values["deadline_s"])


@dataclass(frozen=True)
class _Kind:
    name: str  # figure stem
    x: str  # frame column on the x axis
    fixed: str  # frame column that picks the panel
    scale: float  # x axis unit per stored unit
    xlabel: str
    fixed_text: str  # the fixed parameter, in words, plural


_KINDS = (
    _Kind("fin-accuracy", "accuracy", "deadline", 100.0, "minimum accuracy (%)", "deadlines"),
    _Kind("fin-deadline", "deadline", "accuracy", 1000.0, "deadline (ms)", "accuracy targets"),
)


def _fixed_text(kind: _Kind, value: float) -> str:
    if kind.fixed == "deadline":
        return "no deadline" if math.isnan(value) else f"deadline {value * 1000:g} ms"
    return "no accuracy floor" if math.isnan(value) else f"min. accuracy {value * 100:g} %"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "dnn"


def _rows(frame: pd.DataFrame, column: str, value: float) -> pd.Series:
    return frame[column].isna() if math.isnan(value) else frame[column] == value


Panel = tuple[str, str, float, int]  # dnn, dataset, fixed value (NaN: none), runs


def _panels(data: pd.DataFrame, kind: _Kind) -> list[Panel]:
    """Per (dnn, dataset), the (at most 4) most common values of the fixed parameter."""
    out: list[Panel] = []
    for (dnn, dataset), group in data.groupby(["dnn", "dataset"], sort=True):
        counts = group[kind.fixed].value_counts(dropna=False)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], _order(kv[0])))[:_MAX_PANELS]
        for value, n in sorted(ranked, key=lambda kv: _order(kv[0])):
            out.append((str(dnn), str(dataset), float(value), int(n)))
    return out


def _order(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _draw(
    name: str, data: pd.DataFrame, panels: Sequence[Panel], kind: _Kind, palette: Palette, note: str
) -> Made:
    used: list[pd.DataFrame] = []
    for dnn, dataset, value, _ in panels:
        mask = (data["dnn"] == dnn) & (data["dataset"] == dataset)
        used.append(data[mask & _rows(data, kind.fixed, value)])
    from matplotlib.ticker import EngFormatter

    labels = sorted({str(x) for part in used for x in part["label"]})
    cols = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / cols)
    fig, axes = new_figure(rows, cols, legend=len(labels), longest=max(map(len, labels)))
    for ax, (dnn, dataset, value, _), part in zip(axes, panels, used, strict=False):
        medians = part.groupby(["label", kind.x])["objective"].median()
        for lab, series in medians.groupby(level=0):
            xs = series.index.get_level_values(1).to_numpy(dtype=float) * kind.scale
            ys = series.to_numpy(dtype=float)
            ax.plot(xs, ys, label=str(lab), markersize=5, **palette.style(str(lab)))
        where = f"{dnn} / {dataset}" if dataset else dnn
        ax.set_title(f"{where}, {_fixed_text(kind, value)}", fontsize=9)
        ax.set_xlabel(kind.xlabel, fontsize=9)
        ax.yaxis.set_major_formatter(EngFormatter(unit="J"))
        ax.set_ylabel("energy (J, SI prefixes)", fontsize=9)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    add_legend(fig, palette, labels)
    runs = sum(len(part) for part in used)
    instances = len({i for part in used for i in part["instance"]})
    title = f"Energy against the {'minimum accuracy' if kind.x == 'accuracy' else 'deadline'}"
    if name != kind.name:
        title += f" ({panels[0][0]})"
    fig.suptitle(title, fontsize=11)
    caption = (
        f"{title} (the FIN paper's figure): the energy objective (J) of the feasible "
        f"answers, the median per label and {kind.xlabel.split(' (')[0]}, one line per "
        f"label; one panel per model, dataset and one of the {kind.fixed_text} (the most "
        f"common, at most {_MAX_PANELS}; fin-branchy's defaults, 5 ms and 80 %, fill what "
        "a suite did not set)" + note + f". From {runs} runs on {instances} instances."
    )
    return name, title, caption, runs, fig


def fin_figures(frame: pd.DataFrame, palette: Palette) -> list[Made]:
    """The ``fin-accuracy`` and ``fin-deadline`` figures of a frame of runs.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per run, with the columns ``label``, ``family``, ``params`` (the
        instance parameters), ``instance``, ``kind`` (the objective kind),
        ``answered`` and ``objective``.
    palette : Palette
        The colours of the labels.

    Returns
    -------
    list of Made
        ``fin-accuracy`` and ``fin-deadline`` when at most 4 panels each, else one
        figure per dnn (``fin-accuracy-b-alexnet``, ...); none without FIN-like
        energy answers.
    """
    data = frame[frame["answered"] & (frame["kind"] == "energy") & frame["objective"].notna()]
    if data.empty:
        return []
    pairs = data[["family", "params"]].drop_duplicates()
    found = [fin_setting(f, p) for f, p in zip(pairs["family"], pairs["params"], strict=True)]
    keep = [s is not None for s in found]
    settings = pd.DataFrame(
        [s for s in found if s is not None], columns=["dnn", "dataset", "accuracy", "deadline"]
    )
    settings["family"] = pairs["family"].to_numpy()[keep]
    settings["params"] = pairs["params"].to_numpy()[keep]
    data = data.merge(settings, on=["family", "params"], how="inner")
    out: list[Made] = []
    for kind in _KINDS:
        usable = data[data[kind.x].notna()]
        if usable.empty:
            continue
        panels = _panels(usable, kind)
        if len(panels) <= _MAX_PANELS:
            out.append(_draw(kind.name, usable, panels, kind, palette, ""))
            continue
        for dnn in sorted({p[0] for p in panels}):
            mine = sorted((p for p in panels if p[0] == dnn), key=lambda p: -p[3])
            chosen = sorted(mine[:_MAX_PANELS], key=lambda p: (p[1], _order(p[2])))
            note = "; the other models are in their own figures (one per model)"
            if len(mine) > len(chosen):
                note += f"; {len(mine) - len(chosen)} less common panels of {dnn} left out"
            name = f"{kind.name}-{_slug(dnn)}"
            out.append(_draw(name, usable, chosen, kind, palette, note))
    return out
