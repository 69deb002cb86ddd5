"""Daily pipeline: cold raw -> gold, then one-day incremental updates, in-process and as ``rst`` commands.

``--parents`` x ``--years`` of synthetic ohlcv-1d + definitions (one file per parent, schema and year)
are generated (not timed), then:

1. **cold**: every file imported (:func:`rst.ops.importing.import_files`, what ``rst import`` does),
   then bronze -> silver -> gold through :func:`rst.ops.pipeline.run_pipeline` with ``--workers``;
2. **one-day incremental, in-process**: the next trading day's files (one per parent and schema that
   has records) generated, imported and run the same way, in this (already warm) process;
3. **one-day incremental, as commands**: the day after, as a user runs it: ``rst import DIR`` and
   ``rst run --layer all --workers N``, two fresh processes (start-up, imports and planning included);
4. **nothing new**: ``rst run`` once more, every partition up to date: the fixed cost of a run.

Each layer's seconds end with its last partition's result (layers overlap when the runner lets a
reader start before another parent's writer has finished). The peer of the in-process rows is the
work itself: the summed seconds of the partitions built (what no scheduling can remove); the peer of
the command rows is ``python -c pass`` (process start), measured in the same run.
Targets (issue 14): one-day incremental < 2 s, cold < 15 s.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAYERS = ("bronze", "silver", "gold")


@dataclass
class Timed:
    """One measured pipeline run: seconds per phase, partitions by outcome, the built partitions' own seconds."""

    import_s: float
    layer_s: dict[str, float]
    outcomes: Counter[str]
    work_s: float

    @property
    def total(self) -> float:
        return self.import_s + sum(self.layer_s.values())


def _generate_day(folder: Path, parents: Sequence[Any], day: dt.date) -> list[Path]:
    """The ``day``'s ohlcv-1d and definition files of each parent (when that day has records)."""
    from rst.sources.synthetic import generate, write_dbn_file

    files = []
    for p in parents:
        for schema in ("ohlcv-1d", "definition"):
            nxt = day + dt.timedelta(days=1)
            if len(generate(schema, p, day, nxt, seed=1).records):
                path = folder / f"glbx-mdp3-{p.root}-{schema}-{day:%Y%m%d}-{day:%Y%m%d}.dbn.zst"
                files.append(write_dbn_file(path, schema, p, day, nxt, seed=1))
    return files


def _run_in_process(lake: Any, roots: list[str], files: list[Path], workers: int) -> Timed:
    """Import ``files`` and run the pipeline in this process."""
    from rst.ops.importing import ImportStatus, import_files
    from rst.ops.pipeline import run_pipeline

    t0 = time.perf_counter()
    outcomes = import_files(lake, files)
    refused = [o.detail for o in outcomes if o.status is ImportStatus.REFUSED]
    if refused:
        raise SystemExit(f"import refused: {refused[:3]}")
    t1 = time.perf_counter()
    done_at: dict[str, float] = {}

    def on_result(result: Any) -> None:
        done_at[result.partition.layer.value] = time.perf_counter()

    results = run_pipeline(lake, roots, workers=workers, on_result=on_result)
    layer_s, previous = {}, t1
    for layer in LAYERS:
        end = done_at.get(layer, previous)
        layer_s[layer] = max(end - previous, 0.0)
        previous = max(end, previous)
    layer_s["gold"] += max(time.perf_counter() - previous, 0.0)  # the pipeline's tail (trash purge) counts too
    outcomes_by = Counter(r.outcome.value for r in results)
    work = sum(r.seconds for r in results if r.outcome.value == "built")
    return Timed(t1 - t0, layer_s, outcomes_by, work)


def _command(argv: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return seconds


def rst_argv() -> list[str]:
    """How to start ``rst`` (the console script beside this Python, else ``python -c``)."""
    script = Path(sys.executable).with_name("rst")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from rst.cli.main import main; main()"]


def bench_daily(work: Path, n_parents: int, years: int, workers: int) -> list[Any]:
    """The daily pipeline table (see the module docstring)."""
    from benchmarks.run import Table
    from rst.demo import ensure_demo_series
    from rst.framework.lake import Lake
    from rst.sources.synthetic import default_parents, write_dataset

    parents = default_parents(n_parents)
    roots = [p.root for p in parents]
    end = dt.date(2024, 1, 2)
    t = time.perf_counter()
    paths = write_dataset(work / "incoming", parents, ["ohlcv-1d", "definition"], dt.date(end.year - years, 1, 1), end,
                          split="year", seed=1)  # fmt: skip
    gen_s = time.perf_counter() - t
    lake, _ = Lake.create(work / "lake-daily")
    ensure_demo_series(lake, tuple(roots))
    cold = _run_in_process(lake, roots, paths, workers)

    day1, day2 = end, end + dt.timedelta(days=1)
    inc = _run_in_process(lake, roots, _generate_day(work / "day1", parents, day1), workers)

    day2_files = _generate_day(work / "day2", parents, day2)
    rst, lake_arg = rst_argv(), ["--lake", str(lake.root)]
    peer = min(_command([sys.executable, "-c", "pass"]) for _ in range(3))
    import_cmd = _command([*rst, "import", str(work / "day2"), *lake_arg])
    run_cmd = _command([*rst, "run", *lake_arg, "--layer", "all", "--workers", str(workers)])
    noop_cmd = _command([*rst, "run", *lake_arg, "--layer", "all", "--workers", str(workers)])

    tab = Table(
        f"Daily pipeline: {n_parents} parents x {years} years of ohlcv-1d + definition, --workers {workers}",
        ["run", "import s", "bronze s", "silver s", "gold s", "total s", "target",
         "built / up to date (failed)", "peer s"],
    )  # fmt: skip

    def row(label: str, timed: Timed, target: str) -> list[str]:
        o = timed.outcomes
        return [label, f"{timed.import_s:.2f}", *(f"{timed.layer_s[x]:.2f}" for x in LAYERS), f"**{timed.total:.2f}**",
                target, f"{o['built']} / {o['skipped']} ({o['failed']})", f"{timed.work_s:.2f} (work)"]  # fmt: skip

    tab.rows.append(row("cold raw -> gold (in-process)", cold, "< 15 s"))
    tab.rows.append(row(f"one-day incremental {day1} (in-process)", inc, "< 2 s"))
    tab.rows.append([f"one-day incremental {day2} (`rst import` + `rst run`)", f"{import_cmd:.2f}", "", "", "",
                     f"**{import_cmd + run_cmd:.2f}**", "< 2 s", "", f"{2 * peer:.3f} (2 x start)"])  # fmt: skip
    tab.rows.append(["nothing new (`rst run`)", "", "", "", "", f"**{noop_cmd:.2f}**", "", "", f"{peer:.3f} (start)"])
    tab.notes.append(
        f"{len(paths)} raw files generated in {gen_s:.1f} s (not counted); each incremental day: "
        f"{len(day2_files)} new one-day files; the cold import includes the generated files' validation and hashing"
    )
    tab.notes.append(
        "work = summed seconds of the partitions built (inside their workers); peer of the command rows: "
        f"`python -c pass`; load average at the end {os.getloadavg()[0]:.1f}"
    )
    return [tab]
