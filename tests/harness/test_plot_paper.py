"""The FIN paper's claims as report figures (:mod:`splitbench.harness._plot_paper`).

- ``fin-gamma-gap`` appears for ``fin`` energy runs with a reference at two gamma
  values or more: the mean and max gap per rounding and gamma, the share at the
  optimum (an unanswered instance is not at it), the counts in the caption;
- ``mcp-savings`` appears when an energy instance has an ``mcp`` answer and a
  reference: ``(E_mcp - E_x) / E_mcp`` per instance and scale, invalid MCP answers
  counted (and reported), the paper's 65 % drawn;
- neither without its data; missing and NaN numbers crash nothing;
- a real quick ``fin-paper`` sweep gives both, and the optimum saves energy against
  MCP at latency_scale=10 on every instance.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from splitbench.harness import plots
from splitbench.harness._plot_fin import Palette
from splitbench.harness._plot_paper import (
    OPTIMUM,
    PAPER_SAVING,
    fin_gamma_gaps,
    mcp_savings,
    paper_figures,
)
from splitbench.harness.record import Record
from splitbench.harness.results import load_records
from splitbench.harness.runner import run_suite
from splitbench.harness.suite import load_suite

REF = 0.04  # J, the optimum of every synthetic instance


def run(method: str, inst: str, energy: float | None, params: str = "{}", **fields: Any) -> Record:
    """An answered energy run on instance ``inst`` whose optimum is :data:`REF`."""
    values: dict[str, Any] = dict(
        family="fin-branchy",
        instance_id=inst,
        objective_kind="energy",
        method=method,
        method_params=params,
        status="feasible" if energy is not None else "none",
        feasible=energy is not None,
        objective=energy,
        reference=REF,
        gap_to_reference=None if energy is None else energy / REF - 1,
    )
    values.update(fields)
    return Record(run_id=f"{method}{params}{inst}{len(fields)}", **values)


def invalid(inst: str, energy: float, params: str = "{}") -> Record:
    """An MCP answer the evaluator rejected (it keeps its objective)."""
    return run("mcp", inst, energy, params, status="invalid", feasible=False, gap_to_reference=None)


def fin(inst: str, energy: float | None, gamma: int, rounding: str = "step") -> Record:
    return run("fin", inst, energy, f'{{"gamma":{gamma},"rounding":"{rounding}"}}')


MCP10 = '{"latency_scale":10}'
MCP1 = '{"latency_scale":1}'


@pytest.fixture
def study() -> list[Record]:
    """Three instances: MCP at both scales (b's scale-1 answer invalid), FIN at gamma 3
    and 30 with step rounding, at gamma 3 with arc; the exact runs."""
    out = [run("exhaustive", i, REF, exact=True, status="optimal") for i in "abc"]
    out += [run("mcp", i, 0.2, MCP10) for i in "abc"]
    out += [run("mcp", "a", 0.05, MCP1), invalid("b", 0.03, MCP1), run("mcp", "c", 0.1, MCP1)]
    out += [fin(i, REF, 3) for i in "abc"]
    out += [fin("a", 0.05, 30), fin("b", REF, 30), fin("c", None, 30)]
    out += [fin(i, 0.06, 3, "arc") for i in "abc"]
    return out


def made(records: list[Record]) -> dict[str, plots.Figure]:
    return {f.name: f for f in plots.figures(records)}


def saving(table: Any, inst: str, scale: float, label: str) -> float:
    rows = table[(table["instance_id"] == inst) & (table["scale"] == scale)]
    return float(rows[rows["label"] == label]["saving"].iloc[0])


# --- the tables -------------------------------------------------------------------------


def test_mcp_savings_pair_on_the_instance_at_each_scale(study: list[Record]) -> None:
    table = mcp_savings(study)
    assert list(table.columns) == ["instance_id", "scale", "label", "saving", "mcp_valid"]
    assert saving(table, "a", 10.0, OPTIMUM) == pytest.approx((0.2 - 0.04) / 0.2)  # 0.8
    assert saving(table, "a", 1.0, OPTIMUM) == pytest.approx(0.2)  # (0.05 - 0.04) / 0.05
    assert saving(table, "c", 1.0, OPTIMUM) == pytest.approx(0.6)
    assert saving(table, "a", 1.0, "fin gamma=30 rounding=step") == pytest.approx(0.0)
    # against the invalid answer (it breaks the deadline): computed, and flagged
    assert saving(table, "b", 1.0, OPTIMUM) == pytest.approx(-1 / 3)
    flags = table.drop_duplicates(["instance_id", "scale"]).set_index(["instance_id", "scale"])
    assert not flags.loc[("b", 1.0), "mcp_valid"] and flags["mcp_valid"].sum() == 5
    # c's gamma=30 run has no answer: no row; per scale 3 optimum, 3 + 2 + 3 fin rows
    assert table.groupby("scale").size().to_dict() == {1.0: 11, 10.0: 11}


def test_fin_gamma_gaps_mean_max_and_the_share_at_the_optimum(study: list[Record]) -> None:
    table = fin_gamma_gaps(study).set_index(["rounding", "gamma"])
    step3, step30 = table.loc[("step", 3.0)], table.loc[("step", 30.0)]
    arc3 = table.loc[("arc", 3.0)]
    assert (step3["mean_gap"], step3["max_gap"], step3["at_optimum"]) == (0.0, 0.0, 1.0)
    assert step30["mean_gap"] == pytest.approx(0.125) and step30["max_gap"] == pytest.approx(0.25)
    assert (step30["instances"], step30["answered"]) == (3, 2)
    assert step30["at_optimum"] == pytest.approx(1 / 3)  # c unanswered: not at the optimum
    assert arc3["mean_gap"] == pytest.approx(0.5) and arc3["at_optimum"] == 0.0
    assert int(table["runs"].sum()) == 9


def test_runs_that_do_not_state_the_parameter_are_left_out() -> None:
    # the report reads records only: it does not guess a method's defaults
    records = [run("mcp", "a", 0.2), run("fin", "a", 0.05), fin("a", REF, 3)]
    assert mcp_savings(records).empty
    gaps = fin_gamma_gaps(records)
    assert gaps[["gamma"]].values.tolist() == [[3.0]]


# --- the figures ------------------------------------------------------------------------


def test_both_figures_with_their_counts_and_values(study: list[Record]) -> None:
    got = made(study)
    names = [f.name for f in plots.figures(study)]
    assert names.index("fin-gamma-gap") + 1 == names.index("mcp-savings")
    gap = got["fin-gamma-gap"]
    assert gap.runs == 9 and "From 9 runs on 3 instances" in gap.caption
    assert "at gamma=30 mean 12.5 %, max 25 %, at the optimum on 1 of 3" in gap.caption
    assert "1 instance-gamma pair without one" in gap.caption
    left = gap.figure.axes[0]
    lines = {ln.get_label(): ln for ln in left.get_lines()}
    assert list(lines["step mean"].get_ydata()) == pytest.approx([0.0, 12.5])
    assert list(lines["step max"].get_ydata()) == pytest.approx([0.0, 25.0])
    assert lines["step max"].get_markerfacecolor() == "none"
    savings = got["mcp-savings"]
    assert savings.runs == 6 + 8 and "from 14 runs on 3 instances" in savings.caption
    assert "0 of 3 at latency_scale=10, 1 of 3 at latency_scale=1" in savings.caption
    # the optimum: (0.8 * 3) / 3 = 80 % at 10; (0.2 - 1/3 + 0.6) / 3 = 15.6 % at 1
    assert "of the optimum: 80 % at latency_scale=10, 15.6 % at 1" in savings.caption
    panels = savings.figure.axes[:2]
    assert [ax.get_title() for ax in panels] == [
        "against mcp latency_scale=10",
        "against mcp latency_scale=1",
    ]
    for ax in panels:
        paper = [ln for ln in ax.get_lines() if ln.get_label() == "paper: > 65 %"]
        assert paper and list(paper[0].get_ydata()) == [PAPER_SAVING * 100] * 2
    assert len(plots.png_bytes(savings)) > 10_000 and len(plots.png_bytes(gap)) > 10_000


def test_no_figure_without_mcp_or_without_gamma_variety(study: list[Record]) -> None:
    no_mcp = [r for r in study if r.method != "mcp"]
    assert "mcp-savings" not in made(no_mcp) and "fin-gamma-gap" in made(no_mcp)
    one_gamma = [r for r in study if '"gamma":30' not in r.method_params]
    assert "fin-gamma-gap" not in made(one_gamma) and "mcp-savings" in made(one_gamma)
    unreferenced = [r.derive(reference=None, gap_to_reference=None) for r in study]
    assert not {"fin-gamma-gap", "mcp-savings"} & set(made(unreferenced))
    latency = [r.derive(objective_kind="latency") for r in study]
    assert paper_figures(latency, Palette.of([])) == []
    assert paper_figures([], Palette.of([])) == []


def test_missing_and_nan_numbers_crash_nothing(study: list[Record]) -> None:
    nan = math.nan
    odd = [
        run("mcp", "d", None, MCP10),  # no answer, no objective: not an MCP answer
        run("mcp", "d", 0.0, MCP1),  # zero energy: no saving defined
        run("mcp", "e", nan, MCP10),
        run("mcp", "f", 0.2, MCP10, reference=nan, gap_to_reference=nan),
        fin("d", nan, 3).derive(gap_to_reference=nan),
        fin("e", REF, 3).derive(gap_to_reference=nan),
        fin("f", 0.05, 30, "arc").derive(reference=nan),
        run("fin", "g", 0.05, '{"gamma":"big"}'),
    ]
    got = made(study + odd)
    assert {"fin-gamma-gap", "mcp-savings"} <= set(got)
    table = mcp_savings(study + odd)
    assert set(table["instance_id"]) == {"a", "b", "c", "f"} and table["saving"].notna().all()
    assert "on 3 instances" in got["mcp-savings"].caption  # f has no reference
    gaps = fin_gamma_gaps(study + odd)
    assert gaps["mean_gap"].notna().all() and int(gaps["runs"].sum()) == 9 + 2
    alone = made(odd)
    assert "mcp-savings" not in alone and "fin-gamma-gap" not in alone


# --- a real sweep -----------------------------------------------------------------------


def test_a_quick_fin_paper_sweep_gives_both_figures(tmp_path: Path) -> None:
    run_suite(load_suite("fin-paper").quick(), tmp_path, jobs=1)
    records, _ = load_records(tmp_path)
    got = made(records)
    assert {"fin-gamma-gap", "mcp-savings"} <= set(got)
    table = mcp_savings(records)
    optimum = table[(table["label"] == OPTIMUM) & (table["scale"] == 10.0)]
    energy = {r.instance_id for r in records if r.objective_kind == "energy"}
    assert len(optimum) == len(energy) > 0 and (optimum["saving"] > 0).all()
    for name in ("fin-gamma-gap", "mcp-savings"):
        fig = got[name]
        assert f"{fig.runs} runs on {len(energy)} instances" in fig.caption
