"""Bounded, panic-safe decoding of a DBN header's metadata (the bytes after the 8-byte prelude).

Every length and count in a DBN header is untrusted: the metadata length sizes a read, and the
counts inside the metadata size the Rust decoder's allocations (``Vec::with_capacity(count)``,
where an impossible count aborts the whole process). So, before any byte reaches
``databento_dbn``:

- the metadata length is capped at :data:`MAX_METADATA_BYTES` (checked before reading it);
- the variable part (symbols, partial, not_found, mappings) is walked once here and every count
  is checked against the bytes that are actually there; ``symbol_cstr_len`` must be at least
  :data:`MIN_SYMBOL_CSTR_LEN` (DBN writes 22 in v1, 71 in v2/v3), so the number of entries, and
  the Python objects made from them, stays proportional to the metadata size.

A panic inside the Rust decoder reaches Python as ``pyo3_runtime.PanicException``, a
``BaseException``: :func:`rust_guard` turns it (and any ``Exception``) into a one-line
:class:`~rst.errors.DbnFormatError` naming the file, and lets everything else
(``KeyboardInterrupt``, ``SystemExit``) through.

Symbol mappings are decoded here, columnar, and validated as DBN does (dates ``YYYYMMDD`` that
exist, UTF-8 symbols): the Rust decoder gets the header with its mapping count set to 0, so it
never builds them (its ``Metadata.mappings`` property makes one Python dict per interval:
seconds and a few hundred MB for 200,000 intervals).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import databento_dbn as dbn
import numpy as np

from rst.errors import DbnFormatError

MAX_METADATA_BYTES = 32 << 20
"""Largest metadata rst reads (32 MiB; 200,000 one-interval mappings take 31 MB in DBN v3)."""
MIN_SYMBOL_CSTR_LEN = 22
"""Smallest symbol width accepted (DBN v1's fixed width; v2/v3 write 71)."""
FIXED_LEN = 100
"""Bytes of fixed fields at the start of the metadata (the same in DBN v1, v2 and v3)."""

Mappings = tuple[tuple[str, tuple[tuple[date, date, str], ...]], ...]


@dataclass(frozen=True)
class HeaderFields:
    """The metadata of a DBN header as plain Python values (no Rust objects kept)."""

    dataset: str
    schema: str | None
    start: int
    end: int | None
    stype_in: str | None
    stype_out: str
    symbols: tuple[str, ...]
    partial: tuple[str, ...]
    not_found: tuple[str, ...]
    ts_out: bool
    limit: int | None
    mappings: Mappings


@dataclass(frozen=True)
class _MappingLayout:
    """Where the symbol mappings lie in the metadata."""

    symbol_cstr_len: int
    count_pos: int
    """Offset of the mapping count."""
    raw_pos: np.ndarray
    """Offset of each mapping's input symbol; its interval count and intervals follow."""
    counts: np.ndarray
    """Intervals of each mapping."""


def is_rust_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is a panic raised inside a pyo3 extension (``pyo3_runtime.PanicException``)."""
    return any(t.__name__ == "PanicException" and t.__module__ == "pyo3_runtime" for t in type(exc).__mro__)


@contextmanager
def rust_guard(path: Path, what: str) -> Iterator[None]:
    """Turn an error or a Rust panic raised inside the block into ``DbnFormatError(path, "<what>: …")``."""
    try:
        yield
    except DbnFormatError:
        raise
    except BaseException as exc:
        if not isinstance(exc, Exception) and not is_rust_panic(exc):
            raise
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DbnFormatError(path, f"{what}: {detail}") from exc


def check_metadata_length(path: Path, length: int) -> None:
    """Refuse a metadata length field above :data:`MAX_METADATA_BYTES` before anything is read."""
    if length > MAX_METADATA_BYTES:
        raise DbnFormatError(
            path,
            f"header claims {length} bytes of metadata, more than rst accepts ({MAX_METADATA_BYTES}): "
            "corrupt or hostile file",
        )


def decode_metadata(path: Path, version: int, header: bytes) -> HeaderFields:
    """Decode a whole header (prelude + metadata) with bounded memory; see the module docstring.

    Raises
    ------
    DbnFormatError
        An impossible count or width, anything ``databento_dbn`` refuses, or a decoder panic.
    """
    meta = memoryview(header)[8:]
    layout = _walk(path, version, meta)
    fixed = header
    if layout is not None:  # the same header without its mappings
        body = bytes(meta[: layout.count_pos]) + bytes(4)
        fixed = bytes(header[:4]) + struct.pack("<I", len(body)) + body
    with rust_guard(path, "undecodable DBN metadata"):
        decoded = dbn.Metadata.decode(fixed, upgrade_policy=dbn.VersionUpgradePolicy.AS_IS)  # type: ignore[arg-type]  # stub types the enum member as int
        fields = _plain_fields(decoded)
    mappings = _mappings(path, meta, layout) if layout is not None else ()
    return HeaderFields(**fields, mappings=mappings)


def _plain_fields(meta: Any) -> dict[str, Any]:
    return {
        "dataset": str(meta.dataset),
        "schema": None if meta.schema is None else str(meta.schema.value),
        "start": int(meta.start),
        "end": None if meta.end is None else int(meta.end),
        "stype_in": None if meta.stype_in is None else str(meta.stype_in.value),
        "stype_out": str(meta.stype_out.value),
        "symbols": tuple(str(s) for s in meta.symbols),
        "partial": tuple(str(s) for s in meta.partial),
        "not_found": tuple(str(s) for s in meta.not_found),
        "ts_out": bool(meta.ts_out),
        "limit": int(meta.limit) if meta.limit else None,
    }


def _walk(path: Path, version: int, meta: memoryview) -> _MappingLayout | None:
    """Check every count of the variable part against the bytes present; locate the mappings.

    None when the fixed part itself is short: the decoder then reports that.
    """
    size = len(meta)
    if size < FIXED_LEN + 4:
        return None
    width = 22 if version == 1 else struct.unpack_from("<H", meta, 45)[0]
    if width < MIN_SYMBOL_CSTR_LEN:
        raise DbnFormatError(path, f"corrupt DBN metadata: symbol width {width} bytes (expected >= {MIN_SYMBOL_CSTR_LEN})")
    if struct.unpack_from("<I", meta, FIXED_LEN)[0]:
        return None  # schema definitions: the decoder refuses them
    pos = FIXED_LEN + 4
    for name in ("symbols", "partial", "not_found"):
        count = _count(path, meta, pos, name)
        pos += 4 + count * width
        if pos > size:
            raise DbnFormatError(path, f"corrupt DBN metadata: {count} {name} do not fit in {size} bytes")
    count_pos = pos
    count = _count(path, meta, pos, "mappings")
    pos += 4
    if count * (width + 4) > size - pos:
        raise DbnFormatError(path, f"corrupt DBN metadata: {count} symbol mappings do not fit in {size} bytes")
    interval = 8 + width
    raw_pos = np.empty(count, dtype=np.int64)
    counts = np.empty(count, dtype=np.int64)
    for i in range(count):  # one step per mapping (each one's size depends on its interval count)
        if pos + width + 4 > size:
            raise DbnFormatError(path, f"corrupt DBN metadata: symbol mapping {i} runs past the metadata")
        (n,) = struct.unpack_from("<I", meta, pos + width)
        raw_pos[i] = pos
        counts[i] = n
        pos += width + 4 + n * interval
        if pos > size:
            raise DbnFormatError(path, f"corrupt DBN metadata: symbol mapping {i} claims {n} intervals, past the metadata")
    return _MappingLayout(width, count_pos, raw_pos, counts)


def _count(path: Path, meta: memoryview, pos: int, name: str) -> int:
    if pos + 4 > len(meta):
        raise DbnFormatError(path, f"corrupt DBN metadata: the {name} count lies past the metadata")
    return int(struct.unpack_from("<I", meta, pos)[0])


def _mappings(path: Path, meta: memoryview, layout: _MappingLayout) -> Mappings:
    """The mappings, per input symbol in file order (intervals in file order).

    A repeated input symbol keeps its first position and its last intervals (what the
    decoder's ``Metadata.mappings`` dict gives).
    """
    counts = layout.counts
    if not len(counts):
        return ()
    width = layout.symbol_cstr_len
    record = np.dtype([("start", "<u4"), ("end", "<u4"), ("symbol", f"S{width}")])
    buf = np.frombuffer(meta, dtype=np.uint8)
    # offset of every interval: its mapping's first interval, then one record size apart
    ends = np.cumsum(counts)
    rank = np.arange(int(ends[-1]), dtype=np.int64) - np.repeat(ends - counts, counts)
    intervals = _rows(buf, np.repeat(layout.raw_pos + width + 4, counts) + rank * record.itemsize, record)
    raws = _strings(path, _rows(buf, layout.raw_pos, np.dtype(f"S{width}")))
    starts = _dates(path, intervals["start"])
    stops = _dates(path, intervals["end"])
    flat = list(zip(starts, stops, _strings(path, intervals["symbol"]), strict=True))
    by_symbol: dict[str, tuple[tuple[date, date, str], ...]] = {}
    bounds = [0, *ends.tolist()]
    for i, raw in enumerate(raws):
        by_symbol[raw] = tuple(flat[bounds[i] : bounds[i + 1]])
    return tuple(by_symbol.items())


def _rows(buf: np.ndarray, offsets: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Copies of the ``dtype`` values starting at byte ``offsets`` of ``buf`` (no alignment needed)."""
    if not len(offsets):
        return np.empty(0, dtype=dtype)
    windows = np.lib.stride_tricks.as_strided(
        buf, shape=(len(buf) - dtype.itemsize + 1, dtype.itemsize), strides=(1, 1), writeable=False
    )
    return np.ascontiguousarray(windows[offsets]).view(dtype).reshape(len(offsets))


def _strings(path: Path, cstrs: np.ndarray) -> list[str]:
    """Fixed-width C strings (trailing NULs dropped) -> str."""
    try:
        return [b.decode("utf-8") for b in cstrs.tolist()]
    except UnicodeDecodeError as exc:
        raise DbnFormatError(path, f"corrupt DBN metadata: a mapping symbol is not UTF-8 ({exc.reason})") from exc


def _dates(path: Path, raw: np.ndarray) -> list[date]:
    """``YYYYMMDD`` integers -> dates; a date that does not exist (or is outside years 1-9999) is refused."""
    years = (raw // 10_000).astype(np.int64)
    months = (raw // 100 % 100).astype(np.int64) - 1
    days = (raw % 100).astype(np.int64) - 1
    month_start = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + months.astype("timedelta64[M]")
    day = month_start.astype("datetime64[D]") + days.astype("timedelta64[D]")
    valid = (years >= 1) & (years <= 9999) & (months >= 0) & (months < 12) & (days >= 0)
    valid &= day.astype("datetime64[M]") == month_start
    if not valid.all():
        bad = int(raw[np.argmin(valid)])
        raise DbnFormatError(path, f"corrupt DBN metadata: mapping date {bad} is not a date (YYYYMMDD)")
    values: list[date] = day.tolist()
    return values
