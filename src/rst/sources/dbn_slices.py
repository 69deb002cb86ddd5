"""Decompress a raw file once for every partition it feeds: the other partitions' records are set aside.

A stage builds one partition (e.g. one trading date) at a time, and a raw file often feeds
several: a UTC-day file touches two trading dates, a monthly file twenty-odd. Decoding the
file once per partition would decompress all of it each time. Instead, the pass that decodes
a file for one partition window also appends the raw records that fall in each *sibling*
window (the other partitions of that file) to a **slice**: an uncompressed file of raw DBN
records, in file order, under a lake-internal directory. The slices are published (atomic
rename) only when that pass has read the whole file without error. A later build of a sibling
reads its slice instead of the file: the same records in the same order, validated again
record by record, without decompression; the slice is deleted once read.

A slice is keyed by the raw file's path, size, mtime and inode and by the time field and
window, so a replaced file never serves an old slice. Bounds: a pass sets aside at most
:data:`SLICE_BYTES` (beyond that the siblings decode the file themselves); slices nobody read
within :data:`SLICE_TTL_S` (their partition was up to date, or built elsewhere) are swept
by the next pass that writes slices in the same directory. Slices are an optimisation only: a
slice that cannot be written (disk full, unwritable directory) or read leaves its partition to
decode the file, never fails a build.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from rst.errors import DbnFormatError

SLICE_BYTES = 2 << 30
"""Raw bytes one decoding pass may set aside (all sibling windows together)."""
SLICE_TTL_S = 3600
"""Age after which an unread slice (or a dead pass's temporary file) is swept."""
_SUFFIX = ".records"


def _no_windows() -> tuple[tuple[int, int], ...]:
    return ()


@dataclass(frozen=True)
class Aside:
    """What a decoding pass does with slices.

    ``directory``: where slices live. ``windows``: called only when the pass reads the file (its
    own slice is not there), returns the sibling ``[lo, hi)`` UTC-ns windows whose records to set
    aside (disjoint; the pass's own window excluded). ``consume``: delete the slice this pass
    reads once it is read through (False for a pre-pass whose main pass reads it again).
    ``wanted``: asked for each window when the pass completes; a slice nobody will read (its
    partition was built or is being built meanwhile, from the file) is dropped, not published.
    """

    directory: Path
    windows: Callable[[], tuple[tuple[int, int], ...]] = _no_windows
    consume: bool = True
    wanted: Callable[[tuple[int, int]], bool] | None = None


def slice_path(directory: Path, source: Path, field: str, lo: int, hi: int) -> Path:
    """Where the slice of ``source``'s records with ``field`` in ``[lo, hi)`` lives."""
    st = os.stat(source)
    key = f"{os.path.realpath(source)}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}|{field}|{lo}|{hi}"
    return directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + _SUFFIX)


def open_slice(directory: Path, source: Path, field: str, lo: int, hi: int) -> BinaryIO | None:
    """The published slice of that window, open for reading, or None."""
    try:
        return open(slice_path(directory, source, field, lo, hi), "rb")  # noqa: SIM115 - the caller closes it
    except OSError:  # none (or unreadable): the pass reads the file
        return None


class SliceWriter:
    """Appends each sibling window's raw records to its temporary slice; :meth:`publish` renames them in place.

    Each append opens and closes its file, so a pass may set aside any number of windows
    without holding a file descriptor per window.
    """

    def __init__(self, aside: Aside, windows: tuple[tuple[int, int], ...], source: Path, field: str) -> None:
        self._field = field
        self._wanted = aside.wanted
        self._bounds = sorted(windows)
        self._starts = np.array([lo for lo, _ in self._bounds], dtype=np.uint64)
        self._ends = np.array([hi for _, hi in self._bounds], dtype=np.uint64)
        self._finals = [slice_path(aside.directory, source, field, lo, hi) for lo, hi in self._bounds]
        tag = f".{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        self._temps = [p.with_name(p.name + tag) for p in self._finals]
        self._bytes = 0
        self._active = bool(self._bounds)
        try:
            aside.directory.mkdir(parents=True, exist_ok=True)
        except OSError:  # nowhere to set aside: the siblings read the file
            self._active = False
        _sweep(aside.directory)

    def add(self, rec: np.ndarray) -> None:
        """Set aside the records of ``rec`` (a structured chunk, file order) that fall in a sibling window."""
        if not self._active or not len(rec):
            return
        ts = rec[self._field]
        idx = np.searchsorted(self._starts, ts, side="right").astype(np.intp) - 1
        inside = idx >= 0
        inside &= ts < self._ends[np.clip(idx, 0, None)]
        if not inside.any():
            return
        for w in np.unique(idx[inside]):
            data = rec[inside & (idx == w)].tobytes()
            self._bytes += len(data)
            if self._bytes > SLICE_BYTES:
                self.abandon()
                return
            try:
                with open(self._temps[w], "ab") as f:
                    f.write(data)
            except OSError:  # a disk full or unwritable must not fail the build: its siblings read the file
                self.abandon()
                return

    def publish(self) -> None:
        """The pass read the whole file: every wanted sibling slice (empty ones too) becomes visible."""
        if not self._active:
            return
        self._active = False
        for window, temp, final in zip(self._bounds, self._temps, self._finals, strict=True):
            try:
                if self._wanted is None or self._wanted(window):
                    temp.touch()  # an empty window is a slice too
                    os.replace(temp, final)
                    continue
            except OSError:
                pass
            temp.unlink(missing_ok=True)

    def abandon(self) -> None:
        """The pass failed or set aside too much: remove its temporary files."""
        self._active = False
        for temp in self._temps:
            temp.unlink(missing_ok=True)


def read_slice(f: BinaryIO, record_size: int, batch_records: int) -> Iterator[tuple[bytearray, int]]:
    """Chunks ``(buffer, n_records)`` of whole records from an open slice (closed at the end)."""
    with f:
        while True:
            buf = bytearray(record_size * batch_records)
            got = f.readinto(buf)  # type: ignore[attr-defined]
            while got and got < len(buf):
                more = f.readinto(memoryview(buf)[got:])  # type: ignore[attr-defined]
                if not more:
                    break
                got += more
            n, rest = divmod(got, record_size)
            if rest:
                raise DbnFormatError(Path(f.name), f"slice truncated: {rest} trailing bytes")
            if n:
                yield buf, n
            if got < len(buf):
                return


def _sweep(directory: Path) -> None:
    """Remove slices and temporary files older than :data:`SLICE_TTL_S`."""
    cutoff = time.time() - SLICE_TTL_S
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
        except OSError:  # gone already, or not ours to remove
            pass
