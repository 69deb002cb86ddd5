"""The immutable raw zone: validated placement, no overwrite, catalogue, coverage."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rst.errors import DbnFormatError, RawZoneError
from rst.framework.hashing import sha256_bytes, sha256_file
from rst.sources.raw_zone import RawZone, merge_intervals, parent_symbol, subtract_intervals

MBP10_V3 = "databento-python/GLBX.MDP3/test_data.mbp-10.dbn.zst"
TRADES_V3 = "databento-python/GLBX.MDP3/test_data.trades.dbn.zst"
STATS_V2 = "dbn/test_data.statistics.dbn"
DEF_MSFT = "dbn/test_data.definition.dbn"


def _tree(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_import_places_read_only_file_and_catalogue(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    src = sample_file(MBP10_V3)
    zone = RawZone(tmp_path)
    entry = zone.import_file(src)
    rel = "raw/source=databento/dataset=GLBX.MDP3/schema=mbp-10/symbol=ES/test_data.mbp-10.dbn.zst"
    assert entry.path == rel
    dest = tmp_path / rel
    assert entry.abspath(tmp_path) == dest
    assert dest.read_bytes() == src.read_bytes()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o444
    assert entry.sha256 == sha256_file(src) == sha256_bytes(src.read_bytes())
    assert (entry.size, entry.record_count, entry.dbn_version) == (src.stat().st_size, 4, 3)
    assert (entry.dataset, entry.schema, entry.parent, entry.symbols) == ("GLBX.MDP3", "mbp-10", "ES", ("ESH1",))
    assert (entry.start_ns, entry.end_ns) == (1609113600000000000, 1609200000000000000)
    doc = json.loads((tmp_path / "raw/_catalog" / f"{entry.sha256}.json").read_text())
    assert doc["path"] == rel and doc["record_count"] == 4 and doc["imported_at"]
    assert zone.files() == [entry]
    assert zone.files(dataset="GLBX.MDP3", schema="mbp-10", symbol="ES") == [entry]
    assert zone.files(schema="trades") == []
    assert _tree(tmp_path / "_staging") == []


def test_import_twice_is_a_noop(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    first = zone.import_file(sample_file(MBP10_V3))
    before = _tree(tmp_path)
    again = zone.import_file(sample_file(MBP10_V3))
    assert again == first
    assert _tree(tmp_path) == before


def test_same_name_different_content_refused(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path / "lake")
    zone.import_file(sample_file(MBP10_V3))
    impostor = tmp_path / "in" / "test_data.mbp-10.dbn.zst"
    impostor.parent.mkdir()
    shutil.copy(sample_file("dbn/test_data.mbp-10.v3.dbn.zst"), impostor)  # other ESH1 mbp-10 data
    with pytest.raises(RawZoneError) as exc:
        zone.import_file(impostor)
    msg = str(exc.value)
    assert str(impostor) in msg
    assert "symbol=ES/test_data.mbp-10.dbn.zst" in msg
    assert _tree(tmp_path / "lake" / "_staging") == []
    assert len(zone.files()) == 1


@pytest.mark.parametrize("cut", [5, 30])
def test_truncated_file_leaves_nothing(sample_file: Callable[[str], Path], tmp_path: Path, cut: int) -> None:
    bad = tmp_path / "in" / "cut.mbp-10.dbn.zst"
    bad.parent.mkdir()
    bad.write_bytes(sample_file(MBP10_V3).read_bytes()[:-cut])
    lake = tmp_path / "lake"
    zone = RawZone(lake)
    with pytest.raises(DbnFormatError) as exc:
        zone.import_file(bad)
    assert str(bad) in str(exc.value)
    assert _tree(lake / "raw") == []
    assert _tree(lake / "_staging") == []
    assert zone.files() == []


def test_garbage_leaves_nothing(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with pytest.raises(DbnFormatError):
        RawZone(lake).import_bytes(b"not dbn", "junk.dbn.zst")
    assert _tree(lake / "raw") == [] and _tree(lake / "_staging") == []


def test_symbol_override_and_underivable_parent(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    with pytest.raises(RawZoneError, match="pass symbol="):
        zone.import_file(sample_file(STATS_V2))  # requested by instrument id: no symbols
    entry = zone.import_file(sample_file(STATS_V2), symbol="es")
    assert entry.parent == "ES"
    assert "/symbol=ES/" in entry.path
    assert entry.end_ns is None
    with pytest.raises(RawZoneError, match="cannot derive a parent"):
        zone.import_file(sample_file(DEF_MSFT))  # equity symbol, not a futures raw symbol
    assert _tree(tmp_path / "_staging") == []


def test_import_stream_and_staged(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    data = sample_file(TRADES_V3).read_bytes()
    entry = zone.import_stream(io.BytesIO(data), "glbx-es-20201228.trades.dbn.zst")
    assert entry.path.endswith("schema=trades/symbol=ES/glbx-es-20201228.trades.dbn.zst")
    # a downloader streamed into _staging itself
    staged = tmp_path / "_staging" / "download-123.part"
    staged.write_bytes(sample_file(MBP10_V3).read_bytes())
    placed = zone.import_staged(staged, name="glbx-es-20201228.mbp-10.dbn.zst")
    assert placed.abspath(tmp_path).is_file()
    assert not staged.exists()
    outside = tmp_path / "elsewhere.dbn.zst"
    outside.write_bytes(data)
    with pytest.raises(RawZoneError, match="_staging"):
        zone.import_staged(outside, name="x.dbn.zst")


def test_rescan_catalogues_dropped_files(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    rel = "raw/source=databento/dataset=GLBX.MDP3/schema=trades/symbol=ES/dropped.trades.dbn.zst"
    dest = tmp_path / rel
    dest.parent.mkdir(parents=True)
    shutil.copy(sample_file(TRADES_V3), dest)
    assert zone.files() == []
    added = zone.rescan()
    assert [e.path for e in added] == [rel]
    assert added[0].record_count == 4
    assert stat.S_IMODE(dest.stat().st_mode) == 0o444
    assert zone.rescan() == []
    assert zone.files() == added
    # importing the same bytes under that name again is a no-op
    src = tmp_path / "dropped.trades.dbn.zst"
    shutil.copy(sample_file(TRADES_V3), src)
    assert zone.import_file(src) == added[0]


def test_rescan_refuses_misplaced(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    dest = tmp_path / "raw/source=databento/dataset=GLBX.MDP3/schema=mbp-1/symbol=ES/wrong.dbn.zst"
    dest.parent.mkdir(parents=True)
    shutil.copy(sample_file(TRADES_V3), dest)
    with pytest.raises(RawZoneError, match="misplaced"):
        RawZone(tmp_path).rescan()


def test_coverage_and_uncovered(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    zone.import_file(sample_file(MBP10_V3))  # 2020-12-28 00:00 .. 2020-12-29 00:00
    zone.import_file(sample_file("dbn/test_data.mbp-10.v3.dbn.zst"))  # 2020-12-28 13:00 .. 12-29
    day = 86_400 * 10**9
    start = 1609113600000000000
    assert zone.coverage("GLBX.MDP3", "mbp-10", "ES") == [(start, start + day)]
    assert zone.uncovered("GLBX.MDP3", "mbp-10", "ES", start - day, start + 2 * day) == [
        (start - day, start),
        (start + day, start + 2 * day),
    ]
    assert zone.uncovered("GLBX.MDP3", "mbp-10", "ES", start, start + day) == []
    assert zone.coverage("GLBX.MDP3", "mbp-10", "NQ") == []


def test_parent_symbol() -> None:
    assert parent_symbol(["ES.FUT"]) == "ES"
    assert parent_symbol(["ESH1", "ESM1", "ESH1-ESM1"]) == "ES"
    assert parent_symbol(["ES.c.0"]) == "ES"
    assert parent_symbol(["6EM4"]) == "6E"
    assert parent_symbol(["MESZ23"]) == "MES"
    with pytest.raises(RawZoneError, match="several parents"):
        parent_symbol(["ES.FUT", "NQ.FUT"])


def test_read_only_files_survive_in_place(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    entry = RawZone(tmp_path).import_file(sample_file(MBP10_V3))
    dest = entry.abspath(tmp_path)
    if os.geteuid() != 0:  # root ignores permission bits
        with pytest.raises(PermissionError):
            dest.open("ab")
    assert not os.access(dest, os.W_OK) or os.geteuid() == 0


intervals = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 200)).map(lambda t: (min(t), max(t))), max_size=8
)


@given(covered=intervals, window=st.tuples(st.integers(0, 200), st.integers(0, 200)).map(lambda t: (min(t), max(t))))
def test_uncovered_partitions_the_window(covered: list[tuple[int, int]], window: tuple[int, int]) -> None:
    lo, hi = window
    merged = merge_intervals(covered)
    gaps = subtract_intervals(window, covered)
    points_window = set(range(lo, hi))
    points_covered = {x for a, b in merged for x in range(a, b)} & points_window
    points_gaps = {x for a, b in gaps for x in range(a, b)}
    assert points_gaps | points_covered == points_window  # union is the window
    assert not points_gaps & points_covered  # disjoint
    for a, b in [*gaps, *merged]:
        assert a < b
    assert all(gaps[i][1] < gaps[i + 1][0] for i in range(len(gaps) - 1))  # sorted, maximal
    assert all(merged[i][1] < merged[i + 1][0] for i in range(len(merged) - 1))
