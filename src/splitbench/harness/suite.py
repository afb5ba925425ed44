"""Suites: what a sweep runs, read from a TOML file and checked before any run.

A suite names instance families with parameter grids and seeds (or instance files),
methods with parameter grids, solvers, a time limit and repetitions. Its keys are
the command line's option names (``time-limit``, ``solver``, ``param``, ``seed``,
``plugin``); a list in ``param`` is a grid, a scalar is fixed::

    description = "FIN against the optimum on the FIN scenario"
    time-limit = 30          # seconds per run (the command line's --time-limit wins)
    repetitions = 1
    solver = ["highs", "cbc"]            # for methods that use a MILP solver

    [[families]]
    family = "fin-branchy"
    param = { dnn = ["b-alexnet", "b-resnet"], min_accuracy = [0.6, 0.8] }
    seed = 0                 # an integer, a list, or { start = 0, count = 10 }

    [[methods]]
    method = ["exhaustive", "label-setting"]

    [[methods]]
    method = "fin"
    param = { gamma = [3, 10, 30] }
    quick = false            # left out of the reduced variant (splitbench run --quick)

Any ``[[families]]`` or ``[[methods]]`` table may say ``quick = false``: the reduced
variant of the suite (:meth:`Suite.quick`, ``splitbench run SUITE --quick``) leaves it
out, so one file holds a full study and the short run CI can afford.

A mistake is a :class:`~splitbench.errors.UsageError` of one line naming the file
and the key (``smoke.toml: methods[2].method: unknown method 'fn' ...``).

Examples
--------
>>> suite = load_suite("smoke")
>>> suite.name, suite.time_limit_s > 0
('smoke', True)
>>> parse_suite('time-limit = -1', "demo.toml")
Traceback (most recent call last):
...
splitbench.errors.UsageError: demo.toml: time-limit: must be a positive number of seconds
"""

from __future__ import annotations

import glob
import importlib.resources
import itertools
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from splitbench.errors import SplitbenchError, UsageError
from splitbench.families import FAMILIES
from splitbench.methods import find_method, load_plugin
from splitbench.params import parse_params
from splitbench.solvers.registry import make_solver

__all__ = [
    "DEFAULT_TIME_LIMIT_S",
    "FamilyEntry",
    "MethodEntry",
    "Suite",
    "builtin_suites",
    "load_suite",
    "parse_suite",
]

DEFAULT_TIME_LIMIT_S = 60.0
"""The time limit of a run when neither the suite nor the command line sets one."""

_TOP_KEYS = (
    "description",
    "time-limit",
    "repetitions",
    "solver",
    "plugin",
    "instances",
    "families",
    "methods",
)
_FAMILY_KEYS = ("family", "param", "seed", "quick")
_METHOD_KEYS = ("method", "param", "solver", "time-limit", "quick")

Grid = Mapping[str, tuple[Any, ...]]
"""Parameter name to the values it takes (one value: fixed)."""


@dataclass(frozen=True)
class FamilyEntry:
    """One ``[[families]]`` table: a family, its parameter grid and seeds."""

    family: str
    grid: Grid
    seeds: tuple[int, ...]
    quick: bool = True

    def points(self) -> Iterator[dict[str, Any]]:
        """Every parameter combination of the grid."""
        yield from _points(self.grid)


@dataclass(frozen=True)
class MethodEntry:
    """One ``[[methods]]`` table: methods sharing a parameter grid and solvers."""

    methods: tuple[str, ...]
    grid: Grid
    solvers: tuple[str, ...] | None
    time_limit_s: float | None
    quick: bool = True

    def points(self) -> Iterator[dict[str, Any]]:
        """Every parameter combination of the grid."""
        yield from _points(self.grid)


@dataclass(frozen=True)
class Suite:
    """A checked suite.

    Attributes
    ----------
    name : str
        The file's stem (``smoke`` for ``smoke.toml``).
    path : Path or None
        The file (None for a suite given as text).
    description : str
        One line for ``splitbench list suites``.
    time_limit_s : float
        Seconds per run.
    repetitions : int
        How often each run is repeated (for timing noise).
    solvers : tuple of str
        The backends of solver-based methods (a method table may override them).
    plugins : tuple of str
        Modules to import for user methods (as ``--plugin``).
    instance_files : tuple of Path
        Instance files run beside the families.
    families, methods : tuple
        The ``[[families]]`` and ``[[methods]]`` tables.
    """

    name: str
    path: Path | None
    description: str
    time_limit_s: float
    repetitions: int
    solvers: tuple[str, ...]
    plugins: tuple[str, ...]
    instance_files: tuple[Path, ...]
    families: tuple[FamilyEntry, ...]
    methods: tuple[MethodEntry, ...]

    def quick(self) -> Suite:
        """The reduced variant: without the tables that say ``quick = false``.

        Examples
        --------
        >>> text = '''
        ... [[families]]
        ... family = "tiny"
        ... seed = { start = 0, count = 3 }
        ... [[families]]
        ... family = "tiny"
        ... seed = { start = 3, count = 30 }
        ... quick = false
        ... [[methods]]
        ... method = "exhaustive"
        ... '''
        >>> suite = parse_suite(text, "demo.toml")
        >>> len(suite.families), len(suite.quick().families)
        (2, 1)
        """
        families = tuple(f for f in self.families if f.quick)
        methods = tuple(m for m in self.methods if m.quick)
        if not methods or not (families or self.instance_files):
            raise UsageError(f"suite {self.name!r}: its quick variant leaves nothing to run")
        return replace(self, families=families, methods=methods)


