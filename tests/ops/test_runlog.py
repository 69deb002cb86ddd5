"""The run log: one typed JSON line per run, atomic appends from concurrent processes, ``rst runs``."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from opshelpers import last_run

from rst.framework.lake import Lake
from rst.framework.runlog import SCHEMA_VERSION, RunStatus, append_run, new_record, read_runs, runs_path
from rst.framework.stage import Outcome

APPENDER = """
import datetime as dt, sys
from rst.framework.lake import Lake
from rst.framework.runlog import append_run, new_record
lake = Lake(sys.argv[1])
for i in range(int(sys.argv[2])):
    rec = new_record("run", ["rst", "run", sys.argv[3], str(i)], {"pad": "x" * 3000}, [],
                     started_at=dt.datetime.now(dt.UTC))
    append_run(lake, rec)
"""


def test_run_appends_one_typed_record(demo_lake, cli_run):
    assert cli_run(demo_lake, "run", "--layer", "bronze", "--symbol", "ES", "--dates", "2024-02-01..2024-02-29").exit_code == 0
    lines = runs_path(demo_lake).read_text().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["command"] == "run" and doc["status"] == "ok"
    assert doc["params"]["symbols"] == ["ES"] and doc["params"]["dates"] == "2024-02-01..2024-02-29"
    assert doc["partitions"] == {"built": 0, "skipped": 3, "no-input": 0, "failed": 0}
    assert {"argv", "started_at", "finished_at", "seconds", "rows_out", "errors", "run_id", "host", "pid"} <= set(doc)
    rec = last_run(demo_lake)
    assert rec.status is RunStatus.OK and rec.count(Outcome.SKIPPED) == 3


def test_concurrent_appends_never_interleave(tmp_path):
    lake = Lake(tmp_path / "lake")
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(lake.root), "150", f"p{i}"]) for i in range(4)
    ]
    assert all(p.wait(60) == 0 for p in procs)
    lines = runs_path(lake).read_text().splitlines()
    assert len(lines) == 600
    records = [json.loads(line) for line in lines]  # every line whole
    assert sorted(r["argv"][2] for r in records).count("p0") == 150


def test_torn_last_line_is_skipped_and_runs_command(tmp_path, cli_run):
    lake, _ = Lake.create(tmp_path / "lake")
    for _ in range(3):
        append_run(lake, new_record("demo", ["rst", "demo"], {}, [], started_at=dt.datetime.now(dt.UTC)))
    with open(runs_path(lake), "a") as f:
        f.write('{"schema_version": 1, "comm')  # a crash in the middle of a write
    assert len(read_runs(lake)) == 3
    result = cli_run(lake, "runs", "--last", "2", "--json")
    assert result.exit_code == 0
    assert [json.loads(line)["command"] for line in result.stdout.splitlines()] == ["demo", "demo"]
    table = cli_run(lake, "runs")
    assert "last 3 runs" in table.stdout and "demo" in table.stdout
    assert "no runs logged" in cli_run(Lake.create(tmp_path / "empty")[0], "runs").stdout
