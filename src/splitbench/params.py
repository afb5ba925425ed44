"""Typed parameters of methods and instance families (``--param KEY=VALUE``).

Examples
--------
>>> specs = {"gamma": Param(int, 10, "latency levels")}
>>> parse_params("method 'fin'", specs, {"gamma": "30"})
{'gamma': 30}
>>> parse_params("method 'fin'", specs, {"gama": "30"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
splitbench.errors.UsageError: --param gama: method 'fin' takes no such parameter ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from splitbench.errors import UsageError

__all__ = ["Param", "parse_params"]

_NULL = ("none", "null", "")


@dataclass(frozen=True)
class Param:
    """A parameter: its type, default, meaning, and (optionally) allowed values.

    A parameter whose default is None, or that is marked ``nullable``, also accepts
    ``none``/``null`` on the command line.
    """

    type: type[int] | type[float] | type[str] | type[bool]
    default: Any
    help: str
    choices: Sequence[Any] | None = None
    nullable: bool = False

    def convert(self, value: Any) -> Any:
        """Turn a command-line string (or a Python value) into this parameter's type."""
        if value is None or (
            isinstance(value, str)
            and value.strip().lower() in _NULL
            and (self.default is None or self.nullable)
        ):
            return None
        if self.type is bool:
            if isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{value!r} is not a boolean")
        if self.type is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        converted = self.type(value.strip() if isinstance(value, str) else value)
        if self.choices is not None and converted not in self.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(map(str, self.choices))}")
        return converted


def parse_params(owner: str, specs: Mapping[str, Param], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Convert raw values into typed parameters, with defaults filled in.

    Parameters
    ----------
    owner : str
        Who takes the parameters, for messages (``"method 'fin'"``).
    specs : mapping of str to Param
        The accepted parameters.
    raw : mapping
        Values by key (strings from the command line, or Python values).

    Raises
    ------
    UsageError
        For an unknown key or a value of the wrong type.
    """
    out = {key: param.default for key, param in specs.items()}
    for key, value in raw.items():
        if key not in specs:
            allowed = ", ".join(sorted(specs)) or "none"
            raise UsageError(
                f"--param {key}: {owner} takes no such parameter (its parameters: {allowed})"
            )
        param = specs[key]
        try:
            out[key] = param.convert(value)
        except (TypeError, ValueError) as err:
            expected = (
                f"one of {', '.join(map(str, param.choices))}"
                if param.choices
                else f"a {param.type.__name__}"
            )
            raise UsageError(f"--param {key}={value}: expected {expected} ({err})") from None
    return out
