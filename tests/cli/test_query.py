"""``rst query``, ``rst parents`` and the readers (complete partitions only) on the shared synthetic lake."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import rst
from rst.cli.main import cli
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import SUCCESS
from synthetic_lake import PARENT, shared_lake


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return shared_lake(tmp_path_factory)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_query_series_to_csv_keeps_exact_prices(lake: Lake, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    code, text = invoke("query", "--lake", str(lake.root), "--series", "es_add", "--start", "2023-03-01",
                        "--end", "2023-03-31", "--csv", str(out))  # fmt: skip
    assert code == 0, text
    csv = pl.read_csv(out, try_parse_dates=True)
    want = rst.read_series("es_add", dt.date(2023, 3, 1), dt.date(2023, 3, 31), lake=lake)
    assert csv.height == want.height == 23  # March 2023 weekdays
    assert csv["close"].dtype == pl.Int64 and csv["close"].to_list() == want["close"].to_list()
    assert csv["trading_date"].min() == dt.date(2023, 3, 1) and csv["trading_date"].max() == dt.date(2023, 3, 31)


def test_query_table_with_float_prices_to_parquet(lake: Lake, tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    code, text = invoke("query", "--lake", str(lake.root), "--symbol", "ES", "--table", "ohlcv_1d",
                        "--start", "2023-06-01", "--end", "2023-06-01", "--float-prices", "--parquet", str(out))  # fmt: skip
    assert code == 0, text
    got = pl.read_parquet(out)
    exact = rst.read_table("silver", PARENT, "ohlcv_1d", dt.date(2023, 6, 1), dt.date(2023, 6, 1), lake=lake)
    assert set(got["trading_date"]) == {dt.date(2023, 6, 1)} and got.height == exact.height > 0
    assert got["close"].dtype == pl.Float64
    assert got["close"].to_list() == [c / 1e9 for c in exact["close"]]


def test_query_prints_a_table_and_validates(lake: Lake) -> None:
    code, text = invoke("query", "--lake", str(lake.root), "--series", "es_add", "--limit", "3")
    series = rst.read_series("es_add", lake=lake)
    assert code == 0, text
    assert str(series["trading_date"][0]) in text and str(series["trading_date"][3]) not in text
    assert f"{series.height - 3:,} more rows" in text
    code, text = invoke("query", "--lake", str(lake.root), "--symbol", "ES")
    assert code == 2 and "--table" in text
    code, text = invoke("query", "--lake", str(lake.root), "--series", "es_add", "--start", "2023-13-01")
    assert code == 2 and "--start" in text


def test_read_table_reads_only_complete_partitions(lake: Lake, tmp_path: Path) -> None:
    copy = Lake(tmp_path / "lake")
    source = lake.table_dir(Layer.SILVER, PARENT, "ohlcv_1h")
    target = copy.table_dir(Layer.SILVER, PARENT, "ohlcv_1h")
    shutil.copytree(source / "month=2023-05", target / "month=2023-05")
    shutil.copytree(source / "month=2023-06", target / "month=2023-06")
    (target / "month=2023-06" / SUCCESS).unlink()  # a partition being written: invisible
    got = rst.read_table("silver", PARENT, "ohlcv_1h", lake=copy)
    assert got.height > 0 and set(got["trading_date"].dt.month()) == {5}
    may = rst.read_table("silver", PARENT, "ohlcv_1h", dt.date(2023, 5, 10), dt.date(2023, 5, 12), lake=copy)
    assert set(may["trading_date"]) == {dt.date(2023, 5, 10), dt.date(2023, 5, 11), dt.date(2023, 5, 12)}


def test_parents_cli_lists_and_shows(lake: Lake) -> None:
    code, text = invoke("parents", "--lake", str(lake.root))
    assert code == 0 and "ES" in text and "America/Chicago" in text and "0.25" in text
    code, text = invoke("parents", "show", "ES", "--lake", str(lake.root))
    assert code == 0, text
    assert text.index("ESH3") < text.index("ESM3") < text.index("ESU3") < text.index("ESZ3")
    assert "50" in text and "USD" in text
