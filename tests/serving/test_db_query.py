"""``query_rows``/``query_series`` and ``rst db query`` return exactly what the lake returns (issue 12, item 2)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from rst.cli.main import cli
from rst.framework.lake import Lake
from rst.read import read_series, read_table
from rst.serving.db_query import query_rows, query_series
from rst.serving.publish import plan, publish

TABLES = (
    ("silver", "ohlcv_1d"),
    ("silver", "ohlcv_1d_session"),
    ("silver", "ohlcv_1h"),
    ("gold", "continuous_es_front_ratio"),
)
DAYS = st.dates(dt.date(2023, 12, 25), dt.date(2024, 3, 8))


@pytest.fixture(scope="module")
def published(serving_demo_template: Path, postgres_server, tmp_path_factory) -> Iterator[tuple[Lake, str]]:  # type: ignore[no-untyped-def]
    """The demo lake published once to its own database (module scope: read-only tests)."""
    lake = Lake(tmp_path_factory.mktemp("dbq") / "lake")
    shutil.copytree(serving_demo_template, lake.root, symlinks=True)
    url = postgres_server.url.rsplit("/", 1)[0] + "/dbquery"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE dbquery")
    report = publish(lake, url, plan(lake))
    assert {p.outcome.value for p in report.partitions} == {"published"}
    yield lake, url
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute("DROP DATABASE dbquery WITH (FORCE)")


@settings(max_examples=25)
@given(table=st.sampled_from(TABLES), a=st.none() | DAYS, b=st.none() | DAYS)
def test_lake_and_database_return_identical_frames(published, table, a, b):
    lake, url = published
    layer, name = table
    expected = read_table(layer, "ES", name, a, b, lake)
    got = query_rows(url, parent="ES", table=name, start=a, end=b, layer=layer)
    assert_frame_equal(got, expected)  # same columns, dtypes (int64 prices, ns UTC timestamps), rows and order


@settings(max_examples=10)
@given(a=st.none() | DAYS, b=st.none() | DAYS)
def test_series_from_database_equals_the_lake(published, a, b):
    lake, url = published
    assert_frame_equal(query_series(url, "es_front_ratio", a, b), read_series("es_front_ratio", a, b, lake))


def test_other_parent_gets_no_rows_with_the_same_columns(published):
    lake, url = published
    got = query_rows(url, parent="NQ", table="ohlcv_1d", start=None, end=None)
    assert got.height == 0 and got.schema == read_table("silver", "ES", "ohlcv_1d", lake=lake).schema


@pytest.mark.parametrize(
    "args",
    [
        ["--symbol", "ES", "--table", "ohlcv_1d", "--start", "2024-02-01", "--end", "2024-02-29", "--limit", "100"],
        ["--series", "es_front_ratio", "--start", "2024-01-10", "--end", "2024-01-20", "--float-prices"],
        ["--symbol", "ES", "--table", "ohlcv_1h", "--columns", "ts_event,close", "--end", "2024-01-02"],
    ],
)
def test_db_query_prints_what_query_prints(published, args):
    lake, url = published
    runner = CliRunner()
    from_lake = runner.invoke(cli, ["query", "--lake", str(lake.root), *args])
    from_db = runner.invoke(cli, ["db", "query", "--database-url", url, *args])
    assert from_lake.exit_code == from_db.exit_code == 0, from_db.output
    assert from_db.output == from_lake.output and "rows" in from_db.output


def test_db_query_of_unpublished_table_is_one_actionable_line(published):
    _, url = published
    result = CliRunner().invoke(cli, ["db", "query", "--database-url", url, "--symbol", "ES", "--table", "trades"])
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "error: silver/trades has not been published to this database (run `rst publish --layer silver --table trades`)"
    )
