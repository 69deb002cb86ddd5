"""One Databento download or update at a time per lake: a ``flock`` on ``<lake>/_locks/databento.lock``.

Cron-safe: a second ``rst update`` started while one runs fails at once with
:class:`DownloadLocked` instead of downloading the same windows twice. The lock
dies with its process (SIGKILL included), so a crashed run never blocks the
next one. Advisory and local: not effective across hosts on NFS.
"""

from __future__ import annotations

import os

from rst.errors import DownloadError, RstError, Transient
from rst.framework.lake import Lake
from rst.framework.lock import FileLock

LOCK_NAME = "databento.lock"


class DownloadLocked(DownloadError, Transient):
    """Another download/update holds the lake's Databento lock."""


class DownloadLock(FileLock):
    """Exclusive, non-blocking lock for Databento downloads into ``lake``; records the holder's pid."""

    def __init__(self, lake: Lake) -> None:
        super().__init__(lake.internal("locks") / LOCK_NAME, timeout=0, lake=lake)

    def busy_error(self) -> RstError:
        return DownloadLocked(
            f"another rst download/update is running on this lake (lock {self.path}); try again later"
        )

    def acquire(self) -> None:
        """Take the lock or raise :class:`DownloadLocked` at once."""
        super().acquire()
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())
