"""``rst status`` and ``rst verify`` on the demo lake, and the issue's must-show:
every partition done; one raw input changed -> its bronze, silver and gold dependants stale
(and verify reports the raw file); ``rst run --layer all`` rebuilds exactly those."""

from __future__ import annotations

import datetime as dt
import json

from opshelpers import last_run, manifests, raw_files, rewrite_raw, states, status_json

import rst.framework.stage as stage_mod
from rst.demo import generate_raw
from rst.framework.lake import Lake
from rst.framework.stage import Outcome

ONE_D = {
    "bronze/ES/ohlcv_1d/year=2024",
    "silver/ES/ohlcv_1d/year=2024",
    "gold/ES/continuous_es_front_ratio/span=all",
}


def _change_daily_raw(lake: Lake, tmp_path) -> str:
    """Replace the ES daily-bar raw file by one with other prices (same name, window and metadata)."""
    (path,) = raw_files(lake, "ohlcv-1d")
    other = generate_raw(tmp_path / "other", ("ES",), dt.date(2024, 1, 1), dt.date(2024, 3, 1), seed=8)
    (replacement,) = [p for p in other if p.name == path.name]
    assert replacement.read_bytes() != path.read_bytes()
    rewrite_raw(path, replacement.read_bytes())
    return lake.relative(path)


def _reimport(lake: Lake, cli_run, rel: str, tmp_path) -> None:
    """The legitimate way to change a raw file: retire it, then import the new bytes (stages refuse a changed file)."""
    new = tmp_path / "new" / rel.rsplit("/", 1)[1]
    new.parent.mkdir()
    new.write_bytes((lake.root / rel).read_bytes())
    assert cli_run(lake, "retire", rel).exit_code == 0
    assert cli_run(lake, "import", str(new)).exit_code == 0


def test_demo_lake_all_done_then_raw_change_makes_dependants_stale_and_run_rebuilds_exactly_them(
    demo_lake, cli_run, tmp_path
):
    doc = status_json(cli_run, demo_lake)
    assert doc["schema_version"] == 1
    assert len(doc["partitions"]) == 12
    assert set(states(doc).values()) == {"done"}
    assert doc["totals"] == {"done": 12, "missing": 0, "stale": 0, "failed": 0, "corrupt": 0}
    assert doc["lake_problems"] == []

    rel = _change_daily_raw(demo_lake, tmp_path)

    doc = status_json(cli_run, demo_lake)
    stale = {label for label, state in states(doc).items() if state == "stale"}
    assert stale == ONE_D
    assert {label for label, state in states(doc).items() if state != "stale"} == set(states(doc)) - ONE_D
    reasons = {f"{p['layer']}/{p['symbol']}/{p['table']}/{p['partition']}": p["reason"] for p in doc["partitions"]}
    assert rel in reasons["bronze/ES/ohlcv_1d/year=2024"]
    assert "upstream bronze/ES/ohlcv_1d/year=2024 is stale" == reasons["silver/ES/ohlcv_1d/year=2024"]
    assert "upstream silver/ES/ohlcv_1d/year=2024 is stale" == reasons["gold/ES/continuous_es_front_ratio/span=all"]
    commands = {p["table"]: p["command"] for p in doc["partitions"] if p["layer"] == "bronze" and p["command"]}
    assert commands == {"ohlcv_1d": f"rst retire {rel}"}, "a rerun would change nothing: the raw file must go"
    text = cli_run(demo_lake, "status", "--problems").stdout
    assert "bronze/ES/ohlcv_1d/year=2024" in text and "bronze/ES/ohlcv_1h" not in text

    verify = cli_run(demo_lake, "verify")
    assert verify.exit_code == 1
    assert "raw-changed" in verify.stderr and rel in verify.stderr
    assert cli_run(demo_lake, "run", "--layer", "all").exit_code == 1  # never built from the changed bytes
    _reimport(demo_lake, cli_run, rel, tmp_path)

    before = manifests(demo_lake)
    result = cli_run(demo_lake, "run", "--layer", "all")
    assert result.exit_code == 0, result.output
    after = manifests(demo_lake)
    rebuilt = {d for d in after if after[d] != before.get(d)}
    assert {d.split("/table=")[0].split("/")[0] + "/ES/" + d.split("/table=")[1] for d in rebuilt} == ONE_D
    run = last_run(demo_lake)
    assert run.count(Outcome.BUILT) == 3 and run.count(Outcome.SKIPPED) == 9 and run.status.value == "ok"
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}
    assert cli_run(demo_lake, "verify").exit_code == 0


