"""Issue 9 item 13: impossible series definitions are refused at the door (library, TOML file, CLI).

Roll offsets beyond :data:`MAX_ROLL_OFFSET_DAYS`, start dates outside 1970..2200, and series ids or
parents carrying control characters (a trailing newline included) are refused with one line naming the
field (and the file, when read from one).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rst.cli.main import cli
from rst.errors import SeriesError
from rst.framework.lake import Lake
from rst.series import SeriesStore
from rst.series.definition import MAX_ROLL_OFFSET_DAYS, SeriesDefinition

BASE = {
    "series_id": "es_front",
    "parent": "ES",
    "roll_rule": "days_before_expiry",
    "roll_offset_days": 5,
    "adjustment": "none",
}


def _refused(**changes: object) -> str:
    with pytest.raises(SeriesError) as info:
        SeriesDefinition(**{**BASE, **changes})  # type: ignore[arg-type]
    text = str(info.value)
    assert "\n" not in text
    return text


def test_roll_offset_is_bounded() -> None:
    assert SeriesDefinition(**{**BASE, "roll_offset_days": MAX_ROLL_OFFSET_DAYS}).roll_offset_days == 365  # type: ignore[arg-type]
    for bad in (MAX_ROLL_OFFSET_DAYS + 1, 10**9, -1):
        assert "roll_offset_days" in _refused(roll_offset_days=bad)


@pytest.mark.parametrize("start", ["1969-12-31", "2201-01-01", "0001-01-01"])
def test_start_outside_1970_2200_is_refused(start: str) -> None:
    assert "1970-01-01..2200-12-31" in _refused(start=start)


@pytest.mark.parametrize("series_id", ["es_front\n", "es\x00front", "es\tfront", "../es", "es/front", "a" * 65, ""])
def test_series_ids_are_matched_whole(series_id: str) -> None:
    assert "series_id" in _refused(series_id=series_id)


@pytest.mark.parametrize("parent", ["ES\n", "E\x00S", "ES\t", "ES\x1b"])
def test_parents_with_control_characters_are_refused(parent: str) -> None:
    assert "parent" in _refused(parent=parent)


def test_toml_file_with_a_huge_roll_offset_is_refused_naming_the_file(tmp_path: Path) -> None:
    store = SeriesStore(tmp_path)
    store.root.mkdir(parents=True)
    path = store.root / "es_front.toml"
    path.write_text('series_id = "es_front"\nparent = "ES"\nroll_rule = "days_before_expiry"\n'
                    'roll_offset_days = 100000\nadjustment = "none"\n')  # fmt: skip
    with pytest.raises(SeriesError, match="roll_offset_days") as info:
        store.get("es_front")
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_cli_refuses_a_huge_roll_offset(tmp_path: Path) -> None:
    lake = str(Lake.create(tmp_path / "lake")[0].root)
    result = CliRunner().invoke(cli, ["series", "add", "--lake", lake, "--id", "a", "--parent", "ES",
                                      "--roll-offset-days", "100000"])  # fmt: skip
    assert result.exit_code == 1 and "roll_offset_days" in result.output
    assert SeriesStore(tmp_path / "lake").list() == []
