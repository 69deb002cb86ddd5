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


def split_bad(df: pl.DataFrame, rules: list[Rule]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(good, bad)``; ``bad`` carries a ``reason`` column naming the first failed rule."""
    if not rules or df.is_empty():
        return df, df.head(0).with_columns(reason=pl.lit(None, pl.String))
    reason = pl.when(rules[0][1].fill_null(False)).then(pl.lit(rules[0][0]))
    for text, predicate in rules[1:]:
        reason = reason.when(predicate.fill_null(False)).then(pl.lit(text))
    tagged = df.with_columns(reason=reason.otherwise(None))
    bad = tagged.filter(pl.col("reason").is_not_null())
    good = tagged.filter(pl.col("reason").is_null()).drop("reason")
    return good, bad
