"""The formulation tests' instances: re-exported from :mod:`splitbench.families.tiny`
(``small_instance`` is :func:`~splitbench.families.tiny.milp_instance`, cached;
``chain_instance`` is :func:`~splitbench.families.tiny.milp_chain`), plus the cached
answer of the exhaustive oracle.
"""

from __future__ import annotations

from functools import cache

from splitbench.families.tiny import COMBOS, milp_instance
from splitbench.families.tiny import milp_chain as chain_instance
from splitbench.instance import ExitPolicy, Instance, Objective
from splitbench.methods import solve
from splitbench.solution import Solution

__all__ = ["COMBOS", "chain_instance", "oracle", "small_instance"]


@cache
def small_instance(seed: int, objective: Objective, policy: ExitPolicy) -> Instance:
    """:func:`~splitbench.families.tiny.milp_instance` (cached)."""
    return milp_instance(seed, objective, policy)


@cache
def oracle(seed: int, objective: Objective, policy: ExitPolicy) -> Solution:
    """The exhaustive oracle's answer on :func:`small_instance` (cached)."""
    return solve(small_instance(seed, objective, policy), "exhaustive")
