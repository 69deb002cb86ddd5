"""The run log never loses a record: a torn last line does not swallow the next run's record, and every
unreadable line (torn, not UTF-8, not JSON) is reported as a problem by ``rst runs`` instead of hidden."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from rst.cli.main import cli
from rst.framework.lake import Lake
from rst.framework.runlog import RunRecord, append_run, new_record, read_run_log, read_runs, run_log_problems, runs_path


def record(tag: str) -> RunRecord:
    return new_record("run", ["rst", "run", tag], {"tag": tag}, [], started_at=dt.datetime.now(dt.UTC))


def tags(lake: Lake) -> list[str]:
    return [r.argv[2] for r in read_runs(lake)]


def tear(lake: Lake, fraction: float = 0.5, *, guard: bool = True) -> bytes:
    """Append the first part of a record's line, as a run killed (or a full disk) mid-write leaves it;
    with ``guard``, preceded by the newline an append makes after a torn line."""
    path = runs_path(lake)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = record("torn").to_json().encode()
    piece = line[: max(1, int(len(line) * fraction))]
    data = path.read_bytes() if path.exists() else b""
    with open(path, "ab") as f:
        f.write((b"\n" if guard and data and not data.endswith(b"\n") else b"") + piece)
    return piece


def test_a_torn_last_line_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    append_run(lake, record("first"))
    tear(lake)
    append_run(lake, record("after-crash"))
    assert tags(lake) == ["first", "after-crash"]
    (problem,) = run_log_problems(lake)
    assert problem.line == 2 and "not valid JSON" in problem.problem
    assert str(problem).startswith(f"{runs_path(lake)} line 2: ")


def test_a_torn_last_line_is_reported_as_torn(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    append_run(lake, record("a"))
    piece = tear(lake, 0.3)
    records, problems = read_run_log(lake)
    assert [r.argv[2] for r in records] == ["a"]
    assert len(problems) == 1 and problems[0].line == 2
    assert f"torn last line ({len(piece)} bytes, no newline)" in problems[0].problem


def test_rst_runs_reports_torn_non_utf8_and_invalid_json_lines(tmp_path: Path) -> None:
    lake, _ = Lake.create(tmp_path / "lake")
    append_run(lake, record("one"))
    with open(runs_path(lake), "ab") as f:
        f.write(b'{"schema_version": 1, "command": "r\xff\xfeun"}\n')  # not UTF-8
        f.write(b"this is not json\n")
        f.write(b'{"schema_version": 1, "command": "run"}\n')  # JSON, but not a record
    append_run(lake, record("two"))
    tear(lake)

    result = CliRunner().invoke(cli, ["runs", "--lake", str(lake.root)])
    assert result.exit_code == 0, result.output
    problems = [line for line in result.stderr.splitlines() if line.startswith("problem: ")]
    path = runs_path(lake)
    assert [p.split(": ", 2)[1] for p in problems] == [f"{path} line {n}" for n in (2, 3, 4, 6)]
    assert "not UTF-8" in problems[0] and "not valid JSON" in problems[1]
    assert "not a run record" in problems[2] and "torn last line" in problems[3]
    assert "last 2 runs" in result.stdout

    as_json = CliRunner().invoke(cli, ["runs", "--lake", str(lake.root), "--json"])
    assert as_json.exit_code == 0
    assert [RunRecord.from_json(line).argv[2] for line in as_json.stdout.splitlines()] == ["one", "two"]
    assert len([ln for ln in as_json.stderr.splitlines() if ln.startswith("problem: ")]) == 4


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.just(None), st.floats(0.0, 0.99)), min_size=1, max_size=12))
def test_every_whole_record_survives_any_sequence_of_torn_writes(
    tmp_path_factory: object, ops: list[float | None]
) -> None:
    """``None`` appends a record; a number tears a record at that fraction of its length."""
    lake = Lake(tmp_path_factory.mktemp("runlog") / "lake")  # type: ignore[attr-defined]
    expected, torn = [], 0
    for i, op in enumerate(ops):
        if op is None:
            append_run(lake, record(f"r{i}"))
            expected.append(f"r{i}")
        else:
            tear(lake, op)
            torn += 1
    records, problems = read_run_log(lake)
    assert [r.argv[2] for r in records] == expected
    assert len(problems) == torn
