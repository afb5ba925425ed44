"""The results folder: JSON lines that survive a kill, the parquet file, the loaders."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import splitbench
from splitbench.errors import UsageError
from splitbench.harness import store as store_module
from splitbench.harness.record import RECORD_TYPES, Record
from splitbench.harness.store import (
    ENVIRONMENT,
    METADATA_KEY,
    PARQUET,
    RECORDS,
    ResultStore,
    load_records,
    load_results,
    read_parquet,
)

ENV: dict[str, Any] = {
    "python": "3.11.9",
    "packages": {"highspy": "1.16.0", "pyscipopt": None},
    "created_at": "2030-01-01T00:00:00+00:00",
}

ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
PANDAS_DTYPES = {str: "string", int: "Int64", float: "Float64", bool: "boolean"}


def sample_records() -> list[Record]:
    """Records that exercise every kind of value: None, bools, floats, ints, text."""
    return [
        Record(run_id="a", method="fin", status="optimal", feasible=True, exact=True,
               objective=0.1 + 0.2, bound=0.3, seed=7, n_vars=12, lp_integral=True,
               placement='{"blocks":[0,1]}', reason="ünïcode – ok", n_blocks=3),
        Record(run_id="b", method="lb", status="none", termination="time_limit",
               objective=None, seed=None, lp_integral=False, disagreement=True,
               n_violations=-2, time_limit_s=1e-300, wall_time_s=123456.789),
        Record(run_id="c", method="mcp", lp_integral=None, objective=-0.0, nodes=2**62,
               energy_j=float("inf"), reason='line\nbreak "quoted"'),
    ]  # fmt: skip


def written(folder: Path, records: list[Record]) -> ResultStore:
    with ResultStore(folder) as store:
        store.open(resume=False)
        for record in records:
            store.append(record)
    return store


def expected(records: list[Record]) -> list[Record]:
    """What a record is once written: non-finite numbers become None."""
    return [Record.from_dict(record.to_dict()) for record in records]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    records = sample_records()
    store = written(tmp_path / "out", records)
    back = store.read_records()
    assert back == expected(records)
    assert back[2].energy_j is None and back[0].objective == 0.1 + 0.2
    assert store.finished_ids() == {"a", "b", "c"}
    text = store.records_path.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.count("\n") == 3


def test_parquet_round_trip_and_environment(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    path = store.consolidate(sample_records(), ENV)
    assert path == tmp_path / PARQUET
    records, env = read_parquet(path)
    assert records == expected(sample_records())
    assert env == ENV
    raw = pq.read_schema(path).metadata[METADATA_KEY]
    assert json.loads(raw) == ENV
    assert sorted(p.name for p in tmp_path.iterdir()) == [PARQUET]  # no temporary left


def test_parquet_column_types_are_fixed(tmp_path: Path) -> None:
    # even a column whose values are all None keeps its type
    path = ResultStore(tmp_path).consolidate([Record(run_id="x")], {})
    schema = pq.read_schema(path)
    assert schema.names == list(RECORD_TYPES)
    for name, kind in RECORD_TYPES.items():
        field = schema.field(name)
        assert field.type == ARROW_TYPES[kind], name
        assert field.nullable, name
    table = pq.read_table(path)
    assert table.column("lp_integral").null_count == 1
    assert table.column("seed").type == pa.int64()


def test_consolidate_keeps_the_last_of_a_run_id(tmp_path: Path) -> None:
    first, second = Record(run_id="x", objective=1.0), Record(run_id="x", objective=2.0)
    path = ResultStore(tmp_path).consolidate([first, Record(run_id="y"), second], {})
    records, _ = read_parquet(path)
    assert [(r.run_id, r.objective) for r in records] == [("x", 2.0), ("y", None)]


def test_consolidate_replaces_an_older_file(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.consolidate(sample_records(), ENV)
    store.consolidate([Record(run_id="z")], {"python": "3.12"})
    records, env = read_parquet(store.parquet_path)
    assert [r.run_id for r in records] == ["z"] and env == {"python": "3.12"}


def test_a_torn_last_line_is_ignored_then_cut_on_resume(tmp_path: Path) -> None:
    records = sample_records()
    store = written(tmp_path, records[:2])
    torn = records[2].to_json()[:25]
    with store.records_path.open("ab") as handle:
        handle.write(torn.encode())
    assert store.read_records() == expected(records[:2])
    assert store.exists()
    store.open(resume=True)
    assert store.records_path.read_bytes().endswith(b"\n")
    store.append(records[2])
    store.close()
    lines = store.records_path.read_text(encoding="utf-8").splitlines()
    assert [Record.from_dict(json.loads(line)) for line in lines] == expected(records)


def test_a_record_lacking_only_its_newline_is_kept_on_resume(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.records_path.write_text(Record(run_id="a").to_json(), encoding="utf-8")
    assert store.finished_ids() == {"a"}
    store.open(resume=True)
    store.append(Record(run_id="b"))
    store.close()
    assert [r.run_id for r in store.read_records()] == ["a", "b"]


def test_a_folder_with_only_a_torn_line_starts_clean(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.records_path.write_bytes(b'{"run_id": "a", "meth')
    assert not store.exists() and store.read_records() == []
    with store:
        store.open(resume=False)
        store.append(Record(run_id="b"))
    assert [r.run_id for r in store.read_records()] == ["b"]


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a record"),
        ('{"method": "fin"}', "no run_id"),
        ('{"run_id": "x", "colour": "red"}', "colour"),
        ('{"run_id": "x", "status": "great"}', "great"),
    ],
)
def test_a_corrupt_middle_line_names_file_and_line(tmp_path: Path, bad: str, what: str) -> None:
    store = ResultStore(tmp_path)
    good = Record(run_id="ok").to_json()
    store.records_path.write_text(f"{good}\n{bad}\n{good}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"records\.jsonl:2: ") as info:
        store.read_records()
    assert str(info.value).startswith(f"{store.records_path}:2: ")
    assert what in str(info.value)


def test_a_corrupt_last_line_with_its_newline_is_an_error(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.records_path.write_text(Record(run_id="a").to_json() + "\n{oops\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r":2: not JSON"):
        store.read_records()


def test_blank_lines_and_a_missing_file(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "nothing")
    assert store.read_records() == [] and not store.exists()
    store = ResultStore(tmp_path)
    store.records_path.write_text("\n" + Record(run_id="a").to_json() + "\n\n", encoding="utf-8")
    assert [r.run_id for r in store.read_records()] == ["a"]


def test_open_without_resume_refuses_a_folder_with_records(tmp_path: Path) -> None:
    store = written(tmp_path / "out", [Record(run_id="a")])
    message = (
        f"-o {tmp_path / 'out'}: holds the results of a sweep; add --resume to go on, "
        "or choose another folder"
    )
    with pytest.raises(UsageError) as info:
        store.open(resume=False)
    assert str(info.value) == message
    with store:
        store.open(resume=True)
        store.append(Record(run_id="b"))
    assert store.finished_ids() == {"a", "b"}


def test_open_without_resume_refuses_a_folder_with_a_parquet(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.consolidate([Record(run_id="a")], {})
    with pytest.raises(UsageError, match="--resume"):
        store.open(resume=False)


def test_open_creates_the_folder_and_append_needs_open(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "a" / "b")
    with pytest.raises(UsageError, match="open"):
        store.append(Record(run_id="x"))
    store.open(resume=False)
    assert (tmp_path / "a" / "b").is_dir()
    store.close()
    store.close()  # idempotent


def test_an_appended_record_is_on_disk_before_close(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.open(resume=False)
    try:
        store.append(Record(run_id="a"))
        assert ResultStore(tmp_path).finished_ids() == {"a"}  # another reader sees it
    finally:
        store.close()


KILLED_WRITER = """
import sys
from pathlib import Path
from splitbench.harness.record import Record
from splitbench.harness.store import ResultStore

