"""Secrets stay secret with ``--verbose`` too: a gateway that echoes the key and the ``Authorization``
header into its error bodies cannot make rst print or log them (messages, chained causes, HTTP
bodies, tracebacks, log records, the run log)."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rst.cli.main import cli
from rst.framework.lake import Lake
from rst.framework.runlog import runs_path
from rst.redaction import REDACTED, install_log_filter, redact, register_secret
from rst.sources.databento_api.client import DatabentoClient, RequestRefused
from rst.sources.databento_api.plan import Chunk

from .conftest import API_KEY
from .mock_server import Fault, MockDatabento

BASIC = base64.b64encode(f"{API_KEY}:".encode()).decode()
SECRETS = (API_KEY, BASIC, API_KEY[3:-3])


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def chain(exc: BaseException | None) -> list[BaseException]:
    out = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def rst_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``rst <args>`` in a subprocess (the real entry point: its excepthook, logging setup and rendering)."""
    code = "from rst.cli.main import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], env={**os.environ, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_gateways_echo_reaches_no_exception_in_the_chain(mock_db: MockDatabento, client: DatabentoClient) -> None:
    mock_db.add_fault(Fault("metadata.get_cost", status=400, echo_auth=True))
    chunk = Chunk("GLBX.MDP3", "ohlcv-1d", "ES", 1_704_067_200 * 10**9, 1_706_745_600 * 10**9)
    with pytest.raises(RequestRefused) as info:
        client.get_cost(chunk)
    links = chain(info.value)
    assert len(links) >= 2, "the HTTP error should stay chained as the cause"
    for exc in links:
        attrs = {k: v for k, v in vars(exc).items() if k not in ("headers",)}
        text = f"{exc!s} {exc!r} {exc.args!r} {attrs!r}"
        assert not leaks(text), (type(exc).__name__, text)
    assert REDACTED in str(links[1].http_body)  # type: ignore[attr-defined]  # the body was echoed, then scrubbed


@pytest.mark.parametrize(
    ("endpoint", "status", "extra", "code"),
    [
        ("timeseries.get_range", 401, [], 1),  # ApiKeyError: the run stops, traceback printed
        ("metadata.get_cost", 400, ["--estimate"], 1),  # RequestRefused out of the estimate
        ("timeseries.get_range", 500, ["--max-attempts", "2"], 1),  # retried, logged, then a failed chunk
    ],
    ids=["401-get_range", "400-get_cost", "500-get_range"],
)
def test_verbose_cli_prints_and_logs_no_key(
    mock_db: MockDatabento, cli_env: dict[str, str], tmp_path: Path,
    endpoint: str, status: int, extra: list[str], code: int,
) -> None:  # fmt: skip
    mock_db.add_fault(Fault(endpoint, status=status, times=None, echo_auth=True))
    args = ["--verbose", "download", "--gateway", mock_db.gateway, "--symbol", "ES", "--schema", "ohlcv-1d",
            "--start", "2024-01-01", "--end", "2024-02-01", "--verbose", *extra]  # fmt: skip
    result = rst_cli(args, cli_env, tmp_path)
    assert result.returncode == code, result.stderr
    assert any(r.endpoint == endpoint for r in mock_db.requests), result.stderr
    assert "Traceback" in result.stderr or "ERROR" in result.stderr or "WARNING" in result.stderr, result.stderr
    assert REDACTED in result.stderr  # the echo arrived and was scrubbed, not silently dropped
    assert not leaks(result.stdout + result.stderr), result.stderr


def test_update_run_log_carries_no_key(mock_db: MockDatabento, cli_env: dict[str, str], tmp_path: Path) -> None:
    mock_db.add_fault(Fault("timeseries.get_range", status=400, times=None, echo_auth=True))
    config = tmp_path / "update.toml"
    config.write_text(
        '[[target]]\ndataset = "GLBX.MDP3"\nschemas = ["ohlcv-1d"]\nparents = ["ES"]\nstart = 2024-05-01\n'
    )
    args = ["update", "--gateway", mock_db.gateway, "--config", str(config), "--no-pipeline", "--verbose"]
    result = CliRunner().invoke(cli, args, env=cli_env)
    assert result.exit_code == 1, result.output
    log = runs_path(Lake(Path(cli_env["RST_LAKE"]))).read_text()
    assert REDACTED in log and not leaks(log)
    assert not leaks(result.output)


def test_log_filter_scrubs_message_args_and_traceback() -> None:
    secret = "db-AnotherSecretForTheLogFilter42"
    register_secret(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_filter()
        try:
            try:
                raise ConnectionError(f"header Authorization: Basic {base64.b64encode(b'u:p').decode()}x")
            except ConnectionError as inner:
                raise RuntimeError(f"request with {secret} failed") from inner
        except RuntimeError:
            logging.getLogger("rst.test").error("key %s in %r", secret, {"k": secret}, exc_info=True)
    finally:
        root.removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" in text and "RuntimeError" in text and "ConnectionError" in text
    assert secret not in text and "dTpw" not in text and text.count(REDACTED) >= 4


@pytest.mark.parametrize(
    "text",
    [
        f'{{"headers": {{"Authorization": "Basic {BASIC}"}}}}',
        f"Authorization: Bearer {API_KEY[::-1]}",
        f"key={API_KEY}\n",
        json.dumps({"detail": {"message": API_KEY}}),
    ],
)
def test_redact_removes_keys_and_authorization_values(text: str, client: Any) -> None:
    out = redact(text)
    assert REDACTED in out and not leaks(out) and API_KEY[::-1] not in out
