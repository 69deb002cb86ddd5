"""SeriesStore: one human-editable TOML file per series under <lake>/_config/series/."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rst.errors import SeriesError
from rst.series import SeriesDefinition, SeriesStore, dumps_toml, fingerprint


def _defn(series_id: str = "es-front", **kw: object) -> SeriesDefinition:
    return SeriesDefinition(series_id, "ES", "days_before_expiry", 5, "backward_ratio", **kw)  # type: ignore[arg-type]


def test_add_get_list_remove_round_trip(tmp_path: Path) -> None:
    store = SeriesStore(tmp_path)
    assert store.list() == []
    a = _defn(allowed_months="HMUZ", start=dt.date(2010, 6, 1), notes='front "month"\nline two \\ tab\t')
    b = _defn("nq-back", contract_rank=1)
    path = store.add(a)
    assert path == tmp_path / "_config" / "series" / "es-front.toml"
    store.add(b)
    assert store.get("es-front") == a
    assert [x.series_id for x in store.list()] == ["es-front", "nq-back"]
    store.remove("nq-back")
    assert [x.series_id for x in store.list()] == ["es-front"]
    with pytest.raises(SeriesError, match="unknown series 'nq-back'"):
        store.get("nq-back")
    with pytest.raises(SeriesError, match="nothing to remove"):
        store.remove("nq-back")
    assert not list(path.parent.glob(".*tmp"))


def test_duplicate_refused_unless_replace(tmp_path: Path) -> None:
    store = SeriesStore(tmp_path)
    store.add(_defn())
    with pytest.raises(SeriesError, match="already exists.*--replace"):
        store.add(_defn(contract_rank=2))
    changed = SeriesDefinition("es-front", "ES", "volume_crossover", 2, "none")
    store.add(changed, replace=True)
    assert store.get("es-front") == changed
    assert store.fingerprint(changed) == fingerprint(changed) != fingerprint(_defn())


def test_file_is_human_readable_and_hand_edits_load(tmp_path: Path) -> None:
    store = SeriesStore(tmp_path)
    path = store.add(_defn(start=dt.date(2010, 6, 1)))
    text = path.read_text()
    assert 'roll_rule = "days_before_expiry"\n' in text
    assert "start = 2010-06-01\n" in text
    assert "roll_offset_days = 5\n" in text
    path.write_text(text.replace("roll_offset_days = 5", "roll_offset_days = 3") + "# a comment\n")
    assert store.get("es-front").roll_offset_days == 3


def test_invalid_files_name_file_and_field(tmp_path: Path) -> None:
    store = SeriesStore(tmp_path)
    path = store.add(_defn())
    path.write_text(path.read_text().replace('"backward_ratio"', '"ratio"'))
    with pytest.raises(SeriesError, match=r"es-front\.toml: field 'adjustment': 'ratio' is not one of"):
        store.get("es-front")
    path.write_text("series_id = \n")
    with pytest.raises(SeriesError, match=r"es-front\.toml: not valid TOML"):
        store.list()
    other = path.with_name("other.toml")
    other.write_text(dumps_toml(_defn().to_mapping()))
    path.unlink()
    with pytest.raises(SeriesError, match=r"other\.toml: field 'series_id': 'es-front' does not match"):
        store.get("other")


def test_bad_series_id_is_refused_before_touching_files(tmp_path: Path) -> None:
    with pytest.raises(SeriesError, match="slug"):
        SeriesStore(tmp_path).get("../etc/passwd")


@settings(max_examples=60, deadline=None)
@given(notes=st.text(max_size=40), months=st.sets(st.sampled_from("FGHJKMNQUVXZ")).map("".join))
def test_toml_writer_round_trips_any_text(notes: str, months: str) -> None:
    defn = _defn(notes=notes, allowed_months=months)
    doc = tomllib.loads(dumps_toml(defn.to_mapping()))
    assert SeriesDefinition.from_mapping(doc) == defn
