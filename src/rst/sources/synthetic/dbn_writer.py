"""Encode DBN: metadata header followed by fixed-width records, zstd-compressed, written atomically.

Byte-for-byte deterministic: same metadata and records give the same file (single-threaded zstd
at a fixed level, no timestamps).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import zstandard
from databento_dbn import Metadata, Schema, SType

from rst.sources.synthetic.symbology import SymbolMapping

DATASET = "GLBX.MDP3"
ZSTD_LEVEL = 3


def build_metadata(
    schema: Schema,
    symbols: Sequence[str],
    start: int,
    end: int,
    mappings: Sequence[SymbolMapping],
    version: int,
) -> Metadata:
    """Metadata of a parent request: GLBX.MDP3, stype_in parent, stype_out instrument_id.

    ``start``/``end``: UTC ns, end exclusive.
    """
    return Metadata(
        dataset=DATASET,
        start=start,
        end=end,
        stype_in=SType.PARENT,
        stype_out=SType.INSTRUMENT_ID,
        schema=schema,
        symbols=list(symbols),
        partial=[],
        not_found=[],
        mappings=list(mappings),
        version=version,
    )


def encode(metadata: Metadata, records: np.ndarray) -> bytes:
    """Uncompressed DBN bytes: the encoded metadata then the records' raw bytes."""
    if len(records) and int(records["length"][0]) * 4 != records.dtype.itemsize:
        raise ValueError(f"record length field {records['length'][0]} does not match itemsize {records.dtype.itemsize}")
    return bytes(metadata.encode()) + np.ascontiguousarray(records).tobytes()


def compress(data: bytes) -> bytes:
    """zstd frame of ``data`` (deterministic)."""
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True).compress(data)


def write_dbn(path: Path | str, metadata: Metadata, records: np.ndarray) -> Path:
    """Write ``.dbn.zst`` to ``path`` (parents created) via a temp file and rename: readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(compress(encode(metadata, records)))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
