"""A real S3-compatible server (moto in server mode) on loopback, one per test module, and a bucket per test."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rst.framework.lake import Lake


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server started for this module (stopped after it)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """AWS environment pointing at the module's server; the lake mirror under ``tmp_path``."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("RST_CACHE_DIR", str(tmp_path / "cache"))
    return s3_server


@pytest.fixture
def s3_uri(s3_env: str) -> str:
    """``s3://<fresh bucket>/lake``: an empty lake location of its own."""
    from rst.framework.objectstore import client

    bucket = f"rst-{uuid.uuid4().hex[:12]}"
    client().create_bucket(Bucket=bucket)
    return f"s3://{bucket}/lake"


@pytest.fixture
def s3_lake(s3_uri: str) -> Lake:
    """A new, empty lake on the module's S3 server."""
    lake, created = Lake.create(s3_uri)
    assert created
    return lake


FRAMEWORK_TESTS = Path(__file__).parents[1] / "framework"
"""Where the toy stage lives (shared with the framework tests)."""
if str(FRAMEWORK_TESTS) not in sys.path:
    sys.path.insert(0, str(FRAMEWORK_TESTS))


@pytest.fixture
def toy_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The toy stage's contracts, selected with ``$RST_SCHEMAS`` (inherited by worker processes)."""
    from toystage import install_schemas

    from rst.framework.contract import SCHEMAS_ENV, load_contract

    root = install_schemas(tmp_path / "schemas")
    monkeypatch.setenv(SCHEMAS_ENV, str(root))
    load_contract.cache_clear()
    yield root
    load_contract.cache_clear()
