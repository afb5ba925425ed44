"""Instances: frozen dataclasses, JSON load/dump with validation, canonical ids.

Format 1 (one request): :func:`load_instance`, :func:`dumps_instance`,
:func:`validate_instance`. Format 2 (many requests sharing one network, a
:class:`MultiInstance`): :func:`multi_from_dict`, :func:`multi_to_dict`,
:func:`validate_multi`; and for a file of either format :func:`load_any`,
:func:`parse_any`, :func:`dumps_any`, :func:`save_any`, :func:`validate_any`.

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
    canonical_json_any,
    dumps_any,
    dumps_instance,
    example_instance,
    instance_id,
    instance_to_dict,
    multi_to_dict,
    save_any,
    save_instance,
)
from splitbench.instance.io import MAX_FILE_BYTES, instance_from_dict, load_instance, parse_instance
from splitbench.instance.io_multi import any_from_dict, load_any, multi_from_dict, parse_any
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
from splitbench.instance.validate_multi import validate_any, validate_multi

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
    "any_from_dict",
    "canonical_json",
    "canonical_json_any",
    "dumps_any",
    "dumps_instance",
    "example_instance",
    "instance_from_dict",
    "instance_id",
    "instance_to_dict",
    "load_any",
    "load_instance",
    "multi_from_dict",
    "multi_to_dict",
    "parse_any",
    "parse_instance",
    "save_any",
    "save_instance",
    "validate_any",
    "validate_instance",
    "validate_multi",
]
