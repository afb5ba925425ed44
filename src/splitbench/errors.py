"""The exception hierarchy of splitbench.

Every error a user can cause derives from :class:`SplitbenchError` and carries a
message that says what to fix; the command line prints it as one line and exits
with status 2.
"""

from __future__ import annotations

__all__ = [
    "DuplicateNameError",
    "InstanceError",
    "PlacementError",
    "SplitbenchError",
    "UnknownNameError",
    "UsageError",
]


class SplitbenchError(Exception):
    """Base class of the errors splitbench raises on bad input."""


class InstanceError(SplitbenchError, ValueError):
    """An instance (file or object) is malformed.

    Parameters
    ----------
    field : str
        Dotted path of the offending field, e.g. ``network.links[2].target``
        (empty for whole-file problems).
    message : str
        What is wrong, phrased so that the user knows what to fix.
    source : str or None
        The file the instance came from, if any.

    Examples
    --------
    >>> str(InstanceError("dnn.blocks[0].ops", "must be >= 0, got -1", source="x.json"))
    'x.json: dnn.blocks[0].ops: must be >= 0, got -1'
    """

    def __init__(self, field: str, message: str, source: str | None = None) -> None:
        self.field = field
        self.message = message
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        text = ": ".join([*parts, self.message])
        # one line whatever the file holds: escape line breaks from keys and values
        return text.replace("\r", "\\r").replace("\n", "\\n")

    def with_source(self, source: str) -> InstanceError:
        """A copy of this error naming the file ``source``."""
        return InstanceError(self.field, self.message, source)


class PlacementError(SplitbenchError, ValueError):
    """A placement is structurally malformed (wrong lengths, unknown nodes or exits)."""


class UnknownNameError(SplitbenchError, KeyError):
    """A method, solver, family or suite name is not registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown name"


class DuplicateNameError(SplitbenchError, ValueError):
    """A name is registered twice in one registry."""


class UsageError(SplitbenchError, ValueError):
    """A parameter value or a combination of options is invalid."""
