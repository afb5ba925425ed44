"""Exact MILP formulations of split-and-placement, built once, solver-neutral.

Each formulation turns an :class:`~splitbench.instance.Instance` into a
:class:`Formulation`: a sparse :class:`MILP` with named blocks of variables and
rows, a decoder back to a :class:`~splitbench.evaluate.Placement`, and whether the
model is exact. Backends in :mod:`splitbench.solvers` translate the same arrays.

- ``assignment`` (:func:`build_assignment`): block-to-node binaries, McCormick
  pair variables, fixed routes (MODEL.md section 3).
- ``routing`` (:func:`build_routing`): binary arc flows on the layered graph of
  Jung & Lee (MODEL.md sections 3 and 4).

A format-2 instance (many requests sharing capacity) has coupled forms of its own,
in :data:`MULTI_FORMULATIONS` under the same names: ``routing``
(:func:`~splitbench.formulations.routing_multi.build_routing_multi`, a
multi-commodity flow) and ``assignment``
(:func:`~splitbench.formulations.assignment_multi.build_assignment_multi`, with a
choice among the simple routes of every transfer). :func:`build_formulation` picks
the form of the instance's format.

Examples
--------
>>> from splitbench.instance import example_instance
>>> sorted(FORMULATIONS)
['assignment', 'routing']
>>> build_formulation(example_instance(), "routing").milp.n_vars
64
>>> from splitbench.instance import MultiInstance
>>> build_formulation(MultiInstance.from_single(example_instance()), "routing").name
'routing-multi'
"""

from __future__ import annotations

from collections.abc import Callable

from splitbench.formulations.assignment import assignment_is_exact, build_assignment
from splitbench.formulations.assignment_multi import build_assignment_multi
from splitbench.formulations.routing import build_routing, routing_from_graph
from splitbench.formulations.routing_multi import build_routing_multi
from splitbench.instance.model import Instance
from splitbench.instance.multi import MultiInstance
from splitbench.milp import MILP, Formulation, LazyLabels, MILPBuilder, ModelSizes, NamedBlock
from splitbench.registry import Registry

__all__ = [
    "FORMULATIONS",
    "MILP",
    "MULTI_FORMULATIONS",
    "Formulation",
    "FormulationBuilder",
    "LazyLabels",
    "MILPBuilder",
    "NamedBlock",
    "assignment_is_exact",
    "build_assignment",
    "build_formulation",
    "build_routing",
    "routing_from_graph",
]

FormulationBuilder = Callable[[Instance], Formulation]
"""A formulation builder: an instance in, its solver-neutral model out."""

FORMULATIONS = Registry[FormulationBuilder]("formulation")
"""Every formulation builder by name."""

FORMULATIONS.register("assignment", build_assignment)
FORMULATIONS.register("routing", build_routing)

MultiFormulationBuilder = Callable[[MultiInstance], ModelSizes]
"""A coupled formulation builder: a format-2 instance in, its model out."""

MULTI_FORMULATIONS = Registry[MultiFormulationBuilder]("formulation")
"""Every coupled (format-2) formulation builder by name."""

MULTI_FORMULATIONS.register("assignment", build_assignment_multi)
MULTI_FORMULATIONS.register("routing", build_routing_multi)


def build_formulation(instance: Instance | MultiInstance, name: str) -> ModelSizes:
    """Build formulation ``name`` of ``instance`` (its coupled form on format 2).

    Raises
    ------
    UnknownNameError
        When ``name`` is not in :data:`FORMULATIONS` (the message lists them).

    Examples
    --------
    >>> from splitbench.instance import example_instance
    >>> build_formulation(example_instance(), "flow")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    splitbench.errors.UnknownNameError: unknown formulation 'flow'; known formulations: ...
    """
    if isinstance(instance, MultiInstance):
        return MULTI_FORMULATIONS.get(name)(instance)
    return FORMULATIONS.get(name)(instance)
