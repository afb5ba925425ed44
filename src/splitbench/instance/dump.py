"""Writing instances: the canonical JSON form, the instance id, the shipped examples.

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
from splitbench.instance.model import FORMAT, Instance

__all__ = [
    "canonical_json",
    "dumps_instance",
    "example_instance",
    "instance_id",
    "instance_to_dict",
    "save_instance",
]


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    """The instance as JSON-ready data, every default written out (the canonical form)."""
    net = instance.network
    req = instance.request
    return {
        "format": FORMAT,
        "name": instance.name,
        "network": {
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
        },
        "dnn": {
            "name": instance.dnn.name,
            "input_bytes": instance.dnn.input_bytes,
            "blocks": [
                {
                    "name": b.name,
                    "ops": b.ops,
                    "output_bytes": b.output_bytes,
                    "memory_bytes": b.memory_bytes,
                }
                for b in instance.dnn.blocks
            ],
            "exits": [
                {
                    "after_block": e.after_block,
                    "accuracy": e.accuracy,
                    "ops": e.ops,
                    "exit_probability": e.exit_probability,
                    "output_bytes": e.output_bytes,
                }
                for e in instance.dnn.exits
            ],
        },
        "request": {
            "source": req.source,
            "destination": req.destination,
            "objective": req.objective.value,
            "deadline_s": req.deadline_s,
            "min_accuracy": req.min_accuracy,
            "exit_policy": req.exit_policy.value,
            "tier_order": list(req.tier_order) if req.tier_order is not None else None,
            "allowed_nodes": {str(k): list(v) for k, v in req.allowed_nodes} or None,
        },
    }


def dumps_instance(instance: Instance, *, indent: int | None = 2) -> str:
    """Serialise an instance to JSON text (reloads to an equal instance)."""
    return json.dumps(instance_to_dict(instance), indent=indent, allow_nan=False)


def save_instance(instance: Instance, path: str | Path) -> None:
    """Write an instance file."""
    Path(path).write_text(dumps_instance(instance) + "\n", encoding="utf-8")


def canonical_json(instance: Instance) -> str:
    """Compact JSON with sorted keys and every default written: equal instances give
    equal text."""
    return json.dumps(
        _fold_negative_zero(instance_to_dict(instance)),
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


def instance_id(instance: Instance) -> str:
    """A 16-hex-digit hash of the canonical JSON: the same instance always has the same id."""
    return hashlib.sha256(canonical_json(instance).encode("utf-8")).hexdigest()[:16]


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