def _quick(table: Mapping[str, Any], where: _Where) -> bool:
    value = table.get("quick", True)
    if not isinstance(value, bool):
        raise where.at("quick").error("expected true or false")
    return value


def _points(grid: Grid) -> Iterator[dict[str, Any]]:
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, values, strict=True))


class _Where:
    """The file and key a message names."""

    def __init__(self, source: str, key: str = "") -> None:
        self.source, self.key = source, key

    def at(self, key: str) -> _Where:
        return _Where(self.source, f"{self.key}.{key}" if self.key else key)

    def error(self, message: str) -> UsageError:
        return UsageError(f"{self.source}: {self.key}: {message}" if self.key else message)


def _table(value: Any, where: _Where, keys: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise where.error(f"expected a table, got {type(value).__name__}")
    for key in value:
        if key not in keys:
            raise where.at(key).error(f"unknown key (known: {', '.join(keys)})")
    return value


def _names(value: Any, where: _Where) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise where.error("expected a name or a list of names")
    if len(set(items)) != len(items):
        raise where.error("names a value twice")
    return tuple(items)


def _grid(value: Any, where: _Where) -> dict[str, tuple[Any, ...]]:
    grid: dict[str, tuple[Any, ...]] = {}
    for key, raw in _table(value, where, list(value) if isinstance(value, Mapping) else ()).items():
        values = tuple(raw) if isinstance(raw, list) else (raw,)
        if not values:
            raise where.at(key).error("an empty list gives no run")
        for item in values:
            if not isinstance(item, str | int | float | bool):
                raise where.at(key).error(f"expected a value or a list of values, got {item!r}")
        grid[key] = values
    return grid


def _seeds(value: Any, where: _Where) -> tuple[int, ...]:
    if isinstance(value, Mapping):
        _table(value, where, ("start", "count"))
        start, count = value.get("start", 0), value.get("count")
        if not isinstance(start, int) or not isinstance(count, int) or start < 0 or count < 1:
            raise where.error("expected { start = N >= 0, count = N >= 1 }")
        return tuple(range(start, start + count))
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(s, int) and not isinstance(s, bool) for s in items):
        raise where.error("expected a seed, a list of seeds, or { start, count }")
    if any(s < 0 for s in items):
        raise where.error("seeds are whole numbers >= 0")
    if len(set(items)) != len(items):
        raise where.error("names a seed twice")
    return tuple(items)


