"""Streaming keep-first de-duplication equals the whole-input ``unique(keep="first", maintain_order=True)``."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from rst.stages.bronze.dedup import FirstSeen

rows = st.lists(
    st.tuples(st.integers(0, 3), st.one_of(st.none(), st.integers(0, 3)), st.integers(0, 1000)), max_size=60
)


@given(rows=rows, cuts=st.lists(st.integers(0, 60), max_size=6))
def test_first_seen_over_batches_equals_unique_over_everything(rows: list[tuple[int, int | None, int]], cuts: list[int]) -> None:
    df = pl.DataFrame(rows, schema={"a": pl.Int64, "b": pl.Int64, "payload": pl.Int64}, orient="row")
    bounds = sorted({0, len(rows), *(c for c in cuts if c <= len(rows))})
    first = FirstSeen(["a", "b"])
    streamed = pl.concat([first.new_rows(df[lo:hi]) for lo, hi in zip(bounds, bounds[1:], strict=False)] or [df])
    expected = df.unique(subset=["a", "b"], keep="first", maintain_order=True)
    assert streamed.equals(expected)
    assert first.dropped == df.height - expected.height
