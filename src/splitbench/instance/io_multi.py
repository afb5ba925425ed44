"""Reading instance files of either format; format 2 (``splitbench.instance/2``) here.

:func:`load_any`, :func:`parse_any` and :func:`any_from_dict` read a file of either
format, dispatching on its ``format``: format 1 goes to the format-1 reader unchanged
(:func:`~splitbench.instance.load_instance` and its kin), format 2 to
:func:`multi_from_dict`. Both formats share the file guards (size, regular file,
UTF-8, no key twice, numbers 0 or between 1e-30 and 1e30 in size) and the field
readers of :mod:`splitbench.instance.io`: a format-2 file's network, DNNs and
per-request fields are read by the same code as format 1's, with the field named at
its format-2 position (``dnns[1].blocks[0].ops``, ``requests[2].deadline_s``).

Examples
--------
>>> from splitbench.instance import MultiInstance, dumps_any, example_instance
>>> multi = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
>>> again = parse_any(dumps_any(multi))
>>> again == multi, type(again).__name__, again.requests[0].rate_per_s
(True, 'MultiInstance', 20.0)
>>> type(parse_any(dumps_any(example_instance()))).__name__
'Instance'
>>> parse_any('{"format": "splitbench.instance/3"}', source="x.json")
Traceback (most recent call last):
...
splitbench.errors.InstanceError: x.json: format: must be 'splitbench.instance/1' or \
'splitbench.instance/2', got the string 'splitbench.instance/3'
"""

from __future__ import annotations

from pathlib import Path

from splitbench.errors import InstanceError
from splitbench.instance.io import (
    _check_number,
    _Fields,
    _kind,
    _parse_choice,
    _parse_dnn,
    _parse_network,
    _parse_text,
    _read_request,
    _read_text,
    instance_from_dict,
)
from splitbench.instance.model import FORMAT, Instance, Objective
from splitbench.instance.multi import FORMAT_2, MultiInstance, MultiRequest
from splitbench.instance.validate_multi import validate_multi

__all__ = ["any_from_dict", "load_any", "multi_from_dict", "parse_any"]

_BOTH = f"{FORMAT!r} or {FORMAT_2!r}"


def _parse_utilization(f: _Fields) -> float:
    value = f.raw("max_utilization", 1.0)
    where = f.at("max_utilization")
    if isinstance(value, int | float) and not isinstance(value, bool) and not 0 < value <= 1:
        raise InstanceError(where, f"must be in (0, 1], got {value!r}")
    return _check_number(value, where)


def _parse_multi_request(data: object, path: str, objective: Objective) -> MultiRequest:
    f = _Fields(data, path)
    request_id = f.string("id")
    dnn = f.string("dnn")
    rate = f.number("rate_per_s", 1.0, positive=True)
    request = _read_request(f, objective)  # leaves "objective" unread: an unknown key
    f.done()
    return MultiRequest(id=request_id, dnn=dnn, rate_per_s=rate, request=request)


def multi_from_dict(data: object) -> MultiInstance:
    """Build and validate a :class:`~splitbench.instance.MultiInstance` from decoded JSON.

    Parameters
    ----------
    data : object
        The decoded file: an object whose ``format`` is ``"splitbench.instance/2"``.

    Returns
    -------
    MultiInstance
        Every default filled in; each request's objective is the instance's.

    Raises
    ------
    InstanceError
        Naming the first field that is wrong (:func:`validate_multi` is run on the
        result).

    Examples
    --------
    >>> from splitbench.instance import MultiInstance, example_instance, multi_to_dict
    >>> data = multi_to_dict(MultiInstance.from_single(example_instance()))
    >>> data["requests"][0]["rate_per_s"] = 0
    >>> multi_from_dict(data)
    Traceback (most recent call last):
    ...
    splitbench.errors.InstanceError: requests[0].rate_per_s: must be > 0, got 0
    """
    f = _Fields(data, "")
    fmt = f.raw("format", None)
    if fmt != FORMAT_2:
        raise InstanceError("format", f"must be {FORMAT_2!r}, got {_kind(fmt)}")
    name = f.string("name")
    network = _parse_network(f.raw("network"))
    dnns = [_parse_dnn(item, f"dnns[{j}]") for j, item in enumerate(f.array("dnns"))]
    objective = _parse_choice(f, "objective", Objective)
    max_utilization = _parse_utilization(f)
    requests = tuple(
        _parse_multi_request(item, f"requests[{i}]", objective)
        for i, item in enumerate(f.array("requests"))
    )
    f.done()
    instance = MultiInstance(
        name=name,
        network=network,
        dnns=tuple(dnn for dnn, _ in dnns),
        requests=requests,
        objective=objective,
        max_utilization=max_utilization,
    )
    validate_multi(instance, file_exits=[exits for _, exits in dnns])
    return instance


def any_from_dict(data: object) -> Instance | MultiInstance:
    """Build and validate an instance of either format from decoded JSON.

    Raises
    ------
    InstanceError
        Naming ``format`` when it is neither format's, else the first wrong field.

    Examples
    --------
    >>> from splitbench.instance import example_instance, instance_to_dict
    >>> any_from_dict(instance_to_dict(example_instance())).request.source
    'md'
    >>> any_from_dict({"name": "x"})
    Traceback (most recent call last):
    ...
    splitbench.errors.InstanceError: format: is missing: not a splitbench instance \
(expected 'splitbench.instance/1' or 'splitbench.instance/2')
    """
    if not isinstance(data, dict):
        raise InstanceError("", f"must be an object, got {_kind(data)}")
    fmt = data.get("format")
    if fmt == FORMAT:
        return instance_from_dict(data)
    if fmt == FORMAT_2:
        return multi_from_dict(data)
    if fmt is None:
        raise InstanceError("format", f"is missing: not a splitbench instance (expected {_BOTH})")
    raise InstanceError("format", f"must be {_BOTH}, got {_kind(fmt)}")


def parse_any(text: str, source: str | None = None) -> Instance | MultiInstance:
    """Parse and validate instance JSON text of either format.

    Parameters
    ----------
    text : str
        The JSON document.
    source : str, optional
        File name to put in error messages.

    Returns
    -------
    Instance or MultiInstance
        An :class:`~splitbench.instance.Instance` for format 1, a
        :class:`~splitbench.instance.MultiInstance` for format 2.

    Raises
    ------
    InstanceError
        On invalid JSON or any invalid field.
    """
    return _parse_text(text, source, any_from_dict)


def load_any(path: str | Path) -> Instance | MultiInstance:
    """Read and validate an instance file of either format.

    The file guards are :func:`~splitbench.instance.load_instance`'s: a file that is
    not regular, or larger than :data:`~splitbench.instance.MAX_FILE_BYTES`, is
    refused before it is opened.

    Raises
    ------
    InstanceError
        Naming the file and the field (also for unreadable files).
    """
    return parse_any(_read_text(path), source=str(path))
