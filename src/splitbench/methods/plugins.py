"""User methods: the entry-point group ``splitbench.methods`` and ``--plugin MODULE``.

A plugin offers one or more :class:`~splitbench.methods.registry.MethodSpec`. Two
ways in, both giving the same registry entries as the built-in methods:

- an installed package declares an entry point in the group ``splitbench.methods``
  whose object is a ``MethodSpec``, a list of them, or a function without arguments
  returning either (``[project.entry-points."splitbench.methods"]`` in its
  ``pyproject.toml``); they are loaded the first time a method name is looked up;
- ``--plugin MODULE`` (on ``solve`` and ``run``) imports a module by name; the module
  registers its methods on import (:func:`~splitbench.methods.registry.register`) or
  lists them in a module attribute ``SPLITBENCH_METHODS``.

A plugin that cannot be imported, or offers something that is not a method, is bad
input: a :class:`~splitbench.errors.UsageError` naming the plugin.

Examples
--------
>>> load_plugin("json")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
splitbench.errors.UsageError: --plugin json: the module registers no method (register one, ...
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from typing import Any

from splitbench.errors import DuplicateNameError, UnknownNameError, UsageError
from splitbench.methods.registry import METHODS, MethodSpec, register

__all__ = ["ENTRY_POINT_GROUP", "find_method", "load_entry_points", "load_plugin"]

ENTRY_POINT_GROUP = "splitbench.methods"
"""The entry-point group user packages declare their methods in."""

_loaded_entry_points = False


def _specs(offered: Any, origin: str) -> list[MethodSpec]:
    if callable(offered) and not isinstance(offered, MethodSpec):
        offered = offered()
    if isinstance(offered, MethodSpec):
        return [offered]
    if isinstance(offered, Iterable) and not isinstance(offered, str | bytes):
        items = list(offered)
        if all(isinstance(item, MethodSpec) for item in items):
            return items
    raise UsageError(f"{origin}: offers {type(offered).__name__}, not MethodSpec objects")


def _add(specs: Iterable[MethodSpec], origin: str) -> list[str]:
    names = []
    for spec in specs:
        if spec.name in METHODS and METHODS.get(spec.name) == spec:
            names.append(spec.name)
            continue  # the same method registered again (a module imported twice)
        try:
            register(spec)
        except DuplicateNameError:
            raise UsageError(
                f"{origin}: method {spec.name!r} is already registered by another module"
            ) from None
        names.append(spec.name)
    return names


def load_entry_points() -> list[str]:
    """Register the methods of every installed ``splitbench.methods`` entry point (once).

    Returns the names registered by this call.
    """
    global _loaded_entry_points
    if _loaded_entry_points:
        return []
    _loaded_entry_points = True
    names: list[str] = []
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {point.name!r} ({point.value})"
        try:
            offered = point.load()
        except Exception as err:
            raise UsageError(f"{origin}: cannot load it: {type(err).__name__}: {err}") from None
        names += _add(_specs(offered, origin), origin)
    return names


def load_plugin(module: str) -> list[str]:
    """Import ``module`` and register the methods it offers; returns their names.

    Raises
    ------
    UsageError
        When the module cannot be imported or offers no method.
    """
    origin = f"--plugin {module}"
    if not module.strip():
        raise UsageError(f"{origin}: empty module name")
    before = set(METHODS)
    try:
        loaded = importlib.import_module(module)
    except Exception as err:
        raise UsageError(f"{origin}: cannot import it: {type(err).__name__}: {err}") from None
    listed = getattr(loaded, "SPLITBENCH_METHODS", None)
    names = _add(_specs(listed, origin), origin) if listed is not None else []
    names += sorted(set(METHODS) - before - set(names))
    if not names:
        raise UsageError(
            f"{origin}: the module registers no method (register one, or list MethodSpec "
            "objects in SPLITBENCH_METHODS)"
        )
    return names


def find_method(name: str) -> MethodSpec:
    """The method called ``name``, looking in the installed entry points when it is
    not registered yet.

    Raises
    ------
    UnknownNameError
        When no registered method or entry point has that name.
    """
    try:
        return METHODS.get(name)
    except UnknownNameError:
        if not load_entry_points():
            raise
    return METHODS.get(name)
