"""A :class:`concurrent.futures.Executor` on Dask distributed that runs each task at most once.

``rst run --executor dask`` passes :func:`dask_executor`'s executor to the runner, which
submits the same partition tasks it gives the process pool (they pickle: stages, keys,
results and errors). What Dask does by default, and what this module changes:

- Dask keeps a finished task's result on its worker until the client releases it, and
  recomputes it if that worker dies: a partition would be built twice. Here each result is
  fetched as soon as its task finishes and released at once, so the scheduler forgets the
  task (:class:`DaskExecutor`; ``Client.get_executor`` keeps its futures until shutdown).
- Dask reruns a task whose worker died mid-task on another worker, up to
  ``distributed.scheduler.allowed-failures`` (3) times. The local cluster started here sets
  it to 0, so the task fails with ``KilledWorker``, raised to the runner as
  :class:`~rst.cluster.errors.WorkerDied` (a FAILED partition; the next run builds it);
  a remote scheduler must be started with it (checked on connect).
- Tasks are submitted ``pure=False`` (never merged or cached by key) with ``retries=0``.

A worker that dies after its task committed but before the result reached the client
still gets its task rerun; the rerun finds the partition up to date under its lock and
skips it. Partition locks make any duplicate harmless.

Workers must import the same ``rst`` as this process: a local cluster started from this
environment does; for a remote scheduler, every worker's environment must have it installed
(the version is checked on connect; see docs/SCALING.md).
"""

from __future__ import annotations

import functools
import importlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Executor
from concurrent.futures import Future as CFuture
from contextlib import ExitStack, contextmanager
from typing import Any, ParamSpec, TypeVar

import dask
from distributed import Client, KilledWorker, LocalCluster
from distributed import Future as DaskFuture

import rst
from rst.cluster.address import validate_scheduler
from rst.cluster.errors import ClusterUnfit, SchedulerUnreachable, TaskDropped, WorkerDied
from rst.framework.runner import WORKER_PRELOAD

P = ParamSpec("P")
T = TypeVar("T")

CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.scheduler.allowed-failures": 0,  # a task whose worker dies fails (KilledWorker), never reruns
    "distributed.scheduler.worker-saturation": 1.0,  # a worker holds only the task it runs: a death fails only that one
    # no MALLOC_TRIM_THRESHOLD_=65536 (Dask's default): it doubled a bronze partition's time; workers get this
    # process's environment, as the process pool's do
    "distributed.nanny.pre-spawn-environ": {},
    "distributed.worker.preload": ["rst.cluster.worker_setup"],  # workers ignore a terminal's Ctrl-C
}
"""Settings of the local cluster (a remote scheduler needs the first; see docs/SCALING.md)."""

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a remote scheduler to answer and for its first worker to join."""


class DaskExecutor(Executor):
    """The runner's executor on a Dask client: one Dask task per call, run at most once.

    Each call is submitted ``pure=False, retries=0``; its result (or error) is fetched the
    moment it finishes and the Dask future released, so no finished task stays on a worker
    to be recomputed. A task whose worker died raises :class:`WorkerDied` from
    ``future.result()``, one the cluster dropped raises :class:`TaskDropped`; any other
    exception is the task's own. Cancelling a returned future cancels the Dask task.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._pending: set[DaskFuture[Any]] = set()
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> CFuture[T]:
        """Run ``fn(*args, **kwargs)`` on a worker (``fn`` and its arguments must pickle)."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            call = functools.partial(fn, **kwargs) if kwargs else fn  # kwargs never meet submit()'s own
            task = self.client.submit(call, *args, pure=False, retries=0)
            self._pending.add(task)
        outer: CFuture[T] = CFuture()
        outer.add_done_callback(lambda f: task.cancel() if f.cancelled() else None)
        task.add_done_callback(functools.partial(self._settle, outer))
        return outer

    def _settle(self, outer: CFuture[Any], task: DaskFuture[Any]) -> None:
        """Move ``task``'s outcome to ``outer`` and release it (on Dask's callback thread)."""
        result: Any = None
        error: BaseException | None = None
        try:
            result = task.result()
        except KilledWorker as exc:
            worker = getattr(exc.last_worker, "address", None) or str(exc.last_worker)
            error = WorkerDied(worker)
            error.__cause__ = exc
        except CancelledError as exc:  # by us (outer cancelled) or by the cluster (scheduler lost)
            error = TaskDropped(str(exc) or "cancelled")
        except BaseException as exc:  # the task's own exception (run_task returns failures; this is rare)
            error = exc
        finally:
            task.release()  # the scheduler forgets the task: a worker death can no longer recompute it
            with self._lock:
                self._pending.discard(task)
        if not outer.set_running_or_notify_cancel():
            return  # cancelled by the caller; waiters are notified
        if error is None:
            outer.set_result(result)
        else:
            outer.set_exception(error)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new calls; ``cancel_futures`` cancels the tasks not finished; ``wait`` waits for the rest."""
        with self._lock:
            self._shutdown = True
            pending = list(self._pending)
        if cancel_futures and pending:
            self.client.cancel(pending)
        elif wait and pending:
            from distributed import wait as wait_for

            wait_for(pending)


