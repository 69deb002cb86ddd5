"""SHA256 of files and bytes, the identity of raw files and partition outputs."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_BYTES = 1 << 20
CHUNK = CHUNK_BYTES  # former name, kept for callers


def sha256_file(path: Path | str) -> str:
    """Hex SHA256 of a file's content, streamed in 1 MiB chunks (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes | bytearray | memoryview) -> str:
    """Hex SHA256 of an in-memory byte string."""
    return hashlib.sha256(data).hexdigest()
