"""Hostile DBN headers: bounded memory, one-line errors, no decoder panic escapes (issue 9, items 6 and 12).

Every file is crafted here with ``databento_dbn``'s encoder, then patched. Memory is measured
in a fresh interpreter (:func:`hostile_input.peak_rss`).
"""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import databento_dbn as dbn
import pytest
import zstandard

from hostile_input import GIB, metadata, peak_rss, write_zeros
from rst.errors import DbnFormatError
from rst.sources.dbn_file import instrument_symbols, read_info, validate_file
from rst.sources.dbn_metadata import FIXED_LEN, MAX_METADATA_BYTES, is_rust_panic, rust_guard

PRELUDE = 8
WIDTH_AT = PRELUDE + 45  # u16 symbol_cstr_len (v2/v3)
SYMBOLS_AT = PRELUDE + FIXED_LEN + 4  # u32 count of requested symbols


def _mapping(raw: str, *intervals: tuple[dt.date, dt.date, str]) -> object:
    from rst.sources.synthetic.symbology import MappingInterval, SymbolMapping

    return SymbolMapping(raw, [MappingInterval(*iv) for iv in intervals])


def _empty_header() -> bytearray:
    return bytearray(metadata(dbn.Schema.TRADES, 0, 10, symbols=[], stype_in=dbn.SType.RAW_SYMBOL))


def test_metadata_length_claiming_gigabytes_is_refused_before_reading(tmp_path: Path) -> None:
    """(a) The prelude claims 3.75 GiB of metadata and 2 GiB of zeros follow: refused, nothing read."""
    path = tmp_path / "claim.dbn.zst"
    with open(path, "wb") as f:
        f.write(zstandard.ZstdCompressor().compress(b"DBN\x03" + struct.pack("<I", 0xF000_0000)))
        write_zeros(f, 2 * GIB)
    peak, out = peak_rss(
        f"""
        from rst.errors import DbnFormatError
        from rst.sources.dbn_file import validate_file
        try:
            validate_file({str(path)!r})
        except DbnFormatError as exc:
            print("refused:", exc)
        """
    )
    assert peak < GIB
    assert f"refused: {path}: header claims {0xF000_0000} bytes of metadata" in out
    with pytest.raises(DbnFormatError, match=str(MAX_METADATA_BYTES)):
        read_info(path)


def test_symbol_width_field_cannot_multiply_the_symbol_count(tmp_path: Path) -> None:
    """A 1 KB file: 30 million one-byte symbols (width field 1) would be 3 GB of decoded strings."""
    header = _empty_header()
    meta = bytearray(header[PRELUDE : SYMBOLS_AT])
    struct.pack_into("<H", meta, WIDTH_AT - PRELUDE, 1)
    count = 30_000_000
    meta += struct.pack("<I", count) + b"A" * count + bytes(12)  # partial, not_found, mappings: none
    path = tmp_path / "wide.dbn.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(b"DBN\x03" + struct.pack("<I", len(meta)) + meta))
    peak, out = peak_rss(
        f"""
        from rst.errors import DbnFormatError
        from rst.sources.dbn_file import read_info
        try:
            read_info({str(path)!r})
        except DbnFormatError as exc:
            print("refused:", exc)
        """
    )
    assert peak < GIB
    assert f"refused: {path}: corrupt DBN metadata: symbol width 1 bytes" in out


def _patched(tmp_path: Path, case: str) -> Path:
    """A small header with one impossible field."""
    day = dt.date(2024, 3, 4)
    header = bytearray(
        metadata(
            dbn.Schema.TRADES, 0, 10, symbols=["ESH4"], stype_in=dbn.SType.RAW_SYMBOL,
            mappings=[_mapping("ESH4", (day, day + dt.timedelta(days=1), "5482"))],
        )
    )  # fmt: skip
    date_at = header.index(struct.pack("<I", 20240304))
    count_at = header.index(b"ESH4", SYMBOLS_AT + 4 + 71) + 71  # the mapping's interval count
    if case == "mapping count":
        struct.pack_into("<I", header, count_at - 71 - 4, 0xFFFF_FFFF)
    elif case == "interval count":
        struct.pack_into("<I", header, count_at, 0xFFFF_FFFF)
    elif case == "symbol count":
        struct.pack_into("<I", header, SYMBOLS_AT, 0xFFFF_FFFF)
    elif case == "date":
        struct.pack_into("<I", header, date_at, 20240231)
    elif case == "year 0":
        struct.pack_into("<I", header, date_at, 101)
    path = tmp_path / f"{case.replace(' ', '_')}.dbn"
    path.write_bytes(bytes(header))
    return path


