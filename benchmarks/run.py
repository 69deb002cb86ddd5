"""rst benchmarks, every peer measured in the same run: ``uv run python -m benchmarks [--quick]``.

1. **Bronze MBP-10**: one synthetic MBP-10 ``.dbn.zst`` file (``--records``, default 2,000,000)
   through rst's bronze ``mbp_10`` stage, against ``databento.DBNStore.to_parquet`` (the peer) and
   the floor (rst's own decoder ``iter_batches`` + a polars Parquet write of the decoded columns
   with the stage's settings: ``PARQUET_OPTIONS``, parts of ``ROWS_PER_FILE`` rows). Each measurement
   runs in its own subprocess, which reports its wall time and its own peak RSS
   (``VmHWM``); best of ``--repeat`` runs. rst bronze is also run
   on a 4x smaller and a 2x larger file to show memory does not grow with file size.
2. **Daily pipeline**: ``--parents`` x ``--years`` of ohlcv-1d + definitions, raw -> gold cold
   (import, then bronze, silver, gold with ``--workers``), then one-day incremental updates in-process
   and as ``rst import`` + ``rst run`` commands (:mod:`benchmarks.bench_daily`).
3. **Workers**: a ``--partitions`` (250) partition bronze backfill with 1 and with 2 worker processes.
   **Cluster**: the same backfill inline, on the process pool and on a 2-worker Dask local cluster,
   with the per-partition overhead of each (:mod:`benchmarks.bench_cluster`). **Object storage**: the same
   kind of backfill on a lake on S3 (a moto server on loopback) against a local lake (:mod:`benchmarks.bench_objectstore`).
   **Throughput**: each intraday bronze table's records/s on one core and on all (:mod:`benchmarks.bench_throughput`).
4. **Reads**: ``rst query`` of one month of daily bars and ``rst.read_series`` of a 20-year series,
   in-process, against a plain ``polars.scan_parquet`` of the same files (:mod:`benchmarks.bench_reads`).
5. **Startup**: wall time of ``rst --help``, every ``rst <cmd> --help`` and ``python -m rst.runner --help``
   (target < 0.3 s), against the peer ``python -c pass`` measured in the same run.

Tables go to stdout and to ``benchmarks/RESULTS.md`` (overwritten; ``--out`` to change). ``--quick`` (smoke
sizes) writes no file unless ``--out`` names one, so it never replaces the committed results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
MBP_DAY = (dt.date(2024, 2, 6), dt.date(2024, 2, 7))
"""UTC day of the MBP-10 files (a Tuesday: parts of two ES sessions)."""


# --------------------------------------------------------------------------- inputs


def make_mbp10_file(path: Path, records: int, seed: int = 11) -> Path:
    """A synthetic ES MBP-10 file with at least ``records`` records (generator's ``intraday_scale`` sized to fit)."""
    from rst.sources.synthetic import generate, write_dbn_file

    probe = len(generate("mbp-10", "ES", *MBP_DAY, seed=seed, intraday_scale=0.2).records)
    scale = max(0.02, 0.2 * records / probe * 1.04)
    while True:
        write_dbn_file(path, "mbp-10", "ES", *MBP_DAY, seed=seed, intraday_scale=scale)
        n = _count(path)
        if n >= records:
            return path
        scale *= records / n * 1.02


def _count(path: Path) -> int:
    from rst.sources.dbn_file import validate_file

    return validate_file(path)[1]


def make_lake(root: Path, mbp_file: Path) -> Path:
    """A lake holding the MBP-10 file and ES definitions, with bronze definitions built."""
    from rst.framework.lake import Lake, Layer
    from rst.framework.runner import run_tasks
    from rst.sources.raw_zone import RawZone
    from rst.sources.synthetic import write_dbn_file
    from rst.stages.registry import plan

    zone = RawZone(root)
    zone.import_file(mbp_file)
    defs = write_dbn_file(root.parent / f"{root.name}-definition.dbn.zst", "definition", "ES",
                          dt.date(2024, 1, 1), dt.date(2024, 3, 1))
    zone.import_file(defs)
    lake = Lake(root)
    tables = [s.table for s in _bronze_stages(lake)]
    setup = [t for t in tables if t != "mbp_10"]
    run_tasks(plan(lake, [Layer.BRONZE], ["ES"], None, tables=setup))
    return root


def _bronze_stages(lake: object) -> list:
    from rst.framework.lake import Layer
    from rst.stages.registry import stages_for

    return stages_for(lake, Layer.BRONZE, "ES")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- measured modes (child processes)


def _mode(mode: str, path: Path, lake: Path | None, out_dir: Path) -> dict[str, float]:
    warnings.filterwarnings("ignore")
    import databento  # noqa: F401  imports are not part of any measurement
    import polars  # noqa: F401

    import rst.sources.dbn_file  # noqa: F401

    if mode == "rst_bronze":
        from rst.framework.lake import Lake, Layer
        from rst.stages.registry import _load

        _load(Layer.BRONZE)
        assert lake is not None
        for table in ("mbp_10", "mbp_10_quarantine"):  # every repeat builds the table from scratch, as the peer does
            shutil.rmtree(Lake(lake).table_dir(Layer.BRONZE, "ES", table), ignore_errors=True)
    t0 = time.perf_counter()
    rows = 0
    if mode == "peer_to_parquet":
        import databento as db

        db.DBNStore.from_file(path).to_parquet(
            out_dir / "peer.parquet", price_type="fixed", pretty_ts=False, map_symbols=False
        )
    elif mode == "floor":
        import polars as pl
        import pyarrow as pa

        from rst.framework.parts import PARQUET_OPTIONS, ROWS_PER_FILE
        from rst.sources.dbn_file import canonical_schema, iter_batches, read_info

        info = read_info(path)
        schema = canonical_schema(info.schema or "mbp-10")
        pending: list[pa.RecordBatch] = []
        part = 0

        def write() -> None:
            frame = pl.from_arrow(pa.Table.from_batches(pending, schema), rechunk=False)
            frame.write_parquet(out_dir / f"part-{part:05d}.parquet", **PARQUET_OPTIONS)  # type: ignore[union-attr]

        for b in iter_batches(path, info=info):
            pending.append(b)
            rows += b.num_rows
            if sum(x.num_rows for x in pending) >= ROWS_PER_FILE:
                write()
                pending, part = [], part + 1
        if pending:
            write()
    elif mode == "rst_decode":
        from rst.sources.dbn_file import iter_batches

        for b in iter_batches(path):
            rows += b.num_rows
    elif mode == "rst_bronze":
        from rst.framework.lake import Lake, Layer
        from rst.framework.runner import run_tasks
        from rst.stages.registry import plan

        assert lake is not None
        results = run_tasks(plan(Lake(lake), [Layer.BRONZE], ["ES"], None, tables=["mbp_10"]))
        failed = [r for r in results if r.error]
        if failed or not results:
            raise SystemExit(f"bronze mbp_10 failed: {[r.error for r in failed] or 'no partition planned'}")
        rows = sum(int(getattr(r, "rows", 0) or 0) for r in results)
    else:
        raise SystemExit(f"unknown mode {mode}")
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
        "rows": rows,
    }


