"""Benchmark: rst DBN decode (+ Parquet write) vs databento's DBNStore and the floor.

Usage::

    uv run python benchmarks/bench_dbn_decode.py FILE.dbn.zst [--modes m1,m2] [--codec zstd]

Each mode runs in a fresh subprocess and reports wall seconds and peak RSS (MB):

- ``peer_ndarray``: ``DBNStore.from_file(p).to_ndarray()``
- ``peer_parquet``: ``DBNStore.from_file(p).to_parquet(out, price_type="fixed", pretty_ts=False, map_symbols=False)``
- ``floor``: zstd decompression of the whole body, ``np.frombuffer`` into the record dtype,
  ``pl.from_numpy`` and a plain polars ``write_parquet`` (whole file in memory)
- ``rst_decode``: ``rst.sources.dbn_file.iter_batches`` only
- ``rst_write``: ``iter_batches`` into a ``pyarrow.parquet.ParquetWriter`` (row groups of
  ``--row-group`` rows), the bronze hot path without bronze's extra columns
- ``rst_polars``: ``iter_batches`` gathered into part files of 1,048,576 rows, each written
  by polars ``write_parquet`` (multi-threaded encoder; memory bounded by the part size)
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

MODES = ("peer_ndarray", "peer_parquet", "floor", "rst_decode", "rst_write", "rst_polars")


def _run_mode(mode: str, path: Path, out_dir: Path, codec: str, batch: int, row_group: int) -> dict[str, float]:
    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    rows = 0
    if mode == "peer_ndarray":
        import databento as db

        rows = len(db.DBNStore.from_file(path).to_ndarray())
    elif mode == "peer_parquet":
        import databento as db

        db.DBNStore.from_file(path).to_parquet(
            out_dir / "peer.parquet", price_type="fixed", pretty_ts=False, map_symbols=False
        )
    elif mode == "floor":
        import databento_dbn as dbn
        import numpy as np
        import polars as pl
        import zstandard

        parts = []
        with open(path, "rb") as f:
            reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
            while chunk := reader.read(64 << 20):
                parts.append(chunk)
        data = b"".join(parts)
        del parts
        (meta_len,) = struct.unpack("<I", data[4:8])
        rec = np.frombuffer(data, dtype=dbn.MBP10Msg._dtypes, offset=8 + meta_len)
        rows = len(rec)
        pl.from_numpy(rec).write_parquet(out_dir / "floor.parquet", compression=codec)
    elif mode == "rst_decode":
        from rst.sources.dbn_file import iter_batches

        for b in iter_batches(path, batch):
            rows += b.num_rows
    elif mode == "rst_write":
        import pyarrow as pa
        import pyarrow.parquet as pq

        from rst.sources.dbn_file import canonical_schema, iter_batches, read_info

        info = read_info(path)
        assert info.schema is not None
        schema = canonical_schema(info.schema, ts_out=info.ts_out)
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        with pq.ParquetWriter(out_dir / "rst.parquet", schema, compression=codec) as writer:
            for b in iter_batches(path, batch, info=info):
                pending.append(b)
                pending_rows += b.num_rows
                rows += b.num_rows
                if pending_rows >= row_group:
                    writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=pending_rows)
                    pending, pending_rows = [], 0
            if pending:
                writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=pending_rows)
    elif mode == "rst_polars":
        import polars as pl
        import pyarrow as pa

        from rst.sources.dbn_file import canonical_schema, iter_batches, read_info

        info = read_info(path)
        assert info.schema is not None
        schema = canonical_schema(info.schema, ts_out=info.ts_out)
        part_rows = 1_048_576
        pending, pending_rows, part = [], 0, 0

        def flush() -> None:
            nonlocal pending, pending_rows, part
            table = pa.Table.from_batches(pending, schema)
            pl.from_arrow(table).write_parquet(
                out_dir / f"part-{part:05d}.parquet", compression=codec, row_group_size=row_group
            )
            pending, pending_rows, part = [], 0, part + 1

        for b in iter_batches(path, batch, info=info):
            pending.append(b)
            pending_rows += b.num_rows
            rows += b.num_rows
            if pending_rows >= part_rows:
                flush()
        if pending:
            flush()
    else:
        raise SystemExit(f"unknown mode {mode}")
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rows": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", type=Path)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--codec", default="zstd")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--row-group", type=int, default=262_144)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.batch is None:
        from rst.sources.dbn_file import DEFAULT_BATCH_RECORDS

        args.batch = DEFAULT_BATCH_RECORDS
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            res = _run_mode(args.child, args.file, Path(tmp), args.codec, args.batch, args.row_group)
        print(json.dumps(res))
        return
    size_mb = args.file.stat().st_size / 1e6
    print(f"{args.file} ({size_mb:.0f} MB compressed), codec={args.codec}, batch={args.batch}")
    for mode in args.modes.split(","):
        cmd = [sys.executable, __file__, str(args.file), "--child", mode, "--codec", args.codec,
               "--batch", str(args.batch), "--row-group", str(args.row_group)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        res = json.loads(out)
        print(f"{mode:14s} {res['seconds']:7.2f} s   peak RSS {res['peak_rss_mb']:7.0f} MB")


if __name__ == "__main__":
    main()
