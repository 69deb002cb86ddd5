"""Helpers for the operations tests (imported by the test modules; fixtures are in ``conftest.py``)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from rst.framework.lake import Lake, Layer
from rst.framework.runlog import RunRecord, RunStatus, read_runs
from rst.framework.verify import verify_lake
from rst.sources.raw_zone import RawZone

HERE = Path(__file__).parent
WRAPPER = HERE / "rst_wrapper.py"


def rst_process(lake: Lake, command: str, *args: str, env: dict[str, str] | None = None,
                **popen: Any) -> subprocess.Popen[str]:  # fmt: skip
    """Start ``rst <command> --lake <lake> …`` in a subprocess (through the hook wrapper)."""
    environ = {**os.environ, **(env or {})}
    return subprocess.Popen(
        [sys.executable, str(WRAPPER), command, "--lake", str(lake.root), *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def status_json(cli_run: Callable[..., Result], lake: Lake, *args: str) -> dict[str, Any]:
    result = cli_run(lake, "status", "--json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def states(doc: dict[str, Any]) -> dict[str, str]:
    """``{label: state}`` from a ``status --json`` document."""
    return {f"{p['layer']}/{p['symbol']}/{p['table']}/{p['partition']}": p["state"] for p in doc["partitions"]}


def tree_snapshot(root: Path) -> dict[str, str]:
    """Every file and directory under ``root``: relative path -> SHA256 (``dir`` for directories)."""
    snap = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        snap[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return snap


def manifests(lake: Lake) -> dict[str, bytes]:
    """``{partition dir relative to the lake: manifest bytes}`` of every partition of every layer."""
    out = {}
    for layer in ("bronze", "silver", "gold"):
        for m in sorted((lake.root / layer).rglob("_MANIFEST.json")):
            out[lake.relative(m.parent)] = m.read_bytes()
    return out


def last_run(lake: Lake) -> RunRecord:
    runs = read_runs(lake)
    assert runs, "no run logged"
    return runs[-1]


def raw_files(lake: Lake, schema: str) -> list[Path]:
    return sorted(f.abspath(lake.root) for f in RawZone(lake.root).files(schema=schema))


def rewrite_raw(path: Path, data: bytes) -> None:
    """Change a raw file behind the lake's back (raw files are read-only: chmod u+w first)."""
    os.chmod(path, 0o644)
    path.write_bytes(data)


def staging_files(lake: Lake) -> list[Path]:
    root = lake.internal("staging")
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def states_of(lake: Lake) -> dict[str, str]:
    """``{partition label: state}`` of every ES partition of every layer."""
    from rst.ops.status import lake_status

    return {s.label: s.state.value for s in lake_status(lake, list(Layer), ["ES"]).partitions}


def assert_interrupted_then_finished(lake: Lake, cli_run: Callable[..., Result], by: str) -> None:
    """After a run stopped ``by`` a signal mid-way: logged as interrupted, nothing partial in the lake,
    and the next ``rst run`` finishes everything, keeping the bronze partitions already committed."""
    assert last_run(lake).status is RunStatus.INTERRUPTED
    assert not verify_lake(lake)  # nothing partial: every partition dir is complete and matches
    remaining = {label for label, s in states_of(lake).items() if s != "done"}
    assert remaining, f"the run finished before {by}: nothing proved"

    before = manifests(lake)
    assert cli_run(lake, "run", "-q").exit_code == 0
    assert set(states_of(lake).values()) == {"done"}
    assert not staging_files(lake)
    after = manifests(lake)
    assert all(after[d] == m for d, m in before.items() if d.startswith("bronze/"))  # committed ones kept
