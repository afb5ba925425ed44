"""What every method receives and returns.

A method is a function ``run(instance, options) -> MethodResult``. It receives a
:class:`RunOptions` once: the backend name, the :class:`Settings` every solver and
search honours (time limit, MIP gap, threads), its typed parameters, and the
:class:`Clock` of the runner, on which it marks where its build phase ends and asks
how much time is left. It returns a :class:`MethodResult`: its own claim (status,
termination, placement, bound) and the typed :class:`RunFacts` a result record
needs. The runner (:mod:`splitbench.methods.run`) owns the clock and the verdict:
it times the phases the same way for every method and passes the placement through
the evaluator.

Examples
--------
>>> clock = Clock(time_limit_s=60.0)
>>> clock.expired(), clock.remaining_s() > 59
(False, True)
>>> options = RunOptions(settings=Settings(time_limit_s=60.0), params={"gamma": 10})
>>> options.time_limit_s, options.settings.threads
(60.0, 1)
>>> MethodResult(Status.NONE, Termination.SKIPPED, reason="too large").reason
'too large'
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from splitbench.placement import MultiPlacement, Placement
from splitbench.status import Status, Termination
from splitbench.tolerances import MIP_REL_GAP

__all__ = [
    "Clock",
    "MethodResult",
    "RunFacts",
    "RunOptions",
    "Settings",
    "Status",
    "Termination",
]


@dataclass(frozen=True)
class Settings:
    """What every solver and every search is told, once.

    Attributes
    ----------
    time_limit_s : float or None
        Wall-clock limit of the method's work (None: none).
    mip_rel_gap : float
        Relative MIP gap at which a solver may stop (the absolute gap is always 0).
    threads : int
        Solver threads (1 for fair timing).
    """

    time_limit_s: float | None = None
    mip_rel_gap: float = MIP_REL_GAP
    threads: int = 1


class Clock:
    """The runner's clock: the build and solve phases of one run, and its deadline.

    The runner starts it just before the method and stops it when the method
    returns; the method calls :meth:`mark_built` where its build phase ends (the
    solve phase is the rest), may move time measured inside its solve call into the
    build phase (:meth:`add_build_time`: a backend's translation of the model), and
    checks :meth:`expired` in long loops.

    Parameters
    ----------
    time_limit_s : float, optional
        The time limit of the run, counted from the clock's creation.
    """

    def __init__(self, time_limit_s: float | None = None) -> None:
        self.time_limit_s = time_limit_s
        self.start = time.perf_counter()
        self._built: float | None = None
        self._stopped: float | None = None
        self._moved = 0.0

    def restart(self) -> None:
        """Start again now (the runner calls it right before the method)."""
        self.start = time.perf_counter()
        self._built = self._stopped = None
        self._moved = 0.0

    def mark_built(self) -> None:
        """The build phase ends now (a second call is ignored)."""
        if self._built is None:
            self._built = time.perf_counter()

    def add_build_time(self, seconds: float) -> None:
        """Count ``seconds`` of the solve phase as build time (translation into a backend)."""
        self._moved += max(0.0, seconds)

    def stop(self) -> None:
        """The method returned (the runner calls it)."""
        if self._stopped is None:
            self._stopped = time.perf_counter()

    @property
    def elapsed_s(self) -> float:
        """Seconds since the start (until :meth:`stop`, if called)."""
        end = self._stopped if self._stopped is not None else time.perf_counter()
        return end - self.start

    @property
    def build_time_s(self) -> float:
        """The build phase (0 when the method never marked one)."""
        built = 0.0 if self._built is None else self._built - self.start
        return min(self.elapsed_s, built + self._moved)

    @property
    def solve_time_s(self) -> float:
        """Everything after the build phase."""
        return max(0.0, self.elapsed_s - self.build_time_s)

    def remaining_s(self) -> float | None:
        """Seconds left before the time limit (None without one; never negative)."""
        if self.time_limit_s is None:
            return None
        return max(0.0, self.time_limit_s - self.elapsed_s)

    def expired(self) -> bool:
        """Whether the time limit has passed."""
        remaining = self.remaining_s()
        return remaining is not None and remaining <= 0.0


@dataclass(frozen=True)
class RunOptions:
    """What a method receives besides the instance.

    Attributes
    ----------
    solver : str or None
        The backend of a solver-based method (None for the others).
    settings : Settings
        Time limit, MIP gap and threads.
    params : mapping
        The method's parameters, typed, with defaults filled in by the runner.
    clock : Clock
        The runner's clock (a fresh one when a method is called directly).
    """

    solver: str | None = None
    settings: Settings = field(default_factory=Settings)
    params: Mapping[str, Any] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        if self.clock.time_limit_s is None and self.settings.time_limit_s is not None:
            self.clock.time_limit_s = self.settings.time_limit_s

    @property
    def time_limit_s(self) -> float | None:
        """The time limit of the run."""
        return self.settings.time_limit_s


@dataclass(frozen=True)
class RunFacts:
    """Typed facts of one run that a result record keeps (None: does not apply).

    Attributes
    ----------
    formulation : str or None
        The MILP formulation built.
    n_vars, n_binaries, n_rows, n_nonzeros : int or None
        The model's size.
    nodes : int or None
        Branch-and-bound nodes.
    solver_version : str or None
        The backend's version.
    lp_bound : float or None
        The LP relaxation's optimum.
    lp_integral : bool or None
        Whether that optimum was integral.
    graph_vertices, graph_arcs : int or None
        The size of the layered graph a graph method searched (not the network's).
    """

    formulation: str | None = None
    n_vars: int | None = None
    n_binaries: int | None = None
    n_rows: int | None = None
    n_nonzeros: int | None = None
    nodes: int | None = None
    solver_version: str | None = None
    lp_bound: float | None = None
    lp_integral: bool | None = None
    graph_vertices: int | None = None
    graph_arcs: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The facts as JSON-ready data (non-finite numbers become None)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            out[name] = value
        return out


@dataclass(frozen=True)
class MethodResult:
    """The raw answer of one method on one instance, before the runner's verdict.

    Attributes
    ----------
    status : Status
        What the method claims: ``optimal`` (proven, by an exact method or a
        closing bound), ``feasible``, ``infeasible`` (proven) or ``none``. The
        evaluator decides ``invalid``.
    termination : Termination
        Why it stopped.
    placement : Placement, MultiPlacement or None
        The answer, if any.
    claimed_objective : float or None
        The objective the method believes its placement has (kept, never trusted).
    bound : float or None
        A proven lower bound on the instance's optimum, if the method has one.
    reason : str or None
        Why it declined, failed or stopped early, or what its answer means.
    solver_time_s : float or None
        The solver's own clock.
    facts : RunFacts
        Typed facts for the result record.
    info : mapping
        Method-specific diagnostics (JSON-ready), not part of the record.
    """

    status: Status
    termination: Termination = Termination.COMPLETED
    placement: Placement | MultiPlacement | None = None
    claimed_objective: float | None = None
    bound: float | None = None
    reason: str | None = None
    solver_time_s: float | None = None
    facts: RunFacts = field(default_factory=RunFacts)
    info: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def skipped(cls, reason: str, **fields: Any) -> MethodResult:
        """A decline: no answer, ``termination = skipped``, with the reason."""
        return cls(Status.NONE, Termination.SKIPPED, reason=reason, **fields)
