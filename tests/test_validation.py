"""Boundary validators (issue 9 items 1 and 13): names matched whole, dates within 1970..2200.

Every refusal is a one-line :class:`UsageError` naming the parameter and showing the bad value.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rst.errors import UsageError
from rst.sources.databento_api.plan import Chunk
from rst.validation import (
    DATE_MAX,
    DATE_MIN,
    FILE_NAME_MAX_BYTES,
    validate_dataset,
    validate_dates,
    validate_dt,
    validate_file_name,
    validate_parent_key,
    validate_schema,
    validate_symbol,
)

BAD_NAMES = ["", ".", "..", "../x", "a/b", "a\\b", "a\x00b", "GLBX.MDP3\n", "\nGLBX", "a\rb", "a\x7fb", "x" * 300]


def _refused(validator, value, param="--x") -> str:
    with pytest.raises(UsageError) as info:
        validator(value, param)
    text = str(info.value)
    assert text.startswith(f"{param}: ") and "\n" not in text and len(text) < 200
    return text


@pytest.mark.parametrize("validator", [validate_dataset, validate_schema, validate_parent_key, validate_file_name])
@pytest.mark.parametrize("bad", BAD_NAMES)
def test_path_names_refuse_separators_controls_dots_and_length(validator, bad) -> None:
    assert _refused(validator, bad).startswith("--x: "), "refused in one line naming the parameter"


@pytest.mark.parametrize(
    ("validator", "good"),
    [
        (validate_dataset, "GLBX.MDP3"),
        (validate_dataset, "XNAS.ITCH"),
        (validate_schema, "ohlcv-1d"),
        (validate_schema, "mbp-10"),
        (validate_schema, "definition"),
        (validate_schema, "ohlcv-eod"),
        (validate_parent_key, "ES"),
        (validate_parent_key, "6E"),
        (validate_file_name, "GLBX.MDP3-ohlcv-1d-ES.FUT-20240101-20250101.dbn.zst"),
        (validate_file_name, "glbx-mdp3-20240301.mbp-10.dbn.zst"),
    ],
)
def test_path_names_accept_real_names(validator, good) -> None:
    assert validator(good, "--x") == good


def test_file_name_length_is_bounded_in_bytes() -> None:
    assert validate_file_name("a" * FILE_NAME_MAX_BYTES, "name")
    _refused(validate_file_name, "a" * (FILE_NAME_MAX_BYTES + 1))
    _refused(validate_file_name, "a" + "é" * FILE_NAME_MAX_BYTES)  # 2 bytes each in UTF-8


_CONTROL = st.characters(categories=["Cc", "Cf", "Zl", "Zp"])


@given(st.tuples(st.text(max_size=20), _CONTROL, st.text(max_size=20)).map("".join))
def test_no_name_with_a_control_character_passes(text) -> None:
    for validator in (validate_dataset, validate_schema, validate_parent_key, validate_file_name, validate_symbol):
        with pytest.raises(UsageError):
            validator(text, "--x")


@pytest.mark.parametrize("bad", ["ES\n", "ES\x00", "E\tS", "ES\x1b[31m"])
def test_symbols_with_control_characters_are_refused(bad) -> None:
    assert _refused(validate_symbol, bad, "--symbol").startswith("--symbol: ")


def test_symbol_normalisation_is_kept() -> None:
    assert validate_symbol(" es.fut ", "--symbol") == "ES"


@pytest.mark.parametrize("bad", ["1969-12-31", "2201-01-01", "0001-01-01", "9999-12-31"])
def test_dates_outside_1970_2200_are_refused(bad) -> None:
    assert "outside 1970-01-01..2200-12-31" in _refused(validate_dt, bad, "--dt")
    _refused(validate_dates, f"2024-01-01,{bad}", "--dates")


def test_the_widest_range_is_bounded() -> None:
    dates = validate_dates(f"{DATE_MIN}..{DATE_MAX}", "--dates")
    assert len(dates) == (DATE_MAX - DATE_MIN).days + 1 < 85_000
    assert (dates[0], dates[-1]) == (DATE_MIN, DATE_MAX)


def test_a_range_reaching_past_the_bounds_is_refused_before_expanding() -> None:
    # 0001..9999 would be 3.65 million dates: refused at its end points, nothing allocated per date
    _refused(validate_dates, "0001-01-01..9999-12-31", "--dates")
    assert validate_dt("2024-03-01", "--dt") == dt.date(2024, 3, 1)


@pytest.mark.parametrize(
    ("field", "bad"),
    [("dataset", "../../x"), ("dataset", "GLBX.MDP3\n"), ("schema", "ohlcv/1d"), ("schema", "../x"), ("symbol", "E/S")],
)
def test_download_chunks_refuse_names_that_would_become_paths(field, bad) -> None:
    args = {"dataset": "GLBX.MDP3", "schema": "ohlcv-1d", "symbol": "ES", field: bad}
    with pytest.raises(UsageError, match="is not a"):
        Chunk(args["dataset"], args["schema"], args["symbol"], 0, 10**9)
