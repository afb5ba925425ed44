"""Instances: frozen dataclasses, JSON load/dump with validation, canonical ids.

Examples
--------
>>> from splitbench.instance import example_instance, instance_id
>>> inst = example_instance()
>>> inst.request.source
'md'
"""

from splitbench.errors import InstanceError
from splitbench.instance.dump import (
    canonical_json,
    dumps_instance,
    example_instance,
    instance_id,
    instance_to_dict,
    save_instance,
)
from splitbench.instance.io import MAX_FILE_BYTES, instance_from_dict, load_instance, parse_instance
from splitbench.instance.model import (
    DNN,
    FORMAT,
    Arc,
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
from splitbench.instance.multi import FORMAT_2, MultiInstance, MultiRequest
from splitbench.instance.validate import validate_instance

__all__ = [
    "DNN",
    "FORMAT",
    "FORMAT_2",
    "MAX_FILE_BYTES",
    "Arc",
    "Block",
    "Exit",
    "ExitPolicy",
    "Instance",
    "InstanceError",
    "Link",
    "MultiInstance",
    "MultiRequest",
    "Network",
    "Node",
    "Objective",
    "Request",
    "canonical_json",
    "dumps_instance",
    "example_instance",
    "instance_from_dict",
    "instance_id",
    "instance_to_dict",
    "load_instance",
    "parse_instance",
    "save_instance",
    "validate_instance",
]
