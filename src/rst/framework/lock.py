"""Advisory ``flock`` locks on files under ``<lake>/_locks/``: one writer per partition, one downloader per lake.

Rename is atomic but not exclusive, so :meth:`Stage.run` takes a :class:`PartitionLock`
before its up-to-date check and holds it through the commit. A lock dies with its
process (SIGKILL included), so a crashed writer never blocks the next run.
Advisory and local: not effective across hosts on NFS. A lake on object storage locks
its partitions with lease objects instead (:mod:`rst.framework.lease`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from rst.errors import PartitionLocked, RstError
from rst.framework.lake import Lake
from rst.framework.partition import Partition
from rst.framework.paths import make_dirs


class FileLock:
    """Exclusive lock on one lock file.

    ``timeout`` is in seconds: ``None`` waits for ever, ``0`` fails at once with
    :meth:`busy_error` when another process holds the lock.
    """

    def __init__(self, path: Path, timeout: float | None = None, *, lake: Lake | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self.lake = lake
        self._fd: int | None = None

    def busy_error(self) -> RstError:
        """The error raised when the lock stays taken past the timeout."""
        return RstError(f"{self.path} is locked by another process; retry later")

    def acquire(self) -> None:
        fd = self._open()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(fd)
                    raise self.busy_error() from None
                time.sleep(0.05)
        self._fd = fd

    def _open(self) -> int:
        """Open (create) the lock file, never through a symlink.

        With a ``lake``, the path is guarded and created with :func:`rst.framework.paths.make_dirs`,
        and a symlink planted in place of the lock file is unlinked (rst never makes one there).
        """
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        if self.lake is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, flags, 0o644)
        path = make_dirs(self.lake, Path(self.path).absolute().parent) / Path(self.path).name
        try:
            return os.open(path, flags, 0o644)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            os.unlink(path)
            return os.open(path, flags, 0o644)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class PartitionLock(FileLock):
    """Exclusive lock on one partition; busy means :class:`PartitionLocked`."""

    def __init__(self, lake: Lake, partition: Partition, timeout: float | None = None) -> None:
        slug = partition.slug
        super().__init__(lake.internal("locks") / slug.parent / f"{slug.name}.lock", timeout, lake=lake)
        self.partition = partition

    def busy_error(self) -> RstError:
        return PartitionLocked(self.partition.label)
