"""Publishing lake partitions to PostgreSQL: idempotent, one transaction per partition, audited.

For each complete lake partition chosen (silver and gold by default; ``*_quarantine`` tables
only when named), :func:`publish` compares the partition's ``_SUCCESS`` content (the SHA256
of its manifest) with the latest successful ``ingest_runs`` row for it and skips it when
equal, without reading its data. Otherwise, in ONE transaction:

1. an advisory lock on the table (one publisher per table at a time), the table, its
   time-range child partitions (or hypertable) and its ``_exact`` view created if missing;
2. the partition's rows (integrity-checked by :func:`rst.read.scan_partitions`) loaded into a
   temporary staging table with binary ``COPY`` (:mod:`rst.serving.copy_binary`);
3. ``INSERT … ON CONFLICT (key) DO UPDATE … WHERE (cols) IS DISTINCT FROM (excluded cols)``:
   rows that did not change are not rewritten;
4. rows of that lake partition that are no longer in it are deleted;
5. the ``ingest_runs`` success row, with the counts.

Any error rolls all of that back; a ``failed`` row is then written in its own short
transaction and the next partition is tried. A killed publisher leaves nothing: the open
transaction dies with its connection.

``RST_PUBLISH_PAUSE_AFTER_COPY`` (seconds) makes the publisher sleep after the COPY, inside
the transaction: the hook the crash tests use to kill it mid-partition.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from rst.framework.lake import Lake, Layer
from rst.framework.listing import partition_at, scan_lake
from rst.framework.manifest import SUCCESS, read_manifest
from rst.framework.partition import Partition
from rst.serving import catalog
from rst.serving.connection import connect
from rst.serving.copy_binary import copy_chunks
from rst.serving.schema import NS_PER_DAY, TableLayout, is_price, layout_for, stored_types, to_wire

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

PAUSE_ENV = "RST_PUBLISH_PAUSE_AFTER_COPY"
DEFAULT_LAYERS = (Layer.SILVER, Layer.GOLD)
_SEGMENT = {"vendor": re.compile(r"(?:^|/)source=([^/]+)"), "dataset": re.compile(r"(?:^|/)dataset=([^/]+)")}


class Outcome(StrEnum):
    PUBLISHED = "published"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class PartitionReport:
    """What publishing one lake partition did."""

    partition: Partition
    outcome: Outcome
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    seconds: float = 0.0
    error: str = ""

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass
class PublishReport:
    """Every partition considered, in order."""

    partitions: list[PartitionReport] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for p in self.partitions if p.outcome is outcome)

    def total(self, name: str) -> int:
        return sum(int(getattr(p, name)) for p in self.partitions)


def plan(
    lake: Lake,
    layers: Collection[Layer] = DEFAULT_LAYERS,
    symbols: Collection[str] | None = None,
    tables: Collection[str] | None = None,
    dates: Collection[dt.date] | None = None,
) -> list[Partition]:
    """The complete-looking partitions (``_SUCCESS`` present) to consider, in layer/parent/table/key order."""
    listing = scan_lake(lake, list(layers), symbols)
    chosen: list[Partition] = []
    for path in listing.partitions:
        p = partition_at(lake, path)
        if p is None or not (path / SUCCESS).is_file():
            continue
        if tables and p.table not in tables or not tables and p.table.endswith("_quarantine"):
            continue
        if dates and not any(p.key.start <= d < p.key.end for d in dates):
            continue
        chosen.append(p)
    order = {layer: i for i, layer in enumerate(Layer)}
    return sorted(chosen, key=lambda p: (order[p.layer], p.symbol, p.table, p.key))


def publish(
    lake: Lake,
    conninfo: str,
    partitions: list[Partition],
    *,
    force: bool = False,
    on_partition: Callable[[PartitionReport], None] | None = None,
) -> PublishReport:
    """Publish ``partitions`` (see the module docstring); ``force`` republishes unchanged ones too."""
    report = PublishReport()
    with connect(conninfo, autocommit=True) as conn:  # each conn.transaction() below is a real transaction
        catalog.ensure_catalog(conn)
        timescale = _timescale(conn)
        done = catalog.published_hashes(conn)
        for p in partitions:
            sha = _success_hash(p.path(lake))
            if not force and done.get(p.label) == sha:
                result = PartitionReport(p, Outcome.SKIPPED)
            else:
                result = _publish_one(conn, lake, p, sha, timescale)
            report.partitions.append(result)
            if on_partition is not None:
                on_partition(result)
    return report


def _success_hash(directory: Path) -> str:
    try:
        return (directory / SUCCESS).read_text().strip()
    except OSError:
        return ""


def _timescale(conn: psycopg.Connection) -> bool:
    """Whether TimescaleDB is installed (or installable) in this database."""
    row = conn.execute("SELECT installed_version FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    if row is None:
        return False
    if row[0] is not None:
        return True
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except Exception as exc:  # not preloaded, no privilege: the native path still works
        log.warning("TimescaleDB is available but cannot be created (%s); using native partitioning", exc)
        return False
    return True


def _publish_one(conn: psycopg.Connection, lake: Lake, p: Partition, sha: str, timescale: bool) -> PartitionReport:
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    run: dict[str, object] = {
        "layer": p.layer.value, "parent": p.symbol, "lake_table": p.table, "source": p.label,
        "sha256": sha, "started_at": started,
    }  # fmt: skip
    try:
        from rst.read import scan_partitions

        directory = p.path(lake)
        scan = scan_partitions([directory], lake)
        df = scan.collect() if scan is not None else pl.DataFrame()
        run.update(_provenance(directory, df))
        layout = layout_for(p.layer.value, p.table, df.schema)
        wire = to_wire(df, layout, p.symbol, p.key.dirname)
        with conn.transaction():
            counts = _apply(conn, layout, wire, p, timescale)
            span = _time_span(wire, layout)
            run.update(counts, **span, status="success", finished_at=dt.datetime.now(dt.UTC))
            catalog.record_run(conn, run)
    except Exception as exc:  # database, PublishError, a corrupt partition (RstError), I/O: audited, next partition
        return _failed(conn, p, run, exc, t0)
    return PartitionReport(
        p, Outcome.PUBLISHED, rows=int(run["row_count"]), inserted=int(run["inserted_count"]),  # type: ignore[call-overload]
        updated=int(run["updated_count"]), unchanged=int(run["unchanged_count"]),  # type: ignore[call-overload]
        deleted=int(run["deleted_count"]), seconds=time.perf_counter() - t0,  # type: ignore[call-overload]
    )  # fmt: skip


def _failed(
    conn: psycopg.Connection, p: Partition, run: dict[str, object], exc: BaseException, t0: float
) -> PartitionReport:
    """Record the failure in its own transaction (the data transaction was rolled back)."""
    message = f"{p.label}: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    log.warning("publish failed: %s", message)
    try:
        if conn.info.transaction_status != 0:  # not idle: a failed statement outside conn.transaction()
            conn.rollback()
        with conn.transaction():
            run.update(status="failed", error=message, finished_at=dt.datetime.now(dt.UTC))
            catalog.record_run(conn, run)
    except Exception as audit_exc:  # the connection itself is gone: nothing more can be recorded
        log.warning("could not record the failed publish of %s: %s", p.label, audit_exc)
    return PartitionReport(p, Outcome.FAILED, seconds=time.perf_counter() - t0, error=message)


def load_frame(conn: psycopg.Connection, df: pl.DataFrame, p: Partition, *, timescale: bool = False) -> dict[str, int]:
    """Upsert ``df`` as the rows of lake partition ``p`` in one transaction, without an audit row (benchmarks)."""
    layout = layout_for(p.layer.value, p.table, df.schema)
    wire = to_wire(df, layout, p.symbol, p.key.dirname)
    catalog.ensure_catalog(conn)
    with conn.transaction():
        return _apply(conn, layout, wire, p, timescale)


def _provenance(directory: Path, df: pl.DataFrame) -> dict[str, str | None]:
    """Vendor and dataset, from the ``source=``/``dataset=`` segments of the partition's inputs and rows."""
    manifest = read_manifest(directory)
    paths = [i.path for i in manifest.inputs] if manifest else []
    if "source_file" in df.columns:
        paths += df.get_column("source_file").cast(pl.String).unique().drop_nulls().sort().to_list()
    out: dict[str, str | None] = {}
    for name, pattern in _SEGMENT.items():
        found = sorted({m.group(1) for path in paths for m in [pattern.search(path)] if m})
        out[name] = ",".join(found) or None
    return out


