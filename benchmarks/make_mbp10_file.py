"""Build a large synthetic MBP-10 DBN v3 file (zstd) for decode benchmarks.

Usage: ``uv run python benchmarks/make_mbp10_file.py OUT.dbn.zst [N_RECORDS]``.
Records are plausible (random-walk prices on a 0.25 tick, small sizes, increasing
timestamps, a few undefined deep levels) so that zstd compresses them like real data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import databento_dbn as dbn
import numpy as np
import zstandard

TICK = 250_000_000  # 0.25 in fixed-point 1e-9
UNDEF_PRICE = np.iinfo(np.int64).max


def make_records(n: int, seed: int = 7) -> np.ndarray:
    """Return ``n`` MBP-10 records as a structured array of the DBN v3 layout."""
    rng = np.random.default_rng(seed)
    rec = np.zeros(n, dtype=dbn.MBP10Msg._dtypes)
    rec["length"] = dbn.MBP10Msg.size_hint // 4
    rec["rtype"] = 0x0A
    rec["publisher_id"] = 1
    rec["instrument_id"] = rng.choice(np.array([5482, 5482, 5482, 9001], dtype=np.uint32), n)
    t0 = 1_609_160_400_000_000_000
    ts_event = t0 + np.cumsum(rng.integers(0, 50_000, n, dtype=np.int64))
    rec["ts_event"] = ts_event
    rec["ts_recv"] = ts_event + rng.integers(1_000, 30_000, n)
    rec["ts_in_delta"] = rng.integers(10_000, 30_000, n)
    rec["sequence"] = np.arange(n, dtype=np.uint32) + 1_000_000
    mid = 3_720_000_000_000 + np.cumsum(rng.integers(-1, 2, n)) * TICK
    rec["action"] = rng.choice(np.array([b"A", b"C", b"M", b"T"]), n)
    rec["side"] = rng.choice(np.array([b"A", b"B", b"N"]), n)
    rec["depth"] = rng.integers(0, 10, n)
    rec["price"] = mid + rng.integers(-10, 10, n) * TICK
    rec["size"] = rng.integers(1, 50, n)
    rec["flags"] = 128
    for lvl in range(10):
        bid = mid - (lvl + 1) * TICK
        ask = mid + lvl * TICK
        rec[f"bid_px_{lvl:02d}"] = bid
        rec[f"ask_px_{lvl:02d}"] = ask
        rec[f"bid_sz_{lvl:02d}"] = rng.integers(1, 100, n)
        rec[f"ask_sz_{lvl:02d}"] = rng.integers(1, 100, n)
        rec[f"bid_ct_{lvl:02d}"] = rng.integers(1, 40, n)
        rec[f"ask_ct_{lvl:02d}"] = rng.integers(1, 40, n)
    empty = rng.random(n) < 0.01
    rec["bid_px_09"][empty] = UNDEF_PRICE
    rec["bid_sz_09"][empty] = 0
    rec["bid_ct_09"][empty] = 0
    return rec


def header(n: int, start: int, end: int) -> bytes:
    """Encoded DBN v3 metadata for a GLBX.MDP3 ``ES.FUT`` parent request."""
    meta = dbn.Metadata(
        dataset="GLBX.MDP3",
        schema=dbn.Schema.MBP_10,
        start=start,
        stype_in=dbn.SType.PARENT,
        stype_out=dbn.SType.INSTRUMENT_ID,
        end=end,
        symbols=["ES.FUT"],
        partial=[],
        not_found=[],
        mappings=[],
        version=3,
        ts_out=False,
    )
    return bytes(meta.encode())


def write_file(path: Path, n: int, *, level: int = 3, chunk: int = 250_000) -> Path:
    """Write ``n`` synthetic MBP-10 records to ``path`` (zstd if the name ends in .zst)."""
    rec0 = make_records(min(n, chunk))
    start = int(rec0["ts_event"][0])
    with open(path, "wb") as raw:
        sink = zstandard.ZstdCompressor(level=level).stream_writer(raw) if path.suffix == ".zst" else raw
        sink.write(header(n, start, start + 86_400 * 10**9))
        done = 0
        seed = 7
        while done < n:
            k = min(chunk, n - done)
            rec = rec0[:k] if seed == 7 else make_records(k, seed)
            sink.write(rec.tobytes())
            done += k
            seed += 1
        if sink is not raw:
            sink.close()
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1])
    n_records = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
    write_file(out, n_records)
    print(f"{out}: {n_records} records, {out.stat().st_size / 1e6:.1f} MB")
