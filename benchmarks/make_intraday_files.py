"""Write a synthetic one-day MBP-10 file (ESH1 5482 x2, ESM1 5483, spread 9001) and its definitions.

Usage: ``uv run python benchmarks/make_intraday_files.py OUT.dbn.zst N_RECORDS``; the definitions
go to ``defs.dbn.zst`` beside OUT. Uses the test helpers in ``tests/stages/intraday_dbn.py``.
"""

import datetime as dt
import sys
from pathlib import Path

import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "stages"))
import intraday_dbn as d
out = Path(sys.argv[1]); n = int(sys.argv[2])
day = dt.date(2021, 1, 5)
start = d.local_ns(day, 9, 0, zone="America/Chicago")
chunk = 250_000
import zstandard, databento_dbn as dbn
meta = dbn.Metadata(dataset="GLBX.MDP3", schema=dbn.Schema.MBP_10, start=start, end=start + 3600*d.NS*6, stype_in=dbn.SType.PARENT,
    stype_out=dbn.SType.INSTRUMENT_ID, symbols=["ES.FUT"], partial=[], not_found=[], mappings=[], version=3, ts_out=False)
out.parent.mkdir(parents=True, exist_ok=True)
with open(out, "wb") as raw:
    w = zstandard.ZstdCompressor(level=1).stream_writer(raw)
    w.write(bytes(meta.encode()))
    rng = np.random.default_rng(1)
    done = 0
    while done < n:
        k = min(chunk, n - done)
        ts = start + (np.arange(done, done + k, dtype=np.int64) * (3600 * 6 * d.NS // n))
        rec = d.book("mbp-10", ts, rng.choice(np.array([5482, 5482, 5483, 9001], dtype=np.uint32), k))
        rec["size"] = rng.integers(1, 50, k)
        w.write(rec.tobytes()); done += k
    w.close()
d.es_definitions(out.parent / "defs.dbn.zst", day)
