"""``rst run --executor [process|dask] [--scheduler tcp://HOST:PORT]``: check the choice, open the executor.

Light to import: ``distributed`` is loaded only when ``--executor dask`` opens its executor.
"""

from __future__ import annotations

from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext

from rst.cluster.address import validate_scheduler
from rst.errors import UsageError

EXECUTORS = ("process", "dask")
"""``process``: rst's process pool (``--workers`` processes); ``dask``: Dask distributed."""


def validate_executor_options(executor: str, scheduler: str | None, *, workers_given: bool) -> str | None:
    """The validated ``--scheduler`` (None: none given); refused without ``--executor dask`` or with ``--workers``."""
    if scheduler is None:
        return None
    if executor != "dask":
        raise UsageError("--scheduler: applies to --executor dask only; add --executor dask")
    if workers_given:
        raise UsageError("--workers: a --scheduler's cluster has its own workers; drop --workers")
    return validate_scheduler(scheduler, "--scheduler")


def open_executor(executor: str, scheduler: str | None, workers: int) -> AbstractContextManager[Executor | None]:
    """The run's executor: None for ``process`` (the runner makes its own pool), else a Dask one on
    ``scheduler`` or on a local cluster of ``workers`` processes (:func:`rst.cluster.dask_executor.dask_executor`)."""
    if executor != "dask":
        return nullcontext(None)
    from rst.cluster.dask_executor import dask_executor

    return dask_executor(scheduler, workers)
