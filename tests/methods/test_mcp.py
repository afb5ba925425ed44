"""The MCP baseline against the FIN authors' numbers (their code run on their scenario).

With ``latency_scale = 10`` (their code's latencies) the walk never stops on the
published B-AlexNet sweeps: MD, ES, CS, CS, CS with the final exit, 199.2 mJ, at all 29
points. With looser deadlines (13-15 ms) and targets exit 1 can meet (A <= 55 %) it
stops after block 1: 12.34 mJ with exit 1. With true latencies it stops whenever exit 1
meets the target and the deadline leaves slack.
"""

from __future__ import annotations

import pytest

from splitbench.families import generate
from splitbench.instance import Instance
from splitbench.methods import solve

AUTHORS = {"latency_scale": 10}
ACCURACY_SWEEP = [a / 100 for a in range(10, 90, 5)]  # at T = 5 ms
DEADLINE_SWEEP = [t / 1000 for t in range(3, 16)]  # at A = 80 %


def alexnet(deadline_s: float, min_accuracy: float, dnn: str = "b-alexnet") -> Instance:
    return generate(
        "fin-branchy", {"dnn": dnn, "deadline_s": deadline_s, "min_accuracy": min_accuracy}
    )


PUBLISHED = [(0.005, a) for a in ACCURACY_SWEEP] + [(t, 0.8) for t in DEADLINE_SWEEP]


def test_the_published_sweeps_have_29_points() -> None:
    assert len(PUBLISHED) == 29


@pytest.mark.parametrize(("deadline_s", "min_accuracy"), PUBLISHED)
def test_authors_scale_gives_their_baseline_at_every_published_point(
    deadline_s: float, min_accuracy: float
) -> None:
    sol = solve(alexnet(deadline_s, min_accuracy), "mcp", params=AUTHORS)
    assert sol.placement is not None
    assert sol.placement.blocks == ("md", "es", "cs", "cs", "cs")
    assert sol.placement.exit == 5  # the third exit
    assert sol.objective == pytest.approx(0.1992, abs=5e-5)


@pytest.mark.parametrize("deadline_s", [0.013, 0.014, 0.015])
@pytest.mark.parametrize("min_accuracy", [0.1, 0.3, 0.5, 0.55])
def test_authors_scale_stops_after_block_1_with_slack(
    deadline_s: float, min_accuracy: float
) -> None:
    sol = solve(alexnet(deadline_s, min_accuracy), "mcp", params=AUTHORS)
    assert sol.placement is not None
    assert sol.placement.blocks == ("md",) and sol.placement.exit == 1
    assert sol.objective == pytest.approx(0.01234, abs=5e-6)
    assert sol.info["mcp_stopped_before_block"] == 2


@pytest.mark.parametrize("min_accuracy", [0.6, 0.8])
def test_authors_scale_goes_on_when_exit_1_misses_the_target(min_accuracy: float) -> None:
    sol = solve(alexnet(0.014, min_accuracy), "mcp", params=AUTHORS)
    assert sol.placement is not None and len(sol.placement.blocks) > 1


def test_authors_scale_goes_on_at_12_ms() -> None:
    sol = solve(alexnet(0.012, 0.5), "mcp", params=AUTHORS)
    assert sol.placement is not None and sol.placement.blocks == ("md", "es", "cs", "cs", "cs")


def test_true_latencies_stop_after_block_1_at_5_ms_when_exit_1_suffices() -> None:
    sol = solve(alexnet(0.005, 0.5), "mcp")
    assert sol.placement is not None and sol.placement.blocks == ("md",)
    assert sol.feasible  # 2.06 ms on the device meets the 5 ms deadline
    optimum = solve(alexnet(0.005, 0.5), "label-setting")
    assert sol.objective == pytest.approx(optimum.objective, rel=1e-9)


def test_b_lenet_stops_after_block_1_since_exit_1_meets_every_target() -> None:
    sol = solve(alexnet(0.005, 0.9, dnn="b-lenet"), "mcp")
    assert sol.placement is not None and sol.placement.blocks == ("md",)


def test_the_walk_ignores_the_deadline_and_the_evaluator_says_so() -> None:
    sol = solve(alexnet(0.0021, 0.8), "mcp", params=AUTHORS)  # 2.06 ms on MD alone
    assert sol.status.value == "invalid"
    assert any("deadline" in v for v in sol.violations)
