"""The numpy binary-COPY encoder writes exactly what PostgreSQL reads back (NULLs, empty and non-ASCII text, extremes)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from rst.serving.copy_binary import copy_chunks

TYPES = {
    "i2": "smallint",
    "i4": "integer",
    "i8": "bigint",
    "f8": "double precision",
    "b": "boolean",
    "d": "date",
    "ts": "timestamptz",
    "t": "text",
}
ROW = st.fixed_dictionaries(
    {
        "i2": st.none() | st.integers(-(2**15), 2**15 - 1),
        "i4": st.none() | st.integers(-(2**31), 2**31 - 1),
        "i8": st.none() | st.integers(-(2**63), 2**63 - 1),
        "f8": st.none() | st.floats(allow_nan=False),
        "b": st.none() | st.booleans(),
        "d": st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)),
        "ts": st.none() | st.integers(-(2**50), 2**52),
        "t": st.none() | st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12),
    }
)
SCHEMA = {
    "i2": pl.Int16,
    "i4": pl.Int32,
    "i8": pl.Int64,
    "f8": pl.Float64,
    "b": pl.Boolean,
    "d": pl.Date,
    "ts": pl.Int64,
    "t": pl.String,
}


@settings(max_examples=30)
@given(rows=st.lists(ROW, max_size=40), chunk=st.integers(1, 7))
def test_binary_copy_round_trips(postgres_url, rows, chunk):
    df = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    cols = ", ".join(f"{c} {t}" for c, t in TYPES.items())
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f"CREATE TEMP TABLE enc (n serial, {cols})")
        with conn.cursor().copy(f"COPY enc ({', '.join(TYPES)}) FROM STDIN (FORMAT BINARY)") as copy:
            for piece in copy_chunks(df, TYPES, chunk_rows=chunk):
                copy.write(piece)
        got = conn.execute(
            "SELECT i2, i4, i8, f8, b, d, (extract(epoch from ts) * 1000000)::bigint, t FROM enc ORDER BY n"
        ).fetchall()
    assert got == [tuple(r.values()) for r in df.iter_rows(named=True)]
