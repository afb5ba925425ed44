"""A results folder: the records of a sweep, as they come and once consolidated.

``records.jsonl`` holds one :class:`~splitbench.harness.record.Record` per line,
appended and flushed as each run ends (a killed sweep loses no finished run; a torn
last line is ignored when read and cut off on ``--resume``). ``environment.json``
says where the sweep ran. ``results.parquet`` holds the consolidated records, one
typed column per field, the environment in its schema metadata; it is written
atomically. :func:`load_results` is the loader for analysis. pandas and pyarrow are
imported only inside the functions that need them (``import splitbench`` stays light).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from splitbench.errors import UsageError
from splitbench.harness.record import RECORD_TYPES, Record

if TYPE_CHECKING:
    import pandas

__all__ = [
    "ENVIRONMENT",
    "METADATA_KEY",
    "PARQUET",
    "RECORDS",
    "ResultStore",
    "Results",
    "load_records",
    "load_results",
    "read_parquet",
]

RECORDS = "records.jsonl"
"""The records as JSON lines, appended during the sweep."""
PARQUET = "results.parquet"
"""The consolidated records."""
ENVIRONMENT = "environment.json"
"""Where the sweep ran."""
METADATA_KEY = b"splitbench.environment"
"""The parquet schema metadata key holding the environment (JSON text)."""

_IGNORED_IN_COMPARISON = ("created_at", "resumed")

Derive = Callable[[list[Record]], list[Record]]


class ResultStore:
    """The files of one results folder.

    Parameters
    ----------
    directory : Path
        The folder (created by :meth:`open` or :meth:`write_environment`).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> with ResultStore(Path(tmp.name) / "out") as store:
    ...     store.open(resume=False)
    ...     store.append(Record(run_id="r1", method="fin"))
    ...     store.append(Record(run_id="r2", method="fin", objective=1.5))
    >>> sorted(store.finished_ids()), store.exists()
    (['r1', 'r2'], True)
    >>> tmp.cleanup()
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._handle: BinaryIO | None = None

    @property
    def records_path(self) -> Path:
        """``records.jsonl`` in the folder."""
        return self.directory / RECORDS

    @property
    def parquet_path(self) -> Path:
        """``results.parquet`` in the folder."""
        return self.directory / PARQUET

    @property
    def environment_path(self) -> Path:
        """``environment.json`` in the folder."""
        return self.directory / ENVIRONMENT

    def exists(self) -> bool:
        """Whether the folder already holds records (a complete line, or a parquet file)."""
        if self.parquet_path.exists():
            return True
        try:
            data = self.records_path.read_bytes()
        except FileNotFoundError:
            return False
        complete = data[: data.rfind(b"\n") + 1]
        return bool(complete.strip())

    def read_records(self) -> list[Record]:
        """Every complete line of ``records.jsonl`` as a record, in file order.

        A torn last line (no newline after it, and it does not parse) is ignored;
        any other line that does not parse is a :class:`~splitbench.errors.UsageError`
        naming the file and the line. Blank lines are skipped. A missing file gives
        an empty list.
        """
        try:
            data = self.records_path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        records = [
            _parse_line(line, self.records_path, number)
            for number, line in enumerate(lines, start=1)
            if line.strip()
        ]
        if tail.strip():
            with contextlib.suppress(UsageError):  # else a process killed mid-write
                records.append(_parse_line(tail, self.records_path, len(lines) + 1))
        return records

    def finished_ids(self) -> set[str]:
        """The run ids of the records (the runs ``--resume`` skips)."""
        return {record.run_id for record in self.read_records()}

    def open(self, resume: bool) -> None:
        """Prepare to append records; creates the folder.

        Parameters
        ----------
        resume : bool
            Whether to go on with the records already in the folder. Without it, a
            folder that holds records is a :class:`~splitbench.errors.UsageError`.

        Notes
        -----
        A torn last line is cut off (or, when it is a whole record that lacks only
        its newline, completed), so that the next record starts on its own line.
        """
        if self._handle is not None:
            raise UsageError(f"{self.records_path}: already open")
        if not resume and self.exists():
            raise UsageError(
                f"-o {self.directory}: holds the results of a sweep; add --resume to go on, "
                "or choose another folder"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        self._repair_tail()
        self._handle = open(self.records_path, "ab", buffering=0)  # noqa: SIM115

    def _repair_tail(self) -> None:
        try:
            data = self.records_path.read_bytes()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        if end == len(data):
            return
        with self.records_path.open("r+b") as handle:
            if _is_record(data[end:]):  # a whole record that lacks only its newline
                handle.seek(0, os.SEEK_END)
                handle.write(b"\n")
            else:
                handle.truncate(end)

    def append(self, record: Record) -> None:
        """Write ``record`` as one line and flush it to the operating system."""
        if self._handle is None:
            raise UsageError(f"{self.records_path}: open() the store before append()")
        data = (record.to_json() + "\n").encode("utf-8")
        view = memoryview(data)
        while view:  # an unbuffered write may write less than asked
            written = self._handle.write(view)
            view = view[written or 0 :]

    def close(self) -> None:
        """Stop appending (idempotent)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def read_environment(self) -> dict[str, Any]:
        """``environment.json`` (an empty dict when there is none)."""
        path = self.environment_path
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except ValueError as exc:  # UnicodeDecodeError included
            raise UsageError(f"{path}: not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise UsageError(f"{path}: not a JSON object")
        return data

    def write_environment(self, env: Mapping[str, Any]) -> None:
        """Record where the sweep runs; safe to call at each start.

        The first environment is kept. When a resumed sweep's environment differs
        (apart from ``created_at``) from the latest one recorded, it is appended to
        the list under ``"resumed"``; when it matches, nothing changes.
        """
        new = dict(env)
        old = self.read_environment()
        if old:
            resumed = old.get("resumed")
            history = list(resumed) if isinstance(resumed, list) else []
            latest = history[-1] if history and isinstance(history[-1], Mapping) else old
            if _comparable(latest) == _comparable(new):
                return
            entry = {k: v for k, v in new.items() if k != "resumed"}
            new = {**old, "resumed": [*history, entry]}
        self.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(new, indent=2, default=str) + "\n"
        _write_atomic(self.environment_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def consolidate(self, records: Sequence[Record], environment: Mapping[str, Any]) -> Path:
        """Write ``results.parquet`` atomically; returns its path.

        One column per record field (:data:`~splitbench.harness.record.RECORD_TYPES`
        order, nullable, string/int64/float64/bool), the environment as JSON text
        under :data:`METADATA_KEY`. Of records with the same run id the last is kept.
        """
        import pyarrow.parquet as pq

        table = _table(_unique(records), environment)
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.parquet_path, lambda temporary: pq.write_table(table, temporary))
        return self.parquet_path


def read_parquet(path: str | Path) -> tuple[list[Record], dict[str, Any]]:
    """The records and the environment of a ``results.parquet`` file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        records = [Record.from_dict(row) for row in table.to_pylist()]
        environment = json.loads((table.schema.metadata or {}).get(METADATA_KEY, b"{}"))
    except (OSError, pa.ArrowException, TypeError, ValueError) as exc:
        raise UsageError(f"{path}: not a results file ({exc})") from None
    return records, environment if isinstance(environment, dict) else {}


def load_records(
    directory: str | Path, *, derive: Derive | None = None
) -> tuple[list[Record], dict[str, Any]]:
    """The records and the environment of a results folder.

    From ``results.parquet`` when it is current (at least as new as
    ``records.jsonl`` and holding as many runs), else from ``records.jsonl``, passed
    through ``derive`` when given (to fill in the derived fields). Runs recorded
    twice count once (the last record).
    """
    store = ResultStore(Path(directory))
    has_jsonl, has_parquet = store.records_path.exists(), store.parquet_path.exists()
    if not has_jsonl and not has_parquet:
        raise UsageError(f"{directory}: no results here ({RECORDS} or {PARQUET})")
    records = _unique(store.read_records())
    if has_parquet and (not has_jsonl or _is_current(store, len(records))):
        records, environment = read_parquet(store.parquet_path)
        return records, environment or store.read_environment()
    if derive is not None:
        records = derive(records)
    return records, store.read_environment()


@dataclass(frozen=True, eq=False)
class Results:
    """What :func:`load_results` gives.

    Attributes
    ----------
    records : pandas.DataFrame
        One row per run, one column per record field in
        :data:`~splitbench.harness.record.RECORD_TYPES` order, with nullable dtypes:
        ``string``, ``Int64``, ``Float64`` and ``boolean`` (a missing value is
        ``pd.NA``). JSON text columns (``method_params``, ``placement``) stay text.
    environment : dict
        Where the sweep ran (:func:`splitbench.harness.env.environment`).
    """

    records: pandas.DataFrame
    environment: dict[str, Any]


def load_results(directory: str | Path, *, derive: Derive | None = None) -> Results:
    """Load a sweep's results folder for analysis.

    Parameters
    ----------
    directory : str or Path
        The folder a sweep wrote (``-o``): ``results.parquet`` is read when it is
        current, else ``records.jsonl``.
    derive : callable, optional
        Fills in the derived fields (``reference``, gaps, ``disagreement``) of
        records read from ``records.jsonl``; the harness passes its own.

    Returns
    -------
    Results
        ``records``, a pandas DataFrame (one row per run, one typed column per
        record field), and ``environment``, a dict.

    Raises
    ------
    splitbench.errors.UsageError
        When the folder holds neither file, or a file is corrupt.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> with ResultStore(Path(tmp.name)) as store:
    ...     store.open(resume=False)
    ...     store.append(Record(run_id="a", method="fin", feasible=True, objective=0.25))
    ...     store.append(Record(run_id="b", method="fin", n_vars=12))
    >>> results = load_results(tmp.name)
    >>> len(results.records), results.records["objective"].dtype.name
    (2, 'Float64')
    >>> int(results.records["feasible"].sum()), int(results.records["n_vars"].isna().sum())
    (1, 1)
    >>> tmp.cleanup()
    """
    import pandas as pd

    records, environment = load_records(directory, derive=derive)
    dtypes = {str: "string", int: "Int64", float: "Float64", bool: "boolean"}
    values = _columns(records)
    columns = {name: pd.array(values[name], dtype=dtypes[k]) for name, k in RECORD_TYPES.items()}
    frame = pd.DataFrame(columns, columns=list(RECORD_TYPES))
    return Results(records=frame, environment=environment)


def _parse_line(line: bytes, path: Path, number: int) -> Record:
    where = f"{path}:{number}"
    try:
        data = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: not UTF-8 text ({exc.reason})") from None
    except ValueError as exc:
        raise UsageError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where}: not a record (a JSON {type(data).__name__}, not an object)")
    if not isinstance(data.get("run_id"), str):
        raise UsageError(f"{where}: not a record (no run_id)")
    try:
        return Record.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{where}: not a record ({exc})") from None


