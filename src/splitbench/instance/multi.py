"""Format 2: many requests sharing one network (``splitbench.instance/2``).

A :class:`MultiInstance` holds one network, several DNNs (by unique name) and
several requests. Each :class:`MultiRequest` names the DNN it runs, its rate
(inferences per second) and the per-request fields of format 1 (a
:class:`~splitbench.instance.model.Request`, whose objective is the instance's).
The requests compete for node compute, link bandwidth and memory, up to
``max_utilization`` of each capacity (MULTI.md in the design notes; ``docs/`` for
users).

Each request seen alone is a format-1 :class:`~splitbench.instance.model.Instance`
(:meth:`MultiInstance.single`): the single-request evaluator and every
single-request method apply to it unchanged.

Examples
--------
>>> from splitbench.instance import example_instance
>>> one = example_instance()
>>> multi = MultiInstance.from_single(one, rate_per_s=20.0)
>>> multi.request_ids, multi.objective.value, multi.max_utilization
(('r1',), 'energy', 1.0)
>>> multi.single("r1") == Instance("fin-b-alexnet-cifar10/r1", one.network, one.dnn, one.request)
True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property

from splitbench.instance.model import DNN, Instance, Network, Objective, Request

__all__ = ["FORMAT_2", "MultiInstance", "MultiRequest"]

FORMAT_2 = "splitbench.instance/2"
"""The ``format`` value of a many-request instance file."""


@dataclass(frozen=True)
class MultiRequest:
    """One request of a format-2 instance.

    Attributes
    ----------
    id : str
        Unique among the instance's requests.
    dnn : str
        The name of the DNN it runs (one of :attr:`MultiInstance.dnns`).
    rate_per_s : float
        Inferences per second (> 0).
    request : Request
        Source, destination, deadline, minimum accuracy, exit policy, tier order and
        allowed nodes, with format 1's meaning; its ``objective`` is the instance's.
    """

    id: str
    dnn: str
    rate_per_s: float
    request: Request


@dataclass(frozen=True)
class MultiInstance:
    """Several requests on one network, coupled by shared capacity.

    Attributes
    ----------
    name : str
        The instance's name.
    network : Network
        As in format 1.
    dnns : tuple of DNN
        The models, names unique.
    requests : tuple of MultiRequest
        At least one; ids unique.
    objective : Objective
        ``energy``: sum of rate x energy (W); ``latency``: rate-weighted mean latency (s).
    max_utilization : float
        The share U in (0, 1] of each node's ops/s and each arc's bandwidth that the
        requests' loads may use.
    """

    name: str
    network: Network
    dnns: tuple[DNN, ...]
    requests: tuple[MultiRequest, ...]
    objective: Objective
    max_utilization: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "objective", Objective(self.objective))

    @cached_property
    def _dnns(self) -> dict[str, DNN]:
        return {d.name: d for d in self.dnns}

    @cached_property
    def _requests(self) -> dict[str, MultiRequest]:
        return {r.id: r for r in self.requests}

    @property
    def request_ids(self) -> tuple[str, ...]:
        """The requests' ids, in file order."""
        return tuple(r.id for r in self.requests)

    @property
    def total_rate(self) -> float:
        """Inferences per second over all requests."""
        return float(sum(r.rate_per_s for r in self.requests))

    def dnn(self, name: str) -> DNN:
        """The DNN called ``name`` (KeyError if there is none)."""
        return self._dnns[name]

    def request(self, request_id: str) -> MultiRequest:
        """The request ``request_id`` (KeyError if there is none)."""
        return self._requests[request_id]

    def single(self, request_id: str) -> Instance:
        """Request ``request_id`` alone, as a format-1 instance (no load limits).

        Its name is ``NAME/ID``; its request's objective is the instance's.
        """
        req = self.request(request_id)
        request = replace(req.request, objective=self.objective)
        return Instance(f"{self.name}/{req.id}", self.network, self.dnn(req.dnn), request)

    def singles(self) -> Iterator[tuple[MultiRequest, Instance]]:
        """Every request with its format-1 view, in file order."""
        for req in self.requests:
            yield req, self.single(req.id)

    @classmethod
    def from_single(
        cls, instance: Instance, *, rate_per_s: float = 1.0, request_id: str = "r1"
    ) -> MultiInstance:
        """A format-1 instance as a one-request format-2 instance (U = 1)."""
        return cls(
            name=instance.name,
            network=instance.network,
            dnns=(instance.dnn,),
            requests=(MultiRequest(request_id, instance.dnn.name, rate_per_s, instance.request),),
            objective=instance.request.objective,
        )
