"""The benchmark harness: suites, the isolated resumable runner, records, CI gates.

- :func:`load_suite` reads a suite (built-in name or TOML file);
- :func:`run_suite` runs it into a results folder (JSON lines, then parquet);
- :func:`load_results` gives the records as a pandas DataFrame, with the environment;
- :func:`check_directory` and :func:`compare_directories` are the CI gates.

Examples
--------
>>> sorted(builtin_suites())  # doctest: +NORMALIZE_WHITESPACE
['fin-multi-paper', 'fin-paper', 'multi-agreement', 'multi-scaling', 'routing-paper',
 'scaling', 'smoke']
"""

from splitbench.harness.check import (
    CheckResult,
    Problem,
    check_directory,
    check_records,
    parse_thresholds,
    write_junit,
)
from splitbench.harness.compare import Comparison, compare_directories, compare_records
from splitbench.harness.executors import DaskExecutor, IsolatedWorker, LocalExecutor
from splitbench.harness.metrics import derive, references
from splitbench.harness.record import Record, RunTask
from splitbench.harness.report import ReportFiles, write_report
from splitbench.harness.results import load_records, load_results
from splitbench.harness.runner import SweepSummary, plan, run_suite
from splitbench.harness.store import Results, ResultStore
from splitbench.harness.suite import Suite, builtin_suites, load_suite, parse_suite

__all__ = [
    "CheckResult",
    "Comparison",
    "DaskExecutor",
    "IsolatedWorker",
    "LocalExecutor",
    "Problem",
    "Record",
    "ReportFiles",
    "ResultStore",
    "Results",
    "RunTask",
    "Suite",
    "SweepSummary",
    "builtin_suites",
    "check_directory",
    "check_records",
    "compare_directories",
    "compare_records",
    "derive",
    "load_records",
    "load_results",
    "load_suite",
    "parse_suite",
    "parse_thresholds",
    "plan",
    "references",
    "run_suite",
    "write_junit",
    "write_report",
]
