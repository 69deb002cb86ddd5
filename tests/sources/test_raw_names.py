"""Issue 9 item 1: names read from a DBN file's metadata never choose a path in the raw zone.

Each test crafts a DBN file with ``databento_dbn`` whose dataset, symbols or file name carry a path
separator, ``..``, NUL, a newline or too many characters; the import must refuse it with one line naming
the file and the bad value, and write nothing outside ``raw/`` (or inside it).
"""

from __future__ import annotations

import os
from pathlib import Path

import databento_dbn as dbn
import pytest

from rst.errors import RawZoneError
from rst.sources.raw_zone import RawZone


def dbn_bytes(dataset: str = "GLBX.MDP3", symbols: tuple[str, ...] = ("ES.FUT",)) -> bytes:
    """A header-only (zero-record) v3 daily-bar DBN file with the given metadata."""
    meta = dbn.Metadata(
        dataset=dataset, schema=dbn.Schema.OHLCV_1D, start=1_704_067_200 * 10**9, end=1_704_153_600 * 10**9,
        stype_in=dbn.SType.PARENT, stype_out=dbn.SType.INSTRUMENT_ID, symbols=list(symbols), partial=[],
        not_found=[], mappings=[], version=3, ts_out=False,
    )  # fmt: skip
    return bytes(meta.encode())


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def zone(tmp_path: Path) -> RawZone:
    return RawZone(tmp_path / "lake")


def _import_refused(zone: RawZone, tmp_path: Path, data: bytes, name: str = "crafted.dbn") -> str:
    src = tmp_path / "incoming" / "crafted.dbn"
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data)
    before = files_under(tmp_path)
    with pytest.raises(RawZoneError) as info:
        if name == "crafted.dbn":
            zone.import_file(src)
        else:
            zone.import_bytes(data, name)
    text = str(info.value)
    assert "\n" not in text and len(text) < 400
    if name == "crafted.dbn":
        assert str(src) in text  # names the file
    after = [p for p in files_under(tmp_path) if "_staging" not in p and "_locks" not in p]
    assert [p for p in after if p not in before and not os.path.isdir(tmp_path / p)] == []
    return text


def test_a_well_named_file_is_placed(zone: RawZone, tmp_path: Path) -> None:
    src = tmp_path / "ok.dbn"
    src.write_bytes(dbn_bytes())
    entry = zone.import_file(src)
    assert entry.path == "raw/source=databento/dataset=GLBX.MDP3/schema=ohlcv-1d/parent=ES/ok.dbn"


@pytest.mark.parametrize("dataset", ["../../x", "..", "GLBX/MDP3", "GLBX.MDP3\n", "GLBX\x00MDP3", "glbx.mdp3"])
def test_bad_metadata_dataset_is_refused(zone: RawZone, tmp_path: Path, dataset: str) -> None:
    text = _import_refused(zone, tmp_path, dbn_bytes(dataset=dataset))
    assert "metadata dataset" in text and repr(dataset) in text
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("symbol", ["ES\x00.FUT", "ES\n.FUT", "ES.FUT\n", "ESH4\n", "../ES.FUT", "E/S.FUT", "A" * 60 + ".FUT"])
def test_bad_metadata_symbols_are_refused(zone: RawZone, tmp_path: Path, symbol: str) -> None:
    text = _import_refused(zone, tmp_path, dbn_bytes(symbols=(symbol,)))
    assert "cannot derive a parent" in text


@pytest.mark.parametrize("override", ["ES\n", "E\x00S", "../ES", "ES/x"])
def test_bad_parent_override_is_refused(zone: RawZone, tmp_path: Path, override: str) -> None:
    src = tmp_path / "ok.dbn"
    src.write_bytes(dbn_bytes())
    with pytest.raises(RawZoneError, match="expected a parent root") as info:
        zone.import_file(src, symbol=override)
    assert "\n" not in str(info.value) and str(src) in str(info.value)


@pytest.mark.parametrize("name", ["../../x.dbn", "a/b.dbn", "x.dbn\n", "x\x00.dbn", ".hidden.dbn", "_x.dbn", "x" * 250])
def test_bad_file_names_are_refused(zone: RawZone, tmp_path: Path, name: str) -> None:
    text = _import_refused(zone, tmp_path, dbn_bytes(), name=name)
    assert "file name" in text
