"""The benchmark report (:mod:`splitbench.harness.report`) on a real smoke sweep.

- the files exist; the HTML is self-contained: no script, no external URL, every
  image a PNG data URI with alt text and a size;
- every figure of :func:`splitbench.harness.plots.figures` is written (PNG and SVG)
  and shown in the HTML and in the Markdown, with its caption;
- one table row per (family, label), Markdown rows with one column count per table;
- a killed sweep (``records.jsonl`` alone), a comparison, long lists capped;
- hostile text from instances, suites and error reasons is escaped in both formats;
- report, summary and plots never import the methods, graphs, formulations or solvers.
"""

from __future__ import annotations

import ast
import re
import shutil
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import splitbench.harness.report as report_module
import splitbench.harness.summary as summary_module
from splitbench.errors import UsageError
from splitbench.harness import plots
from splitbench.harness.record import Record
from splitbench.harness.report import MAX_ROWS, md_escape, write_report
from splitbench.harness.results import load_records
from splitbench.harness.runner import run_suite
from splitbench.harness.store import ResultStore
from splitbench.harness.suite import load_suite
from splitbench.harness.summary import LEGEND, format_seconds, format_share

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_REASON = "<img src=x onerror=alert(1)>"


def smoke_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke suite's results, run once per test session (about 15 s)."""
    folder = tmp_path_factory.getbasetemp() / "smoke-results"
    if not (folder / "results.parquet").exists():
        run_suite(load_suite("smoke"), folder, jobs=2, resume=True)
    return folder


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return smoke_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def report(smoke: Path, tmp_path_factory: pytest.TempPathFactory) -> report_module.ReportFiles:
    return write_report(smoke, out=tmp_path_factory.mktemp("report"))


class Page(HTMLParser):
    """The tags of a page with their attributes, and the rows of each table by id."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append((tag, values))
        if tag == "table":
            self._table = values.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._table is not None and self._in_body:
            self.tables[self._table].append([])
        elif tag == "td" and self._table is not None and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def attrs(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


CELL_SPLIT = re.compile(r"(?<!\\)\|")


def md_tables(text: str) -> list[list[list[str]]]:
    """The Markdown tables of a text (outside code fences): rows of cells, header first."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in strip_fences(text).splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in CELL_SPLIT.split(line)[1:-1]]
            if current is None:
                current = []
                tables.append(current)
            current.append(cells)
        else:
            current = None
    return tables


def strip_fences(text: str) -> str:
    """The text without its fenced code blocks."""
    return re.sub(r"^(`{3,})[^\n]*\n.*?^\1\s*$", "", text, flags=re.S | re.M)


def md_table_with(text: str, header: str) -> list[list[str]]:
    """The data rows of the Markdown table whose header has ``header``."""
    for table in md_tables(text):
        if header in table[0]:
            return table[2:]
    raise AssertionError(f"no Markdown table with the column {header!r}")


def test_the_files_exist(report: report_module.ReportFiles) -> None:
    assert report.html is not None and report.html.is_file()
    assert report.md is not None and report.md.is_file()
    assert report.html.parent == report.md.parent
    assert report.figures and all(p.is_file() and p.stat().st_size > 0 for p in report.figures)
    text = report.text()
    assert str(report.html) in text and str(report.md) in text
    assert str(report.figures[0].parent) in text


