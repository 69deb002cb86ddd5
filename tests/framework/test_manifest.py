"""Guarantee 4: ``_MANIFEST.json`` records the lineage of a partition; ``_SUCCESS`` seals it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil

import pyarrow.parquet as pq
import pytest
from toystage import QUARANTINE, TABLE, check_manifest_matches_files, trash_leftovers, write_raw

from rst.errors import ManifestError
from rst.framework.contract import load_contract
from rst.framework.manifest import MANIFEST, SUCCESS, Manifest, read_manifest
from rst.framework.partition import PartitionKey
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
    # it still claims to be complete (_SUCCESS): reported as corrupt, not silently missing
    assert stage.state(key) == (PartitionState.CORRUPT, "_SUCCESS does not match _MANIFEST.json")
    assert stage.existing_keys() == [key]
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
    import rst.framework.parts as parts_mod

    monkeypatch.setattr(parts_mod, "ROWS_PER_FILE", 4)
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


# ---- issue 9 item 8: a manifest that is not a manifest is one ManifestError naming the file ----


def _valid_document(stage, key, part_dir) -> dict:
    stage.run(key)
    return json.loads((part_dir / MANIFEST).read_text())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: {}, "manifest lacks layer, table, symbol, partition …"),
        (lambda d: [d], "manifest is a JSON list, not an object"),
        (lambda d: {**d, "rows_out": "10"}, "manifest.rows_out is string '10', expected a count"),
        (lambda d: {**d, "rows_out": -1}, "manifest.rows_out is number -1, expected a count"),
        (lambda d: {**d, "rows_in": True}, "manifest.rows_in is boolean True, expected a count"),
        (lambda d: {**d, "inputs": {}}, "manifest.inputs is object {}, expected a list"),
        (lambda d: {**d, "outputs": [1]}, "outputs[0] is a JSON number, not an object"),
        (lambda d: {**d, "outputs": [{**d["outputs"][0], "path": "../../x.parquet"}]}, "is not a plain part file name"),
        (lambda d: {**d, "outputs": [{**d["outputs"][0], "sha256": "abc"}]}, "outputs[0].sha256 is string 'abc'"),
        (lambda d: {**d, "inputs": [{**d["inputs"][0], "path": "/etc/passwd"}]}, "is not a path inside the lake"),
        (lambda d: {**d, "surprise": 1}, "manifest has unknown key(s) surprise"),
        (lambda d: {**d, "schema_version": 9}, "schema_version 9 is not 1"),
    ],
    ids=[
        "empty",
        "list",
        "string-count",
        "negative",
        "bool",
        "inputs-object",
        "output-number",
        "output-path",
        "bad-sha",
        "absolute-input",
        "unknown-key",
        "schema-version",
    ],  # fmt: skip
)
def test_invalid_manifest_is_one_manifest_error_naming_the_file(stage, key, part_dir, change, problem):
    document = change(_valid_document(stage, key, part_dir))
    with pytest.raises(ManifestError) as caught:
        Manifest.from_json(json.dumps(document), part_dir / MANIFEST)
    message = str(caught.value)
    assert message.startswith(f"{part_dir / MANIFEST}: ") and problem in message and "\n" not in message
    # sealed with a matching _SUCCESS, it is not a complete partition: corrupt, and the next run rebuilds it
    data = json.dumps(document).encode()
    (part_dir / MANIFEST).write_bytes(data)
    (part_dir / SUCCESS).write_text(hashlib.sha256(data).hexdigest() + "\n")
    assert read_manifest(part_dir) is None
    state, reason = stage.state(key)
    assert state is PartitionState.CORRUPT and reason.startswith("_MANIFEST.json: ") and problem in reason
    assert stage.run(key).outcome is Outcome.BUILT
    assert stage.state(key) == (PartitionState.DONE, "")


def test_not_json_is_a_manifest_error(tmp_path):
    for data in (b"", b"\xff\xfe", b"{", b"[" * 100_000):
        with pytest.raises(ManifestError, match=r"m\.json: not JSON"):
            Manifest.from_json(data, tmp_path / "m.json")


def test_existing_keys_skip_strays_and_list_corrupt_partitions(stage, key, table_dir, part_dir):
    stage.run(key)
    shutil.copytree(part_dir, table_dir / f"{key.dirname}.bak")
    (table_dir / "dt=2024-03-02").write_text("a file named like a partition")
    (table_dir / "dt=garbage").mkdir()
    (table_dir / "dt=2024-3-4").mkdir()  # not the canonical name of a key
    (table_dir / "year=2024").mkdir()  # another granularity
    (table_dir / "dt=2024-03-05").mkdir()  # no _SUCCESS: not claimed, invisible
    sealed = table_dir / "dt=2024-03-06"
    sealed.mkdir()
    (sealed / MANIFEST).write_text("{}")
    (sealed / SUCCESS).write_text(hashlib.sha256(b"{}").hexdigest())
    assert read_manifest(table_dir / "dt=2024-03-02") is None
    assert stage.existing_keys() == [key, PartitionKey.parse("dt=2024-03-06")]
    assert stage.state(PartitionKey.parse("dt=2024-03-06"))[0] is PartitionState.CORRUPT
    assert stage.state(key) == (PartitionState.DONE, "")
