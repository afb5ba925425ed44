"""The documented loader: a results folder as a pandas DataFrame, with the environment.

Examples
--------
>>> import tempfile
>>> from splitbench.harness.store import ResultStore
>>> from splitbench.harness.record import Record
>>> folder = tempfile.mkdtemp()
>>> with ResultStore(folder) as store:
...     store.open(resume=False)
...     store.append(Record(run_id="r1", instance_id="i", method="exhaustive", exact=True,
...                         status="optimal", feasible=True, objective=2.0))
...     store.append(Record(run_id="r2", instance_id="i", method="fin",
...                         status="feasible", feasible=True, objective=2.5))
>>> results = load_results(folder)
>>> results.records[["method", "gap_to_reference"]].to_dict("records")
[{'method': 'exhaustive', 'gap_to_reference': 0.0}, {'method': 'fin', 'gap_to_reference': 0.25}]
"""

from __future__ import annotations

from pathlib import Path

from splitbench.harness import store
from splitbench.harness.metrics import derive
from splitbench.harness.record import Record

__all__ = ["load_records", "load_results"]


def load_records(directory: str | Path) -> tuple[list[Record], dict[str, object]]:
    """The records of a results folder with the derived fields, and its environment.

    It reads ``results.parquet`` when that is up to date, else ``records.jsonl`` (a
    sweep that is still running or was killed), deriving the reference optimum,
    the gaps and the disagreement flags the same way.
    """
    return store.load_records(directory, derive=derive)


def load_results(directory: str | Path) -> store.Results:
    """The records of a results folder as a pandas DataFrame, and its environment.

    Parameters
    ----------
    directory : path
        A folder written by ``splitbench run``.

    Returns
    -------
    Results
        ``records``: one row per run, one column per record field (ARCHITECTURE.md's
        result record: ``method``, ``family``, ``status``, ``objective``,
        ``reference``, ``gap_to_reference``, ``solve_time_s``, ...);
        ``environment``: Python, platform, CPU, package versions and commits.

    Raises
    ------
    UsageError
        For a folder without results.
    """
    return store.load_results(directory, derive=derive)
