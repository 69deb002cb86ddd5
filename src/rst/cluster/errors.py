"""Errors of the cluster executor, in rst's one hierarchy (:class:`rst.errors.RstError`)."""

from __future__ import annotations

from rst.errors import RstError, Terminal, Transient


class SchedulerUnreachable(RstError, Transient):
    """No Dask scheduler answered at the address given with ``--scheduler``."""

    def __init__(self, address: str, seconds: float) -> None:
        self.address = address
        super().__init__(
            f"--scheduler: no Dask scheduler answered at {address} within {seconds:g} s; "
            "start one there (dask scheduler) or fix the address"
        )


class ClusterUnfit(RstError, Terminal):
    """The cluster cannot give rst's guarantees (its configuration or its workers' rst must change)."""


class WorkerDied(RstError):
    """The worker running a partition died (killed, out of memory, crashed) before it finished.

    Neither :class:`~rst.errors.Transient` nor :class:`~rst.errors.Terminal`: the run does not
    retry it (a partition that kills its worker would kill the next one too), the next run does.
    Nothing partial is visible: the partition commits atomically or not at all.
    """

    def __init__(self, worker: str) -> None:
        self.worker = worker
        super().__init__(f"Dask worker {worker} died while running the partition (killed, out of memory or crashed)")


class TaskDropped(RstError, Transient):
    """The cluster dropped a partition's task without running it to the end (scheduler restarted or unreachable)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the Dask cluster dropped this partition's task ({reason}); rerun to build it")
