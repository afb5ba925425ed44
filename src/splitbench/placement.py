"""The answer to one request: where each block runs, the exit, and every route.

A :class:`Placement` names the node of each deployed block, the chosen exit (by the
index of the block it follows) and one route per hand-over: hand-over 0 carries the
input from the source to block 1, hand-over k carries block k's output, and the last
one carries the result to the destination (``None`` when the request has no
destination). Its JSON form is part of the solution contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from splitbench.errors import PlacementError

__all__ = ["MultiPlacement", "Placement"]


@dataclass(frozen=True)
class Placement:
    """Where each deployed block runs, the chosen exit and the route of every hand-over.

    Parameters
    ----------
    blocks : tuple of str
        Node id of blocks 1..l_e (select policy) or 1..L (expected policy).
    exit : int
        Index of the block the chosen exit follows (L under the expected policy).
    routes : tuple
        ``l_e + 1`` node paths: hand-overs 0..l_e-1 carry tensors between blocks,
        the last carries the result to the destination, or is None without one.
    exit_routes : tuple of (int, tuple of str), optional
        Expected policy with a destination: the route of each early exit's result,
        keyed by the exit's block (format 2 needs them, as their bandwidth is shared;
        format 1 lets the evaluator choose them when absent).

    Examples
    --------
    >>> p = Placement.from_dict({"blocks": ["a"], "exit": 1, "routes": [["a"], None]})
    >>> p.to_dict()
    {'blocks': ['a'], 'exit': 1, 'routes': [['a'], None]}
    """

    blocks: tuple[str, ...]
    exit: int
    routes: tuple[tuple[str, ...] | None, ...]
    exit_routes: tuple[tuple[int, tuple[str, ...]], ...] = ()

    def exit_route(self, block: int) -> tuple[str, ...] | None:
        """The result route of the early exit after ``block``, if the placement has one."""
        for index, route in self.exit_routes:
            if index == block:
                return route
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the solution contract."""
        out: dict[str, Any] = {
            "blocks": list(self.blocks),
            "exit": self.exit,
            "routes": [list(r) if r is not None else None for r in self.routes],
        }
        if self.exit_routes:
            out["exit_routes"] = {str(k): list(r) for k, r in self.exit_routes}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Placement:
        """Read the JSON form; raises :class:`PlacementError` when it is malformed."""
        try:
            blocks = tuple(str(b) for b in data["blocks"])
            exit_block = data["exit"]
            if isinstance(exit_block, bool) or not isinstance(exit_block, int):
                raise PlacementError(f"placement exit must be a block index, got {exit_block!r}")
            routes = tuple(
                tuple(str(n) for n in r) if r is not None else None for r in data["routes"]
            )
            exit_routes = tuple(
                sorted(
                    (int(k), tuple(str(n) for n in r))
                    for k, r in dict(data.get("exit_routes") or {}).items()
                )
            )
        except (KeyError, TypeError, ValueError) as err:
            raise PlacementError(f"malformed placement: {err}") from None
        return cls(blocks=blocks, exit=exit_block, routes=routes, exit_routes=exit_routes)


@dataclass(frozen=True)
class MultiPlacement:
    """The answer to a format-2 instance: one :class:`Placement` per request id.

    Examples
    --------
    >>> one = Placement(("a",), 1, (("a",), None))
    >>> mp = MultiPlacement.from_dict({"requests": {"u1": one.to_dict()}})
    >>> mp.ids, mp["u1"] == one
    (('u1',), True)
    """

    requests: tuple[tuple[str, Placement], ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """The request ids, in order."""
        return tuple(rid for rid, _ in self.requests)

    def __getitem__(self, request_id: str) -> Placement:
        for rid, placement in self.requests:
            if rid == request_id:
                return placement
        raise KeyError(request_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"requests": {id: placement, ...}}``."""
        return {"requests": {rid: p.to_dict() for rid, p in self.requests}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MultiPlacement:
        """Read the JSON form; raises :class:`PlacementError` when it is malformed."""
        try:
            items = dict(data["requests"]).items()
        except (KeyError, TypeError, ValueError) as err:
            raise PlacementError(f"malformed multi-request placement: {err}") from None
        return cls(tuple((str(rid), Placement.from_dict(p)) for rid, p in items))
