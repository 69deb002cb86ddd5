"""Money is never spent past the cap: NaN, infinite, negative or non-numeric caps and prices refuse the plan.

The prices are crafted by the loopback gateway and reach rst through the real Databento client.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rst.cli.main import cli
from rst.errors import UsageError
from rst.framework.lake import Lake
from rst.sources.databento_api.cost import InvalidPrice
from rst.sources.databento_api.download import DownloadRequest, download_missing
from rst.sources.databento_api.plan import to_ns

from .mock_server import MockDatabento

TARGET = """\
max_cost_usd = {cap}

[[target]]
dataset = "GLBX.MDP3"
schemas = ["ohlcv-1d"]
parents = ["ES"]
start = 2024-01-01
"""


def download(mock_db: MockDatabento, env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["download", "--gateway", mock_db.gateway, "--symbol", "ES", "--schema", "ohlcv-1d",
         "--start", "2024-01-01", "--end", "2024-02-01", *args],
        env=env,
    )  # fmt: skip


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def nothing_downloaded(mock_db: MockDatabento, env: dict[str, str]) -> bool:
    return not mock_db.calls("timeseries.get_range") and not list(Path(env["RST_LAKE"]).glob("raw/**/*.dbn.zst"))


@pytest.mark.parametrize("cap", ["nan", "NaN", "inf", "-inf", "-1", "1e400", "ten"])
def test_max_cost_must_be_finite_and_non_negative(mock_db: MockDatabento, cli_env: dict[str, str], cap: str) -> None:
    result = download(mock_db, cli_env, "--max-cost", cap)
    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        f"error: --max-cost: {cap!r} is not a finite, non-negative amount in USD (e.g. 25 or 2.50)"
    ]
    assert mock_db.requests == []  # refused before a single request


@pytest.mark.parametrize("cap", ["nan", "inf", "-1.0", "'25'", "true"])
def test_config_max_cost_usd_must_be_finite_and_non_negative(
    mock_db: MockDatabento, cli_env: dict[str, str], tmp_path: Path, cap: str
) -> None:
    config = tmp_path / "update.toml"
    config.write_text(TARGET.format(cap=cap))
    result = CliRunner().invoke(cli, ["update", "--gateway", mock_db.gateway, "--config", str(config)], env=cli_env)
    assert result.exit_code == 1, result.output
    (line,) = error_lines(result)
    assert line.startswith(f"error: {config}: max_cost_usd") and "USD" in line
    assert mock_db.requests == []


@pytest.mark.parametrize(
    ("answer", "shown"),
    [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf"), ("-1", "-1"), ('"0.5"', "'0.5'"), ("null", "None")],
)
@pytest.mark.parametrize("mode", [("--max-cost", "100"), ("--estimate",)], ids=["max-cost", "estimate"])
def test_a_bad_price_from_the_gateway_refuses_the_plan(
    mock_db: MockDatabento, cli_env: dict[str, str], answer: str, shown: str, mode: tuple[str, ...]
) -> None:
    mock_db.cost_json = answer
    result = download(mock_db, cli_env, *mode)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # a refusal, not a crash
    assert error_lines(result) == [
        "error: cost of GLBX.MDP3 ohlcv-1d ES.FUT [2024-01-01, 2024-02-01): the gateway returned "
        f"{shown}, not a finite, non-negative amount in USD; refusing the plan (nothing downloaded)"
    ]
    assert len(mock_db.calls("metadata.get_cost")) == 1
    assert nothing_downloaded(mock_db, cli_env)


def test_a_bad_price_stops_the_nightly_update(mock_db: MockDatabento, cli_env: dict[str, str], tmp_path: Path) -> None:
    mock_db.cost_json = "NaN"
    config = tmp_path / "update.toml"
    config.write_text(TARGET.format(cap="50.0"))
    result = CliRunner().invoke(cli, ["update", "--gateway", mock_db.gateway, "--config", str(config)], env=cli_env)
    assert result.exit_code == 1, result.output
    assert "the gateway returned nan" in result.output
    assert nothing_downloaded(mock_db, cli_env)


@pytest.mark.parametrize("cap", [float("nan"), float("inf"), -0.01])
def test_the_library_refuses_a_bad_cap_too(mock_db: MockDatabento, client: object, lake: Lake, cap: float) -> None:
    request = DownloadRequest("GLBX.MDP3", ("ohlcv-1d",), ("ES",), to_ns_date("2024-01-01"), to_ns_date("2024-02-01"))
    with pytest.raises(UsageError, match="max_cost_usd: .* is not a finite, non-negative amount"):
        download_missing(lake, request, client, max_cost_usd=cap)  # type: ignore[arg-type]
    assert mock_db.calls("timeseries.get_range") == []


def test_invalid_price_is_terminal_and_one_line(mock_db: MockDatabento, client: object, lake: Lake) -> None:
    mock_db.cost_json = "-1e-9"
    request = DownloadRequest("GLBX.MDP3", ("ohlcv-1d",), ("ES",), to_ns_date("2024-01-01"), to_ns_date("2024-02-01"))
    with pytest.raises(InvalidPrice) as info:
        download_missing(lake, request, client, estimate_only=True)  # type: ignore[arg-type]
    assert "\n" not in str(info.value) and "-1e-09" in str(info.value)


def to_ns_date(text: str) -> int:
    import datetime as dt

    return to_ns(dt.date.fromisoformat(text))
