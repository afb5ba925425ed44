"""Format 2 (many requests): the checks of instances built in Python.

:func:`splitbench.instance.validate_multi` gives instances built in Python (generators,
tests) the checks that files get from :func:`splitbench.instance.load_any`, with the
fields named the same way (``requests[1].dnn``, ``dnns[1].blocks[0].ops``); files and
their corpus are in ``test_multi_io.py``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from splitbench.instance import (
    DNN,
    Block,
    Exit,
    Instance,
    InstanceError,
    MultiInstance,
    MultiRequest,
    Network,
    Node,
    Objective,
    Request,
    dumps_any,
    parse_any,
    validate_any,
    validate_multi,
)


def _python_multi(**changes: Any) -> MultiInstance:
    network = Network((Node("a", "device", 1e9), Node("b", "cloud", 1e10)))
    d1 = DNN("d1", 1.0, (Block("b1", 1.0, 1.0),), (Exit(1, 0.9),))
    d2 = DNN("d2", 1.0, (Block("c1", 1.0, 1.0), Block("c2", 1.0, 1.0)), (Exit(2, 0.8),))
    req = Request(source="a", objective=Objective.LATENCY)
    fields: dict[str, Any] = {
        "name": "py",
        "network": network,
        "dnns": (d1, d2),
        "requests": (MultiRequest("u1", "d1", 1.0, req), MultiRequest("u2", "d2", 3.0, req)),
        "objective": Objective.LATENCY,
        **changes,
    }
    return MultiInstance(**fields)


def test_validate_accepts_a_good_python_instance() -> None:
    multi = _python_multi()
    validate_multi(multi)
    validate_any(multi)
    assert parse_any(dumps_any(multi)) == multi


def _requests(*rates_ids_dnns: tuple[float, str, str], **request: Any) -> tuple[MultiRequest, ...]:
    fields: dict[str, Any] = {"source": "a", "objective": Objective.LATENCY, **request}
    return tuple(
        MultiRequest(rid, dnn, rate, Request(**fields)) for rate, rid, dnn in rates_ids_dnns
    )


BAD_DNN = DNN("d2", 1.0, (Block("c1", -1.0, 1.0),))

PYTHON_CASES: list[Any] = [
    pytest.param({"name": ""}, "name", "non-empty", id="empty-name"),
    pytest.param({"max_utilization": 0.0}, "max_utilization", "(0, 1]", id="u-zero"),
    pytest.param({"max_utilization": 1.5}, "max_utilization", "(0, 1]", id="u-above-one"),
    pytest.param({"max_utilization": math.nan}, "max_utilization", "(0, 1]", id="u-nan"),
    pytest.param({"dnns": ()}, "dnns", "at least one DNN", id="no-dnns"),
    pytest.param({"requests": ()}, "requests", "at least one request", id="no-requests"),
    pytest.param(
        {"dnns": (DNN("d1", 1.0, (Block("b1", 1.0, 1.0),)),) * 2},
        "dnns[1].name",
        "duplicate DNN name 'd1'",
        id="duplicate-dnn",
    ),
    pytest.param(
        {"dnns": (DNN("d1", 1.0, (Block("b1", 1.0, 1.0),)), BAD_DNN)},
        "dnns[1].blocks[0].ops",
        ">= 0",
        id="dnn-field",
    ),
    pytest.param(
        {"requests": _requests((1.0, "u1", "d1"), (2.0, "u1", "d2"))},
        "requests[1].id",
        "duplicate request id 'u1'",
        id="duplicate-id",
    ),
    pytest.param(
        {"requests": _requests((1.0, "", "d1"))}, "requests[0].id", "non-empty", id="empty-id"
    ),
    pytest.param(
        {"requests": _requests((1.0, "u1", "d1"), (1.0, "u2", "vgg"))},
        "requests[1].dnn",
        "unknown DNN 'vgg' (known: d1, d2)",
        id="unknown-dnn",
    ),
    pytest.param(
        {"requests": _requests((0.0, "u1", "d1"))}, "requests[0].rate_per_s", "> 0", id="rate-0"
    ),
    pytest.param(
        {"requests": _requests((-2.0, "u1", "d1"))}, "requests[0].rate_per_s", "> 0", id="rate-neg"
    ),
    pytest.param(
        {"requests": _requests((math.inf, "u1", "d1"))},
        "requests[0].rate_per_s",
        "finite",
        id="rate-inf",
    ),
    pytest.param(
        {"requests": _requests((1.0, "u1", "d1"), (1.0, "u2", "d2"), source="zz")},
        "requests[0].source",
        "unknown node 'zz'",
        id="request-field",
    ),
    pytest.param(
        {"requests": _requests((1.0, "u1", "d1"), (1.0, "u2", "d2"), allowed_nodes=((2, ("a",)),))},
        "requests[0].allowed_nodes.2",
        "does not exist",
        id="request-field-per-dnn",
    ),
    pytest.param(
        {"requests": _requests((1.0, "u1", "d1"), objective=Objective.ENERGY)},
        "requests[0].objective",
        "one objective",
        id="objective-mismatch",
    ),
]


@pytest.mark.parametrize(("changes", "field", "phrase"), PYTHON_CASES)
def test_validate_rejects_python_instances(
    changes: dict[str, Any], field: str, phrase: str
) -> None:
    """Instances built in Python get the checks files get, fields named the same way."""
    multi = _python_multi(**changes)
    for check in (validate_multi, validate_any):
        with pytest.raises(InstanceError) as info:
            check(multi)
        assert info.value.field == field, str(info.value)
        assert phrase in info.value.message


def test_request_rules_are_per_dnn() -> None:
    """allowed_nodes block 2 exists in d2, not in d1: each request is checked with its own DNN."""
    ok = _requests((1.0, "u2", "d2"), allowed_nodes=((2, ("a",)),))
    validate_multi(_python_multi(requests=ok))


def test_validate_any_format_1(example: Instance) -> None:
    bad = replace(example, request=replace(example.request, source="nowhere"))
    with pytest.raises(InstanceError) as info:
        validate_any(bad)
    assert info.value.field == "request.source"


def test_unused_dnn_is_still_checked() -> None:
    with pytest.raises(InstanceError) as info:
        validate_multi(
            _python_multi(
                requests=_requests((1.0, "u1", "d1")), dnns=(_python_multi().dnns[0], BAD_DNN)
            )
        )
    assert info.value.field == "dnns[1].blocks[0].ops"
