"""A toy stage for the framework tests, importable by the test process and by worker subprocesses.

Raw inputs are text files of integers under ``<lake>/raw/toy/<date>/``; each integer becomes one
row (negative ones go to the quarantine table). ``params`` drive the output (``mult``, ``batch``,
``bad``, ``symbol``), so a change of parameters changes the partition's content.

Test-only hooks, read from the environment by this module alone (never by library code):

``RST_TEST_TOY_LOG``   append ``start <pid>`` / ``end <pid>`` lines around each transform
``RST_TEST_TOY_HOLD``  after the first batch, wait until this path exists
``RST_TEST_KILL_AT``   ``transform``: SIGKILL this process after the first batch
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from rst.framework.lake import Lake, Layer
from rst.framework.partition import Granularity, PartitionKey
from rst.framework.stage import Input, RawInput, Stage, StageContext

SYMBOL = "ES"
TABLE = "toy"
QUARANTINE = "toy_quarantine"

TOY_AVSC: dict[str, Any] = {
    "type": "record",
    "name": "toy",
    "namespace": "rst.bronze",
    "fields": [
        {"name": "ts_event", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
        {"name": "price", "type": "long"},
        {"name": "qty", "type": "long", "arrow.type": "uint32"},
        {"name": "symbol", "type": "string", "arrow.dictionary": True},
        {"name": "source_file", "type": "string", "arrow.dictionary": True},
        {"name": "note", "type": ["null", "string"]},
    ],
}
QUARANTINE_AVSC: dict[str, Any] = {
    "type": "record",
    "name": "toy_quarantine",
    "namespace": "rst.bronze",
    "fields": [
        {"name": "ts_event", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
        {"name": "price", "type": "long"},
        {"name": "reason", "type": "string"},
    ],
}


def install_schemas(root: Path, toy: dict[str, Any] | None = None) -> Path:
    """Write the toy contracts under ``root/bronze/``; return ``root``."""
    (root / "bronze").mkdir(parents=True, exist_ok=True)
    (root / "bronze" / f"{TABLE}.avsc").write_text(json.dumps(toy or TOY_AVSC, indent=2))
    (root / "bronze" / f"{QUARANTINE}.avsc").write_text(json.dumps(QUARANTINE_AVSC, indent=2))
    return root


def raw_dir(lake: Lake, key: PartitionKey) -> Path:
    return lake.raw / "toy" / key.value


def write_raw(lake: Lake, key: PartitionKey, name: str, values: Iterable[int]) -> Path:
    """Write (or rewrite, read-only or not) one raw input file; returns its path."""
    path = raw_dir(lake, key) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.chmod(0o644)
    path.write_text("".join(f"{v}\n" for v in values))
    path.chmod(0o444)  # raw files are immutable; a change happens "behind the lake's back"
    return path


def _hold(path: str) -> None:
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"hold file {path} never appeared")
        time.sleep(0.01)


def _log(line: str) -> None:
    log = os.environ.get("RST_TEST_TOY_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{line} {os.getpid()}\n")
            f.flush()
            os.fsync(f.fileno())


class ToyStage(Stage):
    layer = Layer.BRONZE
    table = TABLE
    granularity = Granularity.DAY
    version = "1"
    quarantine_table = QUARANTINE

    def inputs(self, key: PartitionKey) -> list[Input]:
        d = raw_dir(self.lake, key)
        return [RawInput(p) for p in sorted(d.glob("*.txt"))] if d.is_dir() else []

    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:
        _log("start")
        mult = int(ctx.params.get("mult", 1))
        batch = int(ctx.params.get("batch", 4))
        bad = ctx.params.get("bad")
        symbol = str(ctx.params.get("symbol", "ESH4"))
        base = int(dt.datetime.combine(ctx.partition.key.start, dt.time(), dt.UTC).timestamp()) * 10**9
        n = 0
        first = True
        for path in ctx.raw_paths():
            values = [int(x) for x in path.read_text().split()]
            ctx.rows_in += len(values)
            rel = ctx.lake.relative(path)
            for i in range(0, len(values), batch):
                chunk = values[i : i + batch]
                ts = [base + n + k for k in range(len(chunk))]
                n += len(chunk)
                good = [(t, v) for t, v in zip(ts, chunk, strict=False) if v >= 0]
                neg = [(t, v) for t, v in zip(ts, chunk, strict=False) if v < 0]
                if neg:
                    ctx.quarantine(
                        _table(
                            {
                                "ts_event": _ts([t for t, _ in neg]),
                                "price": pa.array([v * mult for _, v in neg], pa.int64()),
                                "reason": pa.array(["negative"] * len(neg), pa.large_string()),
                            }
                        )
                    )
                    ctx.count("negative", len(neg))
                yield _batch(good, mult, symbol, rel, bad)
                if first:
                    first = False
                    if os.environ.get("RST_TEST_KILL_AT") == "transform":
                        os.kill(os.getpid(), signal.SIGKILL)
                    hold = os.environ.get("RST_TEST_TOY_HOLD")
                    if hold:
                        _log("holding")
                        _hold(hold)
        _log("end")


def _batch(rows: list[tuple[int, int]], mult: int, symbol: str, rel: str, bad: str | None) -> pa.Table:
    """One output batch; ``bad`` selects a contract violation (or a conforming variant)."""
    cols: dict[str, pa.Array] = {
        "ts_event": _ts([t for t, _ in rows]),
        "price": pa.array([v * mult for _, v in rows], pa.int64()),
        "qty": pa.array([v % 100 for _, v in rows], pa.uint32()),
        "symbol": pa.array([symbol] * len(rows), pa.string()).dictionary_encode(),
        "source_file": pa.array([rel] * len(rows), pa.string()).dictionary_encode(),
        "note": pa.array([None if v % 2 else "even" for _, v in rows], pa.string()),
    }
    if bad == "int32":
        cols["price"] = cols["price"].cast(pa.int32())
    elif bad == "missing":
        del cols["note"]
    elif bad == "extra":
        cols["extra"] = pa.array([1] * len(rows), pa.int64())
    elif bad == "nulls":
        cols["price"] = pa.array([None] * len(rows), pa.int64())
    elif bad == "tz":
        cols["ts_event"] = cols["ts_event"].cast(pa.timestamp("ns", "America/Chicago"))
    elif bad == "boom":
        raise RuntimeError("toy transform exploded")
    elif bad == "large_string":  # conforming: cast to the contract's dictionary<int32, string>
        cols["symbol"] = pa.array([symbol] * len(rows), pa.large_string())
        cols["source_file"] = (
            pa.array([rel] * len(rows), pa.large_string())
            .dictionary_encode()
            .cast(pa.dictionary(pa.int8(), pa.large_string()))
        )
        cols["note"] = cols["note"].cast(pa.large_string())
    return _table(cols)


def _ts(ns: list[int]) -> pa.Array:
    """UTC timestamps; built from int64 because ``pa.array(ints, timestamp-with-tz)`` imports pandas."""
    return pa.array(ns, pa.int64()).cast(pa.timestamp("ns", "UTC"))


def _table(cols: dict[str, pa.Array]) -> pa.Table:
    """``pa.table(dict)`` without its probe for pandas (importing pandas costs seconds per worker process)."""
    return pa.Table.from_arrays(list(cols.values()), names=list(cols))


def expected_rows(lake: Lake, key: PartitionKey, mult: int, *, quarantined: bool = False) -> set[tuple[int, int]]:
    """The (ts_event ns, price) rows a build with ``mult`` yields from the current raw files
    (``quarantined``: the rows it sets aside instead)."""
    base = int(dt.datetime.combine(key.start, dt.time(), dt.UTC).timestamp()) * 10**9
    rows = set()
    n = 0
    for path in sorted(raw_dir(lake, key).glob("*.txt")):
        for v in (int(x) for x in path.read_text().split()):
            if (v < 0) == quarantined:
                rows.add((base + n, v * mult))
            n += 1
    return rows


def rows_polars(table_dir: Path) -> set[tuple[int, int]]:
    """Rows of the table as polars sees them (hive glob over the table directory)."""
    import polars as pl

    df = pl.scan_parquet(f"{table_dir}/**/*.parquet", hive_partitioning=True).select("ts_event", "price").collect()
    ts = df["ts_event"].dt.epoch("ns").to_list()
    return set(zip(ts, df["price"].to_list(), strict=False))


def rows_pyarrow(table_dir: Path) -> set[tuple[int, int]]:
    """Rows of the table as a pyarrow hive dataset sees them."""
    import pyarrow.dataset as ds

    dataset = ds.dataset(table_dir, partitioning="hive")
    if not dataset.files:
        raise AssertionError("the dataset lists no file: no partition visible")  # never a vanished file
    t = dataset.to_table(columns=["ts_event", "price"])
    ts = t.column("ts_event").cast(pa.int64()).to_pylist()
    return set(zip(ts, t.column("price").to_pylist(), strict=False))


def staging_leftovers(lake: Lake) -> list[Path]:
    """Staging directories (``<key>.<pid>.<hex>``) left under ``<lake>/_staging``."""
    root = lake.internal("staging")
    return [p for p in root.rglob("*=*.*.*") if p.is_dir()] if root.exists() else []


def trash_leftovers(lake: Lake) -> list[Path]:
    """Entries of ``<lake>/_trash`` past their grace period: a purge should have deleted them."""
    from rst.framework.commit import expired_trash

    return expired_trash(lake)


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """name -> (bytes, mtime_ns) of every file in a partition directory."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def data_files(directory: Path) -> dict[str, bytes]:
    """name -> bytes of the Parquet parts of a partition directory."""
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.parquet"))}


def check_manifest_matches_files(directory: Path) -> Any:
    """Assert the complete partition's manifest lists exactly its Parquet files, with their hashes and rows."""
    import hashlib

    import pyarrow.parquet as pq

    from rst.framework.manifest import read_manifest

    m = read_manifest(directory)
    assert m is not None, f"{directory} is not a complete partition"
    on_disk = sorted(p.name for p in directory.glob("*.parquet"))
    assert sorted(o.path for o in m.outputs) == on_disk
    for o in m.outputs:
        data = (directory / o.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == o.sha256
        assert len(data) == o.size
        assert pq.read_metadata(directory / o.path).num_rows == o.rows
    assert sum(o.rows for o in m.outputs) == m.rows_out
    return m