@pytest.mark.parametrize("case", ["mapping count", "interval count", "symbol count", "date", "year 0"])
def test_impossible_header_fields_are_one_line_errors(tmp_path: Path, case: str) -> None:
    path = _patched(tmp_path, case)
    with pytest.raises(DbnFormatError) as info:
        read_info(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message


def test_decoder_panic_becomes_dbn_format_error(tmp_path: Path) -> None:
    """A real panic: metadata of 100 bytes (the fixed fields, without the schema definition length)."""
    header = _empty_header()
    path = tmp_path / "panic.dbn"
    path.write_bytes(bytes(header[:4]) + struct.pack("<I", FIXED_LEN) + bytes(header[PRELUDE : PRELUDE + FIXED_LEN]))
    with pytest.raises(DbnFormatError, match="undecodable DBN metadata") as info:
        validate_file(path)
    assert str(info.value).startswith(f"{path}: ")
    cause = info.value.__cause__
    assert cause is not None and is_rust_panic(cause) and not isinstance(cause, Exception)


def test_rust_guard_converts_only_errors_and_panics(tmp_path: Path) -> None:
    with pytest.raises(DbnFormatError, match="what: boom"), rust_guard(tmp_path, "what"):
        raise ValueError("boom\nsecond line")
    with pytest.raises(KeyboardInterrupt), rust_guard(tmp_path, "what"):
        raise KeyboardInterrupt


def test_mappings_equal_the_decoders(tmp_path: Path) -> None:
    """rst's columnar mapping decoder agrees with ``databento_dbn``'s on a mixed header."""
    d = dt.date(2024, 1, 2)
    maps = [
        _mapping("ESH4", (d, d + dt.timedelta(days=3), "5482"), (d + dt.timedelta(days=3), d + dt.timedelta(days=9), "77")),
        _mapping("ESM4", (d, d + dt.timedelta(days=1), "")),
        _mapping("ES.c.0", *[(d + dt.timedelta(days=i), d + dt.timedelta(days=i + 1), str(1000 + i)) for i in range(50)]),
        _mapping("ESU4"),
    ]
    header = metadata(dbn.Schema.TRADES, 0, 10, symbols=["ES.FUT"], mappings=maps)
    path = tmp_path / "maps.dbn"
    path.write_bytes(header)
    expected = dbn.Metadata.decode(header).mappings
    got = read_info(path).mappings
    assert [raw for raw, _ in got] == ["ESH4", "ESM4", "ES.c.0", "ESU4"]
    assert {raw: [{"start_date": s, "end_date": e, "symbol": sym} for s, e, sym in ivs] for raw, ivs in got} == expected
    table = instrument_symbols(read_info(path))
    assert table.num_rows == 2 + 50  # the unresolved (empty) interval is skipped
    assert table.column("instrument_id").to_pylist()[:2] == [5482, 77]


def test_200k_mapping_intervals_stay_bounded(tmp_path: Path) -> None:
    """(e) A header with 200,000 mapping intervals: decoded and tabulated in bounded memory."""
    first = dt.date(2020, 1, 1)
    maps = [
        _mapping(f"ES{i:06d}", (first + dt.timedelta(days=i % 900), first + dt.timedelta(days=i % 900 + 1), str(10_000 + i)))
        for i in range(200_000)
    ]
    path = tmp_path / "maps.dbn.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(metadata(dbn.Schema.TRADES, 0, 10, mappings=maps)))
    del maps
    peak, out = peak_rss(
        f"""
        from rst.sources.dbn_file import instrument_symbols, read_info
        info = read_info({str(path)!r})
        print("intervals", instrument_symbols(info).num_rows, len(info.mappings))
        """
    )
    assert "intervals 200000 200000" in out
    assert peak < GIB
