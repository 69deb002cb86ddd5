"""``rst download`` through the real client: --estimate downloads nothing, --max-cost refuses, failures exit 1."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from rst.cli.main import cli

from .mock_server import MockDatabento


def run(mock_db: MockDatabento, env: dict[str, str], *args: str) -> object:
    return CliRunner().invoke(
        cli, ["download", "--gateway", mock_db.gateway, "--symbol", "ES", "--schema", "ohlcv-1d", *args], env=env
    )


def raw_files(env: dict[str, str]) -> list[Path]:
    return sorted(Path(env["RST_LAKE"]).glob("raw/**/*.dbn.zst"))


def test_estimate_prints_cost_and_size_and_downloads_nothing(mock_db: MockDatabento, cli_env: dict[str, str]) -> None:
    result = run(mock_db, cli_env, "--start", "2023-06-01", "--end", "2024-02-01", "--estimate")
    assert result.exit_code == 0, result.output
    # 2 yearly chunks: 214 + 31 days at $0.50/day
    assert "122.5000" in result.output and "107.0000" in result.output and "15.5000" in result.output
    assert f"{245 * 2 * 56:,}" in result.output  # total billable bytes
    assert "2 request(s) planned, nothing downloaded" in result.output
    assert mock_db.calls("timeseries.get_range") == []
    assert len(mock_db.calls("metadata.get_cost")) == 2 and len(mock_db.calls("metadata.get_billable_size")) == 2
    assert raw_files(cli_env) == []


def test_max_cost_refuses_the_plan(mock_db: MockDatabento, cli_env: dict[str, str]) -> None:
    result = run(mock_db, cli_env, "--start", "2024-01-01", "--end", "2024-02-01", "--max-cost", "10")
    assert result.exit_code == 1
    assert "error: planned download of 1 request(s) costs $15.50, above --max-cost $10.00" in result.output
    assert mock_db.calls("timeseries.get_range") == []
    assert raw_files(cli_env) == []


def test_max_cost_allows_a_cheap_plan(mock_db: MockDatabento, cli_env: dict[str, str]) -> None:
    result = run(mock_db, cli_env, "--start", "2024-01-01", "--end", "2024-02-01", "--max-cost", "20")
    assert result.exit_code == 0, result.output
    assert "1 planned, 1 downloaded, 0 failed" in result.output
    assert len(raw_files(cli_env)) == 1


def test_failed_chunk_exits_1_with_summary(mock_db: MockDatabento, cli_env: dict[str, str]) -> None:
    result = run(mock_db, cli_env, "--start", "2024-01-01", "--end", "2024-07-01", "--granularity", "month")
    assert result.exit_code == 1
    assert "6 planned, 5 downloaded, 1 failed" in result.output
    assert "failed GLBX.MDP3 ohlcv-1d ES.FUT [2024-06-01, 2024-07-01)" in result.output
    assert "available over [2023-01-01, 2024-06-01T20:00:00Z)" in result.output


def test_bad_dates_are_usage_errors(mock_db: MockDatabento, cli_env: dict[str, str]) -> None:
    result = run(mock_db, cli_env, "--start", "2024-13-01", "--end", "2024-02-01")
    assert result.exit_code == 2 and "--start: '2024-13-01' is not a date" in result.output


def test_missing_key_is_one_instruction_line(mock_db: MockDatabento, cli_env: dict[str, str]) -> None:
    env = {**cli_env, "DATABENTO_API_KEY": ""}
    result = run(mock_db, env, "--start", "2024-01-01", "--end", "2024-02-01")
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: Databento API key") and "DATABENTO_API_KEY" in lines[0]
    assert mock_db.requests == []
