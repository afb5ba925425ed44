"""Cross-field checks of a many-request instance (format 2).

:func:`validate_multi` applies every rule of format 1 to the shared network, to each
DNN and to each request (the request seen alone, as
:meth:`~splitbench.instance.multi.MultiInstance.single` gives it), and the rules of
format 2 itself: DNN names and request ids unique, every request's DNN known, every
rate above 0, the utilisation bound U in (0, 1]. An error of a DNN or a request names
it by its position, as the file does: ``dnns[1].blocks[0].ops``, ``requests[2].source``.
:func:`splitbench.instance.parse_any` calls it on every format-2 file; generators and
tests call it (or :func:`validate_any`) on instances they build in Python.

Examples
--------
>>> from dataclasses import replace
>>> from splitbench.instance import MultiInstance, example_instance
>>> multi = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
>>> validate_multi(multi)
>>> late = replace(multi.requests[0], dnn="b-vgg")
>>> validate_multi(replace(multi, requests=(multi.requests[0], late)))
Traceback (most recent call last):
...
splitbench.errors.InstanceError: requests[1].id: duplicate request id 'r1' (requests[0] has it)
>>> validate_multi(replace(multi, requests=(replace(late, id="r2"),)))
Traceback (most recent call last):
...
splitbench.errors.InstanceError: requests[0].dnn: unknown DNN 'b-vgg' (known: b-alexnet)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from splitbench.errors import InstanceError
from splitbench.instance.model import Exit, Instance
from splitbench.instance.multi import MultiInstance
from splitbench.instance.validate import (
    _check_dnn,
    _check_network,
    _check_request,
    validate_instance,
)

__all__ = ["validate_any", "validate_multi"]

_KNOWN_SHOWN = 10
"""How many DNN names an unknown-DNN message lists."""


def _moved(err: InstanceError, dnn_path: str, request_path: str | None = None) -> InstanceError:
    """``err`` of a format-1 view, its field (and a field its message cites) renamed to
    the format-2 position: ``dnn.x`` to ``dnns[j].x``, ``request.x`` to ``requests[i].x``.
    Fields of the network and of the whole instance keep their names."""
    field, message = err.field, err.message
    if field == "dnn" or field.startswith("dnn."):
        field = dnn_path + field[3:]
    elif request_path is not None and (field == "request" or field.startswith("request.")):
        field = request_path + field[7:]
    message = message.replace("(dnn.exits[", f"({dnn_path}.exits[")
    return InstanceError(field, message, err.source)


def _known(names: Sequence[str]) -> str:
    shown = sorted(names)
    more = len(shown) - _KNOWN_SHOWN
    text = ", ".join(shown[:_KNOWN_SHOWN])
    return f"{text} and {more} more" if more > 0 else text


def _check_top(instance: MultiInstance) -> None:
    if not isinstance(instance.name, str) or not instance.name:
        raise InstanceError("name", "must be a non-empty string")
    u = instance.max_utilization
    if isinstance(u, bool) or not isinstance(u, int | float) or not 0 < u <= 1:
        raise InstanceError("max_utilization", f"must be in (0, 1], got {u!r}")


def _check_dnns(instance: MultiInstance, file_exits: Sequence[tuple[Exit, ...]]) -> dict[str, int]:
    """Check every DNN; return each name's position."""
    if not instance.dnns:
        raise InstanceError("dnns", "must list at least one DNN")
    positions: dict[str, int] = {}
    for j, dnn in enumerate(instance.dnns):
        where = f"dnns[{j}]"
        if not isinstance(dnn.name, str) or not dnn.name:
            raise InstanceError(f"{where}.name", "must be a non-empty string")
        if dnn.name in positions:
            raise InstanceError(
                f"{where}.name",
                f"duplicate DNN name {dnn.name!r} (dnns[{positions[dnn.name]}] has it)",
            )
        positions[dnn.name] = j
        try:
            _check_dnn(dnn, file_exits[j] if j < len(file_exits) else ())
        except InstanceError as err:
            raise _moved(err, where) from None
    return positions