def peak_rss_mb() -> float:
    """This process's peak RSS in MB: ``VmHWM`` (reset by exec, unlike ``ru_maxrss``, which a child
    inherits from the parent that forked it), falling back to ``getrusage``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(mode: str, path: Path, lake: Path | None, repeat: int) -> dict[str, float]:
    """Best of ``repeat`` child runs (seconds; peak RSS of that same run)."""
    best: dict[str, float] | None = None
    for _ in range(repeat):
        cmd = [sys.executable, "-m", "benchmarks.run", "--child", mode, "--file", str(path)]
        if lake is not None:
            cmd += ["--lake", str(lake)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
        if proc.returncode != 0:
            raise RuntimeError(f"{mode} failed:\n{proc.stderr[-3000:]}")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        if best is None or res["seconds"] < best["seconds"]:
            best = res
    assert best is not None
    return best


# --------------------------------------------------------------------------- tables


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.header) + " |",
                 "|" + "|".join("---" for _ in self.header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def bench_bronze(work: Path, records: int, repeat: int, memory_sizes: bool = True) -> list[Table]:
    """Table 1 (throughput and ratios) and table 2 (peak memory by file size)."""
    rst_mode = "rst_bronze"
    files: dict[str, Path] = {}
    t = time.perf_counter()
    files["1x"] = make_mbp10_file(work / "mbp10-1x.dbn.zst", records)
    gen_seconds = time.perf_counter() - t
    n = _count(files["1x"])
    comp_mb = files["1x"].stat().st_size / 1e6
    raw_mb = n * 368 / 1e6
    lakes: dict[str, Path | None] = {}
    lakes["1x"] = make_lake(work / "lake-1x", files["1x"])

    modes = [rst_mode, "peer_to_parquet", "floor", "rst_decode"]
    results = {m: measure(m, files["1x"], lakes["1x"], repeat) for m in modes}
    labels = {
        "rst_bronze": "rst bronze `mbp_10` stage, table built from scratch (both trading dates of the file): "
                      "decode, cut to the trading date, resolve symbols, enrich, validate, Parquet, manifest, commit",
        "peer_to_parquet": "peer: databento `DBNStore.to_parquet` (fixed prices, one Parquet file, its defaults)",
        "floor": "floor: rst's decoder `iter_batches` + polars Parquet write of the decoded columns with the "
                 "stage's settings (zstd level 3, statistics, same part size); no enrichment, no commit",
        "rst_decode": "decode only: rst `iter_batches` (zstd + columns), nothing written",
    }
    tab = Table(
        f"Bronze MBP-10: {n:,} records, {comp_mb:.0f} MB compressed, {raw_mb:.0f} MB decompressed",
        ["run", "seconds", "records/s", "MB/s compressed", "MB/s decompressed", "peak RSS MB"],
    )
    for m in modes:
        r = results[m]
        s = r["seconds"]
        tab.rows.append([labels[m], f"{s:.2f}", f"{n / s:,.0f}", f"{comp_mb / s:.1f}", f"{raw_mb / s:.0f}",
                         f"{r['peak_rss_mb']:.0f}"])
    rst_s = results[rst_mode]["seconds"]
    peer_ratio = results["peer_to_parquet"]["seconds"] / rst_s
    floor_ratio = rst_s / results["floor"]["seconds"]
    tab.rows.append(["**rst vs to_parquet** (speed-up, target >= 1.8x)", f"{peer_ratio:.2f}x", "", "", "", ""])
    tab.rows.append(["**rst vs floor** (time ratio, target <= 1.25x)", f"{floor_ratio:.2f}x", "", "", "", ""])
    tab.notes.append(f"input generated in {gen_seconds:.1f} s by `rst.sources.synthetic` (ES, {MBP_DAY[0]})")
    tab.notes.append(f"best of {repeat} runs per row, each in its own subprocess; peak RSS of that process")
    tables = [tab]

    if memory_sizes:
        mem = Table("Bronze MBP-10 peak memory by file size (rst: " + rst_mode + ")",
                    ["file", "records", "compressed MB", "seconds", "peak RSS MB"])
        sizes = {"0.25x": max(records // 4, 1000), "1x": records, "2x": records * 2}
        for label, k in sizes.items():
            if label != "1x":
                files[label] = make_mbp10_file(work / f"mbp10-{label}.dbn.zst", k)
                lakes[label] = make_lake(work / f"lake-{label}", files[label])
                r = measure(rst_mode, files[label], lakes[label], repeat)
            else:
                r = results[rst_mode]
            mem.rows.append([label, f"{_count(files[label]):,}", f"{files[label].stat().st_size / 1e6:.0f}",
                             f"{r['seconds']:.2f}", f"{r['peak_rss_mb']:.0f}"])
            if label != "1x":
                shutil.rmtree(lakes[label] or work / "none", ignore_errors=True)
                files[label].unlink()
        tables.append(mem)
    return tables


def bench_daily(work: Path, n_parents: int, years: int, workers: int) -> list[Table]:
    """Cold raw -> gold and one-day incremental updates of daily bars (see :mod:`benchmarks.bench_daily`)."""
    from benchmarks.bench_daily import bench_daily as run_daily

    return run_daily(work, n_parents, years, workers)


def bench_workers(work: Path, partitions: int) -> list[Table]:
    """A backfill with 1 and 2 worker processes (see ``bench_workers.py``)."""
    from benchmarks.bench_workers import measure

    what, rows = measure(work / "workers", partitions, [1, 2])
    tab = Table(f"Backfill with --workers 1 vs 2: {what}", ["workers", "partitions", "seconds", "partitions/s", "speed-up"])
    base = rows[0][2]
    for n, count, seconds in rows:
        tab.rows.append([str(n), str(count), f"{seconds:.2f}", f"{count / seconds:.1f}", f"{base / seconds:.2f}x"])
    return [tab]


def bench_reads(work: Path, n_parents: int, years: int, repeat: int) -> list[Table]:
    """``rst query`` of a month and ``rst.read_series`` of a whole series, in-process (see ``bench_reads.py``)."""
    from benchmarks.bench_reads import build_lake, measure

    t = time.perf_counter()
    root, parent, series_id = build_lake(work / "lake-reads", n_parents, years)
    build_s = time.perf_counter() - t
    tab = Table(f"Reads, in-process: {n_parents} parents x {years} years of daily bars (target < 100 ms)",
                ["read", "rows", "first call ms", "median ms", "target"])
    for what, first, median, rows in measure(root, parent, series_id, max(repeat, 10)):
        tab.rows.append([what, f"{rows:,}", f"{first * 1e3:.1f}", f"**{median * 1e3:.1f}**",
                         "" if what.startswith("peer") else "< 100 ms"])
    tab.notes.append(f"lake built raw -> gold in {build_s:.1f} s (not counted); median of the calls after the first, "
                     "which alone also pays the imports (rich, click) and a cold OS cache")
    return [tab]


def startup_commands() -> dict[str, list[str]]:
    """Label -> argv of every help command a user starts with, and the peer ``python -c pass``."""
    import click

    from rst.cli.main import cli

    script = Path(sys.executable).with_name("rst")
    rst = [str(script)] if script.exists() else [sys.executable, "-c", "from rst.cli.main import main; main()"]
    ctx = click.Context(cli, info_name="rst")
    commands = {"python -c pass (peer)": [sys.executable, "-c", "pass"], "rst --help": [*rst, "--help"]}
    for name in cli.list_commands(ctx):
        commands[f"rst {name} --help"] = [*rst, name, "--help"]
    commands["python -m rst.runner --help"] = [sys.executable, "-m", "rst.runner", "--help"]
    return commands


def bench_startup(repeat: int) -> list[Table]:
    """Wall time of each help command (best and median of ``repeat`` runs, each a fresh process)."""
    tab = Table("Startup: help commands (a fresh process each)",
                ["command", "best wall s", "median wall s", "best CPU s", "best wall minus peer s", "target"])
    peer = None
    for label, argv in startup_commands().items():
        walls, cpus = [], []
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, cwd=HERE.parent)
            walls.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if proc.returncode != 0:
                raise RuntimeError(f"{label} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
        walls.sort()
        best, median = walls[0], walls[len(walls) // 2]
        peer = best if peer is None else peer
        tab.rows.append([f"`{label}`", f"{best:.3f}", f"{median:.3f}", f"{min(cpus):.3f}", f"{best - peer:.3f}",
                         "" if label.startswith("python -c") else "< 0.3 s"])
    tab.notes.append(f"{repeat} runs per command (bytecode already compiled); CPU = user + system time of the "
                     f"process, which a busy machine does not inflate; `python` is {sys.executable}")
    return [tab]


# --------------------------------------------------------------------------- main


def environment() -> str:
    load = os.getloadavg()
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at start, "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


def standalone(description: str, bench: Callable[[Path, int], list[Table]], prefix: str) -> None:
    """``python -m benchmarks.<module> [--partitions N] [--keep DIR]``: one backfill table, printed."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--partitions", type=int, default=250)
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix=prefix))
    try:
        (tab,) = bench(root, args.partitions)
        load = os.getloadavg()
        print(f"cpus: {os.cpu_count()}, load average at end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}\n")
        print(tab.markdown())
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> list[Table]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2_000_000, help="MBP-10 records of the bronze file")
    ap.add_argument("--parents", type=int, default=20)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement (best kept)")
    ap.add_argument("--quick", action="store_true", help="smoke sizes: 20,000 records, 2 parents x 2 years, 1 run")
    ap.add_argument("--only", default=None,
                    choices=["bronze", "throughput", "daily", "workers", "cluster", "objectstore", "reads", "startup", "api",
                             "publish"])
    ap.add_argument("--partitions", type=int, default=250, help="partitions of the workers backfill")
    ap.add_argument("--out", type=Path, default=None,
                    help="results file (default benchmarks/RESULTS.md; none with --quick)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--lake", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(_mode(args.child, args.file, args.lake, Path(tmp))))
        return []
    if args.quick:
        args.records, args.parents, args.years, args.repeat, args.partitions = 20_000, 2, 2, 1, 12
    elif args.out is None:
        args.out = HERE / "RESULTS.md"
    env = environment()
    tables: list[Table] = []
    with tempfile.TemporaryDirectory(prefix="rst-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "bronze"):
            tables += bench_bronze(work, args.records, args.repeat)
        if args.only in (None, "throughput"):
            from benchmarks.bench_throughput import bench_throughput

            tables += bench_throughput(work, 0.02 if args.quick else 1.0, args.repeat)
        if args.only in (None, "daily"):
            tables += bench_daily(work, args.parents, args.years, args.workers)
        if args.only in (None, "workers"):
            tables += bench_workers(work, args.partitions)
        if args.only in (None, "cluster"):
            from benchmarks.bench_cluster import bench_cluster

            tables += bench_cluster(work, args.partitions)
        if args.only in (None, "objectstore"):
            from benchmarks.bench_objectstore import bench_objectstore

            tables += bench_objectstore(work, args.partitions)
        if args.only in (None, "reads"):
            tables += bench_reads(work, args.parents, args.years, args.repeat)
        if args.only in (None, "startup"):
            tables += bench_startup(max(args.repeat, 5) if not args.quick else 1)
        if args.only in (None, "api"):
            from benchmarks.bench_api import bench_api

            tables += bench_api(work, requests=5 if args.quick else 50, years=1 if args.quick else 2)
        if args.only in (None, "publish"):
            from benchmarks.bench_publish import bench_publish

            tables += bench_publish(work, 20_000 if args.quick else 1_000_000)
    text = "# rst benchmarks\n\n" + f"Command: `uv run python -m benchmarks {' '.join(argv or sys.argv[1:])}`  \n"
    text += f"Machine: {env}\n\n" + "\n".join(t.markdown() for t in tables)
    print(text)
    if args.out:
        args.out.write_text(text)
    return tables


if __name__ == "__main__":
    main()