def _worker_ready() -> str:
    """Run on each worker: import what every partition needs (as the process pool's fork server does), so no
    partition pays for it; return the worker's rst version."""
    for name in WORKER_PRELOAD:
        importlib.import_module(name)
    return rst.__version__


@contextmanager
def dask_executor(
    scheduler: str | None, workers: int, *, connect_timeout: float = CONNECT_TIMEOUT
) -> Iterator[DaskExecutor]:
    """A :class:`DaskExecutor` on the scheduler at ``scheduler`` (``tcp://HOST:PORT``), or, with
    ``scheduler=None``, on a local cluster started here and torn down on exit: ``workers``
    processes of one thread, on 127.0.0.1 (its HTTP server on a free loopback port), with no
    memory limit and ignoring a terminal's Ctrl-C, like the process pool's workers.

    On exit, tasks not started are cancelled; running ones finish and commit, or die with
    their worker: nothing partial is visible. A Ctrl-C while the local cluster starts is
    raised once it is up. Raises :class:`SchedulerUnreachable` when no scheduler answers within
    ``connect_timeout`` seconds, :class:`ClusterUnfit` when the scheduler reruns the tasks of
    dead workers, no worker joins in that time, or a worker lacks this rst.
    """
    with _dask_logs_quiet(), _client(scheduler, workers, connect_timeout) as client:
        _check_workers(client, scheduler, connect_timeout)
        executor = DaskExecutor(client)
        try:
            yield executor
        finally:
            executor.shutdown(wait=False, cancel_futures=True)


@contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """A Ctrl-C (SIGINT) meanwhile is held, then raised as ``KeyboardInterrupt`` on exit (or instead of the
    error it caused: a worker still booting dies of it): raised inside Dask's start, it would leave a
    half-started cluster. Main thread only (elsewhere Python cannot handle signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    except Exception:
        if caught:
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, old)
    if caught:
        raise KeyboardInterrupt


@contextmanager
def _dask_logs_quiet() -> Iterator[None]:
    """Dask's own log lines only with ``--verbose`` (INFO): a dead worker is reported as its partition's failure."""
    logger = logging.getLogger("distributed")
    old = logger.level
    logger.setLevel(logging.INFO if logging.getLogger().getEffectiveLevel() <= logging.INFO else logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(old)


@contextmanager
def _client(scheduler: str | None, workers: int, connect_timeout: float) -> Iterator[Client]:
    if scheduler is None:
        with ExitStack() as stack:
            # the config is read by the scheduler and the nannies as they start
            with dask.config.set(CLUSTER_CONFIG), _interrupt_deferred():
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # its HTTP server: loopback, a free port
                    memory_limit=0,
                    silence_logs=logging.CRITICAL,  # a dead worker is reported as its partition's failure
                )
                stack.enter_context(cluster)
            yield stack.enter_context(Client(cluster, set_as_default=False))
        return
    address = validate_scheduler(scheduler, "--scheduler")
    try:
        client = Client(address, timeout=connect_timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachable(address, connect_timeout) from exc
    with client:
        _check_scheduler(client, address)
        yield client


def _check_scheduler(client: Client, address: str) -> None:
    """Refuse a scheduler that reruns the task of a dead worker (a partition could be built twice)."""

    def allowed_failures(dask_scheduler: Any) -> int:  # defined here: pickled by value, the scheduler needs no rst
        return int(dask_scheduler.allowed_failures)

    allowed = client.run_on_scheduler(allowed_failures)
    if allowed != 0:
        raise ClusterUnfit(
            f"--scheduler: {address} reruns a task whose worker died (allowed-failures={allowed}); "
            "restart it with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0"
        )


def _check_workers(client: Client, scheduler: str | None, timeout: float) -> None:
    """Wait for a worker; warm every worker up and check it runs this process's rst version."""
    where = scheduler or "the local cluster"
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise ClusterUnfit(f"--scheduler: no worker joined {where} within {timeout:g} s; start workers there") from None
    try:
        versions: dict[str, str] = client.run(_worker_ready)
    except ImportError as exc:
        raise ClusterUnfit(
            f"--scheduler: a worker of {where} cannot import rst ({exc}); install rst {rst.__version__} on every worker"
        ) from exc
    wrong = {w: v for w, v in versions.items() if v != rst.__version__}
    if wrong:
        worker, version = next(iter(wrong.items()))
        raise ClusterUnfit(
            f"--scheduler: worker {worker} of {where} runs rst {version}, this process {rst.__version__}; "
            "install the same rst on every worker"
        )
