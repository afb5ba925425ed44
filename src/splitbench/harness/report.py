"""The benchmark report of a results folder: one HTML page, one Markdown file, figures.

:func:`write_report` reads only what a sweep stored (the records through
:func:`splitbench.harness.results.load_records`, ``environment.json`` and
``suite.toml``); it runs no method and reads no instance file. It writes, into
``out`` (default ``DIR/report``):

- ``report.html``: self-contained (inline CSS, every figure embedded as a PNG data
  URI, no script, no external URL), everything from the records and the suite escaped;
- ``report.md``: the same tables as Markdown, cells escaped, figures linked;
- ``figures/NAME.png`` and ``figures/NAME.svg`` (:mod:`splitbench.harness.plots`).

The content, in order: the overview (suite, counts, environment), the problems
``splitbench check`` finds, the failed runs, one row per method on each family
(:func:`splitbench.harness.summary.method_table`) with a legend, the figures with
their captions, the comparison with a second folder when asked, and the suite file.

Examples
--------
>>> import tempfile
>>> from splitbench.harness.record import Record
>>> from splitbench.harness.store import ResultStore
>>> tmp = tempfile.TemporaryDirectory()
>>> folder = Path(tmp.name)
>>> with ResultStore(folder) as store:
...     store.open(resume=False)
...     store.append(Record(run_id="r1", suite="demo", family="f", instance_id="i",
...                         method="exhaustive", exact=True, status="optimal",
...                         feasible=True, objective=2.0, build_time_s=0.0,
...                         solve_time_s=0.002))
>>> files = write_report(folder, formats=("md",))
>>> files.html is None, files.md.name, files.md.parent == folder / "report"
(True, 'report.md', True)
>>> lines = files.md.read_text().splitlines()
>>> print(lines[0])
# splitbench report: demo
>>> row = next(line for line in lines if line.startswith("| f |"))
>>> print(row[:60])
| f | exhaustive | yes | 1 | 1 | 100 % | 100 % | 100 % (1) |
>>> print(row[60:])
 0.00200 s | 0.00200 s | 0 % | 0 % | 0 | 1 | 1 |
>>> md_escape("a|b <c> `d`")
'a\\\\|b &lt;c&gt; &#96;d&#96;'
>>> format_seconds(0.0123456), format_share(0.95652), format_seconds(None)
('0.0123 s', '95.7 %', '–')
"""

from __future__ import annotations

import base64
import functools
import re
import struct
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from splitbench.errors import UsageError
from splitbench.harness import check, compare, plots, results, summary
from splitbench.harness.record import Record
from splitbench.harness.summary import NONE, format_seconds, format_share, sig

__all__ = [
    "FORMATS",
    "MAX_ROWS",
    "ReportFiles",
    "Table",
    "md_escape",
    "write_report",
]

FORMATS: tuple[str, ...] = ("html", "md")
"""The report formats :func:`write_report` can write."""

MAX_ROWS = 200
"""How many problems, failures or comparison rows are listed before "... and N more"."""

SUITE_FILE = "suite.toml"
_SUITE_HEADING = "Suite file"  # the last section's heading: its text is kept verbatim


