"""The one error hierarchy of rst.

Every error a user can meet derives from :class:`RstError`; its ``str()`` is a
single actionable line (what, where, what to do). The CLI prints that line and
exits non-zero; ``--verbose`` adds the traceback.

Two mix-ins tell the runner and the downloader what to do with a failure:
:class:`Transient` (worth retrying: network, lock contention) and
:class:`Terminal` (retrying cannot help: bad input, contract violation).
"""

from __future__ import annotations

from pathlib import Path


class RstError(Exception):
    """Root of all rst errors."""


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
