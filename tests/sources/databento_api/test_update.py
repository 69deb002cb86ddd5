"""The nightly update: config in TOML, up to the available end, idempotent, locked, hook called, exit codes."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rst.cli.main import cli
from rst.errors import ConfigError
from rst.framework.lake import Lake, Layer
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.lock import DownloadLock, DownloadLocked
from rst.sources.databento_api.plan import Granularity, to_ns
from rst.sources.databento_api.update import run_update
from rst.sources.databento_api.update_config import load_update_config
from rst.sources.raw_zone import RawZone

from .mock_server import Fault, MockDatabento

CONFIG = """\
# nightly targets
max_cost_usd = 1000.0

[[target]]
dataset = "GLBX.MDP3"
schemas = ["ohlcv-1d", "definition"]
parents = ["ES.FUT", "NQ"]
start = 2024-01-01   # UTC
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    p = tmp_path / "update.toml"
    p.write_text(CONFIG)
    return p


def test_config_parses_and_normalises(config_file: Path) -> None:
    cfg = load_update_config(config_file)
    (t,) = cfg.targets
    assert t.dataset == "GLBX.MDP3" and t.schemas == ("ohlcv-1d", "definition")
    assert t.parents == ("ES", "NQ") and t.start_ns == to_ns(date(2024, 1, 1))
    assert t.stype_in == "parent" and t.granularity is None and cfg.max_cost_usd == 1000.0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[target]]\ndataset='GLBX.MDP3'\nschemas=['ohlcv-1d']\nparents=['ES']\n", "missing 'start'"),
        ("[[target]]\ndataset='GLBX.MDP3'\nschemas=['nope']\nparents=['ES']\nstart=2024-01-01\n", "not a Databento schema"),
        ("[[target]]\ndataset='GLBX.MDP3'\nschemas=['ohlcv-1d']\nparents=['ES']\nstart='2024'\n", "TOML date"),
        ("[[target]]\ndataset='X'\nschemas=['ohlcv-1d']\nparents=['ES']\nstart=2024-01-01\ngranularity='week'\n", "granularity"),
        ("max_cost = 3\n", "unknown key"),
        ("[[target]\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_update_config(p)


def test_update_fetches_up_to_the_available_end_then_nothing(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, make_client: Any, mock_db: MockDatabento, config_file: Path
) -> None:
    mock_db.schema_ranges["definition"] = (to_ns(date(2023, 1, 1)), to_ns(date(2024, 5, 15)))
    seen: list[list[Any]] = []
    report = run_update(config_file, lake, seen.append, client=client, raw_zone=raw_zone)
    assert report.ok, report.summary()
    windows = {(r.params["schema"], r.params["symbols"], r.window) for r in mock_db.calls("timeseries.get_range")}
    jan1, jun1, may15 = to_ns(date(2024, 1, 1)), to_ns(date(2024, 6, 1)), to_ns(date(2024, 5, 15))
    assert windows == {
        ("ohlcv-1d", "ES.FUT", (jan1, jun1)),  # available end 2024-06-01T20:00Z floored to the day
        ("ohlcv-1d", "NQ.FUT", (jan1, jun1)),
        ("definition", "ES.FUT", (jan1, may15)),  # the schema's own range
        ("definition", "NQ.FUT", (jan1, may15)),
    }
    assert len(seen) == 1 and len(seen[0]) == 4

    mock_db.requests.clear()
    again = run_update(config_file, lake, seen.append, client=client, raw_zone=raw_zone)
    assert again.ok and again.download.chunks == [] and mock_db.calls("timeseries.get_range") == []
    assert len(seen) == 1  # hook not called without new data

    mock_db.available_end_ns = to_ns(date(2024, 6, 4)) + 3_600_000_000_000
    mock_db.requests.clear()
    third = run_update(config_file, lake, seen.append, client=make_client(), raw_zone=raw_zone)  # next night
    assert third.ok
    assert {r.window for r in mock_db.calls("timeseries.get_range") if r.params["schema"] == "ohlcv-1d"} == {
        (jun1, to_ns(date(2024, 6, 4)))
    }


def test_a_second_concurrent_update_is_refused(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento, config_file: Path
) -> None:
    with DownloadLock(lake):
        with pytest.raises(DownloadLocked, match="another rst download/update is running"):
            run_update(config_file, lake, None, client=client, raw_zone=raw_zone)
    assert mock_db.requests == []


def test_update_cli_exits_1_with_summary_when_something_failed(
    mock_db: MockDatabento, cli_env: dict[str, str], config_file: Path
) -> None:
    mock_db.add_fault(Fault("timeseries.get_range", status=500, times=None,
                            when=lambda r: r.params["symbols"] == "NQ.FUT" and r.params["schema"] == "definition"))
    result = CliRunner().invoke(
        cli, ["update", "--gateway", mock_db.gateway, "--config", str(config_file), "--max-attempts", "1",
              "--no-pipeline"],  # downloads only: the pipeline has its own tests below
        env=cli_env,
    )
    assert result.exit_code == 1, result.output
    assert "4 planned, 3 downloaded, 1 failed" in result.output
    assert "failed GLBX.MDP3 definition NQ.FUT" in result.output

    mock_db.faults.clear()
    mock_db.requests.clear()
    rerun = CliRunner().invoke(
        cli, ["update", "--gateway", mock_db.gateway, "--config", str(config_file), "--no-pipeline"], env=cli_env,
    )
    assert rerun.exit_code == 0, rerun.output
    assert "1 planned, 1 downloaded, 0 failed" in rerun.output
    assert [r.params["symbols"] for r in mock_db.calls("timeseries.get_range")] == ["NQ.FUT"]


def test_update_estimate_and_cost_cap_download_nothing(
    mock_db: MockDatabento, cli_env: dict[str, str], config_file: Path
) -> None:
    result = CliRunner().invoke(
        cli, ["update", "--gateway", mock_db.gateway, "--config", str(config_file), "--estimate"], env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert "4 request(s) planned, nothing downloaded" in result.output
    capped = CliRunner().invoke(
        cli, ["update", "--gateway", mock_db.gateway, "--config", str(config_file), "--max-cost", "1"], env=cli_env,
    )
    assert capped.exit_code == 1 and "above --max-cost $1.00" in capped.output
    assert mock_db.calls("timeseries.get_range") == []


def test_granularity_in_config(tmp_path: Path) -> None:
    p = tmp_path / "u.toml"
    p.write_text(CONFIG.replace('start = 2024-01-01', 'start = 2024-01-01\ngranularity = "month"'))
    assert load_update_config(p).targets[0].granularity is Granularity.MONTH


PIPELINE_CONFIG = """\
[[target]]
dataset = "GLBX.MDP3"
schemas = ["ohlcv-1d", "definition"]
parents = ["ES"]
start = 2024-01-01
"""


def test_update_cli_runs_the_pipeline_for_the_configured_parents(
    mock_db: MockDatabento, cli_env: dict[str, str], lake: Lake, tmp_path: Path
) -> None:
    config = tmp_path / "pipeline.toml"
    config.write_text(PIPELINE_CONFIG)
    args = ["update", "--gateway", mock_db.gateway, "--config", str(config)]
    result = CliRunner().invoke(cli, args, env=cli_env)
    assert result.exit_code == 0, result.output
    assert "2 planned, 2 downloaded, 0 failed" in result.output
    assert re.search(r"^pipeline ES: \d+ built, 0 up to date, \d+ without input, 0 failed$", result.output, re.M)
    for table in ("ohlcv_1d", "definition"):
        partition = lake.table_dir(Layer.BRONZE, "ES", table) / "year=2024"
        assert (partition / "_SUCCESS").is_file(), table
        assert list(partition.glob("part-*.parquet"))

    # nothing new the next time: no download; the pipeline checks every partition (so one that
    # failed last night would be retried), finds all up to date, and the lake is unchanged
    mock_db.requests.clear()
    before = sorted((p, p.stat().st_mtime_ns) for p in lake.root.glob("*/**/_SUCCESS"))
    again = CliRunner().invoke(cli, args, env=cli_env)
    assert again.exit_code == 0, again.output
    assert "nothing to download" in again.output
    assert re.search(r"^pipeline ES: 0 built, [1-9]\d* up to date, \d+ without input, 0 failed$", again.output, re.M)
    assert sorted((p, p.stat().st_mtime_ns) for p in lake.root.glob("*/**/_SUCCESS")) == before


def test_pipeline_runs_the_layers_of_the_new_files_parents(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rst.stages.registry as registry
    from rst.cli.update import pipeline_hook

    planned: list[tuple[list[Layer], list[str]]] = []
    real_plan = registry.plan

    def spy(lk: Lake, layers: list[Layer], symbols: list[str], dates: Any, **kw: Any) -> Any:
        planned.append((list(layers), list(symbols)))
        return real_plan(lk, layers, symbols, dates, **kw)

    monkeypatch.setattr(registry, "plan", spy)
    config = tmp_path / "pipeline.toml"
    config.write_text(PIPELINE_CONFIG.replace('["ES"]', '["ES", "NQ"]'))
    hook = pipeline_hook(lake)
    report = run_update(config, lake, hook, client=client, raw_zone=raw_zone)
    assert report.ok and hook.ran
    assert hook.parents == ["ES", "NQ"]
    # each parent's layer is planned once that parent's layer before it has settled
    for parent in ("ES", "NQ"):
        assert [layers for layers, symbols in planned if symbols == [parent]] == [[layer] for layer in Layer]
    assert all(len(symbols) == 1 for _, symbols in planned)
    assert hook.results and not hook.failures
    assert (lake.table_dir(Layer.BRONZE, "NQ", "ohlcv_1d") / "year=2024" / "_SUCCESS").is_file()


def test_failed_partition_makes_update_exit_1(
    mock_db: MockDatabento, cli_env: dict[str, str], lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rst.framework.runner as runner
    from rst.framework.stage import Outcome, PartitionResult

    def failing(task: Any) -> PartitionResult:
        return PartitionResult(task.stage.partition(task.key), Outcome.FAILED, error="boom: disk on fire")

    monkeypatch.setattr(runner, "run_task", failing)
    config = tmp_path / "pipeline.toml"
    config.write_text(PIPELINE_CONFIG.replace('"definition"', ""))
    result = CliRunner().invoke(cli, ["update", "--gateway", mock_db.gateway, "--config", str(config)], env=cli_env)
    assert result.exit_code == 1, result.output
    assert "1 planned, 1 downloaded, 0 failed" in result.output
    assert "FAILED bronze" in result.output and "boom: disk on fire" in result.output
    assert "pipeline ES:" in result.output