def _check_requests(instance: MultiInstance, positions: dict[str, int]) -> None:
    if not instance.requests:
        raise InstanceError("requests", "must list at least one request")
    seen: dict[str, int] = {}
    for i, req in enumerate(instance.requests):
        where = f"requests[{i}]"
        if not isinstance(req.id, str) or not req.id:
            raise InstanceError(f"{where}.id", "must be a non-empty string")
        if req.id in seen:
            raise InstanceError(
                f"{where}.id", f"duplicate request id {req.id!r} (requests[{seen[req.id]}] has it)"
            )
        seen[req.id] = i
        if req.dnn not in positions:
            raise InstanceError(
                f"{where}.dnn", f"unknown DNN {req.dnn!r} (known: {_known(list(positions))})"
            )
        rate = req.rate_per_s
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
            raise InstanceError(f"{where}.rate_per_s", f"must be a finite number, got {rate!r}")
        if rate <= 0:
            raise InstanceError(f"{where}.rate_per_s", f"must be > 0, got {rate!r}")
        if req.request.objective is not instance.objective:
            raise InstanceError(
                f"{where}.objective",
                f"is {req.request.objective.value!r}, but format 2 has one objective for all "
                f"requests ({instance.objective.value!r}): give each Request the instance's",
            )
        # the request alone, as instance.single(req.id) gives it once ids are unique
        dnn = instance.dnns[positions[req.dnn]]
        single = Instance(f"{instance.name}/{req.id}", instance.network, dnn, req.request)
        try:
            _check_request(single)
        except InstanceError as err:
            raise _moved(err, f"dnns[{positions[req.dnn]}]", where) from None


def validate_multi(instance: MultiInstance, *, file_exits: Sequence[tuple[Exit, ...]] = ()) -> None:
    """Check the cross-field rules of a format-2 instance.

    The rules of format 1 hold for the network, for each DNN and for each request
    (what :func:`~splitbench.instance.validate_instance` checks on
    ``instance.single(id)``, the network and each DNN checked once), with the field
    named at its format-2 position; and the rules of format 2.

    Parameters
    ----------
    instance : MultiInstance
        The instance to check.
    file_exits : sequence of tuple of Exit, optional
        Each DNN's exits in file order (one entry per DNN, in order), so that messages
        name the position in the file.

    Raises
    ------
    InstanceError
        Naming the first offending field: ``name``, ``max_utilization``, ``network...``,
        ``dnns[j]...``, then ``requests[i]...``. Loads beyond capacity are not errors
        (they make the instance infeasible).

    Examples
    --------
    >>> from dataclasses import replace
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> multi = MultiInstance.from_single(example_instance())
    >>> validate_multi(replace(multi, max_utilization=1.5))
    Traceback (most recent call last):
    ...
    splitbench.errors.InstanceError: max_utilization: must be in (0, 1], got 1.5
    >>> far = replace(multi.requests[0].request, source="nowhere")
    >>> validate_multi(replace(multi, requests=(replace(multi.requests[0], request=far),)))
    Traceback (most recent call last):
    ...
    splitbench.errors.InstanceError: requests[0].source: unknown node 'nowhere'
    """
    _check_top(instance)
    _check_network(instance.network)
    positions = _check_dnns(instance, file_exits)
    _check_requests(instance, positions)


def validate_any(instance: Instance | MultiInstance) -> None:
    """Check an instance of either format (:func:`validate_multi` or
    :func:`~splitbench.instance.validate_instance`).

    Parameters
    ----------
    instance : Instance or MultiInstance
        The instance to check.

    Raises
    ------
    InstanceError
        Naming the first offending field.

    Examples
    --------
    >>> from splitbench.instance import MultiInstance, example_instance
    >>> one = example_instance()
    >>> validate_any(one), validate_any(MultiInstance.from_single(one))
    (None, None)
    """
    if isinstance(instance, MultiInstance):
        validate_multi(instance)
    else:
        validate_instance(instance)