store = ResultStore(Path(sys.argv[1]))
store.open(resume=False)
i = 0
while True:
    store.append(Record(run_id=f"run-{i}", objective=i / 7, placement="x" * (i * 997 % 60000)))
    i += 1
"""


def test_a_sigkilled_writer_leaves_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / RECORDS
    env = {**os.environ, "PYTHONPATH": str(Path(splitbench.__file__).parents[1])}
    process = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], env=env)
    try:
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline and process.poll() is None:
            if path.exists() and path.read_bytes().count(b"\n") >= 200:
                break
            time.sleep(0.01)
        assert process.poll() is None, "the writer stopped by itself"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=5)
    assert process.returncode == -signal.SIGKILL
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1].decode("utf-8").splitlines()
    assert len(complete) >= 200
    ids = [Record.from_dict(json.loads(line)).run_id for line in complete]
    assert ids == [f"run-{i}" for i in range(len(ids))]  # unique, none lost, in order
    store = ResultStore(tmp_path)
    assert [r.run_id for r in store.read_records()] == ids
    with store:
        store.open(resume=True)
        store.append(Record(run_id="after"))
    assert [r.run_id for r in store.read_records()] == [*ids, "after"]


def test_write_environment_keeps_the_first_and_lists_resumed_ones(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "out")
    assert store.read_environment() == {}
    store.write_environment(ENV)
    assert store.read_environment() == ENV
    store.write_environment({**ENV, "created_at": "2031-01-01T00:00:00+00:00"})
    assert store.read_environment() == ENV  # only the time differs: nothing to add
    moved = {**ENV, "packages": {"highspy": "1.17.0"}, "created_at": "2032"}
    store.write_environment(moved)
    store.write_environment({**moved, "created_at": "2033"})  # same as the latest
    assert store.read_environment() == {**ENV, "resumed": [moved]}
    store.write_environment(ENV)  # back on the first machine: a change again
    assert store.read_environment()["resumed"] == [moved, ENV]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [ENVIRONMENT]


def test_a_corrupt_environment_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / ENVIRONMENT).write_text("{nope", encoding="utf-8")
    with pytest.raises(UsageError, match=r"environment\.json: not JSON"):
        ResultStore(tmp_path).read_environment()


def derive_marking(records: list[Record]) -> list[Record]:
    return [record.derive(reference=42.0) for record in records]


def test_load_records_prefers_a_current_parquet(tmp_path: Path) -> None:
    store = written(tmp_path, sample_records())
    store.write_environment(ENV)
    records, env = load_records(tmp_path, derive=derive_marking)
    assert {r.reference for r in records} == {42.0} and env == ENV  # from the jsonl
    store.consolidate(sample_records(), {**ENV, "python": "parquet"})
    records, env = load_records(tmp_path, derive=derive_marking)
    assert records == expected(sample_records()) and env["python"] == "parquet"


def test_load_records_falls_back_to_newer_or_longer_records(tmp_path: Path) -> None:
    store = written(tmp_path, sample_records())
    store.consolidate(sample_records()[:2], ENV)  # fewer rows than records
    records, _ = load_records(tmp_path)
    assert [r.run_id for r in records] == ["a", "b", "c"]
    store.consolidate(sample_records(), ENV)
    later = store.parquet_path.stat().st_mtime_ns + 10**9
    os.utime(store.records_path, ns=(later, later))  # the records are newer
    records, env = load_records(tmp_path, derive=derive_marking)
    assert records[0].reference == 42.0 and env == {}


def test_load_records_reads_a_lone_parquet(tmp_path: Path) -> None:
    ResultStore(tmp_path).consolidate(sample_records(), ENV)
    records, env = load_records(str(tmp_path))
    assert len(records) == 3 and env == ENV


def test_load_records_of_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        load_records(tmp_path)
    assert str(info.value) == f"{tmp_path}: no results here (records.jsonl or results.parquet)"


@pytest.mark.parametrize("consolidated", [False, True])
def test_load_results_gives_a_typed_frame(tmp_path: Path, consolidated: bool) -> None:
    store = written(tmp_path, sample_records())
    store.write_environment(ENV)
    if consolidated:
        store.consolidate(sample_records(), ENV)
    results = load_results(tmp_path)
    frame = results.records
    assert list(frame.columns) == list(RECORD_TYPES)
    assert len(frame) == 3
    assert {name: frame[name].dtype.name for name in frame} == {
        name: PANDAS_DTYPES[kind] for name, kind in RECORD_TYPES.items()
    }
    assert frame["seed"].isna().tolist() == [False, True, True]
    assert frame["lp_integral"].tolist()[:2] == [True, False]
    assert frame["nodes"].iloc[2] == 2**62
    assert frame["energy_j"].isna().all()
    assert frame["placement"].iloc[0] == '{"blocks":[0,1]}'  # JSON text stays text
    assert results.environment == ENV


def test_load_results_of_no_records_keeps_the_columns(tmp_path: Path) -> None:
    ResultStore(tmp_path).consolidate([], ENV)
    frame = load_results(tmp_path).records
    assert len(frame) == 0 and list(frame.columns) == list(RECORD_TYPES)
    assert frame["objective"].dtype.name == "Float64"


def test_store_imports_neither_pandas_nor_pyarrow_at_module_level() -> None:
    tree = ast.parse(Path(store_module.__file__).read_text(encoding="utf-8"))
    top: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            top.append(node.module or "")
    assert not [name for name in top if name.split(".")[0] in ("pandas", "pyarrow")]
