"""One Databento download or update at a time per lake: a ``flock`` on ``<lake>/_locks/databento.lock``.

Cron-safe: a second ``rst update`` started while one runs fails at once with
:class:`DownloadLocked` instead of downloading the same windows twice. The lock
dies with its process (SIGKILL included), so a crashed run never blocks the
next one. Advisory and local: not effective across hosts on NFS.
"""

from __future__ import annotations

import fcntl
import os
from types import TracebackType

from rst.errors import DownloadError, Transient
from rst.framework.lake import Lake

LOCK_NAME = "databento.lock"


class DownloadLocked(DownloadError, Transient):
    """Another download/update holds the lake's Databento lock."""


class DownloadLock:
    """Exclusive, non-blocking lock for Databento downloads into ``lake``."""

    def __init__(self, lake: Lake) -> None:
        self.path = lake.internal("locks") / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`DownloadLocked` at once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DownloadLocked(
                f"another rst download/update is running on this lake (lock {self.path}); try again later"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DownloadLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
