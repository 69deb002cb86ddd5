"""What a library calendar says, kept on disk: a process learns it without importing ``exchange_calendars``.

Importing ``exchange_calendars`` (and pandas with it) costs about a second per process, and
every process that books trade dates needs a calendar: each ``rst`` command, each worker of a
run. The tables :func:`rst.calendars.calendar.get_calendar` derives from the library are a pure
function of the calendar's name, :data:`~rst.calendars.calendar.RANGE`, rst's code that derives
them (``calendar.py`` and the booking rule, hashed) and the installed ``exchange_calendars``
and ``pandas`` versions, so they are stored under a file named by a digest of all of these:
any change to one of them selects another file, never a stale one.

Files are ``.npz`` archives of plain integer arrays (read without pickle), written to a
temporary name and renamed into place. The folder is ``$RST_CACHE_DIR``, else
``$XDG_CACHE_HOME/rst``, else ``~/.cache/rst``. A file that cannot be read is ignored (and
rebuilt); a folder that cannot be written only means the next process builds the tables again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
import zipfile
from pathlib import Path

import numpy as np

FORMAT = "1"
"""Bump when the arrays stored change meaning."""
ARRAYS = ("sessions", "holidays", "early_days", "early_ns", "open_ns")


def cache_dir() -> Path:
    """The folder calendar tables are kept in (see the module docstring)."""
    explicit = os.environ.get("RST_CACHE_DIR")
    if explicit:
        return Path(explicit) / "calendars"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rst" / "calendars"


def library_versions() -> str:
    """``exchange_calendars`` and ``pandas`` versions as installed (read from their metadata, not imported)."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("exchange_calendars", "pandas"):
        try:
            found.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            found.append(f"{name}=none")
    return ",".join(found)


def cache_path(name: str, key: str) -> Path:
    """The file holding calendar ``name`` for ``key`` (see :func:`cache_key`)."""
    digest = hashlib.sha256(f"{FORMAT}|{name}|{key}".encode()).hexdigest()[:24]
    return cache_dir() / f"{name}-{digest}.npz"


def cache_key(*sources: Path) -> str:
    """Library versions plus a digest of ``sources`` (the code that derives the tables)."""
    code = hashlib.sha256()
    for source in sources:
        code.update(source.read_bytes())
    return f"{library_versions()}|{code.hexdigest()}"


def load(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays stored at ``path``; None when absent, unreadable or incomplete."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in ARRAYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if arrays["open_ns"].ndim != 2 or len(arrays["early_days"]) != len(arrays["early_ns"]):
        return None
    return arrays


def save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Store ``arrays`` at ``path`` atomically; best effort (a read-only home is not an error)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            np.savez(
                f,
                sessions=arrays["sessions"],
                holidays=arrays["holidays"],
                early_days=arrays["early_days"],
                early_ns=arrays["early_ns"],
                open_ns=arrays["open_ns"],
            )  # the names of ARRAYS
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
