"""Per-core throughput of each intraday bronze table: the input of the scaling note (docs/SCALING.md).

For each high-volume schema the synthetic generator writes (``mbp-10``, ``mbp-1``, ``tbbo``,
``trades``), one ES trading day of ~1 M records is generated, imported with ES definitions (bronze
definitions built beforehand, not timed), and its bronze table built once in a child process
pinned to one CPU with polars and Arrow limited to one thread: records in per second of wall
time is the table's per-core throughput. The same build on every core of the machine is
measured in the same run, as the peer. ``python -m benchmarks --only throughput``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.run import Table

DAY = (dt.date(2024, 2, 6), dt.date(2024, 2, 7))
SCHEMAS = {"mbp-10": 12.6, "mbp-1": 28.0, "tbbo": 108.0, "trades": 108.0}
"""Schema -> the generator's ``intraday_scale`` giving ~1,000,000 records at ``scale`` 1. Not ``statistics``:
the generator's memory grows much faster than its output there (a few thousand records took 17 GB)."""


def make_lake(root: Path, scale: float) -> Path:
    """A lake with one ES day of every schema above and the bronze definitions built."""
    from rst.framework.lake import Lake, Layer
    from rst.framework.runner import run_tasks
    from rst.sources.raw_zone import RawZone
    from rst.sources.synthetic import write_dbn_file
    from rst.stages.registry import plan

    lake, _ = Lake.create(root)
    zone = RawZone(lake.root)
    incoming = root.parent / "incoming-throughput"
    for schema, intraday in SCHEMAS.items():
        path = incoming / f"es-{schema}.dbn.zst"
        zone.import_file(write_dbn_file(path, schema, "ES", *DAY, seed=3, intraday_scale=intraday * scale))
    defs = write_dbn_file(incoming / "es-definition.dbn.zst", "definition", "ES", dt.date(2024, 1, 1), dt.date(2024, 3, 1))
    zone.import_file(defs)
    run_tasks(plan(lake, [Layer.BRONZE], ["ES"], None, tables=["definition"]))
    return root


def _child(lake_root: str, table: str, one_core: bool) -> None:
    """Build one bronze table (forced) and print ``{"seconds", "records"}``."""
    if one_core:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import pyarrow as pa

    if one_core:
        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
    from rst.framework.lake import Lake, Layer
    from rst.framework.runner import run_tasks
    from rst.stages.registry import plan

    lake = Lake(Path(lake_root))
    tasks = plan(lake, [Layer.BRONZE], ["ES"], [DAY[0], DAY[1]], force=True, tables=[table])
    t0 = time.perf_counter()
    results = run_tasks(tasks)
    seconds = time.perf_counter() - t0
    failed = [r.error for r in results if r.error]
    if failed:
        raise SystemExit(f"{table}: {failed[0]}")
    print(json.dumps({"seconds": seconds, "records": sum(r.rows_in for r in results)}))


def _measure(lake: Path, table: str, one_core: bool, repeat: int) -> dict[str, float]:
    env = {**os.environ}
    if one_core:
        env.update(POLARS_MAX_THREADS="1", RAYON_NUM_THREADS="1", OMP_NUM_THREADS="1")
    best: dict[str, float] | None = None
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_throughput", "--child", str(lake), table, str(int(one_core))],
            capture_output=True, text=True, check=True, env=env, cwd=Path(__file__).resolve().parent.parent,
        )  # fmt: skip
        res = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or res["seconds"] < best["seconds"]:
            best = res
    assert best is not None
    return best


def bench_throughput(work: Path, scale: float, repeat: int) -> list[Table]:
    """One table: records/s of each bronze table on one core and on all cores."""
    from benchmarks.run import Table

    lake = make_lake(work / "lake-throughput", scale)
    cores = len(os.sched_getaffinity(0))
    table = Table(
        f"Bronze throughput per core (one ES trading day per schema; peer: the same build on all {cores} cores)",
        ["bronze table", "records", "1 core s", "records/s per core", f"{cores} cores s", f"records/s on {cores} cores"],
    )
    for schema in SCHEMAS:
        name = schema.replace("-", "_")
        one = _measure(lake, name, True, repeat)
        every = _measure(lake, name, False, repeat)
        table.rows.append([
            f"`{name}`", f"{int(one['records']):,}", f"{one['seconds']:.2f}",
            f"{one['records'] / one['seconds']:,.0f}", f"{every['seconds']:.2f}",
            f"{every['records'] / every['seconds']:,.0f}",
        ])  # fmt: skip
    table.notes.append(
        "1 core: the child is pinned to one CPU (`sched_setaffinity`) with `POLARS_MAX_THREADS=1` and Arrow's "
        "CPU and IO pools at 1 thread; the wall time covers planning, decode, enrichment, Parquet, manifest, commit"
    )
    return [table]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3], sys.argv[4] == "1")
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            for t in bench_throughput(Path(tmp), float(sys.argv[1]) if len(sys.argv) > 1 else 1.0, 1):
                print(t.markdown())