def _time_limit(value: Any, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise where.error("must be a positive number of seconds")
    if value == float("inf"):
        raise where.error("must be a positive number of seconds")
    return float(value)


def _check_grid(where: _Where, owner: str, specs: Mapping[str, Any], grid: Grid) -> None:
    for point in _points(grid):
        try:
            parse_params(owner, specs, point)
        except UsageError as err:
            raise where.error(str(err)) from None


def _family_entry(value: Any, where: _Where) -> FamilyEntry:
    table = _table(value, where, _FAMILY_KEYS)
    if "family" not in table:
        raise where.at("family").error("missing")
    (name,) = _names(table["family"], where.at("family"))
    if name not in FAMILIES:
        raise where.at("family").error(FAMILIES.unknown_message(name))
    family = FAMILIES.get(name)
    grid = _grid(table.get("param", {}), where.at("param"))
    for point in _points(grid):
        try:
            family.check_values(parse_params(f"family {name!r}", family.params, point))
        except UsageError as err:
            raise where.at("param").error(str(err)) from None
    seeds = _seeds(table.get("seed", 0), where.at("seed"))
    return FamilyEntry(name, grid, seeds, _quick(table, where))


def _method_entry(value: Any, where: _Where) -> MethodEntry:
    table = _table(value, where, _METHOD_KEYS)
    if "method" not in table:
        raise where.at("method").error("missing")
    names = _names(table["method"], where.at("method"))
    grid = _grid(table.get("param", {}), where.at("param"))
    for name in names:
        try:
            spec = find_method(name)
        except SplitbenchError as err:
            raise where.at("method").error(str(err)) from None
        _check_grid(where.at("param"), f"method {name!r}", spec.all_params, grid)
    solvers = None
    if "solver" in table:
        solvers = _names(table["solver"], where.at("solver"))
        _check_solvers(solvers, where.at("solver"))
    limit = None
    if "time-limit" in table:
        limit = _time_limit(table["time-limit"], where.at("time-limit"))
    return MethodEntry(names, grid, solvers, limit, _quick(table, where))


def _check_solvers(names: Sequence[str], where: _Where) -> None:
    for name in names:
        try:
            make_solver(name)  # a known name; whether it can run here is the runner's business
        except SplitbenchError as err:
            raise where.error(str(err)) from None


def _instance_files(value: Any, where: _Where, base: Path) -> tuple[Path, ...]:
    patterns = _names(value, where)
    found: list[Path] = []
    for pattern in patterns:
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        matches = sorted(glob.glob(full))
        if not matches:
            raise where.error(f"{pattern!r} matches no file")
        found.extend(Path(m) for m in matches)
    return tuple(dict.fromkeys(found))


def parse_suite(text: str, source: str, *, name: str | None = None) -> Suite:
    """Read and check a suite given as TOML text.

    Parameters
    ----------
    text : str
        The TOML.
    source : str
        The file name for messages (instance files are found relative to it).
    name : str, optional
        The suite's name (default: the stem of ``source``).

    Raises
    ------
    UsageError
        For invalid TOML, an unknown key, an unknown family, method, parameter or
        solver, or a value of the wrong kind; the message names the file and the key.
    """
    where = _Where(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{source}: not valid TOML: {err}") from None
    _table(data, _Where(source, ""), _TOP_KEYS)
    plugins: tuple[str, ...] = ()
    if "plugin" in data:
        plugins = _names(data["plugin"], where.at("plugin"))
    for module in plugins:
        try:
            load_plugin(module)
        except SplitbenchError as err:
            raise where.at("plugin").error(str(err)) from None
    description = data.get("description", "")
    if not isinstance(description, str):
        raise where.at("description").error("expected text")
    limit = DEFAULT_TIME_LIMIT_S
    if "time-limit" in data:
        limit = _time_limit(data["time-limit"], where.at("time-limit"))
    repetitions = data.get("repetitions", 1)
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or repetitions < 1:
        raise where.at("repetitions").error("must be a whole number >= 1")
    solvers = _names(data.get("solver", "highs"), where.at("solver"))
    _check_solvers(solvers, where.at("solver"))
    base = Path(source).parent
    files: tuple[Path, ...] = ()
    if "instances" in data:
        files = _instance_files(data["instances"], where.at("instances"), base)
    families = tuple(
        _family_entry(t, where.at(f"families[{i}]"))
        for i, t in enumerate(_array(data, "families", where))
    )
    methods = tuple(
        _method_entry(t, where.at(f"methods[{i}]"))
        for i, t in enumerate(_array(data, "methods", where))
    )
    if not methods:
        raise where.at("methods").error("a suite needs at least one [[methods]] table")
    if not families and not files:
        raise where.at("families").error("a suite needs [[families]] tables or instances")
    return Suite(
        name=name or Path(source).stem,
        path=None,
        description=description,
        time_limit_s=limit,
        repetitions=repetitions,
        solvers=solvers,
        plugins=plugins,
        instance_files=files,
        families=families,
        methods=methods,
    )


def _array(data: Mapping[str, Any], key: str, where: _Where) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise where.at(key).error(f"expected [[{key}]] tables")
    return value


def builtin_suites() -> dict[str, Path]:
    """The suites shipped in ``splitbench/data/suites``, by name.

    Examples
    --------
    >>> "smoke" in builtin_suites()
    True
    """
    folder = importlib.resources.files("splitbench") / "data" / "suites"
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            found[entry.name[: -len(".toml")]] = Path(str(entry))
    return dict(sorted(found.items()))


def load_suite(name_or_path: str | Path) -> Suite:
    """A built-in suite by name, or a suite file by path.

    Raises
    ------
    UsageError
        For a name that is neither a built-in suite nor a readable file, or a suite
        with a mistake (see :func:`parse_suite`).
    """
    builtin = builtin_suites()
    text_name = str(name_or_path)
    if text_name in builtin and not Path(text_name).exists():
        path = builtin[text_name]
    else:
        path = Path(name_or_path)
        if not path.is_file():
            known = ", ".join(builtin)
            raise UsageError(
                f"{text_name}: no such suite file or built-in suite (built-in: {known})"
            )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read: {err}") from None
    return replace(parse_suite(text, str(path), name=path.stem), path=path)
