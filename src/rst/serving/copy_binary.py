"""PostgreSQL binary ``COPY`` data built from a polars frame with numpy, column by column.

psycopg's ``write_row`` converts one Python value at a time; this module writes the
whole frame (a chunk of rows at a time) with vectorised numpy scatters instead, so
loading a million rows costs array operations, not a million Python tuples. Supported
database types: smallint, integer, bigint, real, double precision, boolean, date,
timestamptz (values given as int64 microseconds since the Unix epoch) and text.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
import pyarrow as pa

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01T00:00:00Z in microseconds since the Unix epoch."""
PG_EPOCH_DAYS = 10_957

_FIXED: dict[str, str] = {
    "smallint": ">i2",
    "integer": ">i4",
    "bigint": ">i8",
    "real": ">f4",
    "double precision": ">f8",
    "boolean": "u1",
    "date": ">i4",
    "timestamptz": ">i8",
}

CHUNK_ROWS = 65_536
"""Rows encoded per chunk: bounds the scatter indices of text columns to a few MB."""


def copy_chunks(df: pl.DataFrame, types: dict[str, str], chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The binary COPY stream of ``df`` (header, tuples, trailer) in pieces; ``types`` maps column → database type."""
    yield HEADER
    for offset in range(0, df.height, chunk_rows):
        yield encode_rows(df.slice(offset, chunk_rows), types)
    yield TRAILER


def encode_rows(df: pl.DataFrame, types: dict[str, str]) -> bytes:
    """The binary COPY tuples of ``df`` (no header or trailer)."""
    n = df.height
    if n == 0:
        return b""
    fields = [_field(df.get_column(name), types[name]) for name in df.columns]
    widths = [np.maximum(lengths, 0) + 4 for lengths, _ in fields]
    row_size = np.asarray(np.sum(np.stack(widths), axis=0, dtype=np.int64) + 2, dtype=np.int64)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(row_size[:-1], out=starts[1:])
    out = np.empty(int(starts[-1] + row_size[-1]), dtype=np.uint8)
    _put(out, starts, np.full(n, len(fields), dtype=">i2"))
    pos = starts + 2
    for (lengths, data), width in zip(fields, widths, strict=True):
        _put(out, pos, lengths.astype(">i4"))
        if isinstance(data, tuple):
            _put_text(out, pos + 4, lengths, *data)
        else:
            valid = lengths >= 0
            _put(out, (pos + 4)[valid], data[valid])
        pos += width
    return out.tobytes()


def _put(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Write fixed-width big-endian ``values`` (one per row) at byte offsets ``at``."""
    w = values.dtype.itemsize
    raw = np.ascontiguousarray(values).view(np.uint8).reshape(-1, w)
    out[at[:, None] + np.arange(w)] = raw


def _put_text(out: np.ndarray, at: np.ndarray, lengths: np.ndarray, offsets: np.ndarray, buf: np.ndarray) -> None:
    """Scatter each row's UTF-8 bytes ``buf[offsets[i]:offsets[i+1]]`` to ``at[i]``."""
    sizes = np.maximum(lengths, 0)
    total = int(sizes.sum())
    if total == 0:
        return
    base = np.repeat(at - offsets[:-1], sizes)
    src = np.repeat(offsets[:-1], sizes) + (np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    out[base + src] = buf[src]


def _field(s: pl.Series, pg_type: str) -> tuple[np.ndarray, np.ndarray | tuple[np.ndarray, np.ndarray]]:
    """Per-row data lengths (-1 for NULL) and the data: a big-endian array, or (offsets, bytes) for text."""
    nulls = s.is_null().to_numpy() if s.null_count() else None
    if pg_type == "text":
        arr = s.cast(pl.String).to_arrow().cast(pa.large_string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        _, off_buf, data_buf = arr.buffers()
        offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
        buf = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
        lengths = np.diff(offsets).astype(np.int64)
        if nulls is not None:
            lengths[nulls] = -1
        return lengths, (offsets, buf)
    if pg_type == "date":
        values = s.cast(pl.Int32).fill_null(0).to_numpy() - PG_EPOCH_DAYS
    elif pg_type == "timestamptz":
        values = s.cast(pl.Int64).fill_null(0).to_numpy() - PG_EPOCH_US
    elif pg_type == "boolean":
        values = s.fill_null(False).to_numpy().astype(np.uint8)
    else:
        values = s.fill_null(0).to_numpy()
    data = values.astype(_FIXED[pg_type])
    lengths = np.full(len(s), data.dtype.itemsize, dtype=np.int64)
    if nulls is not None:
        lengths[nulls] = -1
    return lengths, data
