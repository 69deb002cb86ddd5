"""``rst publish`` and ``rst db query`` against a real PostgreSQL server started for the run.

1. **Publish 1M silver rows** (``--rows``): demo ES ``ohlcv_1h`` bars tiled to N rows (instrument ids
   shifted per copy, so keys stay unique) loaded as one lake partition through rst's path (binary COPY
   into a staging table, ``INSERT … ON CONFLICT … WHERE IS DISTINCT FROM``, delete-missing; one
   transaction), cold and as an unchanged rerun, against the peer: a plain psycopg ``executemany``
   upsert (``INSERT … ON CONFLICT DO UPDATE``) of the same rows into the same table layout.
2. **Skip by hash**: republishing the published demo lake (every partition's ``_SUCCESS`` known).
3. **Query**: one month of daily bars of one parent, ``query_rows`` (best of 20) and the
   ``rst db query`` command end to end (process start included).

The server runs with fsync on (``TempPostgres(durable=True)``), as the machine's own binaries.

usage: uv run python -m benchmarks.bench_publish [--rows 1000000]  (also part of `python -m benchmarks`)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _tiled(lake: Any, rows: int) -> Any:
    import polars as pl

    from rst.read import read_table

    base = read_table("silver", "ES", "ohlcv_1h", lake=lake)
    copies = -(-rows // base.height)
    frames = [base.with_columns((pl.col("instrument_id") + k * 10_000_000).cast(pl.UInt32)) for k in range(copies)]
    return pl.concat(frames).head(rows)


def _peer(conn: Any, wire: Any, key: list[str]) -> float:
    """Plain psycopg executemany upsert of ``wire`` into ``peer`` (created like rst's table, unpartitioned)."""
    cols = wire.columns
    values = [c for c in cols if c not in key]
    conn.execute("DROP TABLE IF EXISTS peer")
    conn.execute("CREATE TABLE peer (LIKE silver_bench INCLUDING DEFAULTS)")
    conn.execute(f"ALTER TABLE peer ADD PRIMARY KEY ({', '.join(key)})")
    conn.commit()

    del values
    return _peer_again(conn, wire, key)


def bench_publish(work: Path, rows: int) -> list[Any]:
    """Run the measurements above; returns markdown tables (``benchmarks.run.Table``)."""
    import psycopg

    from benchmarks.run import Table
    from rst.demo import run_demo
    from rst.framework.lake import Lake, Layer
    from rst.framework.partition import Granularity, Partition, PartitionKey
    from rst.serving.db_query import query_rows
    from rst.serving.pgserver import TempPostgres
    from rst.serving.publish import load_frame, plan, publish
    from rst.serving.schema import layout_for, to_wire

    lake = Lake(work / "publish-lake")
    run_demo(lake, parents=("ES",), start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 1))
    df = _tiled(lake, rows)
    part = Partition(Layer.SILVER, "ES", "bench", PartitionKey(Granularity.YEAR, "2024"))
    table = Table(f"Publish {df.height:,} silver rows to PostgreSQL", ["measurement", "seconds", "rows/s", "notes"])
    with TempPostgres(durable=True) as pg, psycopg.connect(pg.url, autocommit=True) as conn:
        t0 = time.perf_counter()
        cold = load_frame(conn, df, part)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = load_frame(conn, df, part)
        t_again = time.perf_counter() - t0
        layout = layout_for("silver", "bench", df.schema)
        wire = to_wire(df, layout, "ES", "year=2024")
        conn.autocommit = False
        t_peer = _peer(conn, wire, list(layout.key_stored))
        t_peer_again = _peer_again(conn, wire, list(layout.key_stored))
        conn.autocommit = True
        table.rows += [
            [
                "rst publish, cold (binary COPY + upsert)",
                f"{t_cold:.2f}",
                f"{df.height / t_cold:,.0f}",
                f"inserted {cold['inserted_count']:,}",
            ],
            [
                "rst publish, unchanged rerun (--force path)",
                f"{t_again:.2f}",
                f"{df.height / t_again:,.0f}",
                f"updated {again['updated_count']}, unchanged {again['unchanged_count']:,}",
            ],
            [
                "peer: psycopg executemany upsert, cold",
                f"{t_peer:.2f}",
                f"{df.height / t_peer:,.0f}",
                "same rows, same columns, same key",
            ],
            [
                "peer: psycopg executemany upsert, rerun",
                f"{t_peer_again:.2f}",
                f"{df.height / t_peer_again:,.0f}",
                "rewrites every row",
            ],
        ]
        publish(lake, pg.url, plan(lake))
        t0 = time.perf_counter()
        skipped = publish(lake, pg.url, plan(lake))
        t_skip = time.perf_counter() - t0
        table.rows.append(
            [
                "rst publish of the demo lake, all published (skip by _SUCCESS hash)",
                f"{t_skip:.3f}",
                "-",
                f"{len(skipped.partitions)} partitions skipped unread",
            ]
        )
        q = Table("One month of daily bars of one parent (ES ohlcv_1d, 2024-02)", ["measurement", "seconds", "rows"])
        best = float("inf")
        got = None
        for _ in range(20):
            t0 = time.perf_counter()
            got = query_rows(pg.url, parent="ES", table="ohlcv_1d", start=dt.date(2024, 2, 1), end=dt.date(2024, 2, 29))
            best = min(best, time.perf_counter() - t0)
        assert got is not None
        q.rows.append(["query_rows (connect + select + frame), best of 20", f"{best:.4f}", str(got.height)])
        env = {**os.environ, "RST_DATABASE_URL": pg.url}
        cmd = [
            sys.executable,
            "-c",
            "from rst.cli.main import main; main()",
            "db",
            "query",
            "--symbol",
            "ES",
            "--table",
            "ohlcv_1d",
            "--start",
            "2024-02-01",
            "--end",
            "2024-02-29",
        ]
        best_cli = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            best_cli = min(best_cli, time.perf_counter() - t0)
        q.rows.append(["`rst db query` command, process start included, best of 3", f"{best_cli:.3f}", str(got.height)])
        q.notes.append("origin document target: under 5 s")
    return [table, q]


def _peer_again(conn: Any, wire: Any, key: list[str]) -> float:
    """The peer's unchanged rerun: the same executemany upsert over rows already there."""
    cols = wire.columns
    values = [c for c in cols if c not in key]
    import polars as pl

    tz = [c for c in ("ts_event", "ts_event_local", "expiration", "activation", "definition_ts_recv") if c in cols]
    rows = wire.with_columns([(pl.col(c) * 1000).cast(pl.Datetime("ns", "UTC")) for c in tz]).rows()
    sql = (
        f"INSERT INTO peer ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in values)}"
    )
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.executemany(sql, rows)
    conn.commit()
    return time.perf_counter() - t0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rst-bench-publish-") as tmp:
        for t in bench_publish(Path(tmp), args.rows):
            print(t.markdown())
