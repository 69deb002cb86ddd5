"""The pipeline: plan the partitions of some parents and layers, then run them wave by wave.

One place for what ``rst run``, ``rst update``, ``rst demo`` and the app's build buttons
do, so the faces can never disagree. Partition locks (taken by :meth:`Stage.run`) keep a
CLI run and an app run on the same lake from writing the same partition twice; a
partition another process holds fails with ``PartitionLocked`` and the next run retries it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from rst.framework.lake import Lake, Layer
from rst.framework.runner import Task, run_waves
from rst.framework.stage import PartitionResult

Waves = list[list[Task]]


def plan_pipeline(
    lake: Lake,
    parents: Sequence[str],
    *,
    layers: Sequence[Layer] = tuple(Layer),
    dates: Sequence[dt.date] | None = None,
    force: bool = False,
    tables: Sequence[str] | None = None,
) -> Waves:
    """One wave of tasks per layer (bronze first); ``dates=None``: every partition the inputs allow."""
    from rst.stages.registry import plan

    return plan(lake, list(layers), list(parents), dates, force=force, tables=list(tables) if tables else None)


def run_pipeline(
    lake: Lake,
    parents: Sequence[str],
    *,
    layers: Sequence[Layer] = tuple(Layer),
    dates: Sequence[dt.date] | None = None,
    force: bool = False,
    tables: Sequence[str] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    on_result: Callable[[PartitionResult], None] | None = None,
) -> list[PartitionResult]:
    """Run ``parents`` through ``layers``; up-to-date partitions are skipped, failures isolated.

    Each layer is planned just before it runs, so a layer whose partitions depend on what
    the previous one wrote (silver's calendar on bronze definitions) sees it.
    """
    from rst.framework.commit import purge_trash

    results: list[PartitionResult] = []
    for layer in sorted(layers, key=list(Layer).index):
        wave = plan_pipeline(lake, parents, layers=[layer], dates=dates, force=force, tables=tables)
        results += run_waves(wave, workers=workers, executor=executor, on_result=on_result)
    purge_trash(lake)  # also when nothing was rebuilt: swapped-out partitions past their grace period
    return results


def count_tasks(waves: Sequence[Sequence[Task]]) -> int:
    """Number of partitions in a plan (for a progress bar's total)."""
    return sum(len(w) for w in waves)