@dataclass(frozen=True)
class Table:
    """A table as the templates show it: formatted cells, numeric columns marked.

    Attributes
    ----------
    id : str
        The HTML id of the table.
    columns : tuple of str
        The headers.
    numeric : tuple of bool
        Which columns hold numbers (right-aligned).
    rows : tuple of tuple of str
        The cells, one tuple per row.
    more : int
        How many rows were left off (beyond :data:`MAX_ROWS`).
    starts : frozenset of int
        The rows that start a new group (a new family), drawn with a rule above.
    """

    id: str
    columns: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]
    more: int = 0
    starts: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote.

    Attributes
    ----------
    html, md : Path or None
        ``report.html`` and ``report.md`` (None for a format not asked for).
    figures : list of Path
        Every figure file, the PNG then the SVG of each figure.
    """

    html: Path | None
    md: Path | None
    figures: list[Path]

    def text(self) -> str:
        """Where the files are, one line each."""
        lines = [
            f"{kind} report: {path}"
            for kind, path in (("HTML", self.html), ("Markdown", self.md))
            if path is not None
        ]
        if self.figures:
            folder = self.figures[0].parent
            lines.append(f"figures: {len(self.figures) // 2} (PNG and SVG) in {folder}")
        return "\n".join(lines) if lines else "no report files written"


_MD_SPECIAL = re.compile(r"[\\|`<>&\[\]]|\r\n|\r|\n")
_MD_REPLACE = {
    "\\": "\\\\",
    "|": "\\|",
    "`": "&#96;",
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
    "[": "\\[",
    "]": "\\]",
}


def md_escape(value: object) -> str:
    """Text for a Markdown table cell or paragraph, shown as it is.

    ``|``, ``[`` and ``]`` (table cells, links) and the backslash get a backslash;
    ``<``, ``>``, ``&`` and the backtick become HTML entities (no tag, no code span);
    a line break becomes ``<br>``.
    """
    return _MD_SPECIAL.sub(lambda m: _MD_REPLACE.get(m.group(), "<br>"), str(value))


def _tidy(text: str) -> str:
    """At most one blank line in a row, up to the suite file (kept as it is)."""
    head, mark, tail = text.partition(_SUITE_HEADING)
    return re.sub(r"\n{3,}", "\n\n", head) + mark + tail


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text``."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    return "`" * max(3, longest + 1)


@functools.cache
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("splitbench", "data/templates"),
        autoescape=select_autoescape(["html", "html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    return env


def _table(
    id_: str, columns: Sequence[tuple[str, bool]], rows: Iterable[Sequence[str]], cap: int | None
) -> Table:
    cells = [tuple(row) for row in rows]
    shown = cells if cap is None else cells[:cap]
    starts = frozenset(
        i for i in range(1, len(shown)) if id_ != "overview" and shown[i][0] != shown[i - 1][0]
    )
    return Table(
        id=id_,
        columns=tuple(name for name, _ in columns),
        numeric=tuple(num for _, num in columns),
        rows=tuple(shown),
        more=len(cells) - len(shown),
        starts=starts,
    )


def _method_table(rows: Sequence[summary.MethodRow]) -> Table:
    columns = [("family", False), ("method", False), ("exact", False), ("runs", True)]
    columns += [("instances", True), ("solved", True), ("feasible", True), ("agreement", True)]
    columns += [("time 0.01 s", True), ("time 10 s", True), ("mean gap", True)]
    columns += [("max gap", True), ("no answer", True), ("best", True), ("fastest", True)]
    cells = [
        (r.family, r.label, "yes" if r.exact else "no", str(r.runs), str(r.instances),
         format_share(r.solved_share), format_share(r.feasible_share),
         NONE if r.agreement is None else f"{format_share(r.agreement)} ({r.agreement_base})",
         format_seconds(r.sgm_time_small), format_seconds(r.sgm_time_miplib),
         format_share(r.mean_gap), format_share(r.max_gap),
         str(r.no_answer), str(r.best), str(r.fastest))
        for r in rows
    ]  # fmt: skip
    return _table("methods", columns, cells, None)


def _problem_table(found: Sequence[check.Problem]) -> Table:
    columns = [("kind", False), ("family", False), ("method", False), ("run", False)]
    cells = [(p.kind, p.family, p.method, p.run_id or NONE, p.message) for p in found]
    return _table("problems", [*columns, ("message", False)], cells, MAX_ROWS)


def _failure_table(found: Sequence[summary.Failure]) -> Table:
    columns = [("family", False), ("method", False), ("instance", False), ("run", False)]
    columns += [("termination", False), ("reason", False)]
    cells = [
        (f.family, f.label, f.instance_name or f.instance_id, f.run_id, f.termination, f.reason)
        for f in found
    ]
    return _table("failures", columns, cells, MAX_ROWS)


def _comparison_table(result: compare.Comparison) -> Table:
    columns = [("family", False), ("method", False), ("pairs", True), ("time A", True)]
    columns += [("time B", True), ("B/A", True), ("time10 A", True), ("time10 B", True)]
    columns += [("B/A 10 s", True), ("gap A", True), ("gap B", True), ("solved A", True)]
    columns += [("solved B", True), ("regression", False)]
    cells = [
        (r.family, r.method, str(r.pairs),
         format_seconds(r.time_a), format_seconds(r.time_b),
         NONE if r.time_ratio is None else sig(r.time_ratio),
         format_seconds(r.time_a_miplib), format_seconds(r.time_b_miplib),
         NONE if r.time_ratio_miplib is None else sig(r.time_ratio_miplib),
         format_share(r.gap_a), format_share(r.gap_b), str(r.solved_a), str(r.solved_b),
         "; ".join(r.reasons) or NONE)
        for r in result.rows
    ]  # fmt: skip
    return _table("comparison", columns, cells, MAX_ROWS)


def _shown(value: Any) -> str:
    return "unknown" if value is None or value == "" else str(value)


def _overview_table(info: dict[str, Any], description: str | None) -> Table:
    env = info["environment"]
    packages = ", ".join(
        f"{name} {version if version is not None else '(not installed)'}"
        for name, version in env["packages"].items()
    )
    runs = (
        f"{info['runs']} ({info['solved']} solved, {info['answers']} with an answer, "
        f"{info['skipped']} skipped, {info['errors']} errors, {info['time_limits']} time limits)"
    )
    items = [
        ("suite", _shown(info["suite"])),
        ("description", _shown(description)),
        ("runs", runs),
        ("instances", f"{info['instances']} ({info['with_reference']} with a known optimum)"),
        ("families", str(info["families"])),
        ("methods", f"{info['methods']} ({info['labels']} with solvers and parameters)"),
        ("suite file", _shown(env["suite_file"])),
        ("suite SHA-256", _shown(env["suite_sha256"])),
        ("suite commit", _shown(env["suite_commit"])),
        ("splitbench commit", _shown(env["splitbench_commit"])),
        ("created at", _shown(env["created_at"])),
        ("python", _shown(env["python"])),
        ("platform", _shown(env["platform"])),
        ("cpu", f"{_shown(env['cpu'])} ({_shown(env['cpu_count'])} cores)"),
        ("packages", packages or "unknown"),
    ]
    if env["resumed"]:
        items.append(("resumed", f"on {env['resumed']} other environments"))
    return _table("overview", [("entry", False), ("value", False)], items, None)


@dataclass(frozen=True)
class _FigureView:
    name: str
    title: str
    caption: str
    runs: int
    data_uri: str
    width: int
    height: int
    png: str
    svg: str


def _png_size(data: bytes) -> tuple[int, int]:
    """The width and height of a PNG, in pixels (its IHDR chunk)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _figure_view(fig: plots.Figure, png: Path, svg: Path) -> _FigureView:
    data = png.read_bytes()
    width, height = _png_size(data)
    return _FigureView(
        name=fig.name,
        title=fig.title,
        caption=fig.caption,
        runs=fig.runs,
        data_uri="data:image/png;base64," + base64.b64encode(data).decode("ascii"),
        width=width,
        height=height,
        png=f"figures/{quote(png.name)}",
        svg=f"figures/{quote(svg.name)}",
    )


