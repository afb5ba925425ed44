"""The graph-method tests' instances: re-exported from :mod:`splitbench.families.tiny`,
plus cached answers of the exhaustive oracle and of ``routing-milp``.

``random_instance`` is :func:`~splitbench.families.tiny.graph_instance` (deadline
modes, memory on or off), ``cases`` is :func:`~splitbench.families.tiny.graph_cases`
and ``chain_instance`` is :func:`~splitbench.families.tiny.graph_chain`.
"""

from __future__ import annotations

import functools

from splitbench.families.tiny import DEADLINE_MODES, fin_sweeps, tiered_instances, with_deadline
from splitbench.families.tiny import graph_cases as cases
from splitbench.families.tiny import graph_chain as chain_instance
from splitbench.families.tiny import graph_instance as random_instance
from splitbench.instance import Instance
from splitbench.methods import solve
from splitbench.solution import Solution
from splitbench.status import Termination

__all__ = [
    "DEADLINE_MODES",
    "cases",
    "chain_instance",
    "fin_sweeps",
    "milp",
    "oracle",
    "random_instance",
    "tiered_instances",
    "with_deadline",
]


@functools.cache
def oracle(instance: Instance) -> Solution:
    """The exhaustive oracle's answer (cached)."""
    return solve(instance, "exhaustive")


@functools.cache
def milp(instance: Instance) -> Solution | None:
    """``routing-milp``'s answer, or None when that method is not available (cached)."""
    sol = solve(instance, "routing-milp")
    return None if sol.termination is Termination.ERROR else sol
