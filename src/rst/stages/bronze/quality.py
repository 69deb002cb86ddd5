"""Record validation for bronze: rules that send a record to quarantine, with the reason.

A rule is ``(reason, polars predicate that is True for a *bad* row)``; the first
rule a row fails names its reason. Nothing is dropped silently: a row is either
in the table, in its quarantine table with a reason, or counted as filtered
(spreads, out-of-partition) in the manifest.
"""

from __future__ import annotations

import polars as pl

Rule = tuple[str, pl.Expr]

BAR_RULES: list[Rule] = [
    ("undefined price in bar", pl.any_horizontal(pl.col(c).is_null() for c in ("open", "high", "low", "close"))),
    ("high < low", pl.col("high") < pl.col("low")),
    ("open outside [low, high]", (pl.col("open") < pl.col("low")) | (pl.col("open") > pl.col("high"))),
    ("close outside [low, high]", (pl.col("close") < pl.col("low")) | (pl.col("close") > pl.col("high"))),
    ("volume above 2^63 (corrupt)", pl.col("volume") > 2**63 - 1),
]

UNKNOWN_INSTRUMENT: Rule = (
    "unknown instrument: no definition and no symbol mapping (cannot tell outright from spread)",
    pl.col("is_outright").is_null(),
)


def reason_expr(rules: list[Rule]) -> pl.Expr:
    """The text of the first rule a row fails, else null (one pass over the rows)."""
    reason = pl.when(rules[0][1].fill_null(False)).then(pl.lit(rules[0][0]))
    for text, predicate in rules[1:]:
        reason = reason.when(predicate.fill_null(False)).then(pl.lit(text))  # type: ignore[assignment]
    return reason.otherwise(None)


def split_bad(df: pl.DataFrame, rules: list[Rule]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(good, bad)``; ``bad`` carries a ``reason`` column naming the first failed rule."""
    if not rules or df.is_empty():
        return df, df.head(0).with_columns(reason=pl.lit(None, pl.String))
    tagged = df.with_columns(reason=reason_expr(rules))
    if tagged.get_column("reason").null_count() == tagged.height:  # the usual batch: nothing bad, no copies
        return df, tagged.head(0)
    bad = tagged.filter(pl.col("reason").is_not_null())
    good = tagged.filter(pl.col("reason").is_null()).drop("reason")
    return good, bad


# ---- intraday schemas ---------------------------------------------------------------
# Run after enrichment (readable ``action``/``side``, flag booleans, ``stat_name``), on
# outright records whose instrument is known. Negative prices are *not* rejected: futures
# can trade below zero (CL, April 2020). A locked book (bid == ask) is not rejected either.

UNKNOWN_ACTION: Rule = ("unknown action character", pl.col("action").is_null())
UNKNOWN_SIDE: Rule = ("unknown side character", pl.col("side").is_null())
_IS_TRADE = pl.col("action").is_in(["trade", "fill"])

BOOK_RULES: list[Rule] = [
    UNKNOWN_ACTION,
    UNKNOWN_SIDE,
    (
        "crossed top of book: bid_px_00 > ask_px_00 (not a snapshot)",
        (pl.col("bid_px_00") > pl.col("ask_px_00")) & ~pl.col("is_snapshot"),
    ),
    ("undefined trade price", _IS_TRADE & pl.col("price").is_null()),
    ("non-positive trade size", _IS_TRADE & (pl.col("size") <= 0)),
]
"""MBP-10, MBP-1 and TBBO records: readable action/side; top of book not crossed (when both
sides are defined — a null side is an empty book side — and the record is not a snapshot);
a trade or fill carries a defined price and a positive size."""

TRADE_RULES: list[Rule] = [
    UNKNOWN_ACTION,
    UNKNOWN_SIDE,
    ("undefined trade price", pl.col("price").is_null()),
    ("non-positive trade size", pl.col("size") <= 0),
]
"""Trades: every record is a trade, so a defined price and a positive size are required."""

STAT_QUANTITY_TYPES = (
    "cleared_volume", "open_interest", "block_volume", "venue_specific_volume_1",
)  # fmt: skip
STATISTIC_RULES: list[Rule] = [
    ("unknown stat_type", pl.col("stat_name").is_null()),
    ("unknown update_action", pl.col("update_name").is_null()),
    (
        "undefined quantity in a new volume/open-interest statistic",
        (pl.col("update_name") == "new") & pl.col("stat_name").is_in(STAT_QUANTITY_TYPES) & pl.col("quantity").is_null(),
    ),
    (
        "undefined price in a new price statistic",
        (pl.col("update_name") == "new")
        & pl.col("stat_name").str.ends_with("_price")
        & pl.col("price").is_null(),
    ),
]
"""Statistics: a known ``stat_type`` and ``update_action``; a *new* (not deleted) price
statistic (``*_price``) has a defined price, a new volume or open-interest statistic a
defined quantity. Other types (``vwap``, ``volatility``, limits…) are kept as published."""

STATUS_RULES: list[Rule] = []
"""Status records are kept as published (codes unknown to ``databento_dbn`` get null names)."""
