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

__all__ = ["Placement"]


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

    Examples
    --------
    >>> p = Placement.from_dict({"blocks": ["a"], "exit": 1, "routes": [["a"], None]})
    >>> p.to_dict()
    {'blocks': ['a'], 'exit': 1, 'routes': [['a'], None]}
    """

    blocks: tuple[str, ...]
    exit: int
    routes: tuple[tuple[str, ...] | None, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the solution contract."""
        return {
            "blocks": list(self.blocks),
            "exit": self.exit,
            "routes": [list(r) if r is not None else None for r in self.routes],
        }

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
        except (KeyError, TypeError) as err:
            raise PlacementError(f"malformed placement: {err}") from None
        return cls(blocks=blocks, exit=exit_block, routes=routes)
