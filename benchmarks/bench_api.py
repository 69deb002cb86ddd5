"""``GET /api/v1/bars`` (``rst serve`` over the lake) for one month of daily bars of one parent, against the peer
``rst.read_table`` of the same rows in-process, measured in the same run.

A demo lake (ES, ``--start`` .. ``--end``, bronze and silver) is built once; ``rst serve --port 0``
runs as a real subprocess on 127.0.0.1 and one keep-alive httpx client sends ``--requests``
identical requests per format (JSON, CSV, Arrow), after one warm-up request each; the peer
reads the same month with :func:`rst.read_table` the same number of times. Reported: median
and 90th percentile wall time per request, and the ratio of medians to the peer.

usage: uv run python benchmarks/bench_api.py [--requests 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MONTH = (dt.date(2023, 3, 1), dt.date(2023, 3, 31))
PARENT, TABLE = "ES", "ohlcv_1d"


def build_lake(root: Path, start: dt.date, end: dt.date) -> Any:
    """A demo lake with ES daily bars built up to silver."""
    from rst.demo import run_demo
    from rst.framework.lake import Lake, Layer

    lake = Lake(root)
    result = run_demo(lake, parents=(PARENT,), start=start, end=end, layers=(Layer.BRONZE, Layer.SILVER))
    failed = [r for r in result.results if r.outcome.value == "failed"]
    if failed:
        raise RuntimeError(f"demo lake: {len(failed)} partitions failed, first: {failed[0].error}")
    return lake


def _serve(lake_root: Path, log: Any) -> tuple[subprocess.Popen[bytes], str]:
    """``rst serve --port 0`` on the lake; returns the process and its base URL once it answers."""
    import httpx

    env = {k: v for k, v in os.environ.items() if k not in ("RST_API_TOKEN", "RST_DATABASE_URL")}
    argv = [
        sys.executable,
        "-c",
        "from rst.cli.main import main; main()",
        "serve",
        "--lake",
        str(lake_root),
        "--port",
        "0",
    ]
    proc = subprocess.Popen(argv, stdout=log, stderr=log, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        log.seek(0)
        found = re.search(r"at (http://\S+)/api/v1", log.read())
        if found:
            try:
                if httpx.get(f"{found.group(1)}/api/v1/health").status_code == 200:
                    return proc, found.group(1)
            except httpx.TransportError:
                pass
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"rst serve exited {proc.returncode}: {log.read()[-2000:]}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("rst serve did not start within 120 s")


def _timed(call: Any, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return times


def measure(lake: Any, requests: int) -> tuple[int, dict[str, list[float]]]:
    """(rows in the month, label -> per-request seconds) for the API in each format and the in-process peer."""
    import httpx

    from rst.read import read_table

    params = {"symbol": PARENT, "table": TABLE, "start": MONTH[0].isoformat(), "end": MONTH[1].isoformat()}
    peer = read_table("silver", PARENT, TABLE, *MONTH, lake=lake)
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryFile("w+") as log:
        proc, base = _serve(lake.root, log)
        try:
            with httpx.Client(base_url=f"{base}/api/v1", timeout=60) as client:
                for fmt in ("json", "csv", "arrow"):

                    def get(fmt: str = fmt) -> None:
                        response = client.get("/bars", params={**params, "format": fmt})
                        response.raise_for_status()

                    get()  # warm-up: imports, first scan
                    results[f"GET /api/v1/bars format={fmt}"] = _timed(get, requests)
        finally:
            proc.terminate()
            proc.wait(15)
    read_table("silver", PARENT, TABLE, *MONTH, lake=lake)  # warm-up, as for the server
    results["rst.read_table in-process (peer)"] = _timed(
        lambda: read_table("silver", PARENT, TABLE, *MONTH, lake=lake), requests
    )
    return peer.height, results


def bench_api(work: Path, requests: int, years: int = 2) -> list[Any]:
    """The benchmark as a :class:`benchmarks.run.Table`."""
    from benchmarks.run import Table

    start = dt.date(2023 - years + 1, 1, 1)
    lake = build_lake(work / "lake-api", start, dt.date(2024, 1, 1))
    rows, results = measure(lake, requests)
    peer = statistics.median(results["rst.read_table in-process (peer)"])
    tab = Table(
        f"HTTP API: one month of daily bars of one parent ({PARENT} {TABLE}, {MONTH[0]:%Y-%m}, {rows} rows)",
        ["request", "median ms", "p90 ms", "vs peer (median)", "target"],
    )
    for label, times in results.items():
        times = sorted(times)
        median, p90 = statistics.median(times), times[int(0.9 * (len(times) - 1))]
        target = "" if "peer" in label else "< 5 s (origin doc); aim ms"
        tab.rows.append([f"`{label}`", f"{median * 1e3:.1f}", f"{p90 * 1e3:.1f}", f"{median / peer:.2f}x", target])
    tab.notes.append(
        f"{requests} requests per row after one warm-up, one keep-alive client, server `rst serve` on "
        f"127.0.0.1 (a subprocess over a {years}-year demo lake); the peer reads the same rows in-process"
    )
    return [tab]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--years", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rst-bench-api-") as tmp:
        for table in bench_api(Path(tmp), args.requests, args.years):
            print(table.markdown())


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
