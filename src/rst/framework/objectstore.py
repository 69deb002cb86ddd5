"""The S3 client rst uses for an object-storage lake: conditional writes, listings, whole-object I/O.

One thin layer over boto3 so the rest of the framework never sees botocore: a precondition
failure (HTTP 412 on ``IfNoneMatch="*"`` / ``IfMatch=<etag>``) becomes :class:`PreconditionFailed`,
a missing key ``None``, anything else :class:`ObjectStoreError` (transient: the runner retries).

Endpoint and credentials come from the standard AWS environment (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, profiles): rst never
stores them. boto3 is imported only here, and only when an ``s3://`` lake is used.
One client per process, shared by its threads (boto3 clients are thread-safe, not fork-safe).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rst.errors import LakeError, RstError, Transient

SCHEME = "s3://"


class ObjectStoreError(RstError, Transient):
    """A request to the object store failed (network, throttling, a server error); retry later."""


class PreconditionFailed(RstError, Transient):
    """A conditional write lost: the object exists (``IfNoneMatch``) or changed (``IfMatch``)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(f"{uri}: changed by another writer meanwhile (conditional write refused); retry")


@dataclass(frozen=True)
class Location:
    """``s3://bucket/prefix``: where a lake lives on object storage (``prefix`` without slashes at the ends)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> Location:
        """The location an ``s3://bucket[/prefix]`` URI names; a one-line ``LakeError`` when it names none."""
        if not uri.startswith(SCHEME):
            raise LakeError(f"{uri}: not an s3:// URI")
        bucket, _, prefix = uri[len(SCHEME) :].partition("/")
        prefix = prefix.strip("/")
        if not 3 <= len(bucket) <= 63 or any(p in ("", ".", "..") for p in prefix.split("/") if prefix):
            raise LakeError(
                f"{uri}: expected s3://BUCKET/PREFIX (a bucket name of 3-63 characters, no '..' in the prefix)"
            )
        return cls(bucket, prefix)

    @property
    def uri(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{SCHEME}{self.bucket}"

    def key(self, rel: str) -> str:
        """The object key of the lake-relative path ``rel``."""
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def rel(self, key: str) -> str:
        """The lake-relative path of object ``key``."""
        return key[len(self.prefix) + 1 :] if self.prefix else key


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object: lake-relative ``rel``, size in bytes, ETag (quotes kept), last modification (UTC)."""

    rel: str
    size: int
    etag: str
    modified: dt.datetime


_CLIENT: tuple[tuple[object, ...], Any] | None = None
_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION", "AWS_PROFILE")
_CLIENT_LOCK = threading.Lock()


def client() -> Any:
    """This process's S3 client (shared by its threads), configured from the AWS environment.

    Made again when the process forked or the environment's endpoint or credentials changed.
    """
    global _CLIENT
    key = (os.getpid(), *(os.environ.get(name) for name in _ENV))
    with _CLIENT_LOCK:
        if _CLIENT is None or _CLIENT[0] != key:
            import boto3
            from botocore.config import Config

            made = boto3.session.Session().client(
                "s3", config=Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=32)
            )
            _CLIENT = (key, made)
        return _CLIENT[1]


class Bucket:
    """Whole-object operations on the lake at ``location`` (keys are lake-relative paths)."""

    def __init__(self, location: Location) -> None:
        self.location = location

    def uri(self, rel: str) -> str:
        return f"{SCHEME}{self.location.bucket}/{self.location.key(rel)}"

    def get(self, rel: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, None when it does not exist."""
        try:
            reply = client().get_object(Bucket=self.location.bucket, Key=self.location.key(rel))
            return reply["Body"].read(), reply["ETag"]
        except Exception as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise self._error("read", rel, exc) from exc

    def head(self, rel: str) -> dict[str, Any] | None:
        """The object's metadata (``ContentLength``, ``ETag``, ``Metadata``), None when absent."""
        try:
            return dict(client().head_object(Bucket=self.location.bucket, Key=self.location.key(rel)))
        except Exception as exc:
            if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise self._error("inspect", rel, exc) from exc

    def put(
        self,
        rel: str,
        body: bytes | Path,
        *,
        if_none_match: bool = False,
        if_match: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        """Write an object whole (bytes, or a local file streamed); return its ETag.

        ``if_none_match``: only if no object exists; ``if_match``: only if the current ETag is
        that one. Either refusal raises :class:`PreconditionFailed`: the write happened entirely
        or not at all, and of two racing conditional writers exactly one succeeds.
        """
        args: dict[str, Any] = {"Bucket": self.location.bucket, "Key": self.location.key(rel)}
        if if_none_match:
            args["IfNoneMatch"] = "*"
        if if_match is not None:
            args["IfMatch"] = if_match
        if metadata:
            args["Metadata"] = metadata
        try:
            if isinstance(body, Path):
                with open(body, "rb") as f:
                    return str(client().put_object(Body=f, **args)["ETag"])
            return str(client().put_object(Body=body, **args)["ETag"])
        except Exception as exc:
            if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                raise PreconditionFailed(self.uri(rel)) from None
            raise self._error("write", rel, exc) from exc

    def download(self, rel: str, dest: Path) -> bool:
        """Stream the object into the new file ``dest``; False when the object does not exist."""
        try:
            reply = client().get_object(Bucket=self.location.bucket, Key=self.location.key(rel))
        except Exception as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return False
            raise self._error("read", rel, exc) from exc
        body = reply["Body"]
        with open(dest, "xb") as f:
            for chunk in iter(lambda: body.read(8 << 20), b""):
                f.write(chunk)
        return True

    def delete(self, rel: str, *, if_match: str | None = None) -> bool:
        """Delete one object (only while its ETag is ``if_match``, when given); False when refused."""
        args: dict[str, Any] = {"Bucket": self.location.bucket, "Key": self.location.key(rel)}
        if if_match is not None:
            args["IfMatch"] = if_match
        try:
            client().delete_object(**args)
            return True
        except Exception as exc:
            if _code(exc) in ("PreconditionFailed", "412", "NoSuchKey", "404"):
                return False
            raise self._error("delete", rel, exc) from exc

    def delete_many(self, rels: list[str]) -> None:
        """Delete objects in batches of 1000 (missing ones are no error)."""
        for i in range(0, len(rels), 1000):
            batch = [{"Key": self.location.key(r)} for r in rels[i : i + 1000]]
            try:
                client().delete_objects(Bucket=self.location.bucket, Delete={"Objects": batch, "Quiet": True})
            except Exception as exc:
                raise self._error("delete", rels[i], exc) from exc

    def list(self, rel_prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose lake-relative path starts with ``rel_prefix``, in key order."""
        paginator = client().get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.location.bucket, Prefix=self.location.key(rel_prefix)):
                for item in page.get("Contents", ()):
                    yield ObjectInfo(self.location.rel(item["Key"]), item["Size"], item["ETag"], item["LastModified"])
        except Exception as exc:
            raise self._error("list", rel_prefix, exc) from exc

    def _error(self, what: str, rel: str, exc: Exception) -> ObjectStoreError:
        return ObjectStoreError(
            f"{self.uri(rel)}: cannot {what} ({_code(exc) or type(exc).__name__}: {exc}); retry later"
        )


def _code(exc: Exception) -> str:
    """The S3 error code of a botocore ``ClientError`` ("" for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    error = response.get("Error", {})
    return str(error.get("Code", "")) or str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
