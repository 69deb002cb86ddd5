"""``rst import``, ``rst run`` and ``rst query`` with ``--lake s3://...``; the commands that only work locally refuse it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from rst.cli.main import cli
from rst.demo import generate_raw
from rst.framework.lake import Lake, Layer
from rst.read import read_table


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_import_run_query_on_object_storage(s3_uri: str, tmp_path: Path):
    raw = generate_raw(tmp_path / "incoming", ("ES",), dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    code, text = invoke("import", "--lake", s3_uri, *map(str, raw))
    assert code == 0, text
    code, text = invoke("run", "--lake", s3_uri)
    assert code == 0, text
    out = tmp_path / "bars.csv"
    code, text = invoke("query", "--lake", s3_uri, "--symbol", "ES", "--table", "ohlcv_1d", "--csv", str(out))
    assert code == 0, text
    bars = pl.read_csv(out)
    want = read_table(Layer.SILVER, "ES", "ohlcv_1d", lake=s3_uri)
    assert bars.height == want.height > 0
    assert bars["close"].to_list() == want["close"].to_list()
    # the raw files and their catalogue entries are in the bucket, not only in this host's mirror
    storage = Lake.resolve(s3_uri).storage
    listed = {o.rel for o in storage.bucket.list("raw/")}  # type: ignore[attr-defined]
    assert sum(r.endswith(".dbn.zst") for r in listed) == len(raw) == sum(r.startswith("raw/_catalog/") for r in listed)


@pytest.mark.parametrize("command", ["status", "verify", "runs", "migrate"])
def test_local_only_commands_refuse_object_storage(s3_uri: str, command: str):
    code, text = invoke(command, "--lake", s3_uri)
    assert code != 0
    assert f"{s3_uri}: rst {command} does not support a lake on object storage" in text
    assert len(text.strip().splitlines()) == 1


def test_a_missing_remote_lake_is_one_clear_line(s3_uri: str):
    code, text = invoke("run", "--lake", s3_uri)
    assert code != 0 and f"no lake at {s3_uri}" in text and len(text.strip().splitlines()) == 1
