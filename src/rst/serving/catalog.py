"""The bookkeeping tables rst keeps in the database: ``rst_tables`` (layouts) and ``ingest_runs`` (audit).

``ingest_runs`` has the origin document's columns: vendor, dataset, the source (a lake
partition label such as ``silver/ES/ohlcv_1d/year=2024``) and its SHA256 (the partition's
``_SUCCESS`` content, i.e. the manifest's hash), started/finished, rows, inserted, updated,
unchanged, deleted, min/max timestamp, status (``success`` or ``failed``) and error.
A success row is written in the transaction that writes the data; a failed row in its own.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rst.serving.errors import NotPublished, PublishError
from rst.serving.schema import TableLayout, db_table_name

if TYPE_CHECKING:
    import psycopg

DDL = """
CREATE TABLE IF NOT EXISTS rst_tables (
    db_table text PRIMARY KEY,
    layer text NOT NULL,
    lake_table text NOT NULL,
    layout jsonb NOT NULL,
    storage text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ingest_runs (
    id bigserial PRIMARY KEY,
    vendor text,
    dataset text,
    layer text NOT NULL,
    parent text NOT NULL,
    lake_table text NOT NULL,
    source text NOT NULL,
    sha256 text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    row_count bigint,
    inserted_count bigint,
    updated_count bigint,
    unchanged_count bigint,
    deleted_count bigint,
    min_ts timestamptz,
    max_ts timestamptz,
    min_ts_ns bigint,
    max_ts_ns bigint,
    status text NOT NULL CHECK (status IN ('success', 'failed')),
    error text
);
CREATE INDEX IF NOT EXISTS ingest_runs_source ON ingest_runs (source, id DESC);
CREATE INDEX IF NOT EXISTS ingest_runs_started ON ingest_runs (started_at DESC);
CREATE INDEX IF NOT EXISTS ingest_runs_status ON ingest_runs (status);
"""

RUN_COLUMNS = (
    "vendor", "dataset", "layer", "parent", "lake_table", "source", "sha256", "started_at", "finished_at",
    "row_count", "inserted_count", "updated_count", "unchanged_count", "deleted_count",
    "min_ts", "max_ts", "min_ts_ns", "max_ts_ns", "status", "error",
)  # fmt: skip


def ensure_catalog(conn: psycopg.Connection) -> None:
    """Create the bookkeeping tables when missing (own transaction; serialised by an advisory lock)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('rst_catalog'))")
        conn.execute(DDL)


def published_hashes(conn: psycopg.Connection) -> dict[str, str]:
    """Source label → SHA256 of its latest successful publish."""
    rows = conn.execute(
        "SELECT DISTINCT ON (source) source, sha256 FROM ingest_runs WHERE status = 'success' ORDER BY source, id DESC"
    ).fetchall()
    return {source: sha for source, sha in rows}


def record_run(conn: psycopg.Connection, run: dict[str, object]) -> None:
    """Insert one ``ingest_runs`` row (columns :data:`RUN_COLUMNS`; values bound)."""
    cols = ", ".join(RUN_COLUMNS)
    marks = ", ".join(["%s"] * len(RUN_COLUMNS))
    conn.execute(f"INSERT INTO ingest_runs ({cols}) VALUES ({marks})", [run.get(c) for c in RUN_COLUMNS])


def stored_layout(conn: psycopg.Connection, db_table: str) -> tuple[dict[str, object], str] | None:
    """The recorded layout document and storage kind of ``db_table``, or None."""
    row = conn.execute("SELECT layout, storage FROM rst_tables WHERE db_table = %s", [db_table]).fetchone()
    return (row[0], row[1]) if row else None


def register(conn: psycopg.Connection, layout: TableLayout, storage: str) -> bool:
    """Record ``layout``; True when new. :class:`PublishError` when the table was published with another layout."""
    doc = layout.to_json()
    known = stored_layout(conn, layout.db_table)
    if known is None:
        conn.execute(
            "INSERT INTO rst_tables (db_table, layer, lake_table, layout, storage) VALUES (%s, %s, %s, %s, %s)",
            [layout.db_table, layout.layer, layout.lake_table, json.dumps(doc), storage],
        )
        return True
    if known[0] != doc:
        raise PublishError(
            f"{layout.layer}/{layout.lake_table}: its columns changed since it was first published to {layout.db_table}; "
            f"drop that table (DROP TABLE {layout.db_table} CASCADE) and its rst_tables row to republish"
        )
    return False


def load_layout(conn: psycopg.Connection, layer: str, table: str) -> TableLayout:
    """The layout of published table ``layer/table``; :class:`NotPublished` when it never was."""
    db_table = db_table_name(layer, table)
    known = stored_layout(conn, db_table)
    if known is None:
        raise NotPublished(
            f"{layer}/{table} has not been published to this database (run `rst publish --layer {layer} --table {table}`)"
        )
    return TableLayout.from_json(db_table, layer, table, known[0])
