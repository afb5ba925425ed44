"""Ctrl-C during a solve: one line, exit status 130, the solver stopped (a real process)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from splitbench.families.tiny import graph_chain
from splitbench.instance import save_instance

CASES = {
    # energy with a binding deadline, 60 blocks over 60 nodes: HiGHS branches for seconds
    "routing-milp": (60, []),
    # 10 blocks over 10 nodes: about 10^10 candidates to enumerate
    "exhaustive": (10, ["--param", "max_candidates=1000000000000"]),
}


@pytest.mark.parametrize("method", sorted(CASES))
def test_ctrl_c_stops_the_solve_with_one_line(tmp_path: Path, method: str) -> None:
    size, extra = CASES[method]
    path = tmp_path / "chain.json"
    save_instance(graph_chain(size, size, 3), path)
    process = subprocess.Popen(
        [sys.executable, "-m", "splitbench", "solve", str(path), "--method", method, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4.0)
    if process.poll() is not None:
        pytest.fail(f"{method} finished before the interrupt: {process.communicate()}")
    sent = time.perf_counter()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    stopped_after = time.perf_counter() - sent
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "splitbench: interrupted", err
    assert stopped_after < 10.0, f"the solve went on for {stopped_after:.1f} s after Ctrl-C"
