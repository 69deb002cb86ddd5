"""Fixtures for the serving tests: a real PostgreSQL server, started once per session.

``postgres_url``: a ``postgresql://`` URL (loopback TCP, password included) to a fresh
database of a server started from the machine's binaries in a temporary directory (as a
non-root user when the tests run as root) and stopped at the end of the session; skips
with the reason when no PostgreSQL binaries are installed or the server will not start.
``fresh_db``: a new empty database on that server per test.
``serving_lake``: a private copy of a small demo lake (ES, Jan-Feb 2024) built once per session.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rst.demo import run_demo
from rst.framework.lake import Lake
from rst.serving.errors import PostgresUnavailable
from rst.serving.pgserver import TempPostgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TempPostgres]:
    """The running :class:`TempPostgres` (for tests that need its socket URL or a second database)."""
    try:
        server = TempPostgres()
        server.start()
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL server available: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: TempPostgres) -> str:
    """``postgresql://rst:<password>@127.0.0.1:<port>/rst`` of the session's server."""
    return postgres_server.url


@pytest.fixture
def fresh_db(postgres_server: TempPostgres) -> Iterator[str]:
    """URL of a new, empty database on the session's server (dropped afterwards): tests never see each other's rows."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:  # name made here, not user input
        conn.execute(f"CREATE DATABASE {name}")
    yield postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def serving_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo lake (ES, 2024-01-01 .. 2024-03-01, every layer built), built once per session; copy before changing."""
    lake = Lake(tmp_path_factory.mktemp("serving-demo") / "lake")
    result = run_demo(lake, parents=("ES",), start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 1))
    assert not [r for r in result.results if r.outcome.value == "failed"]
    return lake.root


@pytest.fixture
def serving_lake(serving_demo_template: Path, tmp_path: Path) -> Lake:
    """A private copy of the demo lake (mtimes kept, so manifests still hold)."""
    dest = tmp_path / "lake"
    shutil.copytree(serving_demo_template, dest, symlinks=True)
    return Lake(dest)
