"""Raw files are checked when stages use them, retired by ``rst retire``, and the raw zone's
bookkeeping faults (a deleted entry, a deleted file, a corrupt entry) are reported by ``verify``
without taking the lake down (issue 9, items 3 and 8)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from opshelpers import last_run, manifests, raw_files, rewrite_raw, states, status_json

import rst.sources.raw_zone as raw_zone_mod
from rst.demo import generate_raw
from rst.framework.lake import Lake
from rst.framework.stage import Outcome
from rst.sources.raw_zone import RawFile, RawZone
from rst.sources.synthetic import write_dataset

DAILY_BRONZE = "bronze/ES/ohlcv_1d/year=2024"


def _other_daily_bytes(tmp_path: Path, name: str) -> bytes:
    """A valid ES daily-bar file with the same name, window and metadata but other prices."""
    other = generate_raw(tmp_path / "other", ("ES",), dt.date(2024, 1, 1), dt.date(2024, 3, 1), seed=8)
    (replacement,) = [p for p in other if p.name == name]
    return replacement.read_bytes()


def _entry(lake: Lake, path: Path) -> RawFile | None:
    """The catalogue entry of the raw file at ``path`` (None when it has none)."""
    found = [f for f in RawZone(lake.root).files() if f.path == lake.relative(path)]
    return found[0] if found else None


def _entry_doc(lake: Lake, path: Path) -> dict[str, object]:
    entry = _entry(lake, path)
    assert entry is not None
    return json.loads(entry.to_json())


def test_raw_file_changed_in_place_fails_its_partition_instead_of_being_built_from(demo_lake, cli_run, tmp_path):
    (path,) = raw_files(demo_lake, "ohlcv-1d")
    rel = demo_lake.relative(path)
    catalogue_sha = str(_entry_doc(demo_lake, path)["sha256"])
    before = manifests(demo_lake)
    rewrite_raw(path, _other_daily_bytes(tmp_path, path.name))  # valid DBN, other prices: decodes fine

    result = cli_run(demo_lake, "run", "--layer", "all")

    assert result.exit_code == 1
    errors = last_run(demo_lake).errors
    (error,) = [e for e in errors if "not built: its input" not in e]
    assert error.startswith(DAILY_BRONZE)
    blocked = [e for e in errors if e != error]
    assert any(f"not built: its input {DAILY_BRONZE} failed" in e for e in blocked)  # its readers wait for it
    assert f"raw file changed since import: {rel} (catalogue sha {catalogue_sha[:12]}…, now " in error
    assert error.endswith(f"retire it with `rst retire {rel}`")
    assert manifests(demo_lake) == before  # nothing was rebuilt from the changed bytes
    doc = status_json(cli_run, demo_lake)
    failed = [p for p in doc["partitions"] if p["state"] == "failed"]
    assert [f"{p['layer']}/{p['symbol']}/{p['table']}/{p['partition']}" for p in failed] == [DAILY_BRONZE]


def test_first_build_checks_raw_files_against_the_catalogue(raw_lake, cli_run, tmp_path):
    (path,) = [p for p in raw_files(raw_lake, "ohlcv-1h") if "-20240201-" in p.name]
    others = write_dataset(tmp_path / "other", ["ES"], ["ohlcv-1h"], dt.date(2024, 1, 1), dt.date(2024, 4, 1),
                           split="month", seed=12)  # fmt: skip
    (replacement,) = [p for p in others if p.name == path.name]
    rewrite_raw(path, replacement.read_bytes())  # no partition was ever built: no manifest to compare with

    result = cli_run(raw_lake, "run", "--layer", "bronze", "--table", "ohlcv_1h")

    assert result.exit_code == 1
    run = last_run(raw_lake)
    assert run.errors and all("raw file changed since import" in e and path.name in e for e in run.errors)
    assert run.count(Outcome.BUILT) >= 1  # the partitions that do not read it are built
    st = states(status_json(cli_run, raw_lake, "--layer", "bronze", "--table", "ohlcv_1h"))
    assert "bronze/ES/ohlcv_1h/month=2024-02" in {label for label, s in st.items() if s == "failed"}


def test_replaced_raw_file_with_forged_mtime_and_size_is_caught_by_its_inode(demo_lake, cli_run):
    # rebuild on this copy so that the manifests record these files' inodes (the copy gave new ones)
    assert cli_run(demo_lake, "run", "--layer", "bronze", "--force").exit_code == 0
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}
    (path,) = raw_files(demo_lake, "ohlcv-1d")
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-9] ^= 0xFF  # same size, other bytes
    forged = path.with_name(".forged")
    forged.write_bytes(bytes(data))
    os.utime(forged, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime forged back
    os.rename(forged, path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)

    doc = status_json(cli_run, demo_lake, "--layer", "bronze", "--table", "ohlcv_1d")

    (bronze,) = doc["partitions"]
    assert bronze["state"] != "done"
    assert bronze["reason"].startswith(f"raw file changed since import: {demo_lake.relative(path)}")


def test_retire_moves_file_and_entry_to_rejected_and_replans(demo_lake, cli_run, tmp_path):
    (path,) = raw_files(demo_lake, "ohlcv-1d")
    rel = demo_lake.relative(path)
    good = path.read_bytes()
    entry = _entry_doc(demo_lake, path)
    bad = _other_daily_bytes(tmp_path, path.name)
    rewrite_raw(path, bad)
    assert cli_run(demo_lake, "run", "--layer", "all").exit_code == 1

    result = cli_run(demo_lake, "retire", str(path), "--reason", "changed behind our back")

    assert result.exit_code == 0, result.output
    assert not path.exists() and _entry(demo_lake, path) is None
    (rejected,) = demo_lake.internal("rejected").iterdir()
    assert rejected.name.endswith(f"-{str(entry['sha256'])[:12]}")
    assert (rejected / rel).read_bytes() == bad
    assert json.loads((rejected / f"{entry['sha256']}.json").read_text()) == entry
    record = json.loads((rejected / "retired.json").read_text())
    assert (record["path"], record["reason"], record["entry"]) == (rel, "changed behind our back", entry)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"retired {rel} (file and catalogue entry) -> _rejected/{rejected.name}")
    # the only daily file: its partition has nothing left to be rebuilt from, so it is kept as it is
    assert lines[1].startswith(f"kept    {DAILY_BRONZE}: no raw file left to rebuild it from; it keeps its data until ")
    assert lines[1].endswith("--layer bronze --symbol ES --table ohlcv_1d --dt 2024-01-01`")
    assert lines[2:] == ["no partition to rebuild"]
    # the failure is gone with the file: the next run changes nothing and fails nothing
    assert cli_run(demo_lake, "run", "--layer", "all").exit_code == 0
    assert last_run(demo_lake).count(Outcome.FAILED) == 0
    assert cli_run(demo_lake, "verify").exit_code == 0
    # the good bytes can come back under the same name; the run rebuilds from them
    incoming = tmp_path / "again" / path.name
    incoming.parent.mkdir()
    incoming.write_bytes(good)
    assert cli_run(demo_lake, "import", str(incoming)).exit_code == 0
    assert cli_run(demo_lake, "run", "--layer", "all").exit_code == 0
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}


def test_retire_replans_the_partitions_that_read_the_file(raw_lake, cli_run):
    assert cli_run(raw_lake, "run", "--layer", "all").exit_code == 0
    (path,) = [p for p in raw_files(raw_lake, "ohlcv-1h") if "-20240201-" in p.name]
    rel = raw_lake.relative(path)

    result = cli_run(raw_lake, "retire", rel)

    assert result.exit_code == 0, result.output
    plan = result.stdout.splitlines()[1:]
    assert plan == [
        f"stale   bronze/ES/ohlcv_1h/month=2024-02  (input {rel} is gone)",
        f"stale   bronze/ES/ohlcv_1h/month=2024-03  (input {rel} is gone)",  # its first session began in February
        "stale   silver/ES/ohlcv_1d_session/year=2024  (upstream bronze/ES/ohlcv_1h/month=2024-02 is stale)",
        "stale   silver/ES/ohlcv_1h/month=2024-02  (upstream bronze/ES/ohlcv_1h/month=2024-02 is stale)",
        "stale   silver/ES/ohlcv_1h/month=2024-03  (upstream bronze/ES/ohlcv_1h/month=2024-03 is stale)",
        # 2024-04-01's session opened on 2024-03-31, so silver April reads bronze March too
        "stale   silver/ES/ohlcv_1h/month=2024-04  (upstream bronze/ES/ohlcv_1h/month=2024-03 is stale)",
        "6 partition(s) not up to date; `rst run` rebuilds them",
    ]
    assert cli_run(raw_lake, "run", "--layer", "all").exit_code == 0
    assert last_run(raw_lake).count(Outcome.BUILT) == 6


def test_interrupted_retirement_leaves_no_silently_used_file_and_can_be_completed(demo_lake, cli_run, monkeypatch):
    (path,) = raw_files(demo_lake, "ohlcv-1d")
    rel = demo_lake.relative(path)
    real_rename = os.rename

    def crash_on_the_file(src, dst):  # type: ignore[no-untyped-def]
        if Path(src) == path:
            raise OSError("simulated crash between the two moves")
        real_rename(src, dst)

    monkeypatch.setattr(raw_zone_mod.os, "rename", crash_on_the_file)
    crashed = cli_run(demo_lake, "retire", rel)
    assert crashed.exit_code == 1 and "simulated crash" in crashed.stderr  # one line, as for any error
    monkeypatch.undo()
    assert path.exists() and _entry(demo_lake, path) is None

    verify = cli_run(demo_lake, "verify")
    assert verify.exit_code == 1
    (line,) = [line for line in verify.stderr.splitlines() if rel in line]
    assert line.startswith(f"uncatalogued {rel}: ") and line.endswith(f"`rst retire {rel}` to move it out")
    assert cli_run(demo_lake, "run", "--layer", "all").exit_code == 0  # no stage reads the orphan
    assert last_run(demo_lake).count(Outcome.FAILED) == 0

    done = cli_run(demo_lake, "retire", rel)
    assert done.exit_code == 0 and "(uncatalogued file)" in done.stdout
    assert not path.exists()
    assert cli_run(demo_lake, "verify").exit_code == 0


def test_undecodable_catalogued_raw_file_error_names_retire(raw_lake, cli_run):
    (path,) = [p for p in raw_files(raw_lake, "ohlcv-1h") if "-20240201-" in p.name]
    rel = raw_lake.relative(path)
    rewrite_raw(path, b"DBN\x03" + b"\xff" * 64)
    # the catalogue agrees with the bad bytes (an entry forged with the file, or a decoder grown stricter)
    old = _entry(raw_lake, path)
    assert old is not None
    doc = json.loads(old.to_json())
    from rst.framework.hashing import sha256_file

    doc["sha256"], doc["size"] = sha256_file(path), path.stat().st_size
    (raw_lake.raw / "_catalog" / f"{old.sha256}.json").unlink()
    (raw_lake.raw / "_catalog" / f"{doc['sha256']}.json").write_text(json.dumps(doc))

    result = cli_run(raw_lake, "run", "--layer", "bronze", "--table", "ohlcv_1h")

    assert result.exit_code == 1
    errors = last_run(raw_lake).errors
    assert errors and all(e.endswith(f"retire it with `rst retire {rel}`") for e in errors), errors


def test_verify_reports_raw_files_and_entries_deleted_by_hand(demo_lake, cli_run):
    (kept_file,) = raw_files(demo_lake, "ohlcv-1d")
    (kept_entry,) = raw_files(demo_lake, "ohlcv-1h")[:1]
    entry = _entry(demo_lake, kept_file)
    assert entry is not None
    (demo_lake.raw / "_catalog" / f"{entry.sha256}.json").unlink()  # entry deleted, file kept
    os.chmod(kept_entry, 0o644)
    kept_entry.unlink()  # file deleted, entry kept

    result = cli_run(demo_lake, "verify", "--layer", "bronze")

    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"missing {demo_lake.relative(kept_entry)}: raw file in the catalogue is gone; "
        f"`rst retire {demo_lake.relative(kept_entry)}` drops its entry",
        f"uncatalogued {demo_lake.relative(kept_file)}: in the raw zone without a catalogue entry, so no stage "
        f"reads it; `rst import` the file again to catalogue it, or `rst retire {demo_lake.relative(kept_file)}` "
        "to move it out",
    ]


def test_corrupt_catalogue_entry_does_not_take_the_lake_down(demo_lake, cli_run):
    catalog = demo_lake.raw / "_catalog"
    (catalog / f"{'a' * 64}.json").write_bytes(b"\x89PNG not an entry")
    (catalog / f"{'b' * 64}.json").write_text(json.dumps({"path": 42}))

    status = cli_run(demo_lake, "status", "--json")
    run = cli_run(demo_lake, "run", "--layer", "all")
    verify = cli_run(demo_lake, "verify")

    assert status.exit_code in (0, 1), status.output  # reported (a problem), not raised
    assert set(states(json.loads(status.stdout)).values()) == {"done"}
    assert run.exit_code == 0 and last_run(demo_lake).count(Outcome.SKIPPED) == len(states(json.loads(status.stdout)))
    assert verify.exit_code == 1
    problems = [line for line in verify.stderr.splitlines() if line.strip()]
    assert problems == [
        f"catalogue raw/_catalog/{'a' * 64}.json: unreadable catalogue entry: 'utf-8' codec can't decode byte 0x89 "
        "in position 0: invalid start byte; its raw file is not used",
        f"catalogue raw/_catalog/{'b' * 64}.json: unreadable catalogue entry: lacks dataset, dbn_version, end_ns, "
        "imported_at, parent, record_count, schema, sha256, size, start_ns, symbols; its raw file is not used",
    ]