def _time_span(wire: pl.DataFrame, layout: TableLayout) -> dict[str, object]:
    """min/max of the partition column, as UTC ns and as timestamptz."""
    col = layout.time_column
    if wire.height == 0:
        return {}
    lo, hi = wire.select(pl.col(col.stored).min().alias("lo"), pl.col(col.stored).max().alias("hi")).row(0)
    if col.kind == "Date":
        lo_ns, hi_ns = ((d - dt.date(1970, 1, 1)).days * NS_PER_DAY for d in (lo, hi))
    else:
        lo_ns, hi_ns = lo, hi
    as_ts = [dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=v // 1000) for v in (lo_ns, hi_ns)]
    return {"min_ts_ns": lo_ns, "max_ts_ns": hi_ns, "min_ts": as_ts[0], "max_ts": as_ts[1]}


def _apply(
    conn: psycopg.Connection, layout: TableLayout, wire: pl.DataFrame, p: Partition, timescale: bool
) -> dict[str, int]:
    """Inside the caller's transaction: create, stage, upsert, delete; returns the counts."""
    from psycopg import sql

    table = sql.Identifier(layout.db_table)
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [layout.db_table])
    _ensure_table(conn, layout, timescale)
    _ensure_children(conn, layout, wire, timescale)
    cols = list(wire.columns)
    conn.execute(sql.SQL("CREATE TEMP TABLE rst_stage (LIKE {}) ON COMMIT DROP").format(table))
    col_list = sql.SQL(", ").join(map(sql.Identifier, cols))
    types = stored_types(layout)
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY rst_stage ({}) FROM STDIN (FORMAT BINARY)").format(col_list)) as copy:
            for chunk in copy_chunks(wire, types):
                copy.write(chunk)
    # temp tables get no autovacuum stats and a freshly loaded target has stale ones: without an index
    # and stats the planner may pick a nested-loop anti-join, quadratic in the partition's rows
    key_list = sql.SQL(", ").join(map(sql.Identifier, layout.key_stored))
    conn.execute(sql.SQL("CREATE INDEX ON rst_stage ({})").format(key_list))
    conn.execute(sql.SQL("ANALYZE rst_stage ({})").format(key_list))
    conn.execute("SET LOCAL work_mem = '256MB'")
    pause = os.environ.get(PAUSE_ENV)
    if pause:
        time.sleep(float(pause))
    key = list(layout.key_stored)
    values = [c for c in cols if c not in key]
    join = sql.SQL(" AND ").join(sql.SQL("t.{0} = s.{0}").format(sql.Identifier(k)) for k in key)
    existing = conn.execute(sql.SQL("SELECT count(*) FROM rst_stage s JOIN {} t ON {}").format(table, join)).fetchone()
    upsert = sql.SQL(
        "WITH up AS (INSERT INTO {t} AS t ({cols}) SELECT {cols} FROM rst_stage "
        "ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE ({old}) IS DISTINCT FROM ({new}) RETURNING 1) "
        "SELECT count(*) FROM up"
    ).format(
        t=table,
        cols=col_list,
        key=sql.SQL(", ").join(map(sql.Identifier, key)),
        sets=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in values),
        old=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in values),
        new=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in values),
    )
    written = conn.execute(upsert).fetchone()
    deleted = conn.execute(
        sql.SQL(
            "DELETE FROM {} t WHERE t.parent = %s AND t._partition = %s AND NOT EXISTS (SELECT 1 FROM rst_stage s WHERE {})"
        ).format(table, join),
        [p.symbol, p.key.dirname],
    ).rowcount
    rows = wire.height
    found = int(existing[0]) if existing else 0
    inserted = rows - found
    updated = (int(written[0]) if written else 0) - inserted
    return {
        "row_count": rows, "inserted_count": inserted, "updated_count": updated,
        "unchanged_count": rows - inserted - updated, "deleted_count": deleted,
    }  # fmt: skip