def test_downstream_rebuilt_without_force_when_upstream_output_changed(demo_lake, cli_run, tmp_path):
    _reimport(demo_lake, cli_run, _change_daily_raw(demo_lake, tmp_path), tmp_path)
    assert cli_run(demo_lake, "run", "--layer", "bronze").exit_code == 0
    assert last_run(demo_lake).count(Outcome.BUILT) == 1
    # bronze is done again; silver now reads different bronze bytes: stale by its own lineage
    doc = status_json(cli_run, demo_lake, "--layer", "silver", "--table", "ohlcv_1d")
    (silver,) = doc["partitions"]
    assert silver["state"] == "stale" and silver["reason"].startswith("input bronze/") and silver["reason"].endswith("changed")
    assert cli_run(demo_lake, "run", "--layer", "silver").exit_code == 0
    assert last_run(demo_lake).count(Outcome.BUILT) == 1
    assert cli_run(demo_lake, "run", "--layer", "gold").exit_code == 0
    assert last_run(demo_lake).count(Outcome.BUILT) == 1
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}


def test_status_filters_and_does_not_rehash_unchanged_raw_files(demo_lake, cli_run, monkeypatch):
    # the copy gave the raw files new inodes: they are hashed until a build records the new ones
    assert cli_run(demo_lake, "run", "--layer", "bronze", "--force").exit_code == 0
    hashed = []
    real = stage_mod.sha256_file
    monkeypatch.setattr(stage_mod, "sha256_file", lambda p: hashed.append(p) or real(p))
    doc = status_json(cli_run, demo_lake, "--layer", "bronze", "--dates", "2024-02-01..2024-02-29")
    assert sorted(states(doc)) == [
        "bronze/ES/definition/year=2024",
        "bronze/ES/ohlcv_1d/year=2024",
        "bronze/ES/ohlcv_1h/month=2024-02",
    ]
    assert hashed == []  # size and mtime unchanged: the manifests' hashes are trusted
    doc = status_json(cli_run, demo_lake, "--layer", "gold")
    assert list(states(doc)) == ["gold/ES/continuous_es_front_ratio/span=all"]


def test_status_failed_partition_shows_error_and_rerun_command(demo_lake, cli_run):
    (path,) = raw_files(demo_lake, "ohlcv-1d")
    rewrite_raw(path, path.read_bytes()[:200])  # truncated behind the lake's back
    result = cli_run(demo_lake, "run", "--layer", "bronze", "--table", "ohlcv_1d")
    assert result.exit_code == 1
    status = cli_run(demo_lake, "status", "--json")
    assert status.exit_code == 1  # a failed partition makes status exit 1 (for cron)
    (failed,) = [p for p in json.loads(status.stdout)["partitions"] if p["state"] == "failed"]
    assert failed["table"] == "ohlcv_1d" and failed["layer"] == "bronze"
    assert path.name in failed["reason"]
    assert failed["command"] == f"rst retire {demo_lake.relative(path)}", "a rerun would fail the same way"
    human = cli_run(demo_lake, "status")
    assert f"rerun: {failed['command']}" in human.stderr
    quiet = cli_run(demo_lake, "status", "--quiet")
    assert "failed bronze/ES/ohlcv_1d/year=2024" in quiet.stderr
    assert quiet.stdout.strip().splitlines() == ["status: 12 partitions: 9 done, 0 missing, 2 stale, 1 failed, 0 corrupt"]


def test_verify_reports_a_corrupt_output_byte(demo_lake, cli_run):
    assert cli_run(demo_lake, "verify").exit_code == 0
    part = next((demo_lake.root / "silver").rglob("month=2024-02/part-00000-*.parquet"))
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    result = cli_run(demo_lake, "verify")
    assert result.exit_code == 1
    assert "corrupt" in result.stderr and demo_lake.relative(part) in result.stderr
    assert "1 problem(s)" in result.stdout
