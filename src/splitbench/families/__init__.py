"""Instance families: seeded generators with typed, checked parameters.

Each family turns parameters and a seed into one validated instance: a format-1
:class:`~splitbench.instance.Instance` (one request) or a format-2
:class:`~splitbench.instance.MultiInstance` (many requests sharing one network,
MULTI.md); the same parameters and seed always give the same instance (and so the
same ``instance_id``). ``splitbench generate FAMILY --param K=V --seed N`` calls
:func:`generate`; ``splitbench list families`` prints :data:`FAMILIES`. One module
per family, each registering its :class:`Family` as ``SPEC``:

- ``fin-branchy`` (:mod:`.fin_branchy`): the FIN authors' evaluation scenario
  (MODEL.md section 6): a BranchyNet model on the three-tier MD/ES/CS chain, data
  moving up only, block 1 pinned to the device. Deterministic: the seed is not used.
- ``tiered`` (:mod:`.tiered`): a zoo model over a seeded device-edge-cloud network.
- ``topohub`` (:mod:`.topohub`): a zoo model over a real topology (Topology Zoo,
  SNDlib) with derived capacities and one attached device.
- ``random-chain`` (:mod:`.random_chain`): a random chain of blocks over a random
  connected network, for scaling experiments.
- ``tiny`` (:mod:`.tiny`): the seeded tiny instances the tests, benchmarks and
  agreement checks share.

Format 2 (a :class:`~splitbench.instance.MultiInstance`; rates make shared capacity matter):

- ``multi-tiered`` (:mod:`.multi_tiered`): several users per device running zoo and
  BranchyNet models over a seeded device-edge-cloud network, rates from a load factor.
- ``multi-topohub`` (:mod:`.multi_topohub`): requests of zoo models entering a real
  topology at seeded nodes, rates from a load factor.
- ``fin-multi`` (:mod:`.fin_multi`): the FIN scenario with many users of several
  BranchyNet applications, each on its own device, sharing the edge and the cloud.
- ``multi-tiny`` (:mod:`.multi_tiny`): seeded tiny instances where compute, link or
  memory binds, for checking the exact methods against each other and the oracle.

Parameters are checked before any work starts: counts have documented bounds (each
module's docstring), and the seed must be >= 0.

Examples
--------
>>> inst = generate("fin-branchy", {"dnn": "b-lenet"})
>>> inst.dnn.name, inst.request.deadline_s, inst.request.min_accuracy
('b-lenet', 0.005, 0.8)
>>> a = generate("random-chain", {"blocks": "4", "nodes": "5"}, seed=3)
>>> b = generate("random-chain", {"blocks": 4, "nodes": 5}, seed=3)
>>> from splitbench.instance import instance_id
>>> instance_id(a) == instance_id(b), a.dnn.n_blocks, len(a.network.nodes)
(True, 4, 5)
>>> sorted(FAMILIES.names())[:5]
['fin-branchy', 'fin-multi', 'multi-tiered', 'multi-tiny', 'multi-topohub']
>>> sorted(FAMILIES.names())[5:]
['random-chain', 'tiered', 'tiny', 'topohub']
>>> generate("random-chain", {"nodes": 10**9})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
splitbench.errors.UsageError: --param nodes=1000000000: family 'random-chain' takes 1 <= ...
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from splitbench.errors import UsageError
from splitbench.families import (
    fin_branchy,
    fin_multi,
    multi_tiered,
    multi_tiny,
    multi_topohub,
    random_chain,
    tiered,
    tiny,
    topohub,
)
from splitbench.families.base import FAMILIES, AnyInstance, Builder, Family, register_family
from splitbench.instance import validate_any
from splitbench.params import parse_params

__all__ = [
    "FAMILIES",
    "AnyInstance",
    "Builder",
    "Family",
    "fin_branchy",
    "fin_multi",
    "generate",
    "get_family",
    "multi_tiered",
    "multi_tiny",
    "multi_topohub",
    "random_chain",
    "register_family",
    "tiered",
    "tiny",
    "topohub",
]


def get_family(name: str) -> Family:
    """The family called ``name``.

    Raises
    ------
    UnknownNameError
        Listing the known families.

    Examples
    --------
    >>> get_family("tiered").description
    'a zoo or BranchyNet model over a seeded device-edge-cloud network'
    >>> get_family("mesh")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    splitbench.errors.UnknownNameError: unknown family 'mesh'; known families: fin-branchy, ...
    """
    return FAMILIES.get(name)


def generate(name: str, params: Mapping[str, Any] | None = None, *, seed: int = 0) -> AnyInstance:
    """Generate and validate one instance of family ``name``.

    Parameters
    ----------
    name : str
        A family name (see :data:`FAMILIES`).
    params : mapping, optional
        Parameter values, as strings (command line) or Python values.
    seed : int
        Seed of the family's random generator (>= 0).

    Returns
    -------
    Instance or MultiInstance
        The instance (format 1 or 2, by family); it passes
        :func:`~splitbench.instance.validate_any`.

    Raises
    ------
    UnknownNameError
        For an unknown family.
    UsageError
        For an unknown parameter, a bad or out-of-bounds value, or a negative seed;
        raised before any work starts.

    Examples
    --------
    >>> inst = generate("tiny", {"distribution": "milp", "objective": "energy"}, seed=3)
    >>> inst.name, inst.request.objective.value
    ('small-3-energy-select', 'energy')
    >>> generate("tiny", seed=-1)
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: --seed -1: must be a whole number >= 0
    """
    family = get_family(name)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise UsageError(f"--seed {seed}: must be a whole number >= 0")
    values = parse_params(f"family {name!r}", family.params, params or {})
    family.check_values(values)
    instance = family.build(values, int(seed))
    validate_any(instance)
    return instance
