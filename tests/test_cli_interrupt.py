"""Ctrl-C during a solve: one line, exit status 130, the solver stopped (a real process),
no solver process and no temporary file left.

Not covered: ``pyomo-highs`` (and ``pyomo:highs``), where Pyomo runs HiGHS inside the
process and holds the interpreter until the solve returns, so Ctrl-C is acted on only
then (running that solve in a worker thread to see Ctrl-C earlier made HiGHS abort the
process).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from splitbench.families.tiny import graph_chain
from splitbench.instance import save_instance

CASES = {
    # energy with a binding deadline, 60 blocks over 60 nodes: the solvers branch for seconds
    "routing-milp/highs": (60, ["--method", "routing-milp", "--solver", "highs"]),
    "routing-milp/cbc": (60, ["--method", "routing-milp", "--solver", "cbc"]),
    "routing-milp/pyomo:cbc": (60, ["--method", "routing-milp", "--solver", "pyomo:cbc"]),
    # 10 blocks over 10 nodes: about 10^10 candidates to enumerate
    "exhaustive": (10, ["--method", "exhaustive", "--param", "max_candidates=1000000000000"]),
}


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain ``text`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in command:
            found.append(command)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads running processes from /proc")
@pytest.mark.parametrize("case", sorted(CASES))
def test_ctrl_c_stops_the_solve_with_one_line(tmp_path: Path, case: str) -> None:
    size, args = CASES[case]
    path = tmp_path / "chain.json"
    save_instance(graph_chain(size, size, 3), path)
    scratch = tmp_path / "tmp"  # the solvers' temporary files go here, and must go
    scratch.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "splitbench", "solve", str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, TMPDIR=str(scratch)),
    )
    time.sleep(4.0)
    if process.poll() is not None:
        pytest.fail(f"{case} finished before the interrupt: {process.communicate()}")
    sent = time.perf_counter()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    stopped_after = time.perf_counter() - sent
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "splitbench: interrupted", err
    assert stopped_after < 10.0, f"the solve went on for {stopped_after:.1f} s after Ctrl-C"
    assert processes_mentioning(str(scratch)) == []  # no solver process left running
    assert list(scratch.iterdir()) == []  # no temporary file left behind
