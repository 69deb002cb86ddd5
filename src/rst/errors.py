"""The one error hierarchy of rst.

Every error a user can meet derives from :class:`RstError`; its ``str()`` is a
single actionable line (what, where, what to do). The CLI prints that line and
exits non-zero; ``--verbose`` adds the traceback.

Two mix-ins tell the runner and the downloader what to do with a failure:
:class:`Transient` (worth retrying: network, lock contention) and
:class:`Terminal` (retrying cannot help: bad input, contract violation).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any


class RstError(Exception):
    """Root of all rst errors.

    Every subclass pickles (a process pool or a cluster executor sends errors between
    processes), whatever its ``__init__`` takes: the instance is rebuilt from its ``args``
    and attribute dict, without calling ``__init__`` again (exceptions' default pickling
    calls ``cls(*args)``, which fails for data-carrying subclasses).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        state = {k: _portable(v) for k, v in self.__dict__.items()}
        return _rebuild, (type(self), self.args), state or None


def _rebuild(cls: type[RstError], args: tuple[Any, ...]) -> RstError:
    """An instance of ``cls`` with ``args`` (its attributes are restored by pickle afterwards)."""
    error = cls.__new__(cls)
    error.args = args
    return error


def _portable(value: Any) -> Any:
    """``value``, or for a foreign exception that does not survive pickling (a cause whose
    ``__init__`` wants other arguments), an ``Exception`` with the same text and type name."""
    if not isinstance(value, BaseException) or isinstance(value, RstError):
        return value
    try:
        pickle.loads(pickle.dumps(value))
    except Exception:
        return Exception(f"{type(value).__module__}.{type(value).__qualname__}: {value}")
    return value


class Transient:
    """Mix-in: the same call may succeed later (retry with backoff)."""


class Terminal:
    """Mix-in: retrying the same call cannot succeed; the input or config must change."""


class UsageError(RstError, Terminal):
    """A command-line value or configuration entry is invalid."""


class ConfigError(RstError, Terminal):
    """A configuration file is missing, unreadable or invalid."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class LakeError(RstError, Terminal):
    """The lake root is missing, is not an rst lake, or has a layout this rst cannot use."""


class InputMissing(RstError, Terminal):
    """A file or partition a stage needs does not exist."""

    def __init__(self, path: Path | str, hint: str = "") -> None:
        self.path = Path(path)
        self.hint = hint
        msg = f"input missing: {self.path}"
        super().__init__(f"{msg} ({hint})" if hint else msg)


class DbnFormatError(RstError, Terminal):
    """A raw DBN file is unreadable, truncated or not DBN at all."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class RawZoneError(RstError, Terminal):
    """Importing into the immutable raw zone was refused (e.g. a name clash)."""


class ContractViolation(RstError, Terminal):
    """A stage's output does not match its Avro contract."""

    def __init__(
        self,
        table: str,
        partition: str,
        column: str,
        expected: str,
        actual: str,
    ) -> None:
        self.table = table
        self.partition = partition
        self.column = column
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"contract violation in {table} [{partition}]: field '{column}' "
            f"expected {expected}, got {actual}"
        )


class PartitionLocked(RstError, Transient):
    """Another process holds the partition's lock."""

    def __init__(self, partition: str) -> None:
        self.partition = partition
        super().__init__(f"partition {partition} is being written by another process; retry later")


class StageError(RstError):
    """A stage failed on one partition; chained ``from`` the cause."""

    def __init__(self, layer: str, table: str, partition: str, cause: BaseException) -> None:
        self.layer = layer
        self.table = table
        self.partition = partition
        self.cause = cause
        super().__init__(f"{layer}/{table} [{partition}] failed: {cause}")


class DownloadError(RstError):
    """A Databento request failed after retries, or was refused."""


class TransientDownloadError(DownloadError, Transient):
    """A Databento request failed in a way worth retrying (429, 5xx, timeout, dropped connection)."""


class SeriesError(RstError, Terminal):
    """A continuous-series definition is invalid or unknown."""


class ManifestError(RstError, Terminal):
    """A ``_MANIFEST.json`` is not a valid manifest (not JSON, a key missing, a value of the wrong type)."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[type[ManifestError], tuple[Path, str]]:
        return type(self), (self.path, self.problem)


class PartitionCorrupt(RstError, Terminal):
    """A partition's directory does not hold exactly what its manifest lists, or ``rst verify`` found it corrupt."""

    def __init__(self, partition: str, problem: str) -> None:
        self.partition = partition
        self.problem = problem
        super().__init__(f"partition {partition} is corrupt: {problem} (`rst run` rebuilds it)")

    def __reduce__(self) -> tuple[type[PartitionCorrupt], tuple[str, str]]:
        return type(self), (self.partition, self.problem)
