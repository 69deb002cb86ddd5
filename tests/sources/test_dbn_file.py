"""Columnar DBN decoding against databento's own decoder, on the real sample files."""

from __future__ import annotations

import math
import struct
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path

import databento as db
import databento_dbn as dbn
import numpy as np
import pyarrow as pa
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rst.errors import DbnFormatError
from rst.sources.dbn_file import (
    canonical_schema,
    instrument_symbols,
    iter_batches,
    read_info,
    read_table,
    validate_file,
)

V2_FILES = [
    "dbn/test_data.definition.dbn",
    "dbn/test_data.imbalance.dbn",
    "dbn/test_data.mbo.dbn",
    "dbn/test_data.mbp-1.dbn",
    "dbn/test_data.mbp-10.dbn",
    "dbn/test_data.ohlcv-1d.dbn",
    "dbn/test_data.ohlcv-1h.dbn",
    "dbn/test_data.ohlcv-1m.dbn",
    "dbn/test_data.ohlcv-1s.dbn",
    "dbn/test_data.statistics.dbn",
    "dbn/test_data.status.dbn",
    "dbn/test_data.tbbo.dbn",
    "dbn/test_data.trades.dbn",
]
V3_TWINS = {f: f.replace(".dbn", ".v3.dbn.zst") for f in V2_FILES}
GLBX_V3 = [
    f"databento-python/GLBX.MDP3/test_data.{s}.dbn.zst"
    for s in (
        "definition", "mbo", "mbp-1", "mbp-10", "ohlcv-1d", "ohlcv-1h", "ohlcv-1m",
        "ohlcv-1s", "statistics", "status", "tbbo", "trades",
    )
]
ALL_FILES = [*V2_FILES, *V3_TWINS.values(), "dbn/test_data.mbo.v3.dbn", *GLBX_V3]

UNDEF_PRICE = 2**63 - 1
UNDEF_TIMESTAMP = 2**64 - 1
UNDEF_QTY = {2**31 - 1, 2**63 - 1}


def _reference(path: Path):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = db.DBNStore.from_file(path).to_df(price_type="fixed", pretty_ts=False, map_symbols=False)
    return df.reset_index()


def _is_undefined(col: str, value: object, types: dict[str, pa.DataType]) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    typ = types[col]
    if pa.types.is_timestamp(typ):
        return int(value) == UNDEF_TIMESTAMP  # type: ignore[call-overload]
    if col == "quantity":
        return int(value) in UNDEF_QTY  # type: ignore[call-overload]
    if pa.types.is_int64(typ):
        return int(value) == UNDEF_PRICE  # type: ignore[call-overload]
    if pa.types.is_string(typ):
        return value in ("", "\x00")
    return False


@pytest.mark.parametrize("rel", ALL_FILES)
def test_batches_equal_databento_to_df(sample_file: Callable[[str], Path], rel: str) -> None:
    path = sample_file(rel)
    table = read_table(path)
    ref = _reference(path)
    assert table.num_rows == len(ref)
    types = {f.name: f.type for f in table.schema}
    compared = 0
    for col in table.column_names:
        if col not in ref.columns:
            continue  # v3-only definition fields of a v2 file (checked in the twin test)
        arr = table[col]
        if pa.types.is_timestamp(arr.type):
            arr = arr.cast(pa.int64())
        mine = arr.to_pylist()
        theirs = ref[col].tolist()
        for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            if a is None:
                assert _is_undefined(col, b, types), f"{rel} {col}[{i}]: null vs {b!r}"
            elif pa.types.is_timestamp(types[col]):
                assert a == int(b) and int(b) != UNDEF_TIMESTAMP, f"{rel} {col}[{i}]"
            else:
                assert a == b, f"{rel} {col}[{i}]: {a!r} != {b!r}"
        compared += 1
    assert compared >= 4
    for col in ("rtype", "publisher_id", "instrument_id", "ts_event"):
        assert col in table.column_names
    assert "length" not in table.column_names
    assert not any(c.startswith("_") for c in table.column_names)


