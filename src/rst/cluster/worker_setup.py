"""Preloaded by every worker process of rst's local Dask cluster (``distributed.worker.preload``)."""

from __future__ import annotations

import signal


def dask_setup(worker: object) -> None:
    """Ignore SIGINT, as the process pool's workers do: a terminal's Ctrl-C reaches the whole process
    group; the client cancels what has not started and tears the cluster down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
