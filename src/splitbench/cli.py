"""The ``splitbench`` command line: parse, call one function, print.

Exit status: 0 done (an infeasible instance is a result), 2 bad input or usage
(one line naming the file and the field), 1 an internal failure or a method that
failed (termination ``error``), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from splitbench import __version__
from splitbench.errors import SplitbenchError, UsageError
from splitbench.evaluate import Evaluation
from splitbench.evaluate_multi import MultiEvaluation
from splitbench.families import FAMILIES, generate
from splitbench.harness import (
    builtin_suites,
    check_directory,
    compare_directories,
    load_suite,
    parse_thresholds,
    run_suite,
    write_junit,
    write_report,
)
from splitbench.instance import (
    InstanceError,
    MultiInstance,
    dumps_any,
    instance_id,
    load_any,
)
from splitbench.methods import METHODS, load_entry_points, load_plugin, solve
from splitbench.placement import MultiPlacement, Placement
from splitbench.solvers import describe_solvers, export_mps
from splitbench.status import Termination

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


_OUT: TextIO = sys.stdout
"""Where the command's own output goes; everything else that reaches stdout does not."""


def _emit(text: str) -> None:
    """Write the command's own output (the only thing that may reach stdout)."""
    _OUT.write(text if text.endswith("\n") else text + "\n")


def _flush_c_streams() -> None:
    with contextlib.suppress(Exception):  # no C library to flush: nothing buffered there
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def _guarded_stdout() -> Iterator[TextIO]:
    """Send whatever libraries print to stderr, keeping stdout for our own output.

    Solver libraries write to file descriptor 1 from C (highspy 1.16 prints a banner
    when a ``Highs`` object is made, before any option can silence it), and Python
    packages print to ``sys.stdout``. Both are redirected to stderr for the whole
    command; the command writes its results to a duplicate of the original stdout,
    so ``--json`` output stays one clean JSON document whatever a library prints.
    """
    try:
        real_fd = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        real_fd = -1
    if real_fd != 1:  # stdout is already not the process's fd 1 (a test capture): keep it
        saved_python = sys.stdout
        sys.stdout = sys.stderr
        try:
            yield saved_python
        finally:
            sys.stdout = saved_python
        return
    sys.stdout.flush()
    saved_fd = os.dup(1)
    out = open(saved_fd, "w", encoding="utf-8", closefd=True)  # noqa: SIM115
    saved_python = sys.stdout
    os.dup2(2, 1)
    # a stream of its own on fd 1 (now stderr), not the sys.stderr object itself:
    # output-capturing libraries (Pyomo's tee) deadlock when both names are one object
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    try:
        yield out
    finally:
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        sys.stdout = saved_python
        _flush_c_streams()
        with contextlib.suppress(BrokenPipeError):
            out.flush()
        with contextlib.suppress(OSError):
            os.dup2(out.fileno(), 1)
        with contextlib.suppress(BrokenPipeError, OSError):
            out.close()


