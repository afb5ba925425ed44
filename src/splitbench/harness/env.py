"""Where a sweep ran: the machine, the interpreter, the package versions, the commits.

:func:`environment` describes the place a sweep runs in as JSON-ready data; the
harness stores it beside the records (``environment.json``) and in the parquet
file's metadata, so that a result can always be traced to the code, the suite file
and the solver versions that produced it. :func:`differences` says, line by line,
what differs between two such descriptions (a resumed sweep on another machine, a
solver upgraded between two sweeps).

Nothing here raises: a missing ``git``, a folder that is no checkout, a package
that is not installed, a system without ``/proc`` all give None for that entry.
Versions come from :mod:`importlib.metadata`, so that no solver package is imported.

Examples
--------
>>> env = environment()
>>> env["cpu_count"] == os.cpu_count(), env["suite_file"] is None
(True, True)
>>> other = {**env, "packages": {**env["packages"], "highspy": "0.0.1"}}
>>> [line.split(":")[0] for line in differences(env, other)]
['highspy']
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["COMPARED", "PACKAGES", "differences", "environment"]

PACKAGES: tuple[str, ...] = (
    "splitbench",
    "numpy",
    "scipy",
    "networkx",
    "highspy",
    "pyomo",
    "pulp",
    "topohub",
    "threadpoolctl",
    "pyarrow",
    "pandas",
    "tqdm",
    "pyscipopt",
    "dask",
    "distributed",
)
"""The distributions whose versions :func:`environment` records, in this order."""

COMPARED: tuple[str, ...] = (
    "python",
    "implementation",
    "platform",
    "machine",
    "cpu",
    "cpu_count",
)
"""The entries :func:`differences` compares (besides each package version)."""

GIT_TIMEOUT_S = 5.0
"""How long one ``git`` call may take before its answer counts as unknown."""

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The folder of the splitbench package (``src/splitbench`` in a checkout)."""


def environment(suite_file: Path | None = None) -> dict[str, Any]:
    """A JSON-ready description of where a sweep runs.

    Parameters
    ----------
    suite_file : Path or None
        The suite file the sweep runs, if any: its path, the SHA-256 of its bytes
        and the last commit that touched it are recorded.

    Returns
    -------
    dict
        ``python``, ``implementation``, ``platform``, ``machine``, ``cpu``,
        ``cpu_count``, ``memory_bytes``, ``packages`` (a version or None for each
        of :data:`PACKAGES`), ``splitbench_commit`` (with a ``-dirty`` suffix when
        the checkout has changes), ``suite_file``, ``suite_sha256``,
        ``suite_commit`` and ``created_at`` (ISO 8601, UTC). An entry that cannot be
        learnt is None.

    Examples
    --------
    >>> env = environment()
    >>> env["python"] == platform.python_version(), sorted(env["packages"])[:2]
    (True, ['dask', 'distributed'])
    """
    suite = Path(suite_file) if suite_file is not None else None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "packages": {name: _version(name) for name in PACKAGES},
        "splitbench_commit": _checkout_commit(_PACKAGE_DIR),
        "suite_file": str(suite) if suite is not None else None,
        "suite_sha256": _sha256(suite) if suite is not None else None,
        "suite_commit": _file_commit(suite) if suite is not None else None,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """What differs between two environments, one human-readable line each.

    The machine entries of :data:`COMPARED` and each package version are
    compared; ``created_at``, the commits and the suite entries are not (they say
    when and from what a sweep ran, not where).

    Parameters
    ----------
    a, b : Mapping
        Two results of :func:`environment` (or of reading one back from JSON).

    Returns
    -------
    list of str
        ``"{entry}: {a's value} vs {b's value}"``, entries in :data:`COMPARED`
        order, then the packages in the order ``a`` lists them (then those only
        ``b`` lists); empty when the two match.

    Examples
    --------
    >>> a = {"python": "3.11.9", "packages": {"highspy": "1.15.0", "tqdm": None}}
    >>> b = {"python": "3.11.9", "packages": {"highspy": "1.16.0", "tqdm": "4.66.1"}}
    >>> differences(a, b)
    ['highspy: 1.15.0 vs 1.16.0', 'tqdm: not installed vs 4.66.1']
    >>> differences(a, {**a, "created_at": "2030-01-01T00:00:00+00:00"})
    []
    """
    lines = [
        f"{key}: {_shown(a.get(key))} vs {_shown(b.get(key))}"
        for key in COMPARED
        if a.get(key) != b.get(key)
    ]
    pa, pb = _packages(a), _packages(b)
    for name in [*pa, *(n for n in pb if n not in pa)]:
        if pa.get(name) != pb.get(name):
            lines.append(f"{name}: {_installed(pa.get(name))} vs {_installed(pb.get(name))}")
    return lines


def _shown(value: Any) -> str:
    return "unknown" if value is None else str(value)


def _installed(version: Any) -> str:
    return "not installed" if version is None else str(version)


def _packages(env: Mapping[str, Any]) -> dict[str, Any]:
    packages = env.get("packages")
    return dict(packages) if isinstance(packages, Mapping) else {}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
    except Exception:  # a broken installation's metadata: say unknown, do not fail
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, sep, value = line.partition(":")
                names = ("model name", "hardware", "cpu model")
                if sep and key.strip().lower() in names and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_bytes() -> int | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if pages <= 0 or size <= 0:
        return None
    return int(pages) * int(size)


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


_GIT_LOCATION_VARIABLES = frozenset(
    {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"}
)
"""Variables a git hook may set that would point git at another repository."""


def _git(folder: Path, args: Sequence[str]) -> str | None:
    """``git args`` run in ``folder``: its stripped output, or None on any failure."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARIABLES}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # git status must not take the index lock
    env["GIT_TERMINAL_PROMPT"] = "0"
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace").strip()


def _checkout_commit(folder: Path) -> str | None:
    """The commit of the checkout holding ``folder``, ``-dirty`` when it has changes.

    When ``git status`` cannot tell (it timed out, say), the commit is marked
    dirty too: a clean state is claimed only when it was seen.
    """
    if not folder.is_dir():
        return None
    commit = _git(folder, ["rev-parse", "--verify", "HEAD"])
    if not commit:
        return None
    status = _git(folder, ["status", "--porcelain"])
    return commit if status == "" else f"{commit}-dirty"


def _file_commit(path: Path) -> str | None:
    """The last commit that touched ``path``; None when untracked or without git."""
    folder = path.resolve().parent
    if not folder.is_dir():
        return None
    commit = _git(folder, ["log", "-n", "1", "--format=%H", "--", path.name])
    return commit or None
