"""The definitions as-of join: each record gets the latest definition of its instrument known by then.

A bar covers ``[ts_event, ts_event + interval)``; its *as-of instant* is its last
nanosecond, ``ts_event + interval - 1``, so a definition received during the bar
(e.g. the re-publication GLBX sends just after 00:00 UTC, or a contract's first
definition minutes after its first daily bar opens) applies to that bar. The
definition used is the one of the same ``instrument_id`` with the greatest
``ts_recv`` at or before that instant; its ``ts_recv`` is kept as
``definition_ts_recv`` so every silver row names the definition it carries.

Records without such a definition are returned separately (never dropped): the
stages quarantine them with :data:`NO_DEFINITION` as the reason.
"""

from __future__ import annotations

import polars as pl

from rst.parents.metadata import CONTRACT_FIELDS

NO_DEFINITION = "no definition of the instrument at or before the bar"
ASOF = "_asof"
BAR_NS: dict[str, int] = {
    "ohlcv_1s": 10**9,
    "ohlcv_1m": 60 * 10**9,
    "ohlcv_1h": 3_600 * 10**9,
    "ohlcv_1d": 86_400 * 10**9,
}
"""Bar length of each bar table, ns."""


def with_asof_instant(bars: pl.DataFrame, bar_ns: int) -> pl.DataFrame:
    """Add the ``_asof`` column: the bar's last instant, ``ts_event + bar_ns - 1`` ns."""
    return bars.with_columns((pl.col("ts_event") + pl.duration(nanoseconds=bar_ns - 1)).alias(ASOF))


def join_definitions(records: pl.DataFrame, facts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Join ``facts`` (:func:`rst.parents.metadata.definition_facts`) to ``records`` as of ``records._asof``.

    Returns ``(joined, missing)``, both in the order of ``records``. ``joined`` gains
    ``definition_ts_recv`` and :data:`rst.parents.metadata.CONTRACT_FIELDS` (a ``symbol``
    column of ``records`` is replaced by the definition's raw symbol); ``missing`` holds
    the records (unchanged columns) for which no definition was known.
    """
    overlap = [c for c in CONTRACT_FIELDS if c in records.columns]
    left = records.with_row_index("_row").rename({c: f"_rec_{c}" for c in overlap})
    right = facts.with_columns(pl.col("instrument_id").cast(records.schema["instrument_id"]))
    joined = (
        left.sort(ASOF)
        .join_asof(
            right.sort("definition_ts_recv"),
            left_on=ASOF,
            right_on="definition_ts_recv",
            by="instrument_id",
            strategy="backward",
            check_sortedness=False,
        )
        .sort("_row")
    )
    found = pl.col("definition_ts_recv").is_not_null()
    missing = (
        joined.filter(~found)
        .select(left.columns)
        .rename({f"_rec_{c}": c for c in overlap})
        .drop("_row")
    )
    good = joined.filter(found).drop([f"_rec_{c}" for c in overlap]).drop("_row")
    return good, missing
