"""Dispatch partition runs, layer by layer, over one executor seam.

The runner takes *waves* of tasks (bronze, then silver, then gold): tasks in a
wave run in parallel on a :class:`concurrent.futures.Executor` (a process pool
for ``--workers N``, inline for one worker; a cluster executor can be passed in
without touching any stage). A failing partition never stops the others: its
error is captured in its :class:`PartitionResult`, and so is a worker process
that dies (SIGKILL, OOM): its partition is reported FAILED, the pool is replaced
for the next waves. Ctrl-C (and SIGTERM, under
:func:`rst.framework.procguard.sigterm_as_interrupt`) cancels what has not started;
pool workers ignore SIGINT, so the partitions they are running finish (or, inline,
die before their atomic swap): no partial partition is ever visible. Workers and the
fork server die with the parent, SIGKILL included (:mod:`rst.framework.procguard`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from rst.errors import RstError
from rst.framework.partition import PartitionKey
from rst.framework.procguard import start_forkserver, worker_init
from rst.framework.stage import Outcome, PartitionResult, Stage
from rst.redaction import format_exception, redact

log = logging.getLogger(__name__)


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
    """Run one task, turning any failure into a FAILED result (module-level so it pickles); its
    error line and traceback carry no secret (:mod:`rst.redaction`)."""
    started = time.monotonic()
    try:
        result = task.stage.run(task.key, force=task.force)
    except Exception as exc:  # a bug (not an RstError) is isolated too, its type kept in the message
        return PartitionResult(
            task.stage.partition(task.key),
            Outcome.FAILED,
            seconds=time.monotonic() - started,
            error=redact(str(exc) if isinstance(exc, RstError) else f"{type(exc).__name__}: {exc}"),
            traceback=format_exception(exc),
        )
    result.seconds = time.monotonic() - started
    return result


def make_executor(workers: int) -> Executor | None:
    """A process pool for ``workers > 1`` (forkserver: safe with polars' threads), else None (inline).

    The workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group): the
    parent cancels what has not started and waits for the running partitions to commit.
    The fork server and the workers die with this process, SIGKILL included
    (:mod:`rst.framework.procguard`, Linux).
    """
    if workers <= 1:
        return None
    context = multiprocessing.get_context("forkserver")
    # the fork server imports these once; every worker forked from it starts warm
    start_forkserver(context, list(WORKER_PRELOAD))
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=worker_init, initargs=(os.getpid(),)
    )


WORKER_PRELOAD = ("numpy", "pyarrow", "pyarrow.parquet", "polars", "rst.framework.stage")


def _died(task: Task, exc: BaseException) -> PartitionResult:
    return PartitionResult(
        task.stage.partition(task.key),
        Outcome.FAILED,
        error=f"worker process died before finishing the partition ({type(exc).__name__}: {exc})",
    )


def _log_result(result: PartitionResult) -> None:
    if result.outcome is Outcome.FAILED:
        log.info("failed %s: %s", result.partition.label, result.error)
    elif result.outcome is Outcome.BUILT:
        log.info("built %s: %d rows in %.2fs", result.partition.label, result.rows_out, result.seconds)
    else:
        log.debug("%s %s", result.outcome.value, result.partition.label)


def precheck(task: Task) -> PartitionResult | None:
    """The task's SKIPPED result when its partition is visibly up to date (no lock, no worker needed)."""
    try:
        return task.stage.skip_result(task.key)
    except Exception:  # anything odd: let the real run, under its lock, deal with it
        return None


def run_waves(
    waves: Sequence[Iterable[Task]],
    *,
    workers: int = 1,
    executor: Executor | None = None,
    on_result: Callable[[PartitionResult], None] | None = None,
) -> list[PartitionResult]:
    """Run each wave to completion before the next; return every result in completion order.

    Up-to-date partitions are settled in this process first (:meth:`Stage.skip_result`); the
    rest go to the executor, made on first need (a wave with one task to run runs inline).

    A worker process that dies fails the partitions it (and, the pool being broken, the
    rest of its wave) had not finished; a pool this function made is replaced for the
    next wave, a caller's ``executor`` is not (its remaining waves fail the same way).
    """
    own = executor is None
    pool = executor  # a pool of our own is made only when a wave has work for it
    results: list[PartitionResult] = []

    def report(result: PartitionResult) -> None:
        _log_result(result)
        results.append(result)
        if on_result:
            on_result(result)

    try:
        for wave in waves:
            tasks = []
            for task in wave:
                settled = None if task.force else precheck(task)
                if settled is not None:
                    report(settled)
                else:
                    tasks.append(task)
            if own and pool is None and workers > 1 and len(tasks) > 1:
                pool = make_executor(workers)
            if pool is None or len(tasks) == 1 and own:
                for task in tasks:
                    report(run_task(task))
                continue
            broken = False
            futures: dict[Future[PartitionResult], Task] = {}
            for t in tasks:
                try:
                    futures[pool.submit(run_task, t)] = t
                except BrokenExecutor as exc:
                    broken = True
                    report(_died(t, exc))
            try:
                for future in as_completed(futures):
                    try:
                        result = future.result()
                    except BrokenExecutor as exc:
                        broken = True
                        result = _died(futures[future], exc)
                    report(result)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
            if broken and own:
                assert pool is not None
                pool.shutdown(wait=True, cancel_futures=True)
                pool = None  # a fresh one is made when the next wave needs it
    finally:
        if own and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return results
