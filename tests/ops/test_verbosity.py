"""``--quiet`` (only errors and the final line) and ``--verbose`` (logs, tracebacks) on run, status, verify, invalidate."""

from __future__ import annotations

from opshelpers import raw_files, rewrite_raw


def test_quiet_prints_only_the_final_line(demo_lake, cli_run):
    run = cli_run(demo_lake, "run", "--quiet")
    assert run.exit_code == 0
    assert run.stdout.strip().splitlines() == [run.stdout.strip()]
    assert run.stdout.startswith("run: 0 built, 12 up to date, 0 without input, 0 failed")
    assert run.stderr == ""
    status = cli_run(demo_lake, "status", "-q")
    assert status.stdout.strip() == "status: 12 partitions: 12 done, 0 missing, 0 stale, 0 failed, 0 corrupt"
    verify = cli_run(demo_lake, "verify", "-q")
    assert verify.stdout.strip() == "verified 12 partitions: 0 problem(s)"
    inv = cli_run(demo_lake, "invalidate", "--layer", "gold", "--yes", "-q")
    assert inv.stdout.strip() == "invalidated 1 partition(s); `rst run` rebuilds them"


def test_quiet_run_with_a_failure_shows_the_error_and_exit_1(demo_lake, cli_run):
    (path,) = raw_files(demo_lake, "ohlcv-1d")
    rewrite_raw(path, path.read_bytes()[:100])
    run = cli_run(demo_lake, "run", "--layer", "bronze", "-q")
    assert run.exit_code == 1
    assert run.stderr.startswith("FAILED bronze/ES/ohlcv_1d/year=2024: ")
    assert path.name in run.stderr and "Traceback" not in run.stderr
    assert run.stdout.strip().startswith("run: 0 built, 5 up to date, 0 without input, 1 failed")


def test_verbose_shows_tracebacks_and_partition_logs(demo_lake, cli_run):
    (path,) = raw_files(demo_lake, "ohlcv-1d")
    rewrite_raw(path, path.read_bytes()[:100])
    run = cli_run(demo_lake, "run", "--layer", "bronze", "--force", "--verbose")
    assert run.exit_code == 1
    assert "Traceback" in run.stderr and "StageError" in run.stderr


def test_verbose_and_quiet_exclude_each_other(demo_lake, cli_run):
    for command in ("run", "status", "verify"):
        result = cli_run(demo_lake, command, "-v", "-q")
        assert result.exit_code == 2 and "exclude each other" in result.stderr
