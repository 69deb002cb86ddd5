"""Rows a stage sets aside (quarantine), kept in memory up to a bound and spilled to disk past it.

A partition whose every record is bad (10 million zero-size trades) must not hold its
quarantine in memory until commit. :class:`SpillBuffer` keeps appended tables in memory
until they exceed ``limit_bytes`` of Arrow memory, then writes them, in order, to Arrow IPC
files (lz4-compressed buffers: the fastest Arrow codec) in a directory it creates on first need;
:meth:`SpillBuffer.tables` gives every table back in append order, reading spilled ones
one record batch at a time. Memory is bounded by ``limit_bytes`` plus one batch.

The directory is removed by :meth:`SpillBuffer.close`, or when the buffer is garbage
collected; after a crash, by whatever sweeps the directory's parent (the stage's staging
sweep, since the directory is a staging directory of the partition).
"""

from __future__ import annotations

import shutil
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

SPILL_BYTES = 64 << 20
"""Arrow bytes of set-aside rows kept in memory before they are spilled to disk."""
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


class SpillBuffer:
    """Append-only sequence of Arrow tables with bounded memory (see the module docstring)."""

    def __init__(self, make_dir: Callable[[], Path], limit_bytes: int = SPILL_BYTES) -> None:
        self._make_dir = make_dir
        self._limit = limit_bytes
        self._memory: list[pa.Table] = []
        self._memory_bytes = 0
        self._files: list[Path] = []
        self._dir: Path | None = None
        self._cleanup: weakref.finalize | None = None
        self.rows = 0
        """Rows appended so far (spilled or not)."""

    def append(self, table: pa.Table) -> None:
        """Add ``table`` after the tables appended before it."""
        self._memory.append(table)
        self._memory_bytes += table.nbytes
        self.rows += table.num_rows
        if self._memory_bytes > self._limit:
            self._spill()

    def tables(self) -> Iterator[pa.Table]:
        """Every appended table's rows, in append order (spilled ones one record batch at a time)."""
        for path in self._files:
            with pa.memory_map(str(path)) as source:
                reader = pa.ipc.open_file(source)
                for i in range(reader.num_record_batches):
                    yield pa.Table.from_batches([reader.get_batch(i)])
        yield from self._memory

    @property
    def spilled_files(self) -> int:
        """Number of IPC files written so far."""
        return len(self._files)

    def close(self) -> None:
        """Remove the spill directory (the buffer must not be read afterwards)."""
        self._memory = []
        self._memory_bytes = 0
        if self._cleanup is not None:
            self._cleanup()

    def _spill(self) -> None:
        if self._dir is None:
            self._dir = self._make_dir()
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)
        run: list[pa.Table] = []
        for table in self._memory:  # one IPC file per run of tables sharing a schema
            if run and not table.schema.equals(run[0].schema):
                self._write(run)
                run = []
            run.append(table)
        if run:
            self._write(run)
        self._memory = []
        self._memory_bytes = 0

    def _write(self, run: list[pa.Table]) -> None:
        assert self._dir is not None
        path = self._dir / f"spill-{len(self._files):06d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, run[0].schema, options=_IPC_OPTIONS) as writer:
            for table in run:
                writer.write_table(table)
        self._files.append(path)
