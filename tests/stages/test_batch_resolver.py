"""The per-batch instrument resolution of the intraday stages equals resolving every record (issue 14, item 3).

:class:`rst.stages.bronze.intraday.BatchResolver` resolves each instrument once per batch and
reuses the previous batch's facts while nothing can have changed; whatever the batches, the
definitions published in between and the dates crossed, the result must be the record-by-record
:func:`rst.stages.bronze.instruments.resolve`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from rst.stages.bronze.instruments import resolve
from rst.stages.bronze.intraday import BatchResolver

HOUR = 3_600 * 10**9
T0 = int(dt.datetime(2024, 2, 5, 20, tzinfo=dt.UTC).timestamp()) * 10**9  # 4 h before a UTC midnight
TS = pl.Datetime("ns", "UTC")

definition = st.tuples(st.sampled_from([1, 2, 3]), st.integers(0, 8 * HOUR), st.sampled_from(["ESH4", "ESM4", "ESH4-ESM4"]))


@given(
    records=st.lists(st.tuples(st.sampled_from([1, 2, 3]), st.integers(0, 8 * HOUR)), min_size=1, max_size=60),
    definitions=st.lists(definition, max_size=6),
    mapped=st.booleans(),
    cuts=st.lists(st.integers(1, 59), max_size=5),
)
def test_batch_resolution_equals_record_resolution(
    records: list[tuple[int, int]], definitions: list[tuple[int, int, str]], mapped: bool, cuts: list[int]
) -> None:
    records = sorted(records, key=lambda r: r[1] // (HOUR // 2))  # mostly in time order, as files are
    df = pl.DataFrame(
        {"instrument_id": [r[0] for r in records], "ts_event": [T0 + r[1] for r in records]},
        schema={"instrument_id": pl.UInt32, "ts_event": pl.Int64},
    ).with_columns(pl.col("ts_event").cast(TS))
    directory = pl.DataFrame(
        {
            "ts_recv": [T0 + d[1] for d in definitions],
            "instrument_id": [d[0] for d in definitions],
            "raw_symbol": [d[2] for d in definitions],
            "instrument_class": ["S" if "-" in d[2] else "F" for d in definitions],
            "leg_count": [2 if "-" in d[2] else 0 for d in definitions],
        },
        schema={"ts_recv": pl.Int64, "instrument_id": pl.UInt32, "raw_symbol": pl.String,
                "instrument_class": pl.String, "leg_count": pl.UInt16},
    ).with_columns(pl.col("ts_recv").cast(TS)).sort("instrument_id", "ts_recv")
    day = dt.date(2024, 2, 6)
    mappings = pl.DataFrame(
        {"instrument_id": [1] if mapped else [], "symbol": ["ESZ3"] if mapped else [],
         "start_date": [day] if mapped else [], "end_date": [day + dt.timedelta(days=1)] if mapped else []},
        schema={"instrument_id": pl.UInt32, "symbol": pl.String, "start_date": pl.Date, "end_date": pl.Date},
    )
    resolver = BatchResolver(directory, mappings)
    edges = [0, *sorted(set(c for c in cuts if c < df.height)), df.height]
    got = pl.concat([resolver(df.slice(a, b - a)) for a, b in zip(edges, edges[1:], strict=False) if b > a])
    want = resolve(df, directory, mappings)
    assert got.to_dicts() == want.to_dicts()