def _suite_text(directory: Path) -> tuple[str | None, str | None]:
    """The suite file's text and its description (None when absent or unreadable)."""
    try:
        text = (directory / SUITE_FILE).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None, None
    try:
        description = tomllib.loads(text).get("description")
    except tomllib.TOMLDecodeError:
        description = None
    return text, description if isinstance(description, str) else None


def _formats(formats: Iterable[str] | str) -> tuple[str, ...]:
    chosen = (formats,) if isinstance(formats, str) else tuple(formats)
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise UsageError(f"report format {unknown[0]!r}: expected one of {', '.join(FORMATS)}")
    return chosen


def _load_comparison(
    records: Sequence[Record], environment: dict[str, Any], other: Path
) -> compare.Comparison:
    """``compare.compare_directories(directory, other)``, reusing the loaded records."""
    records_b, env_b = results.load_records(other)
    return compare.compare_records(records, records_b, env_a=environment, env_b=env_b)


def write_report(
    directory: str | Path,
    *,
    out: str | Path | None = None,
    formats: Iterable[str] | str = FORMATS,
    compare_with: str | Path | None = None,
) -> ReportFiles:
    """Write the report of a results folder.

    Parameters
    ----------
    directory : str or Path
        A results folder (``records.jsonl`` and/or ``results.parquet``; a killed
        sweep's ``records.jsonl`` alone is enough).
    out : str or Path, optional
        Where to write; default ``directory/report``. Created if needed.
    formats : iterable of str
        Any of :data:`FORMATS`; the figures are written in any case.
    compare_with : str or Path, optional
        A second results folder: adds the comparison (this folder as A, that one as
        B, as ``splitbench compare``) and its figure.

    Returns
    -------
    ReportFiles
        The paths written.

    Raises
    ------
    UsageError
        For a folder without results or an unknown format.
    """
    folder = Path(directory)
    chosen = _formats(formats)
    records, environment = results.load_records(folder)
    target = Path(out) if out is not None else folder / "report"
    comparison = (
        _load_comparison(records, environment, Path(compare_with))
        if compare_with is not None
        else None
    )
    suite_text, description = _suite_text(folder)
    figure_dir = target / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    views: list[_FigureView] = []
    for fig in plots.figures(records, comparison=comparison):
        png, svg = plots.save(fig, figure_dir)
        paths += [png, svg]
        views.append(_figure_view(fig, png, svg))
    info = summary.overview(records, environment)
    found = summary.problems(records)
    context: dict[str, Any] = {
        "title": f"splitbench report: {info['suite'] or folder.name}",
        "overview": _overview_table(info, description),
        "problems": _problem_table(found),
        "kinds": [(k, v) for k, v in check.KINDS.items() if any(p.kind == k for p in found)],
        "failures": _failure_table(summary.failures(records)),
        "methods": _method_table(summary.method_table(records)),
        "legend": summary.LEGEND,
        "figures": views,
        "comparison": None if comparison is None else _comparison_table(comparison),
        "comparison_b": None if compare_with is None else str(compare_with),
        "warnings": [] if comparison is None else list(comparison.warnings),
        "verdict": None if comparison is None else _verdict(comparison),
        "suite_text": suite_text,
        "fence": _fence(suite_text or ""),
    }
    written: dict[str, Path] = {}
    for kind in chosen:
        path = target / f"report.{kind}"
        text = _templates().get_template(f"report.{kind}.j2").render(context)
        path.write_text(_tidy(text), encoding="utf-8", newline="\n")
        written[kind] = path
    return ReportFiles(html=written.get("html"), md=written.get("md"), figures=paths)


def _verdict(result: compare.Comparison) -> str:
    n = len(result.regressions)
    if not n:
        return "no regression"
    return (
        f"{n} regression{'s' if n != 1 else ''} (time ratio above {result.max_time_ratio:g}, "
        f"mean gap increase above {result.max_gap_increase:g}, or fewer solved)"
    )
