"""``rst publish``: idempotent, exact, audited, one transaction per partition (issue 12, item 1)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import psycopg
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import rst.serving.catalog as catalog_mod
from rst.cli.main import cli
from rst.framework.lake import Lake
from rst.ops.retire import retire
from rst.read import read_partitions, read_table
from rst.serving.db_query import query_rows
from rst.serving.publish import PAUSE_ENV, plan, publish
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import write_dataset

TABLES = (
    ("silver", "ohlcv_1d"),
    ("silver", "ohlcv_1d_session"),
    ("silver", "ohlcv_1h"),
    ("gold", "continuous_es_front_ratio"),
)


def _publish(lake: Lake, url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["publish", "--lake", str(lake.root), "--database-url", url, *args])
    return result.exit_code, result.output


def _runs(url: str) -> list[dict[str, object]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute("SELECT * FROM ingest_runs ORDER BY id").fetchall()


def _xmins(url: str, table: str) -> list[str]:
    """Row versions: an UPDATE that rewrites a row, even to equal values, changes its xmin."""
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(f"SELECT xmin::text FROM {table} ORDER BY ts_event_ns, instrument_id")]


def _assert_db_equals_lake(lake: Lake, url: str) -> None:
    for layer, table in TABLES:
        assert_frame_equal(
            read_table(layer, "ES", table, lake=lake),
            query_rows(url, parent="ES", table=table, start=None, end=None, layer=layer),
        )


def test_publish_twice_the_second_run_writes_nothing_and_says_so(serving_lake, fresh_db):
    n = len(plan(serving_lake))
    code, out = _publish(serving_lake, fresh_db)
    assert code == 0, out
    assert f"published {n} partition(s)" in out and "0 updated" in out
    runs = _runs(fresh_db)
    assert [r["status"] for r in runs] == ["success"] * n
    assert sum(int(r["inserted_count"]) for r in runs) == sum(int(r["row_count"]) for r in runs) > 0
    assert {(r["vendor"], r["dataset"]) for r in runs if r["layer"] == "silver" and r["row_count"]} == {("databento", "GLBX.MDP3")}
    before = _xmins(fresh_db, "silver_ohlcv_1d")

    code, out = _publish(serving_lake, fresh_db)

    assert code == 0, out
    assert f"nothing to publish: {n} partition(s) already published" in out
    assert len(_runs(fresh_db)) == n
    assert _xmins(fresh_db, "silver_ohlcv_1d") == before
    # --force reads and stages again, but the IS DISTINCT FROM guard still rewrites no row
    code, out = _publish(serving_lake, fresh_db, "--force", "--table", "ohlcv_1d")
    assert code == 0, out
    forced = _runs(fresh_db)[-1]
    assert (forced["inserted_count"], forced["updated_count"], forced["deleted_count"]) == (0, 0, 0)
    assert forced["unchanged_count"] == forced["row_count"] == 176
    assert _xmins(fresh_db, "silver_ohlcv_1d") == before
    _assert_db_equals_lake(serving_lake, fresh_db)


def _keys(df: pl.DataFrame, table: str) -> list[str]:
    return (
        ["trading_date"]
        if table.startswith("continuous_")
        else [c for c in ("ts_event", "trading_date", "instrument_id") if c in df.columns]
    )


def test_changed_raw_file_changes_exactly_the_affected_rows_and_the_audit_counts_them(serving_lake, fresh_db, tmp_path):
    assert _publish(serving_lake, fresh_db)[0] == 0
    before = {t: read_table(layer, "ES", t, lake=serving_lake) for layer, t in TABLES}
    # replace the daily-bar file by the same vendor data cut at 2024-02-19: later days vanish, earlier ones stay
    (daily,) = [f for f in RawZone(serving_lake.root).files() if "ohlcv-1d" in f.path]
    retire(serving_lake, daily.path, reason="test: superseded")
    (short,) = write_dataset(
        tmp_path / "in", ["ES"], ["ohlcv-1d"], dt.date(2024, 1, 1), dt.date(2024, 2, 20), split="year", seed=7
    )
    RawZone(serving_lake.root).import_file(
        short.rename(short.with_name(Path(daily.path).name))
    )  # same name: same source_file
    run = CliRunner().invoke(cli, ["run", "--lake", str(serving_lake.root), "--layer", "all"])
    assert run.exit_code == 0, run.output
    first_new = len(_runs(fresh_db))

    code, out = _publish(serving_lake, fresh_db)

    assert code == 0, out
    new_runs = {r["source"]: r for r in _runs(fresh_db)[first_new:]}
    assert all(r["status"] == "success" for r in new_runs.values())
    changed_tables = 0
    for layer, table in TABLES:
        after = read_table(layer, "ES", table, lake=serving_lake)
        keys = _keys(after, table)
        old, new = before[table], after
        deleted = old.join(new, on=keys, how="anti").height
        inserted = new.join(old, on=keys, how="anti").height
        both = new.join(old, on=keys, how="inner", suffix="_old")
        updated = both.height - new.join(old, on=list(new.columns), how="semi", nulls_equal=True).height
        runs = [r for s, r in new_runs.items() if s.startswith(f"{layer}/ES/{table}/")]
        if not runs:  # not republished: its partitions kept their _SUCCESS, so nothing may differ
            assert (deleted, inserted, updated) == (0, 0, 0), table
            continue
        changed_tables += 1
        got = tuple(sum(int(r[c]) for r in runs) for c in ("deleted_count", "inserted_count", "updated_count"))
        assert got == (deleted, inserted, updated), table
        assert sum(int(r["unchanged_count"]) for r in runs) == new.height - inserted - updated
    assert changed_tables >= 2
    silver = [r for s, r in new_runs.items() if s == "silver/ES/ohlcv_1d/year=2024"][0]
    assert silver["deleted_count"] > 0 and silver["unchanged_count"] > 0 and silver["updated_count"] == 0
    _assert_db_equals_lake(serving_lake, fresh_db)


def test_failed_publish_leaves_a_failed_row_and_no_partial_data(serving_lake, fresh_db, monkeypatch):
    real = catalog_mod.record_run

    def fail_on_success(conn, run):  # type: ignore[no-untyped-def]
        if run["status"] == "success" and run["lake_table"] == "ohlcv_1h" and "2024-02" in str(run["source"]):
            raise psycopg.errors.DiskFull("could not extend file: No space left on device")  # after COPY and upsert
        real(conn, run)

    monkeypatch.setattr(catalog_mod, "record_run", fail_on_success)
    hourly = plan(serving_lake, tables=["ohlcv_1h"])
    expected = ["failed" if p.key.value == "2024-02" else "published" for p in hourly]
    report = publish(serving_lake, fresh_db, hourly)

    assert [p.outcome.value for p in report.partitions] == expected and "failed" in expected
    (failed,) = [r for r in _runs(fresh_db) if r["status"] == "failed"]
    assert failed["source"] == "silver/ES/ohlcv_1h/month=2024-02" and "No space left on device" in str(failed["error"])
    lake_rows = {p.key.dirname: read_partitions([p.path(serving_lake)]).height for p in hourly}  # type: ignore[union-attr]
    with psycopg.connect(fresh_db) as conn:
        parts = dict(conn.execute("SELECT _partition, count(*) FROM silver_ohlcv_1h GROUP BY 1").fetchall())
    assert parts == {k: n for k, n in lake_rows.items() if k != "month=2024-02" and n}
    monkeypatch.setattr(catalog_mod, "record_run", real)
    again = publish(serving_lake, fresh_db, hourly)
    assert [p.outcome.value for p in again.partitions] == [
        "published" if o == "failed" else "skipped" for o in expected
    ]
    redone = again.partitions[expected.index("failed")]
    assert redone.inserted == redone.rows == lake_rows["month=2024-02"] > 0


def test_sigkill_mid_partition_leaves_nothing_and_the_next_publish_completes(serving_lake, fresh_db):
    env = {**os.environ, PAUSE_ENV: "60", "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    cmd = [
        sys.executable,
        "-c",
        "from rst.cli.main import main; main()",
        "publish",
        "--lake",
        str(serving_lake.root),
        "--database-url",
        fresh_db,
        "--table",
        "ohlcv_1d",
        "-q",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        with psycopg.connect(fresh_db, autocommit=True) as watch:
            while True:  # the publisher sits in its transaction, COPY done, until killed
                staged = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'"
                ).fetchone()
                if staged and staged[0] == 1:
                    break
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "publisher never reached its pause"
                time.sleep(0.1)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            for _ in range(100):  # the server notices the dead client and rolls its transaction back
                if watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone() == (0,):
                    break
                time.sleep(0.1)
            assert watch.execute("SELECT to_regclass('silver_ohlcv_1d')").fetchone() == (None,)  # DDL rolled back too
            assert watch.execute("SELECT count(*) FROM ingest_runs").fetchone() == (0,)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    code, out = _publish(serving_lake, fresh_db, "--table", "ohlcv_1d")

    assert code == 0, out
    assert [r["status"] for r in _runs(fresh_db)] == ["success"]
    assert_frame_equal(
        read_table("silver", "ES", "ohlcv_1d", lake=serving_lake),
        query_rows(fresh_db, parent="ES", table="ohlcv_1d", start=None, end=None),
    )


def test_tables_are_natively_range_partitioned_with_exact_views(serving_lake, fresh_db):
    assert _publish(serving_lake, fresh_db, "--table", "ohlcv_1d")[0] == 0
    with psycopg.connect(fresh_db) as conn:
        strategy = conn.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'silver_ohlcv_1d'::regclass"
        ).fetchone()
        children = [
            r[0]
            for r in conn.execute(
                "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'silver_ohlcv_1d'::regclass"
            )
        ]
        exact = conn.execute(
            "SELECT close, pg_typeof(close)::text FROM silver_ohlcv_1d_exact ORDER BY ts_event_ns LIMIT 1"
        ).fetchone()
        raw = conn.execute("SELECT close FROM silver_ohlcv_1d ORDER BY ts_event_ns LIMIT 1").fetchone()
    assert strategy == ("r",) and children == ["silver_ohlcv_1d_y2024"]
    assert exact is not None and raw is not None and exact[1] == "numeric"
    assert exact[0] * 10**9 == raw[0]  # exact decimal, no float in between


def test_hypertables_when_timescaledb_is_installed(serving_lake, fresh_db):
    with psycopg.connect(fresh_db) as conn:
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone() is None:
            pytest.skip(
                "TimescaleDB is not installed on this PostgreSQL server (native partitioning is tested instead)"
            )
    assert _publish(serving_lake, fresh_db, "--table", "ohlcv_1d")[0] == 0
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'silver_ohlcv_1d'"
        ).fetchone() == (1,)


def test_injected_table_name_is_refused_before_any_sql(serving_lake, fresh_db):
    assert _publish(serving_lake, fresh_db, "--table", "ohlcv_1d")[0] == 0
    result = CliRunner().invoke(
        cli,
        ["db", "query", "--database-url", fresh_db, "--symbol", "ES", "--table", "ohlcv_1d; DROP TABLE ingest_runs"],
    )
    assert result.exit_code == 1
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith("error: --table: 'ohlcv_1d; DROP TABLE ingest_runs' is not a publishable name")
    )
    assert len(_runs(fresh_db)) == 1
