"""Partition leases on object storage: the lock of an ``s3://`` lake.

A lease is one object, ``_locks/<partition path>.lease``, holding its owner and its expiry
(UTC seconds). It is taken with a conditional write (``IfNoneMatch="*"``), so of two writers
exactly one gets it; a lease past its expiry (its holder died: SIGKILL, a lost host) is taken
over with ``IfMatch`` on the ETag read, so of two writers taking over exactly one succeeds.
While held, a daemon thread renews it every third of its lifetime (again with ``IfMatch``);
if a renewal is refused the lease was taken over, :attr:`Lease.lost` turns true and the
holder must not publish (the commit checks it). Release deletes the object only while it
is still ours (``IfMatch``).

Not a fence: a holder paused longer than the lease (a stopped process) may still publish
after losing it; the pointer's own conditional write (see :mod:`rst.framework.pointer`)
then makes the later of the two writers fail rather than both win.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Self

from rst.errors import PartitionLocked
from rst.framework.objectstore import Bucket, PreconditionFailed

LEASE_SECONDS = float(os.environ.get("RST_LEASE_SECONDS", "120"))
"""Lifetime of a lease between renewals (``$RST_LEASE_SECONDS``): how long a dead writer blocks its partition."""
POLL_SECONDS = 0.1


class Lease:
    """Exclusive lease on the object ``rel``; ``timeout`` as for :class:`~rst.framework.lock.FileLock`.

    ``seconds``: its lifetime between renewals (default :data:`LEASE_SECONDS`); ``on_release``: called
    once it is released.
    """

    def __init__(
        self,
        bucket: Bucket,
        rel: str,
        label: str,
        timeout: float | None = None,
        seconds: float | None = None,
        *,
        on_release: Callable[[], None] | None = None,
    ) -> None:
        self.bucket = bucket
        self.rel = rel
        self.label = label
        self.timeout = timeout
        self.seconds = LEASE_SECONDS if seconds is None else seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.lost = False
        self._etag: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._on_release = on_release

    def _body(self) -> bytes:
        return json.dumps({"owner": self.owner, "expires": time.time() + self.seconds}).encode()

    def acquire(self) -> None:
        """Take the lease, waiting (polling) up to ``timeout``; :class:`PartitionLocked` past it."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            if self._try():
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise PartitionLocked(self.label)
            time.sleep(POLL_SECONDS)
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name=f"lease {self.rel}", daemon=True)
        self._renewer.start()

    def _try(self) -> bool:
        """One attempt: create the lease, or take over an expired one."""
        if self._try_create():
            return True
        current = self.bucket.get(self.rel)
        if current is None:  # released meanwhile: try again at once
            return self._try_create()
        data, etag = current
        try:
            expires = float(json.loads(data)["expires"])
        except (ValueError, KeyError, TypeError):
            expires = 0.0  # unreadable: treat as expired
        if expires > time.time():
            return False
        try:
            self._etag = self.bucket.put(self.rel, self._body(), if_match=etag)
            return True
        except PreconditionFailed:
            return False

    def _try_create(self) -> bool:
        try:
            self._etag = self.bucket.put(self.rel, self._body(), if_none_match=True)
            return True
        except PreconditionFailed:
            return False

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self._etag = self.bucket.put(self.rel, self._body(), if_match=self._etag)
            except PreconditionFailed:
                self.lost = True
                return
            except Exception:  # a network blip: try again next period (the lease is still ours until it expires)
                continue

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if self._etag is not None and not self.lost:
            self.bucket.delete(self.rel, if_match=self._etag)
        self._etag = None
        if self._on_release is not None:
            self._on_release()

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
