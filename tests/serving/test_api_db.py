"""The API backed by PostgreSQL answers exactly what the API backed by the lake answers (and ``rst.read_table``).

The demo lake is published (``rst publish``'s library call) to a fresh database of a real
PostgreSQL server; two real ``rst serve`` processes run on loopback, one with ``--lake``, one
with ``--database-url``; random (table, date range) queries must give identical rows, prices
exact, in JSON and Arrow.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import socket
from pathlib import Path

import httpx
import polars as pl
from api_fixtures import comparable, json_frame, running_server, server_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from rst.framework.lake import Lake
from rst.read import read_series, read_table
from rst.serving.publish import plan, publish

TABLES = (("silver", "ohlcv_1d"), ("silver", "ohlcv_1d_session"), ("silver", "ohlcv_1h"))
SERIES = "es_front_ratio"
DAYS = st.dates(dt.date(2023, 12, 25), dt.date(2024, 3, 8))


def rows(base: str, path: str, fmt: str, **params: str) -> httpx.Response:
    got = httpx.get(f"{base}/api/v1/{path}", params={**params, "format": fmt}, timeout=30)
    assert got.status_code == 200, got.text
    return got


def test_database_backed_api_equals_lake_backed_api(serving_demo_template: Path, fresh_db: str, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    shutil.copytree(serving_demo_template, lake.root, symlinks=True)
    publish(lake, fresh_db, plan(lake))
    db_env = server_env(RST_DATABASE_URL=fresh_db)  # the URL through the environment, as a deployment would
    with running_server("--lake", str(lake.root)) as from_lake, running_server(env=db_env) as from_db:
        assert httpx.get(f"{from_db}/api/v1/health").json()["backend"] == "database"

        @settings(max_examples=8, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
        @given(table=st.sampled_from(TABLES), a=st.none() | DAYS, b=st.none() | DAYS)
        def same_rows(table: tuple[str, str], a: dt.date | None, b: dt.date | None) -> None:
            start, end = (min(a, b), max(a, b)) if a and b else (a, b)
            params = {"symbol": "ES", "layer": table[0], "table": table[1]}
            params |= {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}
            want = read_table(table[0], "ES", table[1], start, end, lake=lake)
            lake_json, db_json = (
                rows(from_lake, "bars", "json", **params).json(),
                rows(from_db, "bars", "json", **params).json(),
            )
            assert db_json["rows"] == lake_json["rows"] and db_json["columns"] == lake_json["columns"]
            assert_frame_equal(json_frame(db_json, want.schema), comparable(want))
            arrow = pl.read_ipc_stream(io.BytesIO(rows(from_db, "bars", "arrow", **params).content))
            assert arrow.schema == want.schema
            assert_frame_equal(comparable(arrow), comparable(want))

        same_rows()
        want = read_series(SERIES, dt.date(2024, 1, 10), dt.date(2024, 2, 20), lake=lake)
        span = {"start": "2024-01-10", "end": "2024-02-20"}
        db_series = rows(from_db, f"series/{SERIES}", "json", **span).json()
        assert db_series["rows"] == rows(from_lake, f"series/{SERIES}", "json", **span).json()["rows"]
        assert_frame_equal(json_frame(db_series, want.schema), comparable(want))
        lake_stats = httpx.get(f"{from_lake}/api/v1/stats", params={"symbol": "ES"}).json()
        db_stats = httpx.get(f"{from_db}/api/v1/stats", params={"symbol": "ES"}).json()
        assert {**db_stats, "backend": "lake"} == lake_stats and lake_stats["row_count"] > 0
        missing = httpx.get(f"{from_db}/api/v1/series/es_nope")
        assert missing.status_code == 404 and "has not been published" in missing.json()["error"]


def test_unreachable_database_is_a_503_one_line_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://rst:hunter2@127.0.0.1:{port}/nowhere"
    with running_server("--database-url", url) as base:
        got = httpx.get(f"{base}/api/v1/bars", params={"symbol": "ES"}, timeout=30)
    assert got.status_code == 503, got.text
    assert list(got.json()) == ["error"] and "cannot connect" in got.json()["error"] and "hunter2" not in got.text
