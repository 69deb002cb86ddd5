"""SeriesDefinition: validation naming the field, enums from strings, canonical JSON and fingerprint."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from rst.errors import SeriesError
from rst.series import SCHEMA_VERSION, Adjustment, PriceField, RollRule, SeriesDefinition

BASE = {"series_id": "es-front", "parent": "ES", "roll_rule": "days_before_expiry", "roll_offset_days": 5,
        "adjustment": "backward_ratio"}


def test_enums_accept_their_string_form_and_normalise() -> None:
    defn = SeriesDefinition.from_mapping(
        BASE | {"roll_rule": "Volume_Crossover", "price_field": "settlement", "allowed_months": "zh m", "parent": "es"}
    )
    assert defn.roll_rule is RollRule.VOLUME_CROSSOVER
    assert defn.adjustment is Adjustment.BACKWARD_RATIO
    assert defn.price_field is PriceField.SETTLEMENT
    assert defn.allowed_months == "HMZ"
    assert defn.parent == "ES"
    assert defn.schema_version == SCHEMA_VERSION
    assert defn.contract_rank == 0 and defn.start is None and defn.notes == ""


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("series_id", "ES Front", "slug"),
        ("series_id", "", "slug"),
        ("parent", "E S", "parent symbol"),
        ("roll_rule", "monthly", "one of days_before_expiry"),
        ("roll_offset_days", -1, "integer >= 0"),
        ("roll_offset_days", True, "integer >= 0"),
        ("roll_offset_days", "5", "integer >= 0"),
        ("adjustment", "proportional", "one of backward_ratio"),
        ("contract_rank", 1.5, "integer >= 0"),
        ("allowed_months", "HMA", "bad: A"),
        ("allowed_months", ["H"], "month codes"),
        ("price_field", "vwap", "one of close, settlement"),
        ("start", "2024-13-01", "a date"),
        ("start", dt.datetime(2024, 1, 1), "not a date-time"),
        ("notes", 5, "a string"),
        ("schema_version", 0, "integer >= 1"),
    ],
)
def test_invalid_field_names_file_and_field(field: str, value: object, needle: str) -> None:
    with pytest.raises(SeriesError) as err:
        SeriesDefinition.from_mapping(BASE | {field: value}, source="lake/_config/series/es-front.toml")
    msg = str(err.value)
    assert msg.startswith(f"lake/_config/series/es-front.toml: field '{field}'")
    assert needle in msg


def test_missing_and_unknown_fields() -> None:
    with pytest.raises(SeriesError, match=r"x.toml: field 'adjustment' is missing"):
        SeriesDefinition.from_mapping({k: v for k, v in BASE.items() if k != "adjustment"}, source="x.toml")
    with pytest.raises(SeriesError, match=r"x.toml: unknown field 'roll_days'"):
        SeriesDefinition.from_mapping(BASE | {"roll_days": 3}, source="x.toml")


def test_newer_schema_version_is_refused() -> None:
    with pytest.raises(SeriesError, match="newer than this rst"):
        SeriesDefinition.from_mapping(BASE | {"schema_version": SCHEMA_VERSION + 1})


def test_direct_construction_validates_too() -> None:
    with pytest.raises(SeriesError, match="field 'contract_rank'"):
        SeriesDefinition("a", "ES", RollRule.DAYS_BEFORE_EXPIRY, 0, Adjustment.NONE, contract_rank=-1)
    defn = SeriesDefinition("a", "ES", "days_before_expiry", 0, "none", start="2024-01-02")  # type: ignore[arg-type]
    assert defn.start == dt.date(2024, 1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        defn.parent = "NQ"  # type: ignore[misc]


def test_canonical_json_and_fingerprint() -> None:
    a = SeriesDefinition.from_mapping(BASE | {"start": "2020-01-02", "notes": "front month"})
    doc = json.loads(a.canonical_json())
    assert doc["start"] == "2020-01-02" and doc["roll_rule"] == "days_before_expiry"
    assert "notes" not in doc
    shuffled = dict(reversed(list((BASE | {"start": "2020-01-02"}).items())))
    assert a.canonical_json() == SeriesDefinition.from_mapping(shuffled).canonical_json()
    fp = a.fingerprint()
    assert len(fp) == 64
    assert dataclasses.replace(a, notes="other words").fingerprint() == fp
    changes = {
        "series_id": "es-2", "parent": "NQ", "roll_rule": "volume_crossover", "roll_offset_days": 4,
        "adjustment": "backward_additive", "contract_rank": 1, "allowed_months": "H", "price_field": "settlement",
        "start": dt.date(2021, 1, 1),
    }
    prints = {dataclasses.replace(a, **{k: v}).fingerprint() for k, v in changes.items()}  # type: ignore[arg-type]
    assert len(prints) == len(changes) and fp not in prints
