"""Reading and validating instance files (``splitbench.instance/1``).

Format 2 (many requests) is read by :mod:`splitbench.instance.io_multi`, with the same
file guards and the same field readers, which live here.

Every problem with a file becomes one :class:`~splitbench.errors.InstanceError`
that names the file and the field, e.g.
``bad.json: network.links[2].target: unknown node 'cs2'``.

What is read is bounded: a file larger than :data:`MAX_FILE_BYTES`, or one that is
not a regular file (a device, a FIFO), is refused before it is read; a JSON object
with a key given twice is refused (the last one would silently win).

Examples
--------
>>> from splitbench.instance import example_instance, dumps_instance
>>> inst = example_instance()
>>> parse_instance(dumps_instance(inst)) == inst
True
>>> parse_instance('{"format": 1, "format": 2}')
Traceback (most recent call last):
...
splitbench.errors.InstanceError: format: given twice in one object
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from splitbench.errors import InstanceError
from splitbench.instance.model import (
    DNN,
    FORMAT,
    Block,
    Exit,
    ExitPolicy,
    Instance,
    Link,
    Network,
    Node,
    Objective,
    Request,
)
from splitbench.instance.multi import FORMAT_2
from splitbench.instance.validate import validate_instance

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_MAGNITUDE",
    "MIN_MAGNITUDE",
    "instance_from_dict",
    "load_instance",
    "parse_instance",
]

MIN_MAGNITUDE = 1e-30
"""The smallest non-zero number an instance may hold (a denormal bandwidth or rate would
make every cost derived from it overflow)."""

MAX_MAGNITUDE = 1e30
"""The largest number an instance may hold (products of two fields stay finite)."""

MAX_FILE_BYTES = 256 * 2**20
"""The largest instance file read (256 MiB; a 100,000-node network takes about 30 MiB)."""

_MISSING = object()

_T = TypeVar("_T")


class _Fields:
    """Reads the fields of one JSON object, then refuses any key left unread."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise InstanceError(path, f"must be an object, got {_kind(data)}")
        self.data: dict[str, Any] = data
        self.path = path
        self.seen: set[str] = set()

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str, default: object = _MISSING) -> Any:
        self.seen.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise InstanceError(self.at(key), "is missing")
        return default

    def string(self, key: str, default: object = _MISSING) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value:
            raise InstanceError(self.at(key), f"must be a non-empty string, got {_kind(value)}")
        return value

    def number(
        self,
        key: str,
        default: object = _MISSING,
        *,
        positive: bool = False,
        at_most: float | None = None,
        nullable: bool = False,
    ) -> Any:
        value = self.raw(key, default)
        if value is None and nullable:
            return None
        if value is default and default is not _MISSING:
            return value
        return _check_number(value, self.at(key), positive=positive, at_most=at_most)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise InstanceError(self.at(key), f"must be true or false, got {_kind(value)}")
        return value

    def array(self, key: str, default: object = _MISSING) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, list):
            raise InstanceError(self.at(key), f"must be a list, got {_kind(value)}")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise InstanceError(
                self.at(unknown[0]),
                f"unknown key (allowed here: {', '.join(sorted(self.seen))})",
            )


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _check_number(
    value: object, where: str, *, positive: bool = False, at_most: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InstanceError(where, f"must be a number, got {_kind(value)}")
    try:
        number = float(value) + 0.0  # + 0.0 folds -0.0 into 0.0 (equal values, equal ids)
    except OverflowError:
        raise InstanceError(where, "must be finite, got a number too large for a float") from None
    if not math.isfinite(number):
        raise InstanceError(where, f"must be finite, got {value!r}")
    if number != 0 and not (MIN_MAGNITUDE <= abs(number) <= MAX_MAGNITUDE):
        raise InstanceError(
            where,
            f"must be 0 or between {MIN_MAGNITUDE:g} and {MAX_MAGNITUDE:g} in size, got "
            f"{value!r} (costs computed from it would overflow or vanish)",
        )
    if positive and number <= 0:
        raise InstanceError(where, f"must be > 0, got {value!r}")
    if number < 0:
        raise InstanceError(where, f"must be >= 0, got {value!r}")
    if at_most is not None and number > at_most:
        raise InstanceError(where, f"must be <= {at_most:g}, got {value!r}")
    return number


def _parse_node(data: object, path: str) -> Node:
    f = _Fields(data, path)
    node = Node(
        id=f.string("id"),
        tier=f.string("tier"),
        ops_per_s=f.number("ops_per_s"),
        power_w=f.number("power_w", 0.0),
        memory_bytes=f.number("memory_bytes", None, nullable=True),
    )
    f.done()
    return node


def _parse_link(data: object, path: str) -> Link:
    f = _Fields(data, path)
    link = Link(
        source=f.string("source"),
        target=f.string("target"),
        bandwidth_bps=f.number("bandwidth_bps", positive=True),
        delay_s=f.number("delay_s", 0.0),
        energy_per_bit_j=f.number("energy_per_bit_j", 0.0),
        directed=f.boolean("directed", False),
    )
    f.done()
    return link


def _parse_network(data: object) -> Network:
    f = _Fields(data, "network")
    nodes = tuple(
        _parse_node(item, f"network.nodes[{i}]") for i, item in enumerate(f.array("nodes"))
    )
    links = tuple(
        _parse_link(item, f"network.links[{i}]") for i, item in enumerate(f.array("links", []))
    )
    f.done()
    return Network(nodes=nodes, links=links)


def _parse_block(data: object, path: str) -> Block:
    f = _Fields(data, path)
    block = Block(
        name=f.string("name"),
        ops=f.number("ops"),
        output_bytes=f.number("output_bytes"),
        memory_bytes=f.number("memory_bytes", 0.0),
    )
    f.done()
    return block


def _parse_exit(data: object, path: str) -> Exit:
    f = _Fields(data, path)
    after = f.raw("after_block")
    if isinstance(after, bool) or not isinstance(after, int):
        raise InstanceError(f.at("after_block"), f"must be a whole number, got {_kind(after)}")
    ex = Exit(
        after_block=after,
        accuracy=f.number("accuracy", None, nullable=True, at_most=1.0),
        ops=f.number("ops", 0.0),
        exit_probability=f.number("exit_probability", None, nullable=True, at_most=1.0),
        output_bytes=f.number("output_bytes", 0.0),
    )
    f.done()
    return ex


def _parse_dnn(data: object, path: str = "dnn") -> tuple[DNN, tuple[Exit, ...]]:
    f = _Fields(data, path)
    name = f.string("name")
    input_bytes = f.number("input_bytes")
    blocks = tuple(
        _parse_block(item, f"{path}.blocks[{i}]") for i, item in enumerate(f.array("blocks"))
    )
    exits = tuple(
        _parse_exit(item, f"{path}.exits[{i}]") for i, item in enumerate(f.array("exits", []))
    )
    f.done()
    return DNN(name=name, input_bytes=input_bytes, blocks=blocks, exits=exits), exits


def _parse_choice(
    f: _Fields, key: str, choices: type[Objective] | type[ExitPolicy], default: object = _MISSING
) -> Any:
    value = f.raw(key, default)
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise InstanceError(f.at(key), f"must be one of {', '.join(allowed)}, got {_kind(value)}")
    return choices(value)


def _read_request(f: _Fields, objective: Objective | None = None) -> Request:
    """Read the per-request fields of ``f`` (the caller calls ``f.done()``).

    ``objective`` None: read it from the ``objective`` key (format 1); given: the key is
    not read, so that ``f.done()`` refuses it (format 2, where the objective is the
    instance's).
    """
    source = f.string("source")
    destination = f.raw("destination", None)
    if destination is not None and (not isinstance(destination, str) or not destination):
        raise InstanceError(
            f.at("destination"), f"must be a node id or null, got {_kind(destination)}"
        )
    if objective is None:
        objective = _parse_choice(f, "objective", Objective)
    deadline = f.number("deadline_s", None, positive=True, nullable=True)
    min_accuracy = f.number("min_accuracy", None, nullable=True, at_most=1.0)
    policy = _parse_choice(f, "exit_policy", ExitPolicy, "select")
    tier_order_raw = f.raw("tier_order", None)
    tier_order: tuple[str, ...] | None = None
    if tier_order_raw is not None:
        if not isinstance(tier_order_raw, list) or not tier_order_raw:
            raise InstanceError(f.at("tier_order"), "must be a non-empty list of tier names")
        for i, tier in enumerate(tier_order_raw):
            if not isinstance(tier, str) or not tier:
                raise InstanceError(
                    f"{f.at('tier_order')}[{i}]", f"must be a tier name, got {_kind(tier)}"
                )
        if len(set(tier_order_raw)) != len(tier_order_raw):
            raise InstanceError(f.at("tier_order"), "lists a tier twice")
        tier_order = tuple(tier_order_raw)
    allowed_raw = f.raw("allowed_nodes", None)
    allowed: list[tuple[int, tuple[str, ...]]] = []
    if allowed_raw is not None:
        if not isinstance(allowed_raw, dict):
            raise InstanceError(
                f.at("allowed_nodes"), f"must be an object, got {_kind(allowed_raw)}"
            )
        for key, nodes in allowed_raw.items():
            where = f"{f.at('allowed_nodes')}.{key}"
            if not (
                isinstance(key, str) and key.isdigit() and key == str(int(key)) and int(key) >= 1
            ):
                raise InstanceError(
                    where, "keys must be block indices 1, 2, ... (no sign, no leading zeros)"
                )
            if (
                not isinstance(nodes, list)
                or not nodes
                or not all(isinstance(n, str) and n for n in nodes)
            ):
                raise InstanceError(where, "must be a non-empty list of node ids")
            if len(set(nodes)) != len(nodes):
                raise InstanceError(where, "lists a node twice")
            allowed.append((int(key), tuple(nodes)))
    return Request(
        source=source,
        destination=destination,
        objective=objective,
        deadline_s=deadline,
        min_accuracy=min_accuracy,
        exit_policy=policy,
        tier_order=tier_order,
        allowed_nodes=tuple(allowed),
    )


def _parse_request(data: object) -> Request:
    f = _Fields(data, "request")
    request = _read_request(f)
    f.done()
    return request


def instance_from_dict(data: object) -> Instance:
    """Build and validate an :class:`Instance` from decoded JSON.

    Raises
    ------
    InstanceError
        Naming the first field that is wrong.
    """
    f = _Fields(data, "")
    fmt = f.raw("format", None)
    if fmt is None:
        raise InstanceError(
            "format", f"is missing: not a splitbench instance (expected {FORMAT!r})"
        )
    if fmt == FORMAT_2:
        raise InstanceError(
            "format",
            f"is {FORMAT_2!r}, a many-request instance: read it with load_any "
            f"(load_instance reads {FORMAT!r} only)",
        )
    if fmt != FORMAT:
        raise InstanceError("format", f"must be {FORMAT!r}, got {_kind(fmt)}")
    name = f.string("name")
    network = _parse_network(f.raw("network"))
    dnn, file_exits = _parse_dnn(f.raw("dnn"))
    request = _parse_request(f.raw("request"))
    f.done()
    instance = Instance(name=name, network=network, dnn=dnn, request=request)
    validate_instance(instance, file_exits=file_exits)
    return instance


def _nonfinite_constant(token: str) -> float:
    # NaN and Infinity are not JSON; read them so that the field check names the field
    return float(token.replace("Infinity", "inf"))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InstanceError(key, "given twice in one object")
        out[key] = value
    return out


def _parse_text(text: str, source: str | None, build: Callable[[dict[str, Any]], _T]) -> _T:
    """Decode JSON text with the file guards (no duplicate key, NaN read so that the
    field check names it) and ``build`` the instance; every error names ``source``."""
    try:
        if not text.strip():
            raise InstanceError("", "the file is empty, not an instance")
        try:
            data = json.loads(
                text, parse_constant=_nonfinite_constant, object_pairs_hook=_unique_keys
            )
        except InstanceError:
            raise  # a duplicate key, named
        except json.JSONDecodeError as err:
            raise InstanceError(
                "", f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
            ) from None
        except ValueError as err:
            raise InstanceError("", f"invalid JSON: {err}") from None
        except RecursionError:
            raise InstanceError("", "invalid JSON: nested too deeply") from None
        if not isinstance(data, dict):
            raise InstanceError("", f"must be a JSON object, got {_kind(data)}: not an instance")
        return build(data)
    except InstanceError as err:
        raise (err.with_source(source) if source else err) from None


def _read_text(path: str | Path) -> str:
    """The text of an instance file, refusing what is not a regular UTF-8 file of at
    most :data:`MAX_FILE_BYTES` (checked before it is opened)."""
    name = str(path)
    try:
        info = os.stat(path)  # before opening: opening a FIFO without a writer blocks
        if not stat.S_ISREG(info.st_mode):
            raise InstanceError("", "not a regular file: not an instance", name)
        if info.st_size > MAX_FILE_BYTES:
            raise InstanceError(
                "",
                f"{info.st_size} bytes, more than the {MAX_FILE_BYTES // 2**20} MiB an "
                "instance file may have",
                name,
            )
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise InstanceError("", f"cannot read: {err.strerror or err}", name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InstanceError("", f"more than {MAX_FILE_BYTES // 2**20} MiB: not an instance", name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InstanceError("", "not UTF-8 text: not an instance", name) from None


def parse_instance(text: str, source: str | None = None) -> Instance:
    """Parse and validate instance JSON text.

    Parameters
    ----------
    text : str
        The JSON document.
    source : str, optional
        File name to put in error messages.

    Raises
    ------
    InstanceError
        On invalid JSON or any invalid field.
    """
    return _parse_text(text, source, instance_from_dict)


def load_instance(path: str | Path) -> Instance:
    """Read and validate an instance file.

    Raises
    ------
    InstanceError
        Naming the file and the field (also for unreadable files).
    """
    return parse_instance(_read_text(path), source=str(path))
