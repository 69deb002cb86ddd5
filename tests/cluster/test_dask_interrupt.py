"""Ctrl-C on ``rst run --executor dask --workers 2``: the run stops as on the process pool (exit 130, the
one ``interrupted:`` line, no worker traceback), the local cluster's processes are gone, the next run finishes."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rst.demo import run_demo
from rst.framework.lake import Lake, Layer

pytestmark = pytest.mark.slow

# SIGINT as a terminal gives it, even when the test runs in a background job (which ignores SIGINT)
RST = "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); from rst.cli.main import main; main()"


def rst(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", RST, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip


def test_ctrl_c_stops_the_dask_run_cleanly_and_the_next_run_finishes(tmp_path: Path) -> None:
    lake, _ = Lake.create(tmp_path / "lake")
    run_demo(lake, parents=("ES", "NQ"), start=dt.date(2023, 1, 1), end=dt.date(2024, 1, 1), layers=())
    p = rst("run", "--lake", str(lake.root), "--executor", "dask", "--workers", "2")
    bronze = lake.layer_dir(Layer.BRONZE)
    deadline = time.monotonic() + 90
    while not list(bronze.rglob("_SUCCESS")):
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group, workers included
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted:" in err and "rerun to finish" in err, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the cluster's worker processes went with the run
        try:
            os.killpg(p.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("processes of the interrupted run's group are still alive")

    again = rst("run", "--lake", str(lake.root), "--executor", "dask", "--workers", "2", "-q")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert " 0 failed" in out and "up to date" in out, out
