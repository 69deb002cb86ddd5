"""Guarantee 4: ``_MANIFEST.json`` records the lineage of a partition; ``_SUCCESS`` seals it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import pyarrow.parquet as pq
from toystage import QUARANTINE, TABLE, check_manifest_matches_files, trash_leftovers, write_raw

from rst.framework.contract import load_contract
from rst.framework.manifest import MANIFEST, SUCCESS, Manifest, read_manifest
from rst.framework.stage import Outcome, PartitionState


def test_manifest_records_lineage(stage, lake, key, raw, part_dir):
    make = type(stage)
    stage = make(lake, "ES", {"mult": 2, "batch": 3})
    result = stage.run(key)
    m = check_manifest_matches_files(part_dir)
    assert m.stage == "toystage.ToyStage" and m.stage_version == "1"
    assert (m.layer, m.table, m.symbol, m.partition) == ("bronze", TABLE, "ES", "dt=2024-03-01")
    assert m.params == {"mult": 2, "batch": 3}
    assert [i.path for i in m.inputs] == ["raw/toy/2024-03-01/a.txt", "raw/toy/2024-03-01/b.txt"]
    for i, path in zip(m.inputs, raw, strict=False):
        assert i.size == path.stat().st_size
        assert i.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert m.schema_fingerprint == load_contract("bronze", TABLE).fingerprint
    assert (m.rows_in, m.rows_out, m.rows_quarantined) == (11, 10, 1)
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (11, 10, 1)
    assert m.counts == {"negative": 1}
    assert m.started_at <= m.finished_at and m.seconds >= 0
    assert m.schema_version == 1
    assert sum(pq.read_metadata(part_dir / o.path).num_rows for o in m.outputs) == 10


def test_manifest_round_trips(stage, key, part_dir):
    stage.run(key)
    data = (part_dir / MANIFEST).read_bytes()
    assert Manifest.from_json(data).to_json() == data


def test_success_holds_manifest_hash(stage, key, part_dir):
    stage.run(key)
    data = (part_dir / MANIFEST).read_bytes()
    assert (part_dir / SUCCESS).read_text().strip() == hashlib.sha256(data).hexdigest()
    names = sorted(p.name for p in part_dir.iterdir())
    assert names[:2] == [MANIFEST, SUCCESS] and len(names) == 3
    assert re.fullmatch(r"part-00000-[0-9a-f]{12}\.parquet", names[2])


def test_tampered_manifest_makes_partition_incomplete(stage, key, part_dir):
    stage.run(key)
    raw = json.loads((part_dir / MANIFEST).read_text())
    raw["rows_out"] += 1
    (part_dir / MANIFEST).write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n")
    assert read_manifest(part_dir) is None
    assert stage.state(key)[0] is PartitionState.MISSING
    assert stage.existing_keys() == []
    assert stage.run(key).outcome is Outcome.BUILT  # not trusted: rebuilt
    assert read_manifest(part_dir).rows_out == 10


def test_missing_success_makes_partition_incomplete(stage, key, part_dir):
    stage.run(key)
    assert stage.existing_keys() == [key]
    (part_dir / SUCCESS).unlink()
    assert read_manifest(part_dir) is None
    assert stage.existing_keys() == []
    assert stage.run(key).outcome is Outcome.BUILT


def test_multiple_parts_are_all_recorded(stage, key, part_dir, monkeypatch):
    import rst.framework.stage as stage_mod

    monkeypatch.setattr(stage_mod, "ROWS_PER_FILE", 4)
    stage.run(key)
    m = check_manifest_matches_files(part_dir)
    content_id = hashlib.sha256("".join(o.sha256 for o in m.outputs).encode()).hexdigest()[:12]
    assert [o.path for o in m.outputs] == [f"part-0000{i}-{content_id}.parquet" for i in range(3)]
    assert [o.rows for o in m.outputs] == [4, 4, 2]  # batches (4, 2 | 3, 1) cut at 4 rows a part
    stage.run(key, force=True)  # a rerun writes the same names and bytes
    assert [(o.path, o.sha256) for o in read_manifest(part_dir).outputs] == [(o.path, o.sha256) for o in m.outputs]


def test_empty_output_is_one_empty_file(make_stage, lake, key, part_dir):
    write_raw(lake, key, "a.txt", [-1, -2])
    stage = make_stage()
    assert stage.run(key).outcome is Outcome.BUILT
    m = check_manifest_matches_files(part_dir)
    assert m.rows_out == 0 and [o.rows for o in m.outputs] == [0]
    (only,) = part_dir.glob("part-*.parquet")
    assert pq.read_schema(only).names == load_contract("bronze", TABLE).arrow_schema.names


def test_quarantine_partition_written_then_removed(stage, make_stage, lake, key, quarantine_dir):
    stage.run(key)
    qdir = quarantine_dir / key.dirname
    q = check_manifest_matches_files(qdir)
    assert (q.table, q.rows_out, q.params) == (QUARANTINE, 1, {})
    (part,) = qdir.glob("part-*.parquet")
    assert pq.read_table(part).column("reason").to_pylist() == ["negative"]
    write_raw(lake, key, "b.txt", [2, 4, 6])  # nothing to quarantine any more
    assert stage.run(key).outcome is Outcome.BUILT
    assert not qdir.exists()
    assert trash_leftovers(lake) == []


def test_lost_quarantine_partition_is_rebuilt(stage, key, quarantine_dir):
    """The quarantine partition belongs to the main one: a run repairs it when it goes missing."""
    stage.run(key)
    qdir = quarantine_dir / key.dirname
    (qdir / SUCCESS).unlink()
    assert stage.state(key) == (PartitionState.STALE, "quarantine partition missing")
    assert stage.run(key).outcome is Outcome.BUILT
    assert check_manifest_matches_files(qdir).rows_out == 1


def test_stray_quarantine_partition_is_removed(stage, lake, key, quarantine_dir, tmp_path):
    import shutil

    stage.run(key)
    qdir = quarantine_dir / key.dirname
    shutil.copytree(qdir, tmp_path / "q")
    write_raw(lake, key, "b.txt", [2, 4, 6])
    stage.run(key)
    shutil.copytree(tmp_path / "q", qdir)  # e.g. a crash between the quarantine and the main swap
    assert stage.state(key) == (PartitionState.STALE, "quarantine partition left over")
    assert stage.run(key).outcome is Outcome.BUILT
    assert not qdir.exists()


def test_manifest_inputs_of_an_upstream_partition(stage, lake, key, part_dir):
    """A stage reading a partition records that partition's files as its inputs."""
    from rst.framework.lake import Layer
    from rst.framework.stage import PartitionInput, Stage

    stage.run(key)

    class Downstream(Stage):
        layer = Layer.SILVER
        table = TABLE

        def inputs(self, k):
            return [PartitionInput(stage.partition(k))]

        def transform(self, ctx):
            for d in ctx.upstream_dirs():
                for p in sorted(d.glob("*.parquet")):
                    yield pq.read_table(p)

    install = lake.root.parent / "schemas" / "silver"
    install.mkdir(parents=True, exist_ok=True)
    (install / f"{TABLE}.avsc").write_text((lake.root.parent / "schemas" / "bronze" / f"{TABLE}.avsc").read_text())
    down = Downstream(lake, "ES")
    assert down.run(key).outcome is Outcome.BUILT
    m = check_manifest_matches_files(down.partition(key).path(lake))
    up = read_manifest(part_dir)
    assert [(i.path, i.sha256) for i in m.inputs] == [
        (f"{lake.relative(part_dir)}/{o.path}", o.sha256) for o in up.outputs
    ]
    assert down.run(key).outcome is Outcome.SKIPPED
    stage.run(key, force=True)  # byte-identical rebuild upstream: downstream stays up to date
    assert down.run(key).outcome is Outcome.SKIPPED
    type(stage)(lake, "ES", {"mult": 5}).run(key)
    assert down.state(key)[0] is PartitionState.STALE
    assert dataclasses.asdict(m)["rows_out"] == 10