def _ensure_table(conn: psycopg.Connection, layout: TableLayout, timescale: bool) -> None:
    """The table (range-partitioned, or a hypertable), its indexes and ``_exact`` view, once."""
    from psycopg import sql

    if catalog.stored_layout(conn, layout.db_table) is not None:
        catalog.register(conn, layout, "")  # raises when the columns changed
        return
    types = stored_types(layout)
    key = list(layout.key_stored)
    cols = [*key, *layout.value_stored]
    defs = sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(sql.Identifier(c), sql.SQL(types[c]), sql.SQL(" NOT NULL" if c in key else ""))
        for c in cols
    )
    pk = sql.SQL(", ").join(map(sql.Identifier, key))
    table = sql.Identifier(layout.db_table)
    part_col = sql.Identifier(layout.time_column.stored)
    if timescale:
        conn.execute(sql.SQL("CREATE TABLE {} ({}, PRIMARY KEY ({}))").format(table, defs, pk))
        interval: object = 30 * NS_PER_DAY if layout.time_column.kind != "Date" else dt.timedelta(days=365)
        conn.execute(
            "SELECT create_hypertable(%s::regclass, %s, chunk_time_interval => %s, if_not_exists => true)",
            [layout.db_table, layout.time_column.stored, interval],
        )
    else:
        conn.execute(
            sql.SQL("CREATE TABLE {} ({}, PRIMARY KEY ({})) PARTITION BY RANGE ({})").format(table, defs, pk, part_col)
        )
    conn.execute(
        sql.SQL("CREATE INDEX {} ON {} (parent, _partition)").format(sql.Identifier(f"{layout.db_table}_part"), table)
    )
    _create_view(conn, layout)
    catalog.register(conn, layout, "hypertable" if timescale else "native")