def _key_values(pairs: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--param {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _printable(text: str) -> str:
    """``text`` with control characters escaped (node ids may hold line breaks or escapes)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _output_path(name: str) -> Path:
    """``-o NAME`` as a path that can be written, or a usage error naming it."""
    path = Path(name)
    if path.is_dir():
        raise UsageError(f"-o {name}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"-o {name}: the folder {str(path.parent)!r} does not exist")
    return path


def _format_value(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.6g} {unit}".rstrip()


def _load_plugins(args: argparse.Namespace) -> None:
    load_entry_points()
    for module in getattr(args, "plugin", None) or ():
        load_plugin(module)


def _cmd_solve(args: argparse.Namespace) -> int:
    _load_plugins(args)
    instance = load_any(args.instance)
    solution = solve(
        instance,
        args.method,
        solver=args.solver,
        time_limit_s=args.time_limit,
        params=_key_values(args.param),
    )
    status = {Termination.ERROR: EXIT_FAILURE, Termination.INTERRUPTED: EXIT_INTERRUPTED}.get(
        solution.termination, EXIT_OK
    )
    if args.json:
        _emit(json.dumps(solution.to_dict(), indent=2, allow_nan=False, default=str))
        return status
    ev = solution.evaluation
    lines = [
        f"instance     {_printable(solution.instance)}",
        f"method       {solution.method}" + (f" ({solution.solver})" if solution.solver else ""),
        f"status       {solution.status.value} (termination: {solution.termination.value}, "
        f"exact: {'yes' if solution.exact else 'no'})",
    ]
    if solution.reason:
        lines.append(f"reason       {_printable(solution.reason)}")
    if (
        isinstance(ev, Evaluation)
        and isinstance(solution.placement, Placement)
        and not isinstance(instance, MultiInstance)
    ):
        objective = instance.request.objective.value
        lines += [
            f"objective    {_format_value(ev.objective, 'J' if objective == 'energy' else 's')}"
            f" ({objective})",
            f"latency      {_format_value(ev.latency_s, 's')}",
            f"energy       {_format_value(ev.energy_j, 'J')}",
            f"accuracy     {_format_value(ev.accuracy, '')}",
            f"feasible     {'yes' if ev.feasible else 'no'}",
            f"blocks       {_printable(' '.join(solution.placement.blocks))} (exit after block "
            f"{solution.placement.exit})",
        ]
    elif (
        isinstance(ev, MultiEvaluation)
        and isinstance(solution.placement, MultiPlacement)
        and isinstance(instance, MultiInstance)
    ):
        objective = instance.objective.value
        unit = "W" if objective == "energy" else "s"
        lines += [
            f"objective    {_format_value(ev.objective, unit)} ({objective}, "
            f"{len(ev.requests)} requests)",
            f"feasible     {'yes' if ev.feasible else 'no'}",
            f"utilisation  node {_format_value(ev.max_node_utilization, '')}, "
            f"arc {_format_value(ev.max_arc_utilization, '')} (largest)",
        ]
        for rid, one in ev.requests:
            placed = solution.placement[rid]
            lines.append(
                f"request      {_printable(rid)}: {_printable(' '.join(placed.blocks))} "
                f"(exit {placed.exit}), latency {_format_value(one.latency_s, 's')}, "
                f"energy {_format_value(one.energy_j, 'J')}"
            )
    if ev is not None:
        lines += [f"violation    {_printable(v)}" for v in ev.violations]
    if solution.bound is not None:
        lines.append(f"bound        {solution.bound:.6g}")
    lines.append(
        f"time         {solution.build_time_s + solution.solve_time_s:.3g} s "
        f"(build {solution.build_time_s:.3g}, solve {solution.solve_time_s:.3g}, "
        f"verify {solution.verify_time_s:.3g})"
    )
    _emit("\n".join(lines))
    return status


def _cmd_validate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.instances:
        try:
            instance = load_any(path)
        except InstanceError as err:
            print(err, file=sys.stderr)
            status = EXIT_USAGE
            continue
        net = instance.network
        if isinstance(instance, MultiInstance):
            what = f"{len(instance.requests)} requests, {len(instance.dnns)} DNNs"
        else:
            what = f"{instance.dnn.n_blocks} blocks"
        _emit(
            f"{path}: ok ({what}, {len(net.nodes)} nodes, {len(net.arcs)} arcs, "
            f"id {instance_id(instance)})"
        )
    return status


def _cmd_generate(args: argparse.Namespace) -> int:
    instance = generate(args.family, _key_values(args.param), seed=args.seed)
    text = dumps_any(instance) + "\n"
    if args.output:
        _output_path(args.output).write_text(text, encoding="utf-8")
        _emit(f"wrote {args.output} ({_printable(instance.name)})")
    else:
        _OUT.write(text)
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    instance = load_any(args.instance)
    target = _output_path(args.output or f"{instance_id(instance)[:12]}-{args.formulation}.mps")
    milp = export_mps(instance, args.formulation, target, relax=args.relax)
    _emit(
        f"wrote {target} ({args.formulation}{' LP relaxation' if args.relax else ''}: "
        f"{milp.n_vars} variables, {milp.n_rows} rows)"
    )
    return EXIT_OK


DEFAULT_SUITE = "smoke"
"""The suite ``splitbench run`` runs when none is named."""


def _cmd_run(args: argparse.Namespace) -> int:
    _load_plugins(args)
    suite = load_suite(args.suite)
    if args.quick:
        suite = suite.quick()
    default = suite.name + ("-quick" if args.quick else "")
    output = Path(args.output or Path("splitbench-results") / default)
    if output.exists() and not output.is_dir():
        raise UsageError(f"-o {output}: is a file; give a folder")
    summary = run_suite(
        suite,
        output,
        jobs=args.jobs,
        time_limit_s=args.time_limit,
        resume=args.resume,
        executor=args.executor,
        scheduler=args.scheduler,
        plugins=args.plugin or (),
    )
    _emit(summary.text())
    if not args.no_report:
        _emit(write_report(output).text())
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    formats = (args.format,) if args.format else ("html", "md")
    out = Path(args.output) if args.output else None
    if out is not None and out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: is a file; give a folder")
    files = write_report(args.directory, out=out, formats=formats, compare_with=args.compare)
    _emit(files.text())
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    result = check_directory(
        args.directory,
        max_gap=parse_thresholds(args.max_gap or ()),
        allow_errors=args.allow_errors,
    )
    if args.junit:
        write_junit(result, _output_path(args.junit))
    _emit(result.summary())
    return EXIT_OK if result.ok else EXIT_FAILURE


def _cmd_compare(args: argparse.Namespace) -> int:
    comparison = compare_directories(
        args.dir_a,
        args.dir_b,
        max_time_ratio=args.max_time_ratio,
        max_gap_increase=args.max_gap_increase,
    )
    _emit(comparison.summary())
    return EXIT_OK if comparison.ok else EXIT_FAILURE


def _list_solvers() -> None:

    for name, available, detail in describe_solvers():
        state = f"available {detail}".rstrip() if available else f"not available: {detail}"
        _emit(f"{name:20s} {state}")


def _cmd_list(args: argparse.Namespace) -> int:
    what = args.what
    _load_plugins(args)
    if what == "solvers":
        _list_solvers()
    elif what == "methods":
        for spec in METHODS.values():
            params = ", ".join(f"{k}={p.default}" for k, p in spec.all_params.items())
            extra = " [solver]" if spec.uses_solver else ""
            _emit(
                f"{spec.name:16s} {spec.description}{extra}"
                + (f" (params: {params})" if params else "")
            )
    elif what == "families":
        for family in FAMILIES.values():
            _emit(f"{family.name:14s} {family.description}")
            for key, param in family.params.items():
                _emit(f"    {key:14s} {param.help} (default {param.default!r})")
    elif what == "suites":
        for name, path in builtin_suites().items():
            _emit(f"{name:16s} {load_suite(path).description}")
    return EXIT_OK


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="splitbench", description="Benchmark DNN split-and-placement methods.")
    parser.add_argument("--version", action="version", version=f"splitbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("solve", help="solve one instance with one method")
    p.add_argument("instance", help="instance file (JSON)")
    p.add_argument("--method", required=True, help="method name (see 'splitbench list methods')")
    p.add_argument("--solver", default=None, help="MILP backend for solver-based methods")
    p.add_argument("--time-limit", type=float, default=None, metavar="SEC")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="method parameter")
    p.add_argument("--json", action="store_true", help="print the solution as JSON")
    p.add_argument(
        "--plugin", action="append", metavar="MODULE", help="import MODULE's methods first"
    )
    p.set_defaults(func=_cmd_solve)

    p = sub.add_parser("validate", help="check instance files")
    p.add_argument("instances", nargs="+", metavar="INSTANCE")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("generate", help="generate an instance of a family")
    p.add_argument("family", help="family name (see 'splitbench list families')")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="family parameter")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", default=None, metavar="FILE")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("list", help="list methods, solvers, families or suites")
    p.add_argument(
        "what", nargs="?", default="methods", choices=["methods", "solvers", "families", "suites"]
    )
    p.add_argument(
        "--plugin", action="append", metavar="MODULE", help="import MODULE's methods first"
    )
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("run", help="run a benchmark suite into a results folder")
    p.add_argument(
        "suite",
        nargs="?",
        default=DEFAULT_SUITE,
        help=f"a built-in suite (see 'splitbench list suites') or a TOML file "
        f"(default {DEFAULT_SUITE})",
    )
    p.add_argument(
        "-o", "--output", default=None, metavar="DIR", help="default splitbench-results/SUITE"
    )
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="runs at once (default 1)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SEC")
    p.add_argument("--resume", action="store_true", help="go on with a folder's recorded runs")
    p.add_argument("--executor", default="local", choices=["local", "dask"])
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="a Dask scheduler")
    p.add_argument(
        "--plugin", action="append", metavar="MODULE", help="import MODULE's methods first"
    )
    p.add_argument("--no-report", action="store_true", help="do not write the report")
    p.add_argument(
        "--quick",
        action="store_true",
        help="the suite's reduced variant: without its tables marked quick = false",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("report", help="write the HTML and Markdown report of a results folder")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--format", choices=["html", "md"], default=None, help="default: both")
    p.add_argument("-o", "--output", default=None, metavar="PATH", help="default DIR/report")
    p.add_argument("--compare", default=None, metavar="DIR_B", help="add the comparison with DIR_B")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("check", help="fail (exit 1) on wrong answers in a results folder")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--junit", default=None, metavar="FILE", help="write JUnit XML")
    p.add_argument(
        "--max-gap",
        action="append",
        metavar="METHOD=GAP",
        help="fail when METHOD's gap to the optimum exceeds GAP (a bare GAP: every heuristic)",
    )
    p.add_argument(
        "--allow-errors", action="store_true", help="do not fail on runs that raised or died"
    )
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("compare", help="time and gap ratios between two results folders")
    p.add_argument("dir_a", metavar="DIR_A", help="the baseline")
    p.add_argument("dir_b", metavar="DIR_B", help="the candidate")
    p.add_argument(
        "--max-time-ratio",
        type=float,
        default=2.0,
        metavar="R",
        help="fail when a method is more than R times slower in DIR_B (default 2)",
    )
    p.add_argument(
        "--max-gap-increase",
        type=float,
        default=1e-6,
        metavar="G",
        help="fail when a method's mean gap grows by more than G (default 1e-6)",
    )
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("export", help="write an instance's MILP as an MPS file")
    p.add_argument("instance", help="instance file (JSON, format 1 or 2)")
    p.add_argument("--formulation", required=True, help="assignment or routing")
    p.add_argument("--relax", action="store_true", help="write the LP relaxation")
    p.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE.mps",
        help="output file (default: ID-FORMULATION.mps in the working folder)",
    )
    p.set_defaults(func=_cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    global _OUT
    try:
        with _guarded_stdout() as out:
            _OUT = out
            try:
                return func(args)
            finally:
                _OUT = sys.stdout
    except SplitbenchError as err:
        print(f"splitbench: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except OSError as err:  # a full disk, a closed or unwritable output
        where = err.filename or "standard output"
        print(f"splitbench: error: {where}: cannot write: {err.strerror or err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("splitbench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # an internal failure: say so in one line, status 1
        print(f"splitbench: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
