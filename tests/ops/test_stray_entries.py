"""Issue 9 item 8: one stray entry never takes the lake down.

Strays are planted in the built demo lake: a backup copy ``year=2024.bak/``, regular files
named like partitions, a directory ``dt=garbage``, a ``parent=ES.bak`` copy, and manifests
that are not manifests (``{}``, a JSON list, wrong types) sealed by a matching ``_SUCCESS``.
``status`` and ``verify`` must report each once, keep reporting every partition, and ``run``
must build the rest (and rebuild the partitions whose manifest was broken).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from opshelpers import last_run, states, status_json

import rst
from rst.framework.hashing import sha256_bytes
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import MANIFEST, SUCCESS
from rst.framework.stage import Outcome
from rst.framework.verify import partition_dirs, verify_lake


def _seal(directory: Path, manifest: bytes) -> None:
    """Replace the manifest and write the matching ``_SUCCESS``: a well-sealed, invalid document."""
    (directory / MANIFEST).write_bytes(manifest)
    (directory / SUCCESS).write_text(sha256_bytes(manifest) + "\n")


def _plant_strays(lake: Lake) -> set[str]:
    """Plant the strays; return their lake-relative paths."""
    bars_1d = lake.table_dir(Layer.BRONZE, "ES", "ohlcv_1d")
    bars_1h = lake.table_dir(Layer.SILVER, "ES", "ohlcv_1h")
    shutil.copytree(bars_1d / "year=2024", bars_1d / "year=2024.bak")
    (bars_1d / "year=2023").write_text("not a directory")
    (bars_1h / "dt=2024-01-02").write_text("")
    (bars_1h / "dt=garbage").mkdir()
    (bars_1h / "notes.txt").write_text("hello")
    parent = lake.parent_dir(Layer.GOLD, "ES")
    shutil.copytree(parent, parent.with_name(parent.name + ".bak"))
    strays = [bars_1d / "year=2024.bak", bars_1d / "year=2023", bars_1h / "dt=2024-01-02", bars_1h / "dt=garbage",
              bars_1h / "notes.txt", parent.with_name(parent.name + ".bak")]  # fmt: skip
    return {lake.relative(p) for p in strays}


def test_strays_are_reported_once_and_every_partition_still_reported_and_built(demo_lake: Lake, cli_run):
    every = set(states(status_json(cli_run, demo_lake)))
    planted = _plant_strays(demo_lake)

    status = cli_run(demo_lake, "status", "--json")
    assert status.exit_code == 1
    doc = json.loads(status.stdout)
    assert sorted(s["path"] for s in doc["lake_problems"]) == sorted(planted)
    assert {s["kind"] for s in doc["lake_problems"]} == {"stray"}
    assert set(states(doc)) == every and set(states(doc).values()) == {"done"}
    human = cli_run(demo_lake, "status")
    for path in planted:
        assert human.stderr.count(f"stray: {path} (") == 1
    assert human.stdout.splitlines()[-1].endswith(f"; {len(planted)} problem(s) outside partitions")

    verify = cli_run(demo_lake, "verify")
    assert verify.exit_code == 1
    problems = verify_lake(demo_lake)
    assert sorted(p.path for p in problems) == sorted(planted) and {p.kind for p in problems} == {"stray"}
    assert len(list(partition_dirs(demo_lake))) == len(doc["partitions"])

    run = cli_run(demo_lake, "run", "--layer", "all")
    assert run.exit_code == 0, run.output
    assert last_run(demo_lake).count(Outcome.FAILED) == 0
    assert rst.read_table("bronze", "ES", "ohlcv_1d", lake=demo_lake).height > 0  # the .bak copy is not read
    assert cli_run(demo_lake, "invalidate", "--layer", "gold", "--dry-run").exit_code == 0


@pytest.mark.parametrize(
    "document",
    [b"{}", b"[]", b'{"layer": 3}', b"\xff\xfe not json", b"null"],
    ids=["empty-object", "list", "wrong-type", "not-utf8", "null"],
)
def test_sealed_invalid_manifest_is_reported_once_and_rebuilt(demo_lake: Lake, cli_run, document: bytes):
    directory = demo_lake.table_dir(Layer.BRONZE, "ES", "ohlcv_1h") / "month=2024-02"
    label = "bronze/ES/ohlcv_1h/month=2024-02"
    every = set(states(status_json(cli_run, demo_lake)))
    _seal(directory, document)

    doc = status_json(cli_run, demo_lake)
    not_done = {p: s for p, s in states(doc).items() if s != "done"}
    assert not_done[label] == "corrupt"
    (reason,) = [p["reason"] for p in doc["partitions"] if p["table"] == "ohlcv_1h" and p["layer"] == "bronze"
                 and p["partition"] == "month=2024-02"]  # fmt: skip
    assert reason.startswith("_MANIFEST.json: ")
    assert set(not_done.values()) <= {"corrupt", "stale"} and set(states(doc)) == every
    assert doc["lake_problems"] == []

    problems = verify_lake(demo_lake, raw=False)
    assert [(p.kind, p.path) for p in problems] == [("corrupt", demo_lake.relative(directory))]
    with pytest.raises(rst.errors.PartitionCorrupt, match="_MANIFEST.json"):
        rst.read_table("bronze", "ES", "ohlcv_1h", lake=demo_lake)

    run = cli_run(demo_lake, "run", "--layer", "all")
    assert run.exit_code == 0, run.output
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}
    assert verify_lake(demo_lake, raw=False) == []


def test_bad_catalogue_entry_and_run_log_line_are_reported_once_by_status_and_verify(demo_lake: Lake, cli_run):
    from rst.framework.runlog import runs_path
    from rst.sources.raw_zone import RawZone

    assert cli_run(demo_lake, "run", "--quiet").exit_code == 0  # one good run-log line
    every = set(states(status_json(cli_run, demo_lake)))
    catalogue = RawZone(demo_lake.root).catalog_dir / ("0" * 64 + ".json")
    catalogue.write_text("{not json")
    with open(runs_path(demo_lake), "ab") as f:
        f.write(b'{"torn": \xff\xfe\n')

    status = cli_run(demo_lake, "status", "--json")
    doc = json.loads(status.stdout)
    kinds = sorted(p["kind"] for p in doc["lake_problems"])
    assert kinds == ["catalogue", "run-log"], doc["lake_problems"]
    assert set(states(doc)) == every  # every partition is still reported
    assert status.exit_code == 1  # the bad catalogue entry (a run-log line alone would not change it)
    human = cli_run(demo_lake, "status")
    assert human.stderr.count("catalogue: ") == 1 and human.stderr.count("run-log: ") == 1

    kinds = sorted(p.kind for p in verify_lake(demo_lake))
    assert kinds == ["catalogue", "run-log"]
    assert cli_run(demo_lake, "run", "--layer", "all").exit_code == 0