@pytest.mark.parametrize("rel", ALL_FILES)
def test_canonical_schema_is_version_independent(sample_file: Callable[[str], Path], rel: str) -> None:
    path = sample_file(rel)
    info = read_info(path)
    assert info.schema is not None
    table = read_table(path)
    assert table.schema == canonical_schema(info.schema)
    assert table.schema.field("ts_event").type == pa.timestamp("ns", tz="UTC")


@pytest.mark.parametrize("rel", V2_FILES)
def test_v2_and_v3_twins_decode_identically(sample_file: Callable[[str], Path], rel: str) -> None:
    v2 = read_table(sample_file(rel))
    v3 = read_table(sample_file(V3_TWINS[rel]))
    assert read_info(sample_file(rel)).version == 2
    assert read_info(sample_file(V3_TWINS[rel])).version == 3
    assert v2.schema == v3.schema
    assert v2.equals(v3), rel


def test_read_info_fields(sample_file: Callable[[str], Path]) -> None:
    info = read_info(sample_file("dbn/test_data.mbp-10.v3.dbn.zst"))
    assert info.version == 3
    assert info.compressed is True
    assert info.dataset == "GLBX.MDP3"
    assert info.schema == "mbp-10"
    assert info.stype_in == "raw_symbol"
    assert info.stype_out == "instrument_id"
    assert info.symbols == ("ESH1",)
    assert info.start == 1609160400000000000
    assert info.end == 1609200000000000000
    assert info.record_size == 368
    assert info.limit == 2
    assert info.ts_out is False
    assert info.mappings == (("ESH1", ((date(2020, 12, 28), date(2020, 12, 29), "5482"),)),)
    plain = read_info(sample_file("dbn/test_data.statistics.dbn"))
    assert (plain.version, plain.compressed, plain.end, plain.symbols) == (2, False, None, ())
    assert plain.record_size == 64  # v2 StatMsg


def test_nulls_for_undefined_values(sample_file: Callable[[str], Path]) -> None:
    stats = read_table(sample_file("dbn/test_data.statistics.dbn"))
    assert stats.schema.field("quantity").type == pa.int64()
    assert stats["quantity"].null_count == stats.num_rows  # i32 max sentinel in v2
    assert stats["ts_ref"].null_count == stats.num_rows
    definition = read_table(sample_file("dbn/test_data.definition.dbn"))
    assert definition["expiration"].null_count == definition.num_rows
    assert definition["strike_price"].null_count == definition.num_rows
    assert definition["raw_symbol"].to_pylist() == ["MSFT", "MSFT"]
    assert definition["leg_count"].to_pylist() == [0, 0]
    assert definition.schema.field("raw_instrument_id").type == pa.uint64()


def test_instrument_symbols(sample_file: Callable[[str], Path]) -> None:
    table = instrument_symbols(read_info(sample_file("dbn/test_data.mbp-10.dbn")))
    assert table.schema.field("instrument_id").type == pa.uint32()
    assert table.to_pylist() == [
        {"instrument_id": 5482, "symbol": "ESH1", "start_date": date(2020, 12, 28), "end_date": date(2020, 12, 29)}
    ]
    empty = instrument_symbols(read_info(sample_file("dbn/test_data.statistics.dbn")))
    assert empty.num_rows == 0


# ---------------------------------------------------------------- errors


