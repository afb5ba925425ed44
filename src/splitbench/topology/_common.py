"""Helpers shared by the topology builders (not public API).

Every builder turns its ``seed`` into a local :class:`numpy.random.Generator` with
:func:`make_rng`, draws node and link attributes from closed ranges ``(lo, hi)``
with :func:`draw`, and checks its parameters with the ``check_*`` helpers, which
raise :class:`splitbench.errors.UsageError` with a message that names the parameter.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import NDArray

from splitbench.errors import UsageError

__all__ = [
    "SIGNAL_SPEED_M_PER_S",
    "Range",
    "check_count",
    "check_range",
    "check_seed",
    "draw",
    "make_rng",
]

Range = tuple[float, float]
"""A closed interval ``(lo, hi)`` from which a value is drawn uniformly."""

SIGNAL_SPEED_M_PER_S = 2.0e8
"""Propagation speed in optical fibre (about two thirds of c), in metres per second."""


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int, or raise UsageError if it is not a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def make_rng(seed: object) -> np.random.Generator:
    """A fresh generator for ``seed`` (same seed, same stream)."""
    return np.random.default_rng(check_seed(seed))


def check_count(name: str, value: object, *, minimum: int = 0) -> int:
    """Return ``value`` as an int, or raise UsageError if it is not an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise UsageError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_range(name: str, value: Range, *, positive: bool = False) -> Range:
    """Check that ``value`` is a pair ``lo <= hi`` of finite non-negative numbers.

    With ``positive`` the lower end must also be > 0 (bandwidths, compute speeds).
    """
    if len(value) != 2:
        raise UsageError(f"{name} must be a pair (lo, hi), got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0 or lo > hi:
        raise UsageError(f"{name} must satisfy 0 <= lo <= hi (finite), got {value!r}")
    if positive and lo <= 0:
        raise UsageError(f"{name} must have lo > 0, got {value!r}")
    return (lo, hi)


def draw(rng: np.random.Generator, value: Range, size: int) -> NDArray[np.float64]:
    """``size`` values drawn uniformly from the closed range ``value``.

    A degenerate range ``(x, x)`` gives ``x`` exactly and still consumes draws, so
    that narrowing one range does not shift the stream of the others.
    """
    lo, hi = value
    out = rng.uniform(lo, hi, size=size)
    if lo == hi:
        out[:] = lo
    return out