def _is_record(line: bytes) -> bool:
    try:
        return bool(line.strip()) and bool(_parse_line(line, Path(), 0))
    except UsageError:
        return False


def _unique(records: Iterable[Record]) -> list[Record]:
    latest: dict[str, Record] = {}
    for record in records:
        latest[record.run_id] = record
    return list(latest.values())


def _comparable(env: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in env.items() if k not in _IGNORED_IN_COMPARISON}


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file beside ``path``, then move it over ``path``."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _is_current(store: ResultStore, n_records: int) -> bool:
    import pyarrow.parquet as pq

    if store.parquet_path.stat().st_mtime_ns < store.records_path.stat().st_mtime_ns:
        return False
    try:
        rows: int = pq.ParquetFile(store.parquet_path).metadata.num_rows
    except Exception:  # unreadable: fall back to the records
        return False
    return rows == n_records


def _table(records: Sequence[Record], environment: Mapping[str, Any]) -> Any:
    import pyarrow as pa

    types = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    text = json.dumps(dict(environment), sort_keys=True, default=str)
    schema = pa.schema(
        [pa.field(name, types[kind], nullable=True) for name, kind in RECORD_TYPES.items()],
        metadata={METADATA_KEY: text.encode("utf-8")},
    )
    values = _columns(records)
    columns = [pa.array(values[name], type=types[kind]) for name, kind in RECORD_TYPES.items()]
    return pa.Table.from_arrays(columns, schema=schema)


def _columns(records: Sequence[Record]) -> dict[str, list[Any]]:
    """The records' values field by field (non-finite numbers already None)."""
    rows = [record.to_dict() for record in records]
    return {name: [row[name] for row in rows] for name in RECORD_TYPES}
