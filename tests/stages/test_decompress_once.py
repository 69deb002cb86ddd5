"""Each raw file is decompressed once for all the trading dates it feeds (issue 14, item 3).

The seam: :func:`rst.sources.dbn_file._raw_chunks`, the only reader of a raw file's compressed
body; each call is one decompression pass. Outputs must not depend on whether a partition was
built from its slice or from the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rst.sources.dbn_file as dbn_file
from rst.framework.lake import Lake, Layer
from rst.framework.lock import PartitionLock
from rst.sources.dbn_slices import Aside, SliceWriter, open_slice
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import write_dbn_file
from rst.stages.bronze.base import BronzeStage
from rst.stages.registry import stages_for

DAYS = (dt.date(2024, 2, 5), dt.date(2024, 2, 9))
"""UTC Monday to Friday: one file touching five trading dates (Mon..Fri)."""


def _lake(root: Path, tmp: Path, schema: str) -> Lake:
    zone = RawZone(root)
    zone.import_file(write_dbn_file(tmp / "defs.dbn.zst", "definition", "ES", dt.date(2024, 1, 1), dt.date(2024, 3, 1)))
    zone.import_file(write_dbn_file(tmp / f"{schema}.dbn.zst", schema, "ES", *DAYS, seed=5, intraday_scale=0.02))
    return Lake(root)


def _build(lake: Lake, table: str) -> dict[str, str]:
    """Build every partition of ``table`` in date order; partition -> digest of its part files."""
    stage = next(s for s in stages_for(lake, Layer.BRONZE, "ES") if s.table == table)
    out = {}
    for key in stage.available_keys():
        result = stage.run(key, force=True)
        assert result.error is None, result.error
        files = sorted(stage.partition(key).path(lake).glob("*.parquet"))
        out[key.value] = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    return out


def _count_passes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    passes: Counter[str] = Counter()
    original = dbn_file._raw_chunks

    def counting(path, info, batch_records):  # type: ignore[no-untyped-def]
        passes[Path(path).name] += 1
        return original(path, info, batch_records)

    monkeypatch.setattr(dbn_file, "_raw_chunks", counting)
    return passes


@pytest.mark.parametrize(("schema", "table"), [("mbp-1", "mbp_1"), ("trades", "trades")])
def test_a_multi_day_file_is_decompressed_once_with_the_same_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schema: str, table: str
) -> None:
    plain = _lake(tmp_path / "plain", tmp_path, schema)
    once = _lake(tmp_path / "once", tmp_path, schema)

    passes = _count_passes(monkeypatch)
    with monkeypatch.context() as m:  # the reference: no slices, every partition reads the file
        m.setattr(BronzeStage, "aside", lambda self, ctx, path, consume=True: Aside(tmp_path / "none", consume=consume))
        expected = _build(plain, table)
    assert len(expected) == 5 and passes[f"{schema}.dbn.zst"] == 5
    passes.clear()

    got = _build(once, table)
    assert got == expected  # byte-identical partitions
    assert passes[f"{schema}.dbn.zst"] == 1  # one decompression for five trading dates
    assert [p for p in once.internal("slices").rglob("*") if p.is_file()] == []  # every slice read and removed


def test_an_interrupted_pass_publishes_no_slice(tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake", tmp_path, "trades")
    path = next(f.abspath(lake.root) for f in RawZone(lake.root).files(schema="trades"))
    directory = tmp_path / "slices"
    windows = ((2**62, 2**63),)  # a sibling window: its (empty) slice is published only by a whole pass
    aside = Aside(directory, lambda: windows)
    batches = dbn_file.iter_batches(path, 64, time_filter=("ts_recv", 0, 2**62), aside=aside)
    assert next(batches).num_rows == 64  # reads the first chunks only
    batches.close()  # type: ignore[attr-defined]
    assert list(directory.iterdir()) == []  # neither a published slice nor a temporary file


@given(
    ts=st.lists(st.integers(0, 99), max_size=200),
    cuts=st.lists(st.integers(0, 100), min_size=2, max_size=8, unique=True),
)
def test_slice_writer_sends_each_record_to_its_window_in_order(
    tmp_path_factory: pytest.TempPathFactory, ts: list[int], cuts: list[int]
) -> None:
    tmp = tmp_path_factory.mktemp("slices")
    source = tmp / "source.dbn"
    source.write_bytes(b"x")
    edges = sorted(cuts)
    windows = tuple((lo, hi) for lo, hi in zip(edges[::2], edges[1::2], strict=False))  # disjoint, with gaps
    rec = np.zeros(len(ts), dtype=[("ts_recv", "u8"), ("n", "u4")])
    rec["ts_recv"] = ts
    rec["n"] = np.arange(len(ts))
    writer = SliceWriter(Aside(tmp), windows, source, "ts_recv")
    for chunk in np.array_split(rec, 3):
        writer.add(chunk)
    writer.publish()
    for lo, hi in windows:
        f = open_slice(tmp, source, "ts_recv", lo, hi)
        assert f is not None
        with f:
            got = np.frombuffer(f.read(), dtype=rec.dtype)
        assert got.tolist() == rec[(rec["ts_recv"] >= lo) & (rec["ts_recv"] < hi)].tolist()


def test_no_slice_for_a_partition_another_process_is_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = _lake(tmp_path / "lake", tmp_path, "trades")
    stage = next(s for s in stages_for(lake, Layer.BRONZE, "ES") if s.table == "trades")
    keys = stage.available_keys()
    passes = _count_passes(monkeypatch)
    with PartitionLock(lake, stage.partition(keys[1])):  # "another process" holds Tuesday: held_locks() sees it
        assert stage.run(keys[0]).error is None
    published = [p.name for p in lake.internal("slices").rglob("*.records")]
    assert len(published) == len(keys) - 2  # Wednesday..Friday set aside, not Tuesday
    for key in keys[1:]:
        assert stage.run(key).error is None
    assert passes["trades.dbn.zst"] == 2  # Monday's pass, and Tuesday's own (no slice for it)
    assert list(lake.internal("slices").rglob("*.records")) == []


def test_a_pass_sets_aside_a_bounded_number_of_partitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rst.stages.bronze.base as base

    monkeypatch.setattr(base, "SLICE_SIBLINGS", 2)
    lake = _lake(tmp_path / "lake", tmp_path, "trades")
    passes = _count_passes(monkeypatch)
    assert len(_build(lake, "trades")) == 5
    assert passes["trades.dbn.zst"] == 2  # Monday sets aside Tuesday and Wednesday; Thursday, Friday


def test_no_room_for_slices_only_costs_decompressions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = _lake(tmp_path / "lake", tmp_path, "trades")
    lake.internal("slices").write_text("not a directory")  # every slice write fails
    passes = _count_passes(monkeypatch)
    assert len(_build(lake, "trades")) == 5  # every partition built
    assert passes["trades.dbn.zst"] == 5
