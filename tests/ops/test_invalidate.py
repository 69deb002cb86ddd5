"""``rst invalidate`` (trash first, ``--downstream``), removal by hand, and ``--dry-run`` changing nothing."""

from __future__ import annotations

import shutil

from opshelpers import last_run, raw_files, rewrite_raw, states, status_json, tree_snapshot

from rst.framework.stage import Outcome

DAILY_CHAIN = {
    "bronze/ES/ohlcv_1d/year=2024",
    "silver/ES/ohlcv_1d/year=2024",
    "gold/ES/continuous_es_front_ratio/span=all",
}


def test_invalidate_downstream_then_run_rebuilds_exactly_those(demo_lake, cli_run):
    dry = cli_run(demo_lake, "invalidate", "--layer", "bronze", "--table", "ohlcv_1d", "--downstream", "--dry-run")
    assert dry.exit_code == 0 and "3 partition(s) would be removed" in dry.stdout
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}

    result = cli_run(demo_lake, "invalidate", "--layer", "bronze", "--symbol", "ES", "--table", "ohlcv_1d",
                     "--dates", "2024-01-02", "--downstream")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "invalidated 3 partition(s)" in result.stdout
    assert "(reads bronze/ES/ohlcv_1d/year=2024)" in result.stdout
    trashed = list(demo_lake.internal("trash").iterdir())  # moved whole to the trash, purged after its grace period
    assert len(trashed) >= 3 and all((t / "_SUCCESS").exists() for t in trashed)
    st = states(status_json(cli_run, demo_lake))
    assert {label for label, s in st.items() if s != "done"} == DAILY_CHAIN
    assert st["bronze/ES/ohlcv_1d/year=2024"] == "missing"

    assert cli_run(demo_lake, "run", "--layer", "all").exit_code == 0
    run = last_run(demo_lake)
    assert (run.count(Outcome.BUILT), run.count(Outcome.SKIPPED)) == (3, 9)
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}
    assert cli_run(demo_lake, "verify").exit_code == 0


def test_invalidate_without_downstream_and_clears_failure_record(demo_lake, cli_run):
    (path,) = raw_files(demo_lake, "ohlcv-1d")
    good = path.read_bytes()
    rewrite_raw(path, good[:300])
    assert cli_run(demo_lake, "run", "--layer", "bronze", "--table", "ohlcv_1d").exit_code == 1
    assert states(status_json(cli_run, demo_lake))["bronze/ES/ohlcv_1d/year=2024"] == "failed"
    rewrite_raw(path, good)
    result = cli_run(demo_lake, "invalidate", "--layer", "bronze", "--table", "ohlcv_1d", "--quiet")
    assert result.stdout.strip() == "invalidated 1 partition(s); `rst run` rebuilds them"
    st = states(status_json(cli_run, demo_lake))
    assert st["bronze/ES/ohlcv_1d/year=2024"] == "missing"  # not failed any more
    assert st["silver/ES/ohlcv_1d/year=2024"] == "stale"  # its input is gone
    assert cli_run(demo_lake, "run").exit_code == 0
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}


def test_partition_removed_by_hand_is_rebuilt(demo_lake, cli_run):
    target = demo_lake.root / "silver/product_type=future/parent=ES/table=ohlcv_1h/month=2024-02"
    shutil.rmtree(target)
    st = states(status_json(cli_run, demo_lake))
    assert st["silver/ES/ohlcv_1h/month=2024-02"] == "missing"
    assert cli_run(demo_lake, "run", "--layer", "all").exit_code == 0
    run = last_run(demo_lake)
    assert run.count(Outcome.BUILT) >= 1 and run.count(Outcome.FAILED) == 0
    assert (target / "_SUCCESS").exists()
    assert set(states(status_json(cli_run, demo_lake)).values()) == {"done"}
    assert cli_run(demo_lake, "verify").exit_code == 0


def test_dry_run_prints_plan_with_reasons_and_changes_nothing(demo_lake, cli_run):
    (path,) = raw_files(demo_lake, "ohlcv-1d")
    rewrite_raw(path, path.read_bytes()[:-1] + b"\x00")  # content changed, same size
    shutil.rmtree(demo_lake.root / "bronze/source=databento/product_type=future/parent=ES/table=ohlcv_1h/month=2024-01")
    before = tree_snapshot(demo_lake.root)
    result = cli_run(demo_lake, "run", "--layer", "all", "--dry-run")
    assert result.exit_code == 0, result.output
    assert tree_snapshot(demo_lake.root) == before  # not a byte, not a lock file, not a run-log line
    lines = result.stdout.splitlines()
    assert any(line.startswith("build  bronze/ES/ohlcv_1d/year=2024  (stale: raw file changed since import: raw/") for line in lines)
    assert "build  bronze/ES/ohlcv_1h/month=2024-01  (missing: no complete partition)" in lines
    assert "build  silver/ES/ohlcv_1d/year=2024  (stale: upstream bronze/ES/ohlcv_1d/year=2024 is stale)" in lines
    assert "skip   bronze/ES/ohlcv_1h/month=2024-02  (up to date)" in lines
    assert lines[-1].startswith("dry run: ") and lines[-1].endswith("nothing was changed")
