"""Streaming keep-first de-duplication for the bronze stages that drop repeated records.

``pl.concat(all_batches).unique(subset=key, keep="first", maintain_order=True)`` needs the
whole input in memory: 20 million identical daily bars (a 100 KiB ``.dbn.zst``) would be
gigabytes. :class:`FirstSeen` gives the same rows in the same order batch by batch: each
batch loses the rows whose key an earlier row (of this batch or an earlier one) had. It
keeps the keys it let through, so its memory grows with the number of *distinct* keys (the
stage's output), not with the number of records read.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


class FirstSeen:
    """Keep the first row of each ``key``, across every batch passed to :meth:`new_rows` (nulls compare equal)."""

    def __init__(self, key: Sequence[str]) -> None:
        self.key = list(key)
        self.dropped = 0
        """Rows refused so far (their key was already seen)."""
        self._seen: pl.DataFrame | None = None

    def new_rows(self, batch: pl.DataFrame) -> pl.DataFrame:
        """The rows of ``batch`` whose key was not seen before, in batch order; their keys are now seen."""
        fresh = batch.unique(subset=self.key, keep="first", maintain_order=True)
        if self._seen is not None and fresh.height:
            fresh = fresh.join(self._seen, on=self.key, how="anti", nulls_equal=True, maintain_order="left")
        self.dropped += batch.height - fresh.height
        if fresh.height:
            keys = fresh.select(self.key)
            self._seen = keys if self._seen is None else pl.concat([self._seen, keys])
        return fresh
