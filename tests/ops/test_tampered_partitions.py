"""Issue 9 item 2 through the CLI: readers get exactly what the manifest lists.

On the demo lake, a partition is tampered with behind rst's back (a planted part, a byte
flipped in a part of the right size). ``rst status`` must name it ``corrupt`` with the file,
``rst query`` and ``rst.read_table`` must refuse it in one line, and ``rst run`` (or
``rst verify --repair``) must rebuild exactly it, without ``--force``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from opshelpers import last_run, manifests, states, status_json

import rst
from rst.errors import PartitionCorrupt
from rst.framework.lake import Lake, Layer
from rst.framework.stage import Outcome

SILVER_1H = "silver/ES/ohlcv_1h/month=2024-02"
BRONZE_1D = "bronze/ES/ohlcv_1d/year=2024"


def _part(directory: Path) -> Path:
    (part,) = directory.glob("part-*.parquet")
    return part


def _flip_a_byte(part: Path) -> None:
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))


def _not_done(doc: dict) -> dict[str, str]:
    return {p: s for p, s in states(doc).items() if s != "done"}


def _reason(doc: dict, label: str) -> str:
    (reason,) = [
        p["reason"] for p in doc["partitions"] if f"{p['layer']}/{p['symbol']}/{p['table']}/{p['partition']}" == label
    ]
    return reason


def test_planted_part_is_corrupt_refused_by_readers_and_rebuilt_by_run(demo_lake: Lake, cli_run):
    directory = demo_lake.table_dir(Layer.SILVER, "ES", "ohlcv_1h") / "month=2024-02"
    good = rst.read_table("silver", "ES", "ohlcv_1h", lake=demo_lake)
    shutil.copy(_part(directory), directory / "part-00001-000000000000.parquet")  # every February row twice

    status = cli_run(demo_lake, "status", "--json")
    assert status.exit_code == 1  # corrupt data is worth an alert
    doc = json.loads(status.stdout)
    assert _not_done(doc).get(SILVER_1H) == "corrupt"
    assert "part-00001-000000000000.parquet is not listed in its manifest" == _reason(doc, SILVER_1H)
    assert {s for s in _not_done(doc).values()} <= {"corrupt", "stale"}

    with pytest.raises(PartitionCorrupt) as caught:
        rst.read_table("silver", "ES", "ohlcv_1h", lake=demo_lake)
    message = str(caught.value)
    assert "\n" not in message and demo_lake.relative(directory) in message and "part-00001-000000000000" in message
    query = cli_run(demo_lake, "query", "--layer", "silver", "--symbol", "ES", "--table", "ohlcv_1h")
    assert query.exit_code == 1
    assert query.stderr.strip().splitlines() == [f"error: {message}"]

    before = manifests(demo_lake)
    run = cli_run(demo_lake, "run", "--layer", "all")  # no --force
    assert run.exit_code == 0, run.output
    assert last_run(demo_lake).count(Outcome.BUILT) == 1
    after = manifests(demo_lake)
    assert [d for d in after if after[d] != before[d]] == [demo_lake.relative(directory)]
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}
    assert rst.read_table("silver", "ES", "ohlcv_1h", lake=demo_lake).equals(good)


def test_flipped_byte_found_by_verify_shows_corrupt_and_next_run_rebuilds(demo_lake: Lake, cli_run):
    directory = demo_lake.table_dir(Layer.BRONZE, "ES", "ohlcv_1d") / "year=2024"
    part = _part(directory)
    _flip_a_byte(part)
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}  # same size: status cannot tell

    verify = cli_run(demo_lake, "verify", "--no-raw")
    assert verify.exit_code == 1 and demo_lake.relative(part) in verify.stderr

    doc = status_json(cli_run, demo_lake)
    assert _not_done(doc)[BRONZE_1D] == "corrupt"
    assert part.name in _reason(doc, BRONZE_1D) and "rst verify found" in _reason(doc, BRONZE_1D)
    with pytest.raises(PartitionCorrupt, match=part.name):
        rst.read_table("bronze", "ES", "ohlcv_1d", lake=demo_lake)

    run = cli_run(demo_lake, "run", "--layer", "bronze")
    assert run.exit_code == 0, run.output
    assert last_run(demo_lake).count(Outcome.BUILT) == 1
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}
    assert cli_run(demo_lake, "verify", "--no-raw").exit_code == 0
    assert not [p for p in demo_lake.internal("verify").rglob("*") if p.is_file()]


def test_verify_repair_rebuilds_exactly_the_damaged_partitions(demo_lake: Lake, cli_run):
    flipped = demo_lake.table_dir(Layer.BRONZE, "ES", "ohlcv_1d") / "year=2024"
    planted = demo_lake.table_dir(Layer.SILVER, "ES", "ohlcv_1h") / "month=2024-02"
    _flip_a_byte(_part(flipped))
    (planted / "stray.parquet").write_bytes(b"PAR1")
    before = manifests(demo_lake)

    repair = cli_run(demo_lake, "verify", "--no-raw", "--repair")
    assert repair.exit_code == 0, repair.output
    assert "2 partition(s) rebuilt; 0 problem(s) left" in repair.stdout
    after = manifests(demo_lake)
    assert sorted(d for d in after if after[d] != before[d]) == sorted(
        [demo_lake.relative(flipped), demo_lake.relative(planted)]
    )
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}
    assert cli_run(demo_lake, "verify", "--no-raw").exit_code == 0


def test_tampered_definition_partition_does_not_stop_the_run_that_rebuilds_it(demo_lake: Lake, cli_run):
    """Silver reads the parent's definitions to plan; a planted file there must not stop ``rst run``."""
    directory = demo_lake.table_dir(Layer.BRONZE, "ES", "definition") / "year=2024"
    shutil.copy(_part(directory), directory / "part-00009-000000000000.parquet")
    doc = status_json(cli_run, demo_lake)
    assert _not_done(doc)["bronze/ES/definition/year=2024"] == "corrupt"
    run = cli_run(demo_lake, "run")
    assert run.exit_code == 0, run.output
    assert last_run(demo_lake).count(Outcome.BUILT) == 1
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}
