"""Dispatch partition tasks in dependency order over one executor seam.

The runner takes tasks (:class:`rst.framework.graph.Task`) and their graph
(:class:`rst.framework.graph.TaskGraph`) and runs each as soon as every task it depends
on has settled, on a :class:`concurrent.futures.Executor`: a process pool for
``--workers N``, inline for one worker or a single task to build, or a caller's executor
(a Dask cluster: :mod:`rst.cluster`) without any stage knowing. More tasks may join while
the run goes (``expand``: the pipeline plans a parent's next layer once the layer it
reads has settled), all on the same executor.

Failures are isolated: a failing partition is reported FAILED and never stops the
others; the partitions that read it are not built ("input … failed") and the next run
retries them all. A *transient* failure (a lock held elsewhere, a dropped connection:
:class:`rst.errors.Transient`) is retried with bounded exponential backoff; a worker
process that dies (SIGKILL, OOM; a Dask ``KilledWorker``) fails its partition, and a pool
of the runner's own is replaced. Ctrl-C (and SIGTERM, under
:func:`rst.framework.procguard.sigterm_as_interrupt`) cancels what has not started; pool
workers ignore SIGINT, so the partitions they are running finish (or, inline, die before
their atomic swap): no partial partition is ever visible. Workers and the fork server die
with the parent, SIGKILL included (:mod:`rst.framework.procguard`).
"""

from __future__ import annotations

import heapq
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, ProcessPoolExecutor, wait
from multiprocessing.context import BaseContext

from rst.errors import RstError, Transient
from rst.framework.backoff import RetryPolicy
from rst.framework.graph import Task, TaskGraph
from rst.framework.partition import Partition
from rst.framework.procguard import start_forkserver, worker_init
from rst.framework.stage import Input, Outcome, PartitionResult
from rst.redaction import format_exception, redact

__all__ = ["TRANSIENT_RETRY", "Task", "make_executor", "run_task", "run_tasks"]

log = logging.getLogger(__name__)

TRANSIENT_RETRY = RetryPolicy(max_attempts=4, base_delay_s=0.5, max_delay_s=10.0)
"""How often a partition that failed transiently is tried in one run, and the waits between."""

Expand = Callable[[Task, PartitionResult], Sequence[Task]]


