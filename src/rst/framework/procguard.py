"""Worker processes never outlive the run that started them; SIGTERM stops a run like Ctrl-C.

Parent death (Linux): a process pool's workers are forked by the multiprocessing fork
server, itself a child of the ``rst run`` process. Each asks the kernel, with
``prctl(PR_SET_PDEATHSIG, SIGKILL)``, to be killed when its parent dies: a worker when
the fork server dies, the fork server when ``rst run`` dies, so killing ``rst run``
(SIGKILL included) takes the whole tree down within moments, and a worker killed in
the middle of a partition leaves only staging, never a visible partition (the next
run sweeps it). The fork server is reached through its preload list
(:data:`FORKSERVER_GUARD`, a module whose import arms it) and an environment variable
naming the pid that started it, so no other process is ever armed by accident. On
other systems these calls do nothing; the fork server still exits when its parent
does (multiprocessing's own liveness pipe), but busy workers finish their partition
first.

Caveat: the kernel signals on the death of the parent *thread*; :func:`start_forkserver`
arms the fork server only when started from the main thread.

SIGTERM: :func:`sigterm_as_interrupt` turns SIGTERM into :class:`Terminated`, a
``KeyboardInterrupt``, so ``kill <pid>``, ``systemctl stop`` and container stops take
the same path as Ctrl-C: nothing new is dispatched, running partitions finish or die
before their atomic swap, and the command exits 143.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing.forkserver
import os
import signal
import sys
import threading
from collections.abc import Iterator
from multiprocessing.context import BaseContext
from types import FrameType
from typing import Final

PR_SET_PDEATHSIG: Final = 1
FORKSERVER_PARENT_ENV: Final = "RST_FORKSERVER_PARENT"
"""Set, while the fork server starts, to the pid of the process starting it."""
FORKSERVER_GUARD: Final = "rst.framework.forkserver_guard"
"""Preload module of the fork server: importing it there calls :func:`arm_forkserver`."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop like Ctrl-C (``signum`` is the signal number)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def die_with_parent() -> bool:
    """Have the kernel SIGKILL this process when its parent thread dies (Linux); True if armed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def worker_init(run_pid: int, environ: dict[str, str] | None = None) -> None:
    """Process-pool initializer: die with the fork server; leave SIGINT to the parent.

    ``run_pid`` is the process that made the pool: if it is already gone (it died
    between the fork and this call), the worker kills itself at once. A terminal's
    Ctrl-C reaches the whole process group: workers ignore it and finish their
    partition while the parent stops dispatching. ``environ``: the pool maker's
    environment (a worker forks from the fork server, whose environment is that of the
    moment it started: object-storage credentials set since would be missing).
    """
    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if die_with_parent():
        try:
            os.kill(run_pid, 0)
        except (ProcessLookupError, PermissionError):  # gone (or its pid already reused by another user)
            _kill_self()


def arm_forkserver() -> None:
    """In the fork server (through :data:`FORKSERVER_GUARD`): die with the process that started it.

    Acts only when this process's parent is the pid in ``$RST_FORKSERVER_PARENT``, so any other
    process importing the guard module is left alone.
    """
    expected = os.environ.get(FORKSERVER_PARENT_ENV, "")
    if not expected.isdigit() or os.getppid() != int(expected):
        return
    if die_with_parent() and os.getppid() != int(expected):
        _kill_self()  # the parent died before the kernel was told


def start_forkserver(context: BaseContext, preload: list[str]) -> None:
    """Start the fork server now (if it is not running), from this thread, with ``preload``
    and, when this is the main thread, armed to die with this process."""
    armed = threading.current_thread() is threading.main_thread()
    context.set_forkserver_preload([*preload, FORKSERVER_GUARD] if armed else preload)
    previous = os.environ.get(FORKSERVER_PARENT_ENV)
    if armed:
        os.environ[FORKSERVER_PARENT_ENV] = str(os.getpid())
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if previous is None:
            os.environ.pop(FORKSERVER_PARENT_ENV, None)
        else:
            os.environ[FORKSERVER_PARENT_ENV] = previous


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (restored after).

    Outside the main thread (where handlers cannot be installed) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
