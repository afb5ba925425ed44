"""Every numerical tolerance of splitbench, named once.

Examples
--------
>>> FEASIBILITY_RTOL <= OPTIMALITY_RTOL < AGREEMENT_RTOL
True
"""

from __future__ import annotations

__all__ = [
    "AGREEMENT_ATOL",
    "AGREEMENT_RTOL",
    "FEASIBILITY_RTOL",
    "INTEGRALITY_TOL",
    "MIP_REL_GAP",
    "OPTIMALITY_RTOL",
    "SOLUTION_TOLERANCE",
    "TIGHT_RTOL",
]

FEASIBILITY_RTOL = 1e-9
"""Relative slack on the deadline, memory and accuracy limits, so that an optimum that
sits exactly on a limit is not refused for a rounding error."""

TIGHT_RTOL = 1e-10
"""Relative slack of the graph searches' own deadline and dominance comparisons."""

OPTIMALITY_RTOL = 1e-9
"""A method that proves optimality by its own bound (LARAC, FIN's relaxation) says
``optimal`` only when (objective - bound) / max(|objective|, 1e-9) is at most this."""

AGREEMENT_RTOL = 1e-6
"""Exact methods must agree with each other and with the oracle within this (MODEL.md 8);
an ``optimal`` answer whose evaluated objective lies further than this above its bound is
not reported optimal."""

AGREEMENT_ATOL = 1e-12
"""The absolute slack added to :data:`AGREEMENT_RTOL` (for objectives at or near 0)."""

MIP_REL_GAP = 1e-9
"""The relative MIP gap every backend is given by default (the absolute gap is 0)."""

INTEGRALITY_TOL = 1e-7
"""An LP value this close to an integer counts as integral."""

SOLUTION_TOLERANCE = 1e-5
"""A solver's solution that breaks a bound (relative) or integrality by more than this is
not trusted: it is dropped."""