def run_task(task: Task) -> PartitionResult:
    """Run one task, turning any failure into a FAILED result (module-level so it pickles); its
    error line and traceback carry no secret (:mod:`rst.redaction`)."""
    started = time.monotonic()
    try:
        result = task.stage.run(task.key, force=task.force)
    except Exception as exc:  # a bug (not an RstError) is isolated too, its type kept in the message
        return PartitionResult(
            task.partition,
            Outcome.FAILED,
            seconds=time.monotonic() - started,
            error=redact(str(exc) if isinstance(exc, RstError) else f"{type(exc).__name__}: {exc}"),
            traceback=format_exception(exc),
            transient=is_transient(exc),
        )
    result.seconds = time.monotonic() - started
    return result


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` or one of its causes is worth retrying as is (:class:`Transient`, a dropped connection)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, Transient | ConnectionError | TimeoutError):
            return True
        current = current.__cause__ or current.__context__
    return False


def make_executor(workers: int) -> Executor | None:
    """A process pool for ``workers > 1`` (forkserver: safe with polars' threads), else None (inline).

    The workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group): the
    parent cancels what has not started and waits for the running partitions to commit.
    The fork server and the workers die with this process, SIGKILL included
    (:mod:`rst.framework.procguard`, Linux).
    """
    if workers <= 1:
        return None
    context = warm_forkserver()
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=worker_init, initargs=(os.getpid(), dict(os.environ))
    )


def warm_forkserver() -> BaseContext:
    """Start the fork server (if it is not running): it imports :data:`WORKER_PRELOAD` once, in its own process,
    while this one goes on planning; every worker forked from it then starts warm."""
    context = multiprocessing.get_context("forkserver")
    start_forkserver(context, list(WORKER_PRELOAD))
    return context


WORKER_PRELOAD = (
    "numpy", "pyarrow", "pyarrow.parquet", "polars", "rst.framework.stage",
    "rst.stages.bronze", "rst.stages.silver", "rst.stages.gold",
)  # fmt: skip


def _died(task: Task, exc: BaseException) -> PartitionResult:
    """The result of a task its executor lost; an executor's own error (an :class:`RstError`) speaks for itself."""
    what = str(exc) if isinstance(exc, RstError) else f"worker process died before finishing the partition ({type(exc).__name__}: {exc})"
    return PartitionResult(task.partition, Outcome.FAILED, error=f"{what}; rerun to retry it")


def _blocked(task: Task, upstream: Partition) -> PartitionResult:
    return PartitionResult(
        task.partition, Outcome.FAILED, error=f"not built: its input {upstream.label} failed; rerun once that is fixed"
    )


def _log_result(result: PartitionResult) -> None:
    if result.outcome is Outcome.FAILED:
        log.info("failed %s: %s", result.partition.label, result.error)
    elif result.outcome is Outcome.BUILT:
        log.info("built %s: %d rows in %.2fs", result.partition.label, result.rows_out, result.seconds)
    else:
        log.debug("%s %s", result.outcome.value, result.partition.label)


def precheck(task: Task, inputs: list[Input] | None = None) -> PartitionResult | None:
    """The task's SKIPPED result when its partition is visibly up to date (no lock, no worker needed)."""
    if task.force:
        return None
    try:
        return task.stage.skip_result(task.key, inputs)
    except Exception:  # anything odd: let the real run, under its lock, deal with it
        return None


class _Run:
    """The state of one :func:`run_tasks` call: what waits on what, what runs, what has settled."""

    def __init__(
        self,
        workers: int,
        executor: Executor | None,
        on_result: Callable[[PartitionResult], None] | None,
        expand: Expand | None,
        retry: RetryPolicy,
    ) -> None:
        self.graph = TaskGraph()
        self.workers = workers
        self.own = executor is None
        self.pool = executor
        self.on_result = on_result
        self.expand = expand
        self.retry = retry
        self.results: list[PartitionResult] = []
        self.settled: dict[Partition, PartitionResult] = {}
        self.waiting: dict[Partition, int] = {}
        self.ready: deque[Task] = deque()
        self.running: dict[Future[PartitionResult], Task] = {}
        self.retries: list[tuple[float, int, Task]] = []
        self.attempts: dict[Partition, int] = {}

    # ---- the graph -------------------------------------------------------------------
    def add(self, tasks: Iterable[Task]) -> None:
        for task in self.graph.add(tasks):
            me = task.partition
            deps = self.graph.deps[me]
            failed = next((p for p in sorted(deps) if self._failed(p)), None)
            if failed is not None:
                self.settle(task, _blocked(task, failed))
                continue
            pending = sum(1 for p in deps if p not in self.settled)
            self.waiting[me] = pending
            if pending == 0:
                self.ready.append(task)

    def _failed(self, partition: Partition) -> bool:
        result = self.settled.get(partition)
        return result is not None and result.outcome is Outcome.FAILED

    def settle(self, task: Task, result: PartitionResult) -> None:
        """Record ``task``'s final result, release (or block) what reads it, and let the caller plan more."""
        me = task.partition
        self.waiting.pop(me, None)
        self.settled[me] = result
        _log_result(result)
        self.results.append(result)
        if self.on_result:
            self.on_result(result)
        for partition in sorted(self.graph.dependants.get(me, ())):
            if partition in self.settled or partition not in self.waiting:
                continue
            dependant = self.graph.tasks[partition]
            if result.outcome is Outcome.FAILED:
                self.settle(dependant, _blocked(dependant, me))
                continue
            self.waiting[partition] -= 1
            if self.waiting[partition] == 0:
                self.ready.append(dependant)
        if self.expand is not None:
            self.add(self.expand(task, result))

    def finish(self, task: Task, result: PartitionResult) -> None:
        """A run's result: retried later when transient and attempts remain, else settled."""
        attempt = self.attempts.get(task.partition, 0) + 1
        self.attempts[task.partition] = attempt
        if result.outcome is Outcome.FAILED and result.transient and attempt < self.retry.max_attempts:
            delay = self.retry.delay(attempt)
            log.info("retrying %s in %.1fs (attempt %d failed: %s)", task.label, delay, attempt, result.error)
            heapq.heappush(self.retries, (time.monotonic() + delay, id(task), task))
            return
        self.settle(task, result)

    # ---- dispatch ----------------------------------------------------------------------
    def loop(self) -> list[PartitionResult]:
        while self.ready or self.running or self.retries:
            self._due_retries()
            todo: list[Task] = []
            while self.ready:  # settle what is visibly up to date before deciding how to run the rest
                task = self.ready.popleft()
                skipped = precheck(task, self.graph.resolved.pop(task.partition, None))
                if skipped is not None:
                    self.settle(task, skipped)
                else:
                    todo.append(task)
            if todo:
                self._dispatch(todo)
                continue
            if self.running:
                self._collect()
            elif self.retries:
                time.sleep(max(0.0, self.retries[0][0] - time.monotonic()))
        return self.results

    def _due_retries(self) -> None:
        now = time.monotonic()
        while self.retries and self.retries[0][0] <= now:
            self.ready.append(heapq.heappop(self.retries)[2])

    def _dispatch(self, todo: list[Task]) -> None:
        if self.own and self.pool is None and self.workers > 1 and (len(todo) > 1 or self.running):
            self.pool = make_executor(self.workers)
        if self.pool is None:
            for task in todo:  # inline: one at a time, each settling before the next is looked at
                self.finish(task, run_task(task))
            return
        for task in todo:
            try:
                self.running[self.pool.submit(run_task, task)] = task
            except BrokenExecutor as exc:
                self._broken()
                self.finish(task, _died(task, exc))

    def _collect(self) -> None:
        timeout = max(0.0, self.retries[0][0] - time.monotonic()) if self.retries else None
        done, _ = wait(self.running, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            task = self.running.pop(future)
            try:
                result = future.result()
            except BrokenExecutor as exc:
                self._broken()
                result = _died(task, exc)
            except Exception as exc:  # the executor lost the task (a Dask KilledWorker, a cancelled future)
                result = _died(task, exc)
            self.finish(task, result)

    def _broken(self) -> None:
        """A pool of our own whose worker died is replaced (its running tasks all fail); a caller's is kept."""
        if self.own and self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def close(self, *, interrupted: bool) -> None:
        if interrupted:
            for future in self.running:
                future.cancel()
        if self.own and self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def run_tasks(
    tasks: Iterable[Task],
    *,
    workers: int = 1,
    executor: Executor | None = None,
    on_result: Callable[[PartitionResult], None] | None = None,
    expand: Expand | None = None,
    retry: RetryPolicy = TRANSIENT_RETRY,
) -> list[PartitionResult]:
    """Run ``tasks`` in dependency order; return every result in the order they settled.

    Up-to-date partitions are settled in this process (:meth:`Stage.skip_result`); the
    rest go to ``executor``, or to a process pool of ``workers`` made on first need (one
    task to build at a time runs inline). ``expand(task, result)``, called as each task
    settles, may return more tasks to run (upstream ones first).
    """
    run = _Run(workers, executor, on_result, expand, retry)
    if executor is None and workers > 1:
        warm_forkserver()  # its imports overlap planning and up-to-date checks (a pool is likely needed)
    interrupted = True
    try:
        run.add(tasks)
        results = run.loop()
        interrupted = False
        return results
    finally:
        run.close(interrupted=interrupted)
