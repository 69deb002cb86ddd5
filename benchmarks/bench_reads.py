"""Reads: ``rst query`` of one month of daily bars and ``rst.read_series`` of a 20-year series, in-process.

A lake of ``parents`` x ``years`` of synthetic ohlcv-1d + definitions is built raw -> gold (not timed);
then each read is timed in this process, warm (the first call, which pays imports and the OS
cache, is reported apart), against its peer: a plain ``polars.scan_parquet`` of the same part
files with the same filter (no manifest check, no name validation). Target: each read < 100 ms.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MONTH = (dt.date(2023, 3, 1), dt.date(2023, 3, 31))


def build_lake(root: Path, n_parents: int, years: int) -> tuple[Path, str, str]:
    """A lake raw -> gold of daily bars; returns (lake root, parent, series id)."""
    from rst.demo import ensure_demo_series
    from rst.framework.lake import Lake, Layer
    from rst.framework.runner import run_tasks
    from rst.sources.raw_zone import RawZone
    from rst.sources.synthetic import default_parents, write_dataset
    from rst.stages.registry import plan

    parents = [p.root for p in default_parents(n_parents)]
    end = dt.date(2024, 1, 2)
    paths = write_dataset(root.parent / "incoming-reads", parents, ["ohlcv-1d", "definition"],
                          dt.date(end.year - years, 1, 1), end, split="year", seed=1)
    lake, _ = Lake.create(root)
    zone = RawZone(lake.root)
    for p in paths:
        zone.import_file(p)
    ensure_demo_series(lake, tuple(parents))
    results = run_tasks(plan(lake, [Layer.BRONZE, Layer.SILVER, Layer.GOLD], parents, None), workers=2)
    failed = [r.error for r in results if r.error]
    if failed:
        raise RuntimeError(f"reads lake build failed: {failed[:3]}")
    return root, parents[0], f"{parents[0].lower()}_front_ratio"


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, int]:
    """(first call s, median of the next ``repeat`` calls s, rows of the result)."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return first, statistics.median(runs), len(out)  # type: ignore[arg-type]


def measure(root: Path, parent: str, series_id: str, repeat: int = 20) -> list[tuple[str, float, float, int]]:
    """Rows: (what, first s, median s, rows)."""
    import polars as pl

    from rst.cli.query import query
    from rst.framework.lake import Lake, Layer
    from rst.read import partition_files, read_series

    lake = Lake(root)
    out_file = Path(tempfile.mkdtemp()) / "q.parquet"
    argv = ["--lake", str(root), "--symbol", parent, "--table", "ohlcv_1d", "--start", str(MONTH[0]),
            "--end", str(MONTH[1]), "--parquet", str(out_file)]

    def rst_query() -> pl.DataFrame:
        with contextlib.redirect_stderr(io.StringIO()):  # its "wrote N rows" line
            query.main(argv, standalone_mode=False)  # exactly what `rst query ...` runs, in this process
        return pl.read_parquet(out_file)

    silver = lake.table_dir(Layer.SILVER, parent, "ohlcv_1d")
    month_files = [str(f) for d in sorted(silver.glob(f"year={MONTH[0].year}")) for f in partition_files(d)]

    def peer_month() -> pl.DataFrame:
        return (pl.scan_parquet(month_files, hive_partitioning=False)
                .filter(pl.col("trading_date").is_between(*MONTH)).collect())

    from rst.series.store import SeriesStore
    from rst.stages.gold.continuous import table_name

    gold = lake.table_dir(Layer.GOLD, SeriesStore(root).get(series_id).parent, table_name(series_id))
    series_files = [str(f) for d in sorted(p for p in gold.iterdir() if p.is_dir()) for f in partition_files(d)]

    def peer_series() -> pl.DataFrame:
        return pl.scan_parquet(series_files, hive_partitioning=False).collect().sort("trading_date")

    return [
        (f"`rst query --symbol {parent} --table ohlcv_1d` one month (CLI command in-process, Parquet out)",
         *timed(rst_query, repeat)),
        ("peer: `pl.scan_parquet` of that year's part files + the same date filter", *timed(peer_month, repeat)),
        (f"`rst.read_series({series_id!r})` whole series", *timed(lambda: read_series(series_id, lake=lake), repeat)),
        ("peer: `pl.scan_parquet` of the series' part files, sorted", *timed(peer_series, repeat)),
    ]


if __name__ == "__main__":  # python -m benchmarks.bench_reads: a quick look
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        args = build_lake(Path(tmp) / "lake", int(os.environ.get("PARENTS", "2")), int(os.environ.get("YEARS", "20")))
        print(f"built in {time.perf_counter() - t:.1f} s")
        if os.environ.get("PROFILE"):
            import cProfile

            cProfile.run("measure(*args, repeat=0)", sort="cumtime")
        for row in measure(*args):
            print(f"{row[1] * 1e3:8.1f} ms first {row[2] * 1e3:8.1f} ms median {row[3]:6d} rows  {row[0]}")
