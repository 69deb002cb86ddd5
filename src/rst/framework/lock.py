"""One writer per partition: an advisory ``flock`` on a lock file under ``<lake>/_locks/``.

Rename is atomic but not exclusive, so :meth:`Stage.run` takes this lock before
its up-to-date check and holds it through the commit. The lock dies with its
process (SIGKILL included), so a crashed writer never blocks the next run.
"""

from __future__ import annotations

import fcntl
import os
import time
from types import TracebackType

from rst.errors import PartitionLocked
from rst.framework.lake import Lake
from rst.framework.partition import Partition


class PartitionLock:
    """Exclusive lock on one partition.

    ``timeout`` is in seconds: ``None`` waits for ever, ``0`` fails at once with
    :class:`PartitionLocked` when another process holds the lock.
    """

    def __init__(self, lake: Lake, partition: Partition, timeout: float | None = None) -> None:
        self.partition = partition
        slug = partition.slug
        self.path = lake.internal("locks") / slug.parent / f"{slug.name}.lock"
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(fd)
                    raise PartitionLocked(self.partition.label) from None
                time.sleep(0.05)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> PartitionLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