def _create_view(conn: psycopg.Connection, layout: TableLayout) -> None:
    """``<table>_exact``: the lake columns with prices as exact ``numeric(19,9)`` and timestamps both ways."""
    from psycopg import sql

    select: list[sql.Composable] = [sql.Identifier("parent")]
    for c in layout.columns:
        ident = sql.Identifier(c.name)
        if is_price(c):
            select.append(sql.SQL("({0}::numeric * 0.000000001)::numeric(19,9) AS {0}").format(ident))
        elif c.is_time:
            select.extend([ident, sql.Identifier(c.stored)])
        else:
            select.append(ident)
    conn.execute(
        sql.SQL("CREATE OR REPLACE VIEW {} AS SELECT {} FROM {}").format(
            sql.Identifier(f"{layout.db_table}_exact"), sql.SQL(", ").join(select), sql.Identifier(layout.db_table)
        )
    )


def _ensure_children(conn: psycopg.Connection, layout: TableLayout, wire: pl.DataFrame, timescale: bool) -> None:
    """Yearly range partitions covering the rows' time column (native partitioning only)."""
    from psycopg import sql

    if timescale or wire.height == 0:
        return
    col = layout.time_column
    lo, hi = wire.select(pl.col(col.stored).min().alias("lo"), pl.col(col.stored).max().alias("hi")).row(0)
    if col.kind == "Date":
        years = range(lo.year, hi.year + 1)
    else:
        first = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=lo // 1000)
        last = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=hi // 1000)
        years = range(first.year, last.year + 1)
    for year in years:
        a, b = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        bounds: tuple[object, object] = (a, b)
        if col.kind != "Date":
            bounds = ((a - dt.date(1970, 1, 1)).days * NS_PER_DAY, (b - dt.date(1970, 1, 1)).days * NS_PER_DAY)
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier(f"{layout.db_table}_y{year}"),
                sql.Identifier(layout.db_table),
                sql.Literal(bounds[0]),
                sql.Literal(bounds[1]),
            )
        )