def _body(path: Path) -> tuple[bytes, bytes]:
    raw = path.read_bytes()
    if raw[:3] != b"DBN":
        raw = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True).read()
    (meta_len,) = struct.unpack("<I", raw[4:8])
    return raw[: 8 + meta_len], raw[8 + meta_len :]


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_last_record(sample_file: Callable[[str], Path], tmp_path: Path, compress: bool) -> None:
    header, body = _body(sample_file("dbn/test_data.mbp-10.dbn"))
    data = header + body[:-5]
    name = "cut.dbn.zst" if compress else "cut.dbn"
    bad = tmp_path / name
    bad.write_bytes(zstandard.ZstdCompressor().compress(data) if compress else data)
    with pytest.raises(DbnFormatError, match=r"truncated: 363 trailing bytes after 1 complete records") as exc:
        list(iter_batches(bad))
    assert str(bad) in str(exc.value)
    with pytest.raises(DbnFormatError, match="truncated"):
        validate_file(bad)


@pytest.mark.parametrize("cut", [1, 4, 9, 40])
def test_cut_zstd_frame(sample_file: Callable[[str], Path], tmp_path: Path, cut: int) -> None:
    src = sample_file("databento-python/GLBX.MDP3/test_data.mbp-10.dbn.zst")
    bad = tmp_path / "cut.dbn.zst"
    bad.write_bytes(src.read_bytes()[:-cut])
    with pytest.raises(DbnFormatError) as exc:
        validate_file(bad)
    assert str(bad) in str(exc.value)
    assert "truncated" in str(exc.value)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),
        (b"hello, this is not DBN at all", "not a DBN file"),
        (b"DBN\x09\x10\x00\x00\x00" + b"\x00" * 16, "unsupported DBN version 9"),
        (b"DBN\x02\x59\x01\x00\x00" + b"\x00" * 20, "truncated header"),
        (b"DB", "not a DBN file"),
    ],
)
def test_garbage_files(tmp_path: Path, content: bytes, match: str) -> None:
    bad = tmp_path / "bad.dbn"
    bad.write_bytes(content)
    with pytest.raises(DbnFormatError, match=match) as exc:
        list(iter_batches(bad))
    assert str(bad) in str(exc.value)


