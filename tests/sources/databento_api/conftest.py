"""Fixtures: a TLS test CA, the mock Databento gateway on loopback, a lake, its raw zone, fast clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import trustme

from rst.framework.lake import Lake
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.key import ApiKey
from rst.sources.databento_api.plan import to_ns
from rst.sources.databento_api.retry import RetryPolicy
from rst.sources.raw_zone import RawZone

from .mock_server import MockDatabento, serve

API_KEY = "db-TestKey0123456789SuperSecretXYZ"
AVAILABLE_START = to_ns(date(2023, 1, 1))
AVAILABLE_END = to_ns(date(2024, 6, 1)) + 20 * 3_600_000_000_000  # 2024-06-01T20:00Z, mid-day like the real one


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_ssl_context(ca: trustme.CA) -> Any:
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    return ctx


@pytest.fixture
def trust_test_ca(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ``requests`` (hence the Databento client) trust the test CA via ``REQUESTS_CA_BUNDLE``."""
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return bundle


@pytest.fixture
def mock_db(server_ssl_context: Any, trust_test_ca: Path) -> Iterator[MockDatabento]:
    state = MockDatabento(key=API_KEY, available_start_ns=AVAILABLE_START, available_end_ns=AVAILABLE_END)
    server = serve(state, server_ssl_context)
    try:
        yield state
    finally:
        server.close()


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


@pytest.fixture
def raw_zone(lake: Lake) -> RawZone:
    """The lake's real raw zone (the one ``download``/``update`` open when not given one)."""
    return RawZone(lake.root)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(mock_db: MockDatabento, sleeps: list[float]) -> Callable[..., DatabentoClient]:
    def make(key: str = API_KEY, max_attempts: int = 3) -> DatabentoClient:
        policy = RetryPolicy(max_attempts=max_attempts, base_delay_s=0.01, max_delay_s=0.05, sleep=sleeps.append)
        return DatabentoClient(ApiKey(key, "test"), gateway=mock_db.gateway, retry=policy, timeout_s=10)

    return make


@pytest.fixture
def client(make_client: Callable[..., DatabentoClient]) -> DatabentoClient:
    return make_client()


@pytest.fixture
def cli_env(mock_db: MockDatabento, lake: Lake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Environment for CliRunner runs of ``rst download``/``rst update`` against the mock gateway
    (the commands open ``lake``'s raw zone themselves, through ``RST_LAKE``)."""
    monkeypatch.chdir(tmp_path)  # no config/databento.env of the developer's leaks in
    return {"DATABENTO_API_KEY": API_KEY, "RST_LAKE": str(lake.root)}
