"""Crafted hostile DBN files and a peak-memory probe, for the memory-bound tests (issue 9, item 6).

Files are written with ``databento_dbn``'s encoder and streamed to disk frame by frame: a
body of identical records is one zstd frame compressed once and written many times, so a
100 KiB file can decompress to gigabytes without the test ever holding them.

:func:`peak_rss` runs code in a fresh interpreter and returns its peak resident set size
(``VmHWM``), so a test measures the code under test and nothing the test process holds.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import databento_dbn as dbn
import numpy as np
import zstandard

GIB = 1 << 30
_FRAME_BYTES = 64 << 20


def metadata(
    schema: dbn.Schema,
    start: int,
    end: int | None,
    *,
    symbols: Sequence[str] = ("ES.FUT",),
    mappings: Sequence[object] = (),
    stype_in: dbn.SType = dbn.SType.PARENT,
) -> bytes:
    """An encoded DBN v3 header (prelude + metadata)."""
    meta = dbn.Metadata(
        dataset="GLBX.MDP3", schema=schema, start=start, end=end, stype_in=stype_in,
        stype_out=dbn.SType.INSTRUMENT_ID, symbols=list(symbols), partial=[], not_found=[],
        mappings=list(mappings), version=3, ts_out=False,
    )  # fmt: skip
    return bytes(meta.encode())


def write_repeated(path: Path, header: bytes, records: np.ndarray, count: int) -> Path:
    """A ``.dbn.zst``: ``header`` then ``records`` repeated until ``count`` records, as identical zstd frames."""
    unit = np.ascontiguousarray(records).tobytes()
    per_frame = max(1, _FRAME_BYTES // len(unit)) * len(records)
    compressor = zstandard.ZstdCompressor(level=3)
    with open(path, "wb") as f:
        f.write(compressor.compress(header))
        full, rest = divmod(count, per_frame)
        if full:
            frame = compressor.compress(unit * (per_frame // len(records)))
            for _ in range(full):
                f.write(frame)
        if rest:
            assert rest % len(records) == 0, "count must be a multiple of len(records)"
            f.write(compressor.compress(unit * (rest // len(records))))
    return path


def write_zeros(f: object, nbytes: int) -> None:
    """Append ``nbytes`` of zeros to the open file ``f`` as identical zstd frames."""
    compressor = zstandard.ZstdCompressor(level=3)
    full, rest = divmod(nbytes, _FRAME_BYTES)
    frame = compressor.compress(bytes(_FRAME_BYTES))
    for _ in range(full):
        f.write(frame)  # type: ignore[attr-defined]
    if rest:
        f.write(compressor.compress(bytes(rest)))  # type: ignore[attr-defined]


def peak_rss(code: str, timeout: float = 600) -> tuple[int, str]:
    """Run ``code`` in a fresh interpreter; return (its peak RSS in bytes, its stdout).

    The probe is read from ``/proc/self/status`` (``VmHWM``) when the code is done; a non-zero
    exit fails the calling test with the child's stderr.
    """
    probe = '\nimport re as _re\nprint("VmHWM", _re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))\n'
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + probe], capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"child failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    match = re.search(r"^VmHWM (\d+)$", proc.stdout, re.MULTILINE)
    assert match, proc.stdout
    peak = int(match.group(1)) * 1024
    print(f"peak RSS {peak / 2**20:.0f} MiB")  # shown with pytest -s: the figures of the closing note
    return peak, proc.stdout[: match.start()]