def test_garbage_inside_zstd(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dbn.zst"
    bad.write_bytes(zstandard.ZstdCompressor().compress(b"\x01" * 1000))
    with pytest.raises(DbnFormatError, match="not a DBN file"):
        read_info(bad)


def test_truncated_header(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    bad = tmp_path / "head.dbn"
    bad.write_bytes(sample_file("dbn/test_data.mbp-10.dbn").read_bytes()[:100])
    with pytest.raises(DbnFormatError, match="truncated header"):
        read_info(bad)


def test_corrupt_record_length(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    header, body = _body(sample_file("dbn/test_data.mbp-10.dbn"))
    corrupt = bytearray(body)
    corrupt[368] = 3  # second record's length byte
    bad = tmp_path / "corrupt.dbn"
    bad.write_bytes(header + bytes(corrupt))
    with pytest.raises(DbnFormatError, match="corrupt record 1"):
        list(iter_batches(bad))


def test_mixed_schema_rejected(tmp_path: Path) -> None:
    meta = dbn.Metadata(
        dataset="GLBX.MDP3", schema=None, start=0, stype_in=None, stype_out=dbn.SType.INSTRUMENT_ID,
        end=1, symbols=[], partial=[], not_found=[], mappings=[], version=3, ts_out=False,
    )
    path = tmp_path / "mixed.dbn"
    path.write_bytes(bytes(meta.encode()))
    assert read_info(path).schema is None
    with pytest.raises(DbnFormatError, match="mixed-schema"):
        list(iter_batches(path))


# ---------------------------------------------------------------- batch sizes


@pytest.fixture(scope="module")
def tiled_mbp10(sample_file: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400-record MBP-10 v3 file (the GLBX sample's 4 records, repeated), zstd."""
    header, body = _body(sample_file("databento-python/GLBX.MDP3/test_data.mbp-10.dbn.zst"))
    path = tmp_path_factory.mktemp("tiled") / "tiled.mbp-10.dbn.zst"
    rec = np.frombuffer(body, dtype=dbn.MBP10Msg._dtypes).copy()
    tiled = np.tile(rec, 100)
    tiled["sequence"] = np.arange(len(tiled), dtype=np.uint32)
    tiled["bid_px_09"][::7] = UNDEF_PRICE  # some undefined levels
    path.write_bytes(zstandard.ZstdCompressor().compress(header + tiled.tobytes()))
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.integers(min_value=1, max_value=500), prefetch=st.integers(min_value=0, max_value=2))
def test_any_batch_size_gives_the_same_table(tiled_mbp10: Path, batch: int, prefetch: int) -> None:
    whole = read_table(tiled_mbp10, batch_records=1000)
    batches = list(iter_batches(tiled_mbp10, batch, prefetch=prefetch))
    assert all(b.num_rows <= batch for b in batches)
    assert pa.Table.from_batches(batches).equals(whole)
    assert whole.num_rows == 400
    assert whole["bid_px_09"].null_count == len(range(0, 400, 7))
    assert whole["sequence"].to_pylist() == list(range(400))


def test_validate_file_counts_records(tiled_mbp10: Path) -> None:
    info, count = validate_file(tiled_mbp10)
    assert (info.schema, count) == ("mbp-10", 400)


def test_early_close_stops_worker(tiled_mbp10: Path) -> None:
    gen = iter_batches(tiled_mbp10, 10, prefetch=2)
    first = next(gen)
    assert first.num_rows == 10
    gen.close()  # must not hang or leak the worker thread


def test_ts_out_column(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    _, body = _body(sample_file("dbn/test_data.trades.dbn"))
    rec = np.frombuffer(body, dtype=dbn.TradeMsg._dtypes)
    with_ts_out = np.zeros(len(rec), dtype=[*dbn.TradeMsg._dtypes, ("ts_out", "u8")])
    for name in rec.dtype.names:
        with_ts_out[name] = rec[name]
    with_ts_out["length"] = with_ts_out.dtype.itemsize // 4
    with_ts_out["ts_out"] = rec["ts_recv"] + 1000
    meta = dbn.Metadata(
        dataset="GLBX.MDP3", schema=dbn.Schema.TRADES, start=0, stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID, end=1, symbols=["ESH1"], partial=[], not_found=[],
        mappings=[], version=3, ts_out=True,
    )
    path = tmp_path / "ts_out.trades.dbn"
    path.write_bytes(bytes(meta.encode()) + with_ts_out.tobytes())
    info = read_info(path)
    assert info.ts_out and info.record_size == 56
    table = read_table(path)
    assert table.column_names[-1] == "ts_out"
    assert table.schema == canonical_schema("trades", ts_out=True)
    assert table["ts_out"].cast(pa.int64()).to_pylist() == (rec["ts_recv"].astype(np.int64) + 1000).tolist()
    assert table["price"].to_pylist() == rec["price"].tolist()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lo=st.integers(0, 8), width=st.integers(0, 8), batch=st.integers(1, 5))
def test_time_filter_equals_filtering_afterwards(
    sample_file: Callable[[str], Path], lo: int, width: int, batch: int
) -> None:
    """Filtering raw records by time before conversion gives exactly the rows a filter after it keeps."""
    path = sample_file("databento-python/GLBX.MDP3/test_data.ohlcv-1s.dbn.zst")
    full = read_table(path)
    ts = sorted(set(full.column("ts_event").cast(pa.int64()).to_pylist()))
    points = [ts[0] - 1, *ts, ts[-1] + 1]
    start = points[min(lo, len(points) - 1)]
    end = points[min(lo + width, len(points) - 1)]
    filtered = pa.Table.from_batches(
        list(iter_batches(path, batch, prefetch=0, time_filter=("ts_event", start, end))),
        schema=full.schema,
    )
    epoch = full.column("ts_event").cast(pa.int64()).to_pylist()
    want = full.filter(pa.array([start <= t < end for t in epoch]))
    assert filtered.equals(want)
