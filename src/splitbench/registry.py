"""One registry shape for every named thing: methods, solvers, formulations, families,
topology builders, zoo models and suites.

A :class:`Registry` maps names to entries; :meth:`Registry.register` refuses a
duplicate, and :meth:`Registry.get` answers an unknown name with an
:class:`~splitbench.errors.UnknownNameError` that lists the known ones.

Examples
--------
>>> colours = Registry[int]("colour")
>>> colours.register("red", 1)
1
>>> colours.get("red"), "red" in colours, colours.names()
(1, True, ('red',))
>>> colours.get("blue")
Traceback (most recent call last):
...
splitbench.errors.UnknownNameError: unknown colour 'blue'; known colours: red
>>> colours.register("red", 2)
Traceback (most recent call last):
...
splitbench.errors.DuplicateNameError: colour 'red' is registered twice
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from splitbench.errors import DuplicateNameError, UnknownNameError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind by name, in registration order.

    Parameters
    ----------
    kind : str
        What an entry is, for messages (``"method"``).
    plural : str, optional
        The plural of ``kind`` (default: ``kind + "s"``).
    """

    def __init__(self, kind: str, plural: str | None = None) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` under ``name`` and return it.

        Raises
        ------
        DuplicateNameError
            When ``name`` is already registered.
        """
        if name in self._entries:
            raise DuplicateNameError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests and plugins that replace themselves)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry called ``name``.

        Raises
        ------
        UnknownNameError
            Listing the known names.
        """
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        """The message for an unknown ``name``."""
        known = ", ".join(self._entries) or "none"
        return f"unknown {self.kind} {name!r}; known {self.plural}: {known}"

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order."""
        return tuple(self._entries)

    def items(self) -> tuple[tuple[str, T], ...]:
        """``(name, entry)`` pairs, in registration order."""
        return tuple(self._entries.items())

    def values(self) -> tuple[T, ...]:
        """Every entry, in registration order."""
        return tuple(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries)"
