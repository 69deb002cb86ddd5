"""``_MANIFEST.json`` and ``_SUCCESS``: the lineage document of a partition.

The manifest records which stage (and version, and parameters) produced the
partition from which inputs (path, size, SHA256), which files it wrote (rows,
SHA256), under which contract (schema fingerprint), with row counts and times.
``_SUCCESS`` is written last and holds the manifest's SHA256, so a partition is
complete exactly when ``_SUCCESS`` exists and matches its manifest.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rst.framework.hashing import sha256_bytes

MANIFEST = "_MANIFEST.json"
SUCCESS = "_SUCCESS"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class InputFile:
    """One input: ``path`` relative to the lake root.

    ``mtime_ns`` lets the cheap up-to-date check skip re-hashing an unchanged raw file; 0 means
    "do not trust the mtime, re-hash" (upstream partitions, and raw files modified too recently
    when they were hashed).
    """

    path: str
    size: int
    sha256: str
    mtime_ns: int = 0


@dataclass(frozen=True)
class OutputFile:
    """One output file: ``path`` relative to the partition directory."""

    path: str
    rows: int
    size: int
    sha256: str


@dataclass
class Manifest:
    """The typed form of ``_MANIFEST.json`` (``schema_version`` 1)."""

    layer: str
    table: str
    symbol: str
    partition: str
    stage: str
    stage_version: str
    params: dict[str, Any]
    inputs: list[InputFile]
    outputs: list[OutputFile]
    schema_fingerprint: str
    rows_in: int
    rows_out: int
    rows_quarantined: int
    counts: dict[str, int] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Manifest:
        raw = json.loads(data)
        raw["inputs"] = [InputFile(**i) for i in raw["inputs"]]
        raw["outputs"] = [OutputFile(**o) for o in raw["outputs"]]
        return cls(**raw)

    def lineage_key(self) -> tuple[Any, ...]:
        """What must be unchanged for the partition to be up to date."""
        return (
            self.stage_version,
            json.dumps(self.params, sort_keys=True),
            self.schema_fingerprint,
            tuple(sorted((i.path, i.sha256) for i in self.inputs)),
        )


def write_manifest_and_success(directory: Path, manifest: Manifest) -> None:
    """Write the manifest, then ``_SUCCESS`` holding its hash; both fsynced."""
    data = manifest.to_json()
    _write_synced(directory / MANIFEST, data)
    _write_synced(directory / SUCCESS, (sha256_bytes(data) + "\n").encode())


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest of a *complete* partition, else None (missing, no ``_SUCCESS``, or mismatch).

    Planning a large lake reads thousands of manifests; a parsed one is reused while both
    files keep their inode, size and mtime (a rebuild swaps in new files, a hand edit
    changes the mtime). Treat the result as read-only.
    """
    try:
        stamp = (str(directory), _stamp(directory / MANIFEST), _stamp(directory / SUCCESS))
    except FileNotFoundError:
        return None
    cached = _READ_CACHE.get(stamp)
    if cached is not None:
        return cached
    try:
        data = (directory / MANIFEST).read_bytes()
        marker = (directory / SUCCESS).read_text().strip()
    except FileNotFoundError:
        return None
    if marker != sha256_bytes(data):
        return None
    manifest = Manifest.from_json(data)
    if len(_READ_CACHE) >= _READ_CACHE_SIZE:
        _READ_CACHE.clear()
    _READ_CACHE[stamp] = manifest
    return manifest


_READ_CACHE: dict[tuple[str, tuple[int, int, int], tuple[int, int, int]], Manifest] = {}
_READ_CACHE_SIZE = 20_000


def _stamp(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
