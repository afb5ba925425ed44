"""Network builders: tiered device-edge-cloud, random graphs and real topologies.

Every builder returns a :class:`splitbench.instance.Network` and draws all its
randomness from a local :class:`numpy.random.Generator` made from an explicit
``seed``, so the same parameters give the identical network. The registry
:data:`BUILDERS` maps a builder name to its function; :func:`build_network` calls one
by name and checks the parameters first (an unknown name lists the known ones).

=============  ===============================================  ==========================
name           function                                         module
=============  ===============================================  ==========================
``tiered``     :func:`tiered_network`                           :mod:`.tiered`
``geometric``  :func:`random_geometric_network`                 :mod:`.random_graphs`
``waxman``     :func:`waxman_network`                           :mod:`.random_graphs`
``random``     :func:`random_network`                           :mod:`.random_graphs`
``topohub``    :func:`topohub_network`                          :mod:`.real`
=============  ===============================================  ==========================

Examples
--------
>>> from splitbench.topology import build_network, builder_names
>>> builder_names()
('geometric', 'random', 'tiered', 'topohub', 'waxman')
>>> net = build_network("tiered", counts={"device": 2, "edge": 2, "cloud": 1}, seed=0)
>>> [node.id for node in net.nodes]
['device0', 'device1', 'edge0', 'edge1', 'cloud0']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from splitbench.errors import UsageError
from splitbench.instance.model import Network
from splitbench.registry import Registry
from splitbench.topology.random_graphs import (
    RandomNetworkSpec,
    random_geometric_network,
    random_network,
    waxman_network,
)
from splitbench.topology.real import (
    TOPOHUB_ALIASES,
    BandwidthRule,
    RealTopologyRules,
    list_real_topologies,
    topohub_network,
)
from splitbench.topology.tiered import (
    EdgeWiring,
    LinkSpec,
    TieredSpec,
    TierSpec,
    tiered_network,
)

__all__ = [
    "BUILDERS",
    "TOPOHUB_ALIASES",
    "BandwidthRule",
    "EdgeWiring",
    "LinkSpec",
    "RandomNetworkSpec",
    "RealTopologyRules",
    "TierSpec",
    "TieredSpec",
    "build_network",
    "builder_names",
    "get_builder",
    "list_real_topologies",
    "random_geometric_network",
    "random_network",
    "tiered_network",
    "topohub_network",
    "waxman_network",
]

NetworkBuilder = Callable[..., Network]

BUILDERS = Registry[NetworkBuilder]("network builder")
"""Every network builder by name."""

for _name, _builder in (
    ("geometric", random_geometric_network),
    ("random", random_network),
    ("tiered", tiered_network),
    ("topohub", topohub_network),
    ("waxman", waxman_network),
):
    BUILDERS.register(_name, _builder)
del _name, _builder


def builder_names() -> tuple[str, ...]:
    """The registered builder names, sorted.

    Examples
    --------
    >>> "waxman" in builder_names()
    True
    """
    return tuple(sorted(BUILDERS))


def get_builder(name: str) -> NetworkBuilder:
    """The builder function registered as ``name``.

    Raises
    ------
    UnknownNameError
        If no builder has that name; the message lists the known ones.

    Examples
    --------
    >>> get_builder("random").__name__
    'random_network'
    >>> get_builder("mesh")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    splitbench.errors.UnknownNameError: unknown network builder 'mesh'; known network builders: ...
    """
    return BUILDERS.get(name)


def build_network(name: str, /, **params: Any) -> Network:
    """Call the builder ``name`` with keyword ``params``.

    Parameters
    ----------
    name : str
        A registered builder name (:func:`builder_names`).
    **params
        The builder's parameters, e.g. ``n_nodes=20, seed=1`` for ``"waxman"``.

    Raises
    ------
    UnknownNameError
        For an unknown builder.
    UsageError
        For a parameter the builder does not take, or a missing required one; the
        message lists the parameters it takes.

    Examples
    --------
    >>> len(build_network("random", n_nodes=6, density=0.4, seed=3).links)
    6
    >>> build_network("waxman", n_nodes=5, sed=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    splitbench.errors.UsageError: network builder 'waxman' takes no parameter 'sed' (it takes ...)
    """
    builder = get_builder(name)
    signature = inspect.signature(builder)
    known = ", ".join(signature.parameters)
    for key in params:
        if key not in signature.parameters:
            raise UsageError(
                f"network builder {name!r} takes no parameter {key!r} (it takes {known})"
            )
    try:
        signature.bind(**params)
    except TypeError as err:
        raise UsageError(f"network builder {name!r}: {err} (it takes {known})") from None
    return builder(**params)
