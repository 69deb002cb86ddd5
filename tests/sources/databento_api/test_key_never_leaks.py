"""The key appears in no output, log record, exception message or repr -- on 401 and on 422."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from click.testing import CliRunner

from rst.cli.main import cli
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.key import ApiKey
from rst.sources.databento_api.retry import RetryPolicy

from .conftest import API_KEY
from .mock_server import MockDatabento

WRONG_KEY = "db-WrongKeyButStillSecret987654321"


def forms(key: str) -> list[str]:
    return [key, base64.b64encode(f"{key}:".encode()).decode()]


@pytest.mark.parametrize(
    ("key", "window", "expect"),
    [
        (WRONG_KEY, ("2024-01-01", "2024-02-01"), "rejected"),  # 401
        (API_KEY, ("2024-05-01", "2024-09-01"), "available over"),  # 422
    ],
    ids=["401", "422"],
)
def test_key_absent_from_stdout_stderr_and_logs(
    mock_db: MockDatabento, cli_env: dict[str, str], caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str], key: str, window: tuple[str, str], expect: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything: rst, databento, urllib3, requests
    env = {**cli_env, "DATABENTO_API_KEY": key}
    result = CliRunner().invoke(
        cli,
        ["--verbose", "download", "--gateway", mock_db.gateway, "--symbol", "ES", "--schema", "ohlcv-1h",
         "--start", window[0], "--end", window[1], "--verbose"],
        env=env,
    )
    assert result.exit_code == 1
    assert expect in result.output
    fd_out, fd_err = capfd.readouterr()
    log_text = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {logging.Formatter().formatException(r.exc_info) if r.exc_info else ''}"
        for r in caplog.records
    )
    haystack = "\n".join([result.output, result.stderr, fd_out, fd_err, log_text, repr(result.exception)])
    for secret in forms(key):
        assert secret not in haystack


def test_exceptions_and_reprs_do_not_carry_the_key(mock_db: MockDatabento) -> None:
    client = DatabentoClient(ApiKey(WRONG_KEY, "test"), gateway=mock_db.gateway, retry=RetryPolicy(max_attempts=1))
    assert WRONG_KEY not in repr(client)
    with pytest.raises(Exception) as info:
        client.available_range("GLBX.MDP3")
    exc: Any = info.value
    chain = []
    while exc is not None:
        chain.append(f"{exc!s} {exc!r}")
        exc = exc.__cause__ or exc.__context__
    for secret in forms(WRONG_KEY):
        assert all(secret not in text for text in chain)