def test_default_out_is_the_report_folder(tmp_path: Path, smoke: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(smoke, copy, ignore=shutil.ignore_patterns("report", "logs"))
    files = write_report(copy, formats=("md",))
    assert files.md == copy / "report" / "report.md" and files.html is None
    assert not (copy / "report" / "report.html").exists()
    assert all(p.parent == copy / "report" / "figures" for p in files.figures)


def test_the_html_is_self_contained(report: report_module.ReportFiles) -> None:
    assert report.html is not None
    text = report.html.read_text(encoding="utf-8")
    page = Page(text)
    assert "<script" not in text.lower()
    assert not page.attrs("script") and not page.attrs("link") and not page.attrs("iframe")
    for _, attrs in page.tags:
        for key in ("src", "href"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http://", "https://", "//", "javascript:")), value
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text, re.I)
    assert "<style>" in text
    images = page.attrs("img")
    assert images
    for img in images:
        assert (img["src"] or "").startswith("data:image/png;base64,")
        assert img.get("alt")
        assert int(img["width"] or 0) > 0 and int(img["height"] or 0) > 0


def test_every_figure_is_written_and_shown(report: report_module.ReportFiles, smoke: Path) -> None:
    assert report.html is not None and report.md is not None
    records, _ = load_records(smoke)
    made = plots.figures(records)
    assert made, "the smoke suite has data for figures"
    html = Page(report.html.read_text(encoding="utf-8"))
    md = report.md.read_text(encoding="utf-8")
    folder = report.html.parent / "figures"
    alts = [img["alt"] for img in html.attrs("img")]
    assert len(alts) == len(made)
    ids = {a.get("id") for a in html.attrs("figure")}
    for fig in made:
        png, svg = folder / f"{fig.name}.png", folder / f"{fig.name}.svg"
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert b"<svg" in svg.read_bytes()[:2000]
        assert png in report.figures and svg in report.figures
        assert fig.title in alts and f"figure-{fig.name}" in ids
        assert f"](figures/{fig.name}.png)" in md and f"](figures/{fig.name}.svg)" in md
        assert md_escape(fig.caption) in md
    assert len(report.figures) == 2 * len(made)


def test_one_table_row_per_family_and_label(report: report_module.ReportFiles, smoke: Path) -> None:
    assert report.html is not None and report.md is not None
    records, _ = load_records(smoke)
    expected = {(r.family, plots.label(r)) for r in records}
    rows = Page(report.html.read_text(encoding="utf-8")).tables["methods"]
    assert len(rows) == len(expected)
    assert {(row[0], row[1]) for row in rows} == expected
    md_rows = md_table_with(report.md.read_text(encoding="utf-8"), "fastest")
    assert len(md_rows) == len(expected)
    assert {(row[0], row[1]) for row in md_rows} == {(f, md_escape(x)) for f, x in expected}


def test_markdown_tables_have_one_column_count_each(report: report_module.ReportFiles) -> None:
    assert report.md is not None
    tables = md_tables(report.md.read_text(encoding="utf-8"))
    assert len(tables) >= 2  # the overview and the method table at least
    for table in tables:
        counts = {len(row) for row in table}
        assert len(counts) == 1, table[0]
        assert all(re.fullmatch("-{3}:?", cell) for cell in table[1])


def test_sections_in_order(report: report_module.ReportFiles) -> None:
    assert report.html is not None and report.md is not None
    html = report.html.read_text(encoding="utf-8")
    md = report.md.read_text(encoding="utf-8")
    names = ["Overview", "Problems", "Failures", "Methods by family", "Figures", "Suite file"]
    headings = [h.strip() for h in re.findall(r"<h2[^>]*>([^<(]+)", html)]
    assert headings == names
    assert re.findall(r"^## (.+?)(?: \(\d+\))?$", md, re.M) == names
    assert "<h1>splitbench report: smoke</h1>" in html
    assert md.startswith("# splitbench report: smoke\n")
    assert "Problems (0)" in html and "Problems (0)" in md
    for name, _ in LEGEND:
        assert f"<dt>{name}</dt>" in html and f"**{md_escape(name)}**" in md
    pre = re.search(r"<pre>(.*?)</pre>", html, re.S)
    assert pre and 'family = "tiny"' in unescape(pre.group(1))  # the suite file
    assert "```toml\n" in md and 'family = "tiny"' in md


def test_a_killed_sweep_with_only_records_jsonl(tmp_path: Path, smoke: Path) -> None:
    folder = tmp_path / "killed"
    folder.mkdir()
    lines = (smoke / "records.jsonl").read_bytes().splitlines(keepends=True)
    torn = lines[len(lines) // 2][:40]  # the sweep died while writing this line
    (folder / "records.jsonl").write_bytes(b"".join(lines[: len(lines) // 2]) + torn)
    files = write_report(folder, out=tmp_path / "out")
    assert files.html is not None and files.md is not None
    html = files.html.read_text(encoding="utf-8")
    rows = Page(html).tables["methods"]
    assert sum(int(row[3]) for row in rows) == len(lines) // 2
    assert "no suite.toml in the folder" in html
    assert files.figures


def test_a_comparison_adds_its_section_and_figure(
    tmp_path: Path, smoke: Path, report: report_module.ReportFiles
) -> None:
    files = write_report(smoke, out=tmp_path / "cmp", compare_with=smoke)
    assert files.html is not None and files.md is not None
    html = files.html.read_text(encoding="utf-8")
    page = Page(html)
    names = {p.stem for p in files.figures}
    assert "compare-ratio" in names
    assert names - {p.stem for p in report.figures} == {"compare-ratio"}
    assert page.tables["comparison"]
    assert html.find("Comparison") > html.find("Figures") and "no regression" in html
    md = files.md.read_text(encoding="utf-8")
    assert "## Comparison" in md and md_table_with(md, "B/A")


def hostile_folder(folder: Path, errors: int = 1) -> Path:
    """Records whose instance is named like a script, an error reason like an image
    with a handler, a suite whose description holds markup."""
    folder.mkdir(parents=True)
    common: dict[str, Any] = {"suite": "hostile", "family": "fam", "instance_id": "i1"}
    common["instance_name"] = name = HOSTILE_NAME
    with ResultStore(folder) as store:
        store.open(resume=False)
        store.append(
            Record(run_id="ok", method="exhaustive", exact=True, status="optimal",
                   feasible=True, objective=1.0, build_time_s=0.0, solve_time_s=0.01,
                   **common)
        )  # fmt: skip
        for k in range(errors):
            store.append(
                Record(run_id=f"bad{k}", method="greedy", termination="error",
                       reason=HOSTILE_REASON, **{**common, "instance_name": f"{name}|{k}\nx"})
            )  # fmt: skip
    (folder / "suite.toml").write_text(
        'description = "<b>bold</b> & `code` | pipe"\n'
        "# </pre><script>alert(2)</script>\n"
        '[[families]]\nfamily = "tiny"\n',
        encoding="utf-8",
    )
    return folder


def test_hostile_text_is_escaped_in_html_and_markdown(tmp_path: Path) -> None:
    files = write_report(hostile_folder(tmp_path / "hostile"), out=tmp_path / "out")
    assert files.html is not None and files.md is not None
    html = files.html.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;/pre&gt;" in html
    md = files.md.read_text(encoding="utf-8")
    outside = strip_fences(md)
    for raw in ("<script", "<img", "<b>", "`code`"):
        assert raw not in outside, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in outside
    assert "&lt;img src=x onerror=alert(1)&gt;" in outside
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &#96;code&#96; \\| pipe" in outside
    for table in md_tables(md):
        assert len({len(row) for row in table}) == 1
    assert "<script>alert(2)</script>" in md  # only inside the suite's code fence


def test_long_lists_are_capped(tmp_path: Path) -> None:
    files = write_report(
        hostile_folder(tmp_path / "many", errors=MAX_ROWS + 30), out=tmp_path / "o"
    )
    assert files.html is not None and files.md is not None
    page = Page(files.html.read_text(encoding="utf-8"))
    assert len(page.tables["failures"]) == MAX_ROWS
    assert len(page.tables["problems"]) == MAX_ROWS  # the errors are problems too
    for text in (files.html.read_text(encoding="utf-8"), files.md.read_text(encoding="utf-8")):
        assert text.count("... and 30 more") == 2
        assert f"Failures ({MAX_ROWS + 30})" in text


def test_problems_are_listed(tmp_path: Path) -> None:
    folder = tmp_path / "disagree"
    with ResultStore(folder) as store:
        store.open(resume=False)
        for run_id, method, objective in (("a", "milp", 1.0), ("b", "exhaustive", 1.5)):
            store.append(
                Record(run_id=run_id, family="f", instance_id="i", method=method, exact=True,
                       status="optimal", feasible=True, objective=objective)
            )  # fmt: skip
    files = write_report(folder, out=tmp_path / "o", formats=["html"])
    assert files.html is not None and files.md is None
    rows = Page(files.html.read_text(encoding="utf-8")).tables["problems"]
    assert [(row[0], row[2], row[3]) for row in rows] == [("disagreement", "exhaustive", "b")]


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no results"):
        write_report(tmp_path)
    folder = hostile_folder(tmp_path / "f")
    with pytest.raises(UsageError, match="'pdf'"):
        write_report(folder, formats=("html", "pdf"))
    assert write_report(folder, formats="md").html is None


def test_number_formats() -> None:
    assert format_seconds(0.0123456) == "0.0123 s"
    assert format_seconds(1.23456) == "1.23 s" and format_seconds(20.0) == "20.0 s"
    assert format_seconds(0.99996) == "1.00 s"
    assert format_seconds(4.5e-05) == "0.0000450 s"
    assert format_seconds(12345.6) == "12346 s" and format_seconds(0.0) == "0 s"
    assert format_share(1.0) == "100 %" and format_share(0.95652) == "95.7 %"
    assert format_share(float("inf")) == "inf %" and format_share(None) == "–"


def test_markdown_escaping() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("<x> & `y`") == "&lt;x&gt; &amp; &#96;y&#96;"
    assert md_escape("one\ntwo\r\nthree") == "one<br>two<br>three"
    assert md_escape("[link](javascript:x)") == "\\[link\\](javascript:x)"
    assert md_escape("back\\|slash") == "back\\\\\\|slash"
    assert md_escape(3) == "3"


FORBIDDEN = ("splitbench.methods", "splitbench.graphs", "splitbench.formulations")
FORBIDDEN += ("splitbench.solvers",)
ALLOWED = {f"splitbench.harness.{m}" for m in ("record", "metrics", "results", "store")}
ALLOWED |= {f"splitbench.harness.{m}" for m in ("check", "compare", "env", "plots", "summary")}
ALLOWED |= {"splitbench.harness", "splitbench.status", "splitbench.tolerances", "splitbench.errors"}


def imported_modules(path: Path) -> list[str]:
    """Every splitbench module an ``import`` or ``from ... import`` of a file names
    (anywhere in it: module level, functions, ``TYPE_CHECKING`` blocks)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative, from inside splitbench.harness
                package = ["splitbench", "harness"][: 3 - node.level]
                base = ".".join([*package, base] if base else package)
            names.append(base)
            if base in ("splitbench", "splitbench.harness"):
                names += [f"{base}.{alias.name}" for alias in node.names]
    return [n for n in names if n == "splitbench" or n.startswith("splitbench.")]


HARNESS = Path(report_module.__file__).parent


@pytest.mark.parametrize("name", ["report.py", "summary.py", "plots.py", "_plot_fin.py"])
def test_no_import_of_methods_graphs_formulations_or_solvers(name: str) -> None:
    path = HARNESS / name
    if not path.exists():
        pytest.skip(f"no {name}")
    names = imported_modules(path)
    bad = [n for n in names if n.startswith(FORBIDDEN) or n == "splitbench"]
    assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize("module", [report_module, summary_module])
def test_report_and_summary_import_only_the_allowed_modules(module: Any) -> None:
    names = imported_modules(Path(module.__file__))
    assert names and set(names) <= ALLOWED, sorted(set(names) - ALLOWED)
