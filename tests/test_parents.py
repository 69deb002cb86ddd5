"""Parent metadata: derivation from definitions, the real CME sample, overrides and the time zone rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from rst.errors import ConfigError
from rst.framework.lake import Lake
from rst.parents import contracts, list_parents, parent_metadata, resolve_timezone
from rst.parents.metadata import definition_facts, derive
from rst.parents.overrides import ParentOverride, load_overrides, to_fixed
from rst.sources.dbn_file import read_table
from synthetic_lake import PARENT, shared_lake

SAMPLE_DEFINITION = "databento-python/GLBX.MDP3/test_data.definition.dbn.zst"


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return shared_lake(tmp_path_factory)


def test_real_cme_definition_point_value_comes_from_unit_of_measure_qty(sample_file: Callable[[str], Path]) -> None:
    defs = pl.from_arrow(read_table(sample_file(SAMPLE_DEFINITION)))
    assert isinstance(defs, pl.DataFrame)
    assert defs["contract_multiplier"].to_list() == [2**31 - 1]  # CME leaves it unset
    derived = derive(defs)
    assert derived.point_value == 50 * 10**9  # ES: 50 USD per index point
    assert derived.tick_size == 250_000_000 and derived.exchange == "XCME" and derived.months == "H"
    facts = definition_facts(defs)
    assert facts["point_value"].to_list() == [50 * 10**9] and facts["symbol"].to_list() == ["ESH1"]


def test_contract_multiplier_is_used_only_when_unit_of_measure_qty_is_missing() -> None:
    defs = pl.DataFrame(
        {
            "ts_recv": [1, 2], "instrument_id": [1, 2], "raw_symbol": ["XH4", "XM4"],
            "expiration": [10, 20], "activation": [0, 0], "min_price_increment": [5, 5],
            "unit_of_measure_qty": [None, 7_000_000_000], "contract_multiplier": [25, 2**31 - 1],
            "currency": ["USD", "USD"], "exchange": ["XCME", "XCME"], "asset": ["X", "X"],
            "maturity_month": [None, None],
        },  # fmt: skip
        schema_overrides={"ts_recv": pl.Datetime("ns", "UTC"), "expiration": pl.Datetime("ns", "UTC"),
                          "activation": pl.Datetime("ns", "UTC"), "maturity_month": pl.UInt8},
    )
    facts = definition_facts(defs)
    assert facts["point_value"].to_list() == [25 * 10**9, 7 * 10**9]
    assert derive(defs).months == "HM"  # from the symbols when maturity_month is absent


def test_metadata_of_the_synthetic_parent(lake: Lake) -> None:
    meta = parent_metadata(lake, PARENT)
    assert (meta.exchange, meta.timezone, meta.currency) == ("XCME", "America/Chicago", "USD")
    assert meta.tick_size == 250_000_000 and meta.point_value == 50 * 10**9
    assert meta.months == "HMUZ"
    assert meta.sources["timezone"] == "exchange"
    assert list_parents(lake) == [PARENT]
    table = contracts(lake, PARENT)
    assert table["expiration"].is_sorted()
    assert table["symbol"].head(2).to_list() == ["ESH3", "ESM3"]
    assert table.height == meta.contracts >= 5


def test_overrides_win_key_by_key(lake: Lake, tmp_path: Path) -> None:
    config = tmp_path / "_config"
    config.mkdir()
    (config / "parents.toml").write_text('[ES]\ntimezone = "America/New_York"\ntick_size = "0.125"\nroll_days = 8\n')
    overrides = load_overrides(tmp_path)
    assert overrides["ES"] == ParentOverride(timezone="America/New_York", tick_size=125_000_000, roll_days=8)
    assert resolve_timezone(lake, "ES", "XCME", overrides["ES"]) == "America/New_York"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[ES]\ntimezone = "Mars/Olympus"\n', "IANA"),
        ('[ES]\ntick = "0.25"\n', "unknown key 'tick'"),
        ('[ES]\ntick_size = "0.0000000001"\n', "at most 9 decimals"),
        ("[ES\n", "not valid TOML"),
    ],
)
def test_bad_overrides_name_the_problem(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "_config").mkdir()
    (tmp_path / "_config" / "parents.toml").write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_overrides(tmp_path)


def test_unknown_exchange_asks_for_an_override(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"exchange 'XEUR' has no known time zone.*timezone") as info:
        resolve_timezone(Lake(tmp_path), "FDAX", "XEUR", None)
    assert "parents.toml" in str(info.value)
    assert resolve_timezone(Lake(tmp_path), "FDAX", "XEUR", ParentOverride(timezone="Europe/Berlin")) == "Europe/Berlin"


def test_to_fixed_is_exact() -> None:
    assert to_fixed("0.015625", "x") == 15_625_000  # 1/64: ZN's tick
    assert to_fixed(50, "x") == 50 * 10**9
