"""The partition pointer: which attempt *is* a partition of an ``s3://`` lake.

Object storage has no rename, so a partition version is never moved into place. Each build
uploads its parts, ``_MANIFEST.json`` and ``_SUCCESS`` under a fresh attempt prefix, then
publishes the partition's pointer object naming that attempt and its manifest's SHA256::

    <table path>/<key>/_POINTER.json            {"attempt": ..., "manifest_sha256": ..., ...}
    <table path>/<key>/_attempts/<attempt>/     part-*.parquet, _MANIFEST.json, _SUCCESS

The pointer is written with a conditional write: ``IfNoneMatch="*"`` for a partition's first
version, ``IfMatch=<the ETag read before building>`` after. So publishing is atomic (a reader
GETs the old pointer or the new one, whole) and exclusive (of two writers that read the same
version, exactly one publishes; the other gets
:class:`~rst.framework.objectstore.PreconditionFailed`). Attempt objects are never
overwritten, so a reader holding a pointer reads one consistent version, never a mix, until
the attempt is garbage-collected a grace period after being superseded.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import asdict, dataclass

from rst.framework.objectstore import Bucket

POINTER = "_POINTER.json"
ATTEMPTS = "_attempts"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Pointer:
    """The typed ``_POINTER.json`` (``schema_version`` 1)."""

    attempt: str
    manifest_sha256: str
    published_at: str
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> Pointer | None:
        """The pointer, or None for a document that is not one (treated as no partition: it is rebuilt)."""
        try:
            raw = json.loads(data)
            pointer = cls(str(raw["attempt"]), str(raw["manifest_sha256"]), str(raw["published_at"]))
        except (ValueError, KeyError, TypeError):
            return None
        ok = raw.get("schema_version") == SCHEMA_VERSION and _is_attempt(pointer.attempt)
        return pointer if ok else None


def new_attempt() -> str:
    """A fresh attempt id: ``<ns since epoch>-<random>`` (sortable; the garbage collector reads its age)."""
    return f"{time.time_ns()}-{uuid.uuid4().hex[:12]}"


def attempt_age_ns(attempt: str) -> int | None:
    """How long ago ``attempt`` began, from its id (None for a name that is not an attempt id)."""
    if not _is_attempt(attempt):
        return None
    return max(0, time.time_ns() - int(attempt.split("-", 1)[0]))


def _is_attempt(name: str) -> bool:
    stamp, _, rand = name.partition("-")
    return len(stamp) == 19 and stamp.isdigit() and len(rand) == 12 and rand.isalnum()


def pointer_rel(partition_rel: str) -> str:
    return f"{partition_rel}/{POINTER}"


def attempt_rel(partition_rel: str, attempt: str) -> str:
    return f"{partition_rel}/{ATTEMPTS}/{attempt}"


def read_pointer(bucket: Bucket, partition_rel: str) -> tuple[Pointer | None, str | None]:
    """The partition's pointer and its ETag; ``(None, None)`` when there is none, ``(None, etag)`` when unreadable."""
    found = bucket.get(pointer_rel(partition_rel))
    if found is None:
        return None, None
    data, etag = found
    return Pointer.from_json(data), etag


def publish(bucket: Bucket, partition_rel: str, attempt: str, manifest_sha256: str, previous_etag: str | None) -> str:
    """Point the partition at ``attempt``; return the new ETag.

    ``previous_etag`` is the ETag of the pointer the writer read before building (None: there was
    none). Raises :class:`~rst.framework.objectstore.PreconditionFailed` when the pointer changed
    since (another writer published first).
    """
    pointer = Pointer(attempt, manifest_sha256, dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"))
    rel = pointer_rel(partition_rel)
    if previous_etag is None:
        return bucket.put(rel, pointer.to_json(), if_none_match=True)
    return bucket.put(rel, pointer.to_json(), if_match=previous_etag)
