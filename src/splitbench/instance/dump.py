"""Writing instances: the canonical JSON form, the instance id, the shipped examples.

Both formats: :func:`instance_to_dict` and :func:`dumps_instance` write format 1,
:func:`multi_to_dict` format 2, and :func:`dumps_any`, :func:`save_any`,
:func:`canonical_json_any` and :func:`instance_id` take either.

Examples
--------
>>> inst = example_instance()
>>> len(instance_id(inst)), instance_id(inst) == instance_id(example_instance())
(16, True)
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

from splitbench.errors import InstanceError
from splitbench.instance.io import parse_instance
from splitbench.instance.model import DNN, FORMAT, Instance, Network, Request
from splitbench.instance.multi import FORMAT_2, MultiInstance

__all__ = [
    "any_to_dict",
    "canonical_json",
    "canonical_json_any",
    "dumps_any",
    "dumps_instance",
    "example_instance",
    "instance_id",
    "instance_to_dict",
    "multi_to_dict",
    "save_any",
    "save_instance",
]


def _network_to_dict(net: Network) -> dict[str, Any]:
    return {
        "nodes": [
            {
                "id": n.id,
                "tier": n.tier,
                "ops_per_s": n.ops_per_s,
                "power_w": n.power_w,
                "memory_bytes": n.memory_bytes,
            }
            for n in net.nodes
        ],
        "links": [
            {
                "source": k.source,
                "target": k.target,
                "bandwidth_bps": k.bandwidth_bps,
                "delay_s": k.delay_s,
                "energy_per_bit_j": k.energy_per_bit_j,
                "directed": k.directed,
            }
            for k in net.links
        ],
    }


def _dnn_to_dict(dnn: DNN) -> dict[str, Any]:
    return {
        "name": dnn.name,
        "input_bytes": dnn.input_bytes,
        "blocks": [
            {
                "name": b.name,
                "ops": b.ops,
                "output_bytes": b.output_bytes,
                "memory_bytes": b.memory_bytes,
            }
            for b in dnn.blocks
        ],
        "exits": [
            {
                "after_block": e.after_block,
                "accuracy": e.accuracy,
                "ops": e.ops,
                "exit_probability": e.exit_probability,
                "output_bytes": e.output_bytes,
            }
            for e in dnn.exits
        ],
    }


def _request_to_dict(req: Request, *, objective: bool = True) -> dict[str, Any]:
    """The per-request fields; ``objective`` False leaves the objective out (format 2)."""
    out: dict[str, Any] = {"source": req.source, "destination": req.destination}
    if objective:
        out["objective"] = req.objective.value
    out.update(
        deadline_s=req.deadline_s,
        min_accuracy=req.min_accuracy,
        exit_policy=req.exit_policy.value,
        tier_order=list(req.tier_order) if req.tier_order is not None else None,
        allowed_nodes={str(k): list(v) for k, v in req.allowed_nodes} or None,
    )
    return out


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    """The instance as JSON-ready data, every default written out (the canonical form)."""
    return {
        "format": FORMAT,
        "name": instance.name,
        "network": _network_to_dict(instance.network),
        "dnn": _dnn_to_dict(instance.dnn),
        "request": _request_to_dict(instance.request),
    }


def multi_to_dict(instance: MultiInstance) -> dict[str, Any]:
    """A format-2 instance as JSON-ready data, every default written out (the canonical
    form); requests carry no objective (the instance's is at the top level).

    Parameters
    ----------
    instance : MultiInstance
        The instance to write.

    Returns
    -------
    dict
        ``format`` ``"splitbench.instance/2"``, ``name``, ``network``, ``dnns``,
        ``requests``, ``objective`` and ``max_utilization``; the network and each DNN
        exactly as :func:`instance_to_dict` writes format 1's.

    Examples
    --------
    >>> multi = MultiInstance.from_single(example_instance(), rate_per_s=20.0)
    >>> data = multi_to_dict(multi)
    >>> data["format"], [d["name"] for d in data["dnns"]], data["max_utilization"]
    ('splitbench.instance/2', ['b-alexnet'], 1.0)
    >>> sorted(data["requests"][0])[:4], "objective" in data["requests"][0]
    (['allowed_nodes', 'deadline_s', 'destination', 'dnn'], False)
    """
    return {
        "format": FORMAT_2,
        "name": instance.name,
        "network": _network_to_dict(instance.network),
        "dnns": [_dnn_to_dict(dnn) for dnn in instance.dnns],
        "requests": [
            {
                "id": r.id,
                "dnn": r.dnn,
                "rate_per_s": r.rate_per_s,
                **_request_to_dict(r.request, objective=False),
            }
            for r in instance.requests
        ],
        "objective": instance.objective.value,
        "max_utilization": instance.max_utilization,
    }


def any_to_dict(instance: Instance | MultiInstance) -> dict[str, Any]:
    """The canonical JSON-ready data of an instance of either format."""
    if isinstance(instance, MultiInstance):
        return multi_to_dict(instance)
    return instance_to_dict(instance)


def dumps_instance(instance: Instance, *, indent: int | None = 2) -> str:
    """Serialise an instance to JSON text (reloads to an equal instance)."""
    return json.dumps(instance_to_dict(instance), indent=indent, allow_nan=False)


def save_instance(instance: Instance, path: str | Path) -> None:
    """Write an instance file."""
    Path(path).write_text(dumps_instance(instance) + "\n", encoding="utf-8")


def dumps_any(instance: Instance | MultiInstance, *, indent: int | None = 2) -> str:
    """Serialise an instance of either format to JSON text.

    Parameters
    ----------
    instance : Instance or MultiInstance
        Format 1 is written as :func:`dumps_instance` writes it, format 2 as
        :func:`multi_to_dict` gives it.
    indent : int or None, optional
        Indentation of the JSON text; None: one line.

    Returns
    -------
    str
        Text that :func:`~splitbench.instance.parse_any` reads back to an equal instance.

    Examples
    --------
    >>> one = example_instance()
    >>> dumps_any(one) == dumps_instance(one)
    True
    >>> dumps_any(MultiInstance.from_single(one), indent=None)[:35]
    '{"format": "splitbench.instance/2",'
    """
    return json.dumps(any_to_dict(instance), indent=indent, allow_nan=False)


def save_any(instance: Instance | MultiInstance, path: str | Path) -> None:
    """Write an instance file of either format (:func:`dumps_any` and a line break).

    Parameters
    ----------
    instance : Instance or MultiInstance
        The instance to write.
    path : str or Path
        The file; :func:`~splitbench.instance.load_any` reads it back.
    """
    Path(path).write_text(dumps_any(instance) + "\n", encoding="utf-8")


def canonical_json(instance: Instance) -> str:
    """Compact JSON with sorted keys and every default written: equal instances give
    equal text."""
    return canonical_json_any(instance)


def canonical_json_any(instance: Instance | MultiInstance) -> str:
    """:func:`canonical_json` for an instance of either format.

    Parameters
    ----------
    instance : Instance or MultiInstance
        The instance.

    Returns
    -------
    str
        Compact JSON with sorted keys, every default written and -0.0 written as 0.0;
        for a format-1 instance exactly :func:`canonical_json`'s text.

    Examples
    --------
    >>> multi = MultiInstance.from_single(example_instance(), rate_per_s=3.0)
    >>> text = canonical_json_any(multi)
    >>> list(json.loads(text))
    ['dnns', 'format', 'max_utilization', 'name', 'network', 'objective', 'requests']
    >>> '"rate_per_s":3.0' in text, text == canonical_json_any(MultiInstance.from_single(
    ...     example_instance(), rate_per_s=3.0))
    (True, True)
    """
    return json.dumps(
        _fold_negative_zero(any_to_dict(instance)),
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )


def _fold_negative_zero(value: Any) -> Any:
    if isinstance(value, float):
        return value + 0.0
    if isinstance(value, dict):
        return {k: _fold_negative_zero(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fold_negative_zero(v) for v in value]
    return value


def instance_id(instance: Instance | MultiInstance) -> str:
    """A 16-hex-digit hash of the canonical JSON: the same instance always has the same id.

    Format-2 instances are hashed the same way (their canonical JSON differs from any
    format-1 instance's, if only by ``format``).

    Examples
    --------
    >>> one = example_instance()
    >>> multi = MultiInstance.from_single(one)
    >>> len(instance_id(multi)), instance_id(multi) == instance_id(one)
    (16, False)
    """
    return hashlib.sha256(canonical_json_any(instance).encode("utf-8")).hexdigest()[:16]


def example_instance(name: str = "fin-b-alexnet-cifar10") -> Instance:
    """A built-in example instance shipped in ``splitbench/data/examples``.

    Examples
    --------
    >>> example_instance().request.objective.value
    'energy'
    """
    ref = resources.files("splitbench") / "data" / "examples" / f"{name}.json"
    try:
        text = ref.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstanceError("", f"no built-in example called {name!r}") from None
    return parse_instance(text, source=f"<example {name}>")
