"""No leaks when ``rst run`` is killed: SIGKILL of the parent takes its fork server and workers with it;
SIGTERM stops it like Ctrl-C (exit 143, one line, nothing partial visible) and the next run finishes."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from opshelpers import assert_interrupted_then_finished, rst_process

from rst.framework.verify import verify_lake

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc (Linux)")]

MARK = "RST_TEST_MARK"


def marked(mark: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``RST_TEST_MARK=<mark>``."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:  # gone, or not ours to read
            continue
        if needle in env and state not in (b"Z", b"X"):
            found.append(int(entry))
    return found


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_sigkill_of_rst_run_takes_its_workers_and_fork_server_with_it(raw_lake):  # type: ignore[no-untyped-def]
    mark = uuid.uuid4().hex
    # every partition write sleeps 30 s first: without parent-death handling the workers outlive the kill
    p = rst_process(raw_lake, "run", "--workers", "2", "-q", env={MARK: mark, "RST_TEST_SLOW": "30"})
    try:
        # rst run, the resource tracker, the fork server and two workers
        wait_for(lambda: len(marked(mark)) >= 5 or p.poll() is not None, 60, "the pool never started")
        assert p.poll() is None, p.communicate()
        assert p.pid in marked(mark)
        time.sleep(0.5)  # the workers are inside a partition now
        p.kill()
        p.wait(10)
        deadline = time.monotonic() + 10
        while marked(mark) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = marked(mark)
        assert not survivors, f"processes of the killed run still alive: {survivors}"
    finally:
        for pid in marked(mark):  # only processes this test started carry the mark
            os.kill(pid, signal.SIGKILL)
        if p.poll() is None:
            p.kill()
        p.communicate()
    assert not verify_lake(raw_lake)  # the killed workers' partitions are nowhere visible


def test_sigterm_stops_like_ctrl_c_and_the_next_run_finishes(raw_lake, cli_run):  # type: ignore[no-untyped-def]
    p = rst_process(raw_lake, "run", "--workers", "2", env={"RST_TEST_SLOW": "0.4"})
    bronze = raw_lake.root / "bronze"
    wait_for(lambda: list(bronze.rglob("_SUCCESS")) or p.poll() is not None, 60, "no partition committed")
    assert p.poll() is None, "the run finished before SIGTERM: nothing proved"
    p.send_signal(signal.SIGTERM)  # the parent only, as `kill <pid>` or a service manager does
    out, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("terminated (SIGTERM): ") and lines[-1].endswith("rerun to finish")
    assert "Traceback" not in err
    assert_interrupted_then_finished(raw_lake, cli_run, "SIGTERM")
