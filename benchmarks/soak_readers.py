"""Soak the swap guarantee: run the readers-during-rebuilds test N times in a row on loaded cores.

``tests/framework/test_crash_recovery.py::test_readers_never_see_a_mix_during_rebuilds`` races hive
readers (polars, pyarrow) against a writer that rebuilds a partition 30 times. A scheduling-dependent
failure shows only under load, so this script first starts ``--busy`` busy-loop processes (default:
one per core) and keeps them running for the whole soak, then runs the test ``--runs`` times, each in
its own pytest process, and reports how many runs failed (with the tail of each failure's output).
Not part of the CI suite: it takes about 15-30 s per run.

usage: uv run python benchmarks/soak_readers.py [--runs 50] [--busy 2] [--test NODE_ID]
exit status: 0 when every run passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/framework/test_crash_recovery.py::test_readers_never_see_a_mix_during_rebuilds"
BUSY_LOOP = "while True: pass"


def _busy(n: int) -> list[subprocess.Popen[bytes]]:
    """Start ``n`` processes that each spin one core until killed."""
    return [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(n)]


def _run_once(test: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", test]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2, help="busy-loop processes (default: cores)")
    parser.add_argument("--test", default=TEST)
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below (a background job ignores SIGINT)
    print(f"soak: {args.runs} runs of {args.test} with {args.busy} busy-loop process(es), {os.cpu_count()} cores")
    hogs = _busy(args.busy)
    failures: list[tuple[int, str]] = []
    started = time.monotonic()
    try:
        for i in range(1, args.runs + 1):
            t0 = time.monotonic()
            res = _run_once(args.test)
            ok = res.returncode == 0
            if not ok:
                failures.append((i, "\n".join((res.stdout + res.stderr).splitlines()[-25:])))
            print(f"run {i:3d}/{args.runs}: {'pass' if ok else 'FAIL'} ({time.monotonic() - t0:.1f} s)", flush=True)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    for i, tail in failures:
        print(f"\n--- run {i} failed ---\n{tail}")
    load = os.getloadavg()
    print(
        f"\nresult: {len(failures)}/{args.runs} runs failed in {time.monotonic() - started:.0f} s "
        f"(load average at end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f})"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
