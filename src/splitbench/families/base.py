"""What every instance family shares: the :class:`Family` type, its registry, the
request parameters, and the checks that run before any work starts.

A family module builds one :class:`Family` and registers it beside its builder
(``SPEC = register_family(Family(...))``); :func:`splitbench.families.generate` parses
the parameters, checks them against :attr:`Family.bounds` and :attr:`Family.check`,
and only then calls :attr:`Family.build`. So an absurd value (``nodes=10**9``) is a
:class:`~splitbench.errors.UsageError` naming the parameter, not a ``MemoryError``.

Examples
--------
>>> spec = Family("demo", "a demo", {"nodes": Param(int, 3, "nodes")}, lambda v, s: None,
...               bounds={"nodes": (1, 10)})
>>> spec.check_values({"nodes": 5})
>>> spec.check_values({"nodes": 0})
Traceback (most recent call last):
...
splitbench.errors.UsageError: --param nodes=0: family 'demo' takes 1 <= nodes <= 10
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from splitbench.errors import UsageError
from splitbench.instance.model import Instance, Network, Request
from splitbench.params import Param
from splitbench.registry import Registry

__all__ = [
    "FAMILIES",
    "Builder",
    "Family",
    "default_source",
    "make_request",
    "name_suffix",
    "register_family",
    "request_params",
]

Builder = Callable[[Mapping[str, Any], int], Instance]
"""A family's builder: typed parameter values and a seed in, an instance out."""

Bounds = Mapping[str, tuple[float, float]]
"""Closed ranges ``(low, high)`` of numeric parameters, by parameter name."""


def _no_check(values: Mapping[str, Any]) -> None:
    """The default cross-parameter check: accept everything."""


@dataclass(frozen=True)
class Family:
    """A registered instance family.

    Attributes
    ----------
    name : str
        What ``splitbench generate`` takes (``"random-chain"``).
    description : str
        One line for ``splitbench list families``.
    params : mapping of str to Param
        The accepted ``--param`` keys, with types and defaults.
    build : Builder
        Turns checked parameter values and a seed into an instance.
    bounds : mapping of str to (low, high)
        Closed ranges of numeric parameters (None values are not checked).
    check : callable
        A check across parameters (e.g. the link count of nodes and density); it
        raises :class:`~splitbench.errors.UsageError`.
    """

    name: str
    description: str
    params: Mapping[str, Param]
    build: Builder
    bounds: Bounds = field(default_factory=dict)
    check: Callable[[Mapping[str, Any]], None] = _no_check

    def __post_init__(self) -> None:
        unknown = sorted(set(self.bounds) - set(self.params))
        if unknown:
            raise ValueError(f"family {self.name!r}: bounds for unknown parameters {unknown}")

    def check_values(self, values: Mapping[str, Any]) -> None:
        """Raise :class:`~splitbench.errors.UsageError` for a value out of its bounds,
        or for a combination :attr:`check` refuses."""
        for key, (low, high) in self.bounds.items():
            value = values[key]
            if value is None:
                continue
            if not low <= value <= high:  # NaN fails too
                raise UsageError(
                    f"--param {key}={value}: family {self.name!r} takes "
                    f"{_show(low)} <= {key} <= {_show(high)}"
                )
        self.check(values)


def _show(bound: float) -> str:
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


FAMILIES = Registry[Family]("family", "families")
"""Every registered family by name, in registration order."""


def register_family(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES` and return it (a duplicate name is refused)."""
    return FAMILIES.register(family.name, family)


def request_params() -> dict[str, Param]:
    """The request parameters every family takes (objective, limits, exit policy)."""
    return {
        "objective": Param(str, "latency", "latency or energy", ("latency", "energy")),
        "deadline_s": Param(float, None, "deadline in seconds (none: no deadline)"),
        "min_accuracy": Param(float, None, "minimum accuracy (none: no minimum)"),
        "exit_policy": Param(str, "select", "select or expected", ("select", "expected")),
    }


def make_request(values: Mapping[str, Any], source: str, **extra: Any) -> Request:
    """The request of :func:`request_params` values, from ``source``."""
    return Request(
        source=source,
        objective=values["objective"],
        deadline_s=values["deadline_s"],
        min_accuracy=values["min_accuracy"],
        exit_policy=values["exit_policy"],
        **extra,
    )


def name_suffix(
    values: Mapping[str, Any], params: Mapping[str, Param], skip: tuple[str, ...] = ()
) -> str:
    """Name parts for the parameters that differ from their defaults.

    Examples
    --------
    >>> params = {"a": Param(int, 1, "a"), "b": Param(float, 0.5, "b")}
    >>> name_suffix({"a": 1, "b": 0.25}, params), name_suffix({"a": 2, "b": 0.5}, params)
    ('-b=0.25', '-a=2')
    """
    parts = [
        f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in values.items()
        if key not in skip and value != params[key].default
    ]
    return ("-" + "-".join(parts)) if parts else ""


def default_source(network: Network) -> str:
    """The first computing device of ``network``, else its first computing node."""
    for node in network.nodes:
        if node.tier == "device" and node.can_compute:
            return node.id
    return network.computing_nodes[0].id
