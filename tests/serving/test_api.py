"""``rst serve`` over a real socket: the same rows as ``rst.read_table``/``read_series`` in JSON, CSV and Arrow.

Each test talks to a real ``rst serve`` subprocess on 127.0.0.1 (``--port 0``) with httpx.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pyarrow as pa
import pytest
from api_fixtures import comparable, csv_frame, json_frame, running_server, server_env
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import rst
from rst.cli.main import cli
from rst.framework.lake import Lake, Layer
from rst.read import complete_partitions, partition_files
from rst.serving.api_server import is_loopback
from rst.sources.raw_zone import RawZone
from synthetic_lake import PARENT, shared_lake, write_raw

MARCH = {"start": "2023-03-01", "end": "2023-03-31"}
ORIGIN_KEYS = {"row_count", "min_ts", "max_ts", "latest_close", "latest_ts", "symbol", "timeframe", "vendor"}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return shared_lake(tmp_path_factory)


@pytest.fixture(scope="module")
def base(lake: Lake) -> Iterator[str]:
    with running_server("--lake", str(lake.root)) as url:
        yield url


def get(base: str, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{base}/api/v1/{path}", params=params, timeout=30)


def check_all_formats(base: str, path: str, params: dict[str, str], want: pl.DataFrame) -> None:
    """JSON, CSV and Arrow bodies of ``path`` each equal ``want`` exactly (Arrow with the exact schema)."""
    got = get(base, path, **params, format="json")
    assert got.status_code == 200 and got.headers["content-type"] == "application/json", got.text
    body = got.json()
    assert body["row_count"] == want.height > 0
    assert_frame_equal(json_frame(body, want.schema), comparable(want))
    got = get(base, path, **params, format="csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert_frame_equal(csv_frame(got.content, want.schema), comparable(want))
    got = get(base, path, **params, format="arrow")
    assert got.status_code == 200 and got.headers["content-type"] == "application/vnd.apache.arrow.stream"
    arrow = pl.read_ipc_stream(io.BytesIO(got.content))
    assert arrow.schema == want.schema  # Datetime[ns, UTC], Int64 prices, categoricals: the lake's own schema
    assert_frame_equal(comparable(arrow), comparable(want))
    reader = pa.ipc.open_stream(got.content)  # a plain Arrow client reads it too
    assert reader.schema.field("close").type == pa.int64()


def test_bars_equal_read_table_in_every_format(base: str, lake: Lake) -> None:
    want = rst.read_table("silver", PARENT, "ohlcv_1d", dt.date(2023, 3, 1), dt.date(2023, 3, 31), lake=lake)
    check_all_formats(base, "bars", {"symbol": "ES", "table": "ohlcv_1d", "layer": "silver", **MARCH}, want)
    body = get(base, "bars", symbol="ES", **MARCH).json()
    assert isinstance(body["rows"][0]["close"], int) and body["rows"][0]["close"] == want["close"][0]
    assert body["rows"][0]["ts_event_iso"].startswith("2023-03-01T00:00:00.000000000+00:00")


def test_series_equals_read_series_in_every_format(base: str, lake: Lake) -> None:
    want = rst.read_series("es_add", dt.date(2023, 3, 1), dt.date(2023, 3, 31), lake=lake)
    check_all_formats(base, "series/es_add", MARCH, want)


@settings(max_examples=10, derandomize=True)
@given(
    table=st.sampled_from(["ohlcv_1d", "ohlcv_1h", "ohlcv_1d_session"]),
    first=st.dates(dt.date(2022, 12, 1), dt.date(2024, 1, 31)),
    days=st.integers(0, 60),
    open_start=st.booleans(),
)
def test_any_range_of_any_table_matches_read_table(
    base: str, lake: Lake, table: str, first: dt.date, days: int, open_start: bool
) -> None:
    last = first + dt.timedelta(days=days)
    start = None if open_start else first
    want = rst.read_table("silver", PARENT, table, start, last, lake=lake)
    params = {"symbol": "es", "table": table.replace("_", "-", 1), "end": last.isoformat()}  # spellings normalised
    if start is not None:
        params["start"] = start.isoformat()
    got = get(base, "bars", **params)
    assert got.status_code == 200, got.text
    assert_frame_equal(json_frame(got.json(), want.schema), comparable(want))


def test_stats_has_the_origin_shape_and_exact_values(base: str, lake: Lake) -> None:
    got = get(base, "stats", symbol="ES", table="ohlcv_1d")
    assert got.status_code == 200, got.text
    doc = got.json()
    assert ORIGIN_KEYS <= doc.keys()
    df = rst.read_table("silver", PARENT, "ohlcv_1d", lake=lake)
    ns = df["ts_event"].dt.epoch("ns")
    latest = df.sort(["ts_event", "volume"]).row(-1, named=True)
    assert doc["row_count"] == df.height
    assert (doc["min_ts_ns"], doc["max_ts_ns"]) == (ns.min(), ns.max())
    assert dt.datetime.fromisoformat(doc["max_ts"]) == df["ts_event"].max()
    assert doc["latest_close"] == latest["close"] and doc["latest_contract"] == latest["symbol"]
    assert doc["latest_close_price"] == str(latest["close"] / 10**9).rstrip("0").rstrip(".")  # e.g. "3714.25"
    assert (doc["symbol"], doc["timeframe"], doc["vendor"], doc.get("message")) == ("ES", "1d", "databento", None)


def test_stats_of_a_table_not_built_yet_is_the_empty_state(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    zone = RawZone(lake.root)
    for path in write_raw(tmp_path / "dl", "2023-03-01", "2023-04-01", ["definition", "ohlcv-1d"]):
        zone.import_file(path)  # raw files only: ES is a parent, its silver ohlcv_1d has no partition yet
    with running_server("--lake", str(lake.root)) as url:
        doc = get(url, "stats", symbol="ES").json()
        assert doc["row_count"] == 0 and doc["min_ts"] is None and doc["latest_close"] is None
        assert doc["symbol"] == "ES" and "no rows" in doc["message"]
        got = get(url, "bars", symbol="ES")
        assert got.status_code == 404 and "no data yet" in got.json()["error"]


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("bars", {"symbol": "NQ"}, 404, "unknown parent 'NQ'"),
        ("bars", {"symbol": "ES", "table": "ohlcv_1x"}, 404, "did you mean ohlcv_1"),
        ("bars", {"symbol": "ES", "layer": "gold"}, 404, "continuous_es_add"),
        ("stats", {"symbol": "NQ"}, 404, "parents in the lake: ES"),
        ("series/es_nope", {}, 404, "es_add, es_none, es_ratio"),
        ("bars", {"symbol": "ES\n"}, 400, "symbol: 'ES\\n' is not a futures parent symbol"),
        ("bars", {"symbol": "ES/../x"}, 400, "symbol"),
        ("bars", {"symbol": "ES", "table": "../../etc"}, 400, "table"),
        ("bars", {}, 400, "symbol: Field required"),
        ("bars", {"symbol": "ES", "start": "2023-13-01"}, 400, "start: '2023-13-01' is not a date"),
        ("bars", {"symbol": "ES", "start": "1969-12-31"}, 400, "outside 1970-01-01..2200-12-31"),
        ("bars", {"symbol": "ES", "end": "2201-01-01"}, 400, "outside"),
        ("bars", {"symbol": "ES", "start": "2023-03-02", "end": "2023-03-01"}, 400, "before start"),
        ("bars", {"symbol": "ES", "format": "xml"}, 400, "format"),
        ("bars", {"symbol": "ES", "layer": "platinum"}, 400, "layer"),
        ("series/ES_ADD", {}, 400, "'series_id': 'ES_ADD' is not a slug"),
        ("nowhere", {}, 404, "Not Found"),
    ],
)
def test_bad_requests_get_one_line_json_errors(
    base: str, path: str, params: dict[str, str], status: int, says: str
) -> None:
    got = get(base, path, **params)
    assert got.status_code == status, got.text
    assert got.headers["content-type"] == "application/json"
    body = got.json()
    assert list(body) == ["error"] and says in body["error"]
    assert "\n" not in body["error"] and "Traceback" not in got.text and "/tmp" not in body["error"]


def test_a_tampered_partition_is_refused_not_served(lake: Lake, tmp_path: Path) -> None:
    copy = Lake(tmp_path / "lake")
    shutil.copytree(lake.root, copy.root, symlinks=True)
    march = complete_partitions(copy, Layer.SILVER, PARENT, "ohlcv_1d", dt.date(2023, 3, 1), dt.date(2023, 3, 31))
    part = partition_files(march[0], copy)[0]
    part.write_bytes(part.read_bytes() + b"planted")  # same name, other size: not what the manifest lists
    with running_server("--lake", str(copy.root)) as url:
        got = get(url, "bars", symbol="ES", **MARCH)
        assert got.status_code == 500 and "corrupt" in got.json()["error"] and "rows" not in got.text
        assert get(url, "bars", symbol="ES", table="ohlcv_1h", **MARCH).status_code == 200  # other tables still served


def test_token_is_required_when_set(lake: Lake) -> None:
    env = server_env(RST_API_TOKEN="s3cret-token")
    with running_server("--lake", str(lake.root), env=env) as url:
        assert get(url, "health").status_code == 200  # liveness stays open, it serves no data
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-token"}):
            got = httpx.get(f"{url}/api/v1/bars", params={"symbol": "ES", **MARCH}, headers=headers)
            assert got.status_code == 401 and got.headers["www-authenticate"] == "Bearer", got.text
            assert "s3cret" not in got.text
        ok = httpx.get(f"{url}/api/v1/bars", params={"symbol": "ES", **MARCH},
                       headers={"Authorization": "Bearer s3cret-token"})  # fmt: skip
        assert ok.status_code == 200 and ok.json()["row_count"] > 0


def test_binding_beyond_loopback_without_a_token_is_refused(lake: Lake) -> None:
    for host in ("0.0.0.0", "::", "192.0.2.10", "example.com"):
        result = CliRunner().invoke(cli, ["serve", "--lake", str(lake.root), "--host", host], env={"RST_API_TOKEN": ""})
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "requires a bearer token" in lines[0] and host in lines[0]
    assert [is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost")] == [True] * 5


def test_serve_refuses_a_busy_port_and_two_backends(lake: Lake) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--lake", str(lake.root), "--port", str(port)])
    assert result.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in result.output, result.output
    result = CliRunner().invoke(
        cli, ["serve", "--lake", str(lake.root), "--database-url", "postgresql://x@127.0.0.1/db"]
    )
    assert result.exit_code == 2 and "not both" in result.output


def test_openapi_schema_is_published(base: str) -> None:
    schema = httpx.get(f"{base}/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/v1/bars", "/api/v1/series/{series_id}", "/api/v1/stats", "/api/v1/health"} <= paths.keys()
    params = {p["name"]: p for p in paths["/api/v1/bars"]["get"]["parameters"]}
    assert params["symbol"]["schema"]["pattern"].startswith("^") and params["symbol"]["required"]
    assert json.dumps(params["format"]["schema"]).count("arrow") >= 1


def test_other_commands_and_serve_help_never_import_fastapi() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom rst.cli.main import cli\n"
        "for args in (['serve', '--help'], ['query', '--help'], ['--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'pydantic') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
