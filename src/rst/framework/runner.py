"""Dispatch partition runs, layer by layer, over one executor seam.

The runner takes *waves* of tasks (bronze, then silver, then gold): tasks in a
wave run in parallel on a :class:`concurrent.futures.Executor` (a process pool
for ``--workers N``, inline for one worker; a cluster executor can be passed in
without touching any stage). A failing partition never stops the others: its
error is captured in its :class:`PartitionResult`. Ctrl-C cancels what has not
started; running partitions either finish or die before their atomic swap, so
no partial partition is ever visible.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from rst.errors import RstError
from rst.framework.partition import PartitionKey
from rst.framework.stage import Outcome, PartitionResult, Stage


@dataclass(frozen=True)
class Task:
    """One partition of one stage to bring up to date."""

    stage: Stage
    key: PartitionKey
    force: bool = False

    @property
    def label(self) -> str:
        return self.stage.partition(self.key).label


def run_task(task: Task) -> PartitionResult:
    """Run one task, turning any failure into a FAILED result (module-level so it pickles)."""
    started = time.monotonic()
    try:
        result = task.stage.run(task.key, force=task.force)
    except RstError as exc:
        return PartitionResult(
            task.stage.partition(task.key), Outcome.FAILED, seconds=time.monotonic() - started, error=str(exc)
        )
    except Exception as exc:  # a bug, not bad input: still isolate it, but keep the type
        return PartitionResult(
            task.stage.partition(task.key),
            Outcome.FAILED,
            seconds=time.monotonic() - started,
            error=f"{type(exc).__name__}: {exc}",
        )
    result.seconds = time.monotonic() - started
    return result


def make_executor(workers: int) -> Executor | None:
    """A process pool for ``workers > 1`` (forkserver: safe with polars' threads), else None (inline)."""
    if workers <= 1:
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))


def run_waves(
    waves: Sequence[Iterable[Task]],
    *,
    workers: int = 1,
    executor: Executor | None = None,
    on_result: Callable[[PartitionResult], None] | None = None,
) -> list[PartitionResult]:
    """Run each wave to completion before the next; return every result in completion order."""
    own = executor is None
    pool = make_executor(workers) if own else executor
    results: list[PartitionResult] = []
    try:
        for wave in waves:
            tasks = list(wave)
            if pool is None:
                for task in tasks:
                    result = run_task(task)
                    results.append(result)
                    if on_result:
                        on_result(result)
                continue
            futures: list[Future[PartitionResult]] = [pool.submit(run_task, t) for t in tasks]
            try:
                for future in as_completed(futures):
                    result = future.result()
                    results.append(result)
                    if on_result:
                        on_result(result)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    finally:
        if own and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return results
