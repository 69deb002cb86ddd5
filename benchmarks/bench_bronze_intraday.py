"""Peak memory and time of bronze ``mbp_10`` against the record count (bounded-memory check).

Usage: ``uv run python benchmarks/bench_bronze_intraday.py [N ...]`` (default 500000 2000000).
For each N, builds a synthetic MBP-10 file (ESH1, ESM1 and a spread, one trading day) with
its definitions in a fresh lake, then runs bronze in a child process and reports the
child's peak RSS (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``) and wall time.
Peak memory must not grow with N (the transform streams batch by batch).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = """
import resource, sys, time
from pathlib import Path
from rst.framework.lake import Lake
from rst.framework.partition import PartitionKey
from rst.stages.bronze import Mbp10Stage
lake = Lake(Path(sys.argv[1]))
stage = Mbp10Stage(lake, "ES")
t0 = time.monotonic()
results = [stage.run(k, force=True) for k in stage.available_keys()]
secs = time.monotonic() - t0
rows = sum(r.rows_out for r in results)
print(rows, secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(n: int, workdir: Path) -> dict[str, float]:
    """Build an N-record lake under ``workdir`` and run bronze mbp_10 in a child process."""
    sys.path.insert(0, str(ROOT / "tests" / "stages"))
    from rst.sources.raw_zone import RawZone

    raw = workdir / f"in_{n}"
    subprocess.run([sys.executable, str(HERE / "make_intraday_files.py"), str(raw / "mbp.dbn.zst"), str(n)], check=True)
    lake = workdir / f"lake_{n}"
    zone = RawZone(lake)
    zone.import_file(raw / "defs.dbn.zst")
    zone.import_file(raw / "mbp.dbn.zst")
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", CHILD, str(lake)], check=True, capture_output=True, text=True)
    rows, secs, maxrss_kb = out.stdout.split()
    return {"records": n, "rows_out": int(rows), "seconds": float(secs), "wall": time.monotonic() - t0,
            "maxrss_mb": int(maxrss_kb) / 1024}  # fmt: skip


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [500_000, 2_000_000]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            print(json.dumps(measure(n, Path(tmp))))


if __name__ == "__main__":
    main(sys.argv[1:])
