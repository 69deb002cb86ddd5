"""Helpers for the HTTP API tests: a real ``rst serve`` process on loopback, and decoders of its bodies.

``running_server(...)`` starts ``rst serve --port 0`` as a subprocess (the real CLI, a
real socket), reads the URL it prints, waits for ``/api/v1/health`` and stops it afterwards.
The decoders rebuild a lake-typed frame from the JSON and CSV wire formats without using
the server's own encoder, so the comparison with :func:`rst.read_table` is independent.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import polars as pl

SERVER_ENV_DROP = ("RST_API_TOKEN", "RST_DATABASE_URL", "RST_LAKE")
_URL = re.compile(r"at (http://\S+)/api/v1")
ISO_PARSE = "%Y-%m-%dT%H:%M:%S%.f%:z"


def serve_argv(*args: str) -> list[str]:
    """argv of ``rst serve ARGS`` with this interpreter."""
    return [sys.executable, "-c", "from rst.cli.main import main; main()", "serve", *args]


def server_env(**extra: str) -> dict[str, str]:
    """The test's environment without any API token, database URL or lake, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV_DROP}
    return {**env, **extra}


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[str]:
    """``rst serve --port 0 ARGS`` running; yields its base URL (``http://127.0.0.1:PORT``)."""
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(serve_argv("--port", "0", *args), stdout=log, stderr=log, env=env or server_env())
        try:
            base = _wait_for_url(proc, log, timeout)
            _wait_healthy(base, proc, timeout)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_url(proc: subprocess.Popen[bytes], log: Any, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log.seek(0)
        text = log.read()
        found = _URL.search(text)
        if found:
            return found.group(1)
        if proc.poll() is not None:
            raise AssertionError(f"rst serve exited {proc.returncode}: {text}")
        time.sleep(0.05)
    raise AssertionError("rst serve printed no URL in time")


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, f"rst serve exited {proc.returncode}"
        time.sleep(0.05)
    raise AssertionError("rst serve never became healthy")


def _typed(wire: pl.Series, dtype: pl.DataType) -> pl.Series:
    """A wire column (JSON values or CSV text) back in the lake's ``dtype``."""
    if isinstance(dtype, pl.Datetime):
        ns = pl.from_epoch(wire.cast(pl.Int64), time_unit="ns").dt.replace_time_zone("UTC")
        return ns.dt.convert_time_zone(dtype.time_zone or "UTC")
    if dtype == pl.Date:
        return wire.cast(pl.String).str.to_date("%Y-%m-%d")
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return wire.cast(pl.String)
    if dtype == pl.Boolean and wire.dtype == pl.String:
        return wire.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean)
    return wire.cast(dtype, strict=True)


def decode(wire: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """The lake-typed frame a JSON/CSV body encodes (categoricals as strings); checks every ``_iso`` twin."""
    out = {}
    for name, dtype in schema.items():
        out[name] = _typed(wire[name], dtype).alias(name)
        if isinstance(dtype, pl.Datetime):
            iso = wire[f"{name}_iso"].cast(pl.String).str.to_datetime(ISO_PARSE, time_unit="ns")
            assert iso.dt.convert_time_zone("UTC").dt.epoch("ns").to_list() == wire[name].cast(pl.Int64).to_list()
    return pl.DataFrame(out)


def json_frame(body: dict[str, Any], schema: pl.Schema) -> pl.DataFrame:
    """Rows of a JSON body as a lake-typed frame."""
    assert [c["name"] for c in body["columns"]] == list(schema)
    wire = pl.DataFrame(body["rows"], infer_schema_length=None) if body["rows"] else None
    if wire is None:
        return pl.DataFrame(schema=strings_for_categoricals(schema))
    return decode(wire, schema)


def csv_frame(content: bytes, schema: pl.Schema) -> pl.DataFrame:
    """A CSV body (read as text only, so no parser guesses) as a lake-typed frame."""
    wire = pl.read_csv(io.BytesIO(content), infer_schema=False)
    return decode(wire, schema)


def strings_for_categoricals(schema: pl.Schema) -> pl.Schema:
    return pl.Schema({n: pl.String if isinstance(t, pl.Categorical | pl.Enum) else t for n, t in schema.items()})


def comparable(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with categoricals as strings (categorical physical codes differ between processes)."""
    return df.with_columns(pl.col(pl.Categorical).cast(pl.String))
