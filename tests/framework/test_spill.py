"""SpillBuffer: set-aside rows past the memory bound go to disk and come back whole and in order."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from rst.framework.spill import SpillBuffer


@settings(max_examples=40)
@given(sizes=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=12), limit=st.integers(0, 4000))
def test_tables_come_back_in_order_whatever_the_bound(tmp_path_factory, sizes: list[int], limit: int) -> None:  # type: ignore[no-untyped-def]
    made: list[Path] = []

    def make_dir() -> Path:
        made.append(tmp_path_factory.mktemp("spill"))
        return made[-1]

    buffer = SpillBuffer(make_dir, limit_bytes=limit)
    tables, start = [], 0
    for i, n in enumerate(sizes):  # two schemas, alternating in runs: each run is its own IPC file
        values = pa.array(range(start, start + n), pa.int64())
        table = pa.table({"v": values} if i % 3 else {"v": values, "reason": pa.array(["bad"] * n)})
        tables.append(table)
        buffer.append(table)
        start += n
    assert buffer.rows == start
    assert pa.concat_tables(buffer.tables(), promote_options="default").to_pylist() == pa.concat_tables(
        tables, promote_options="default"
    ).to_pylist()
    if sum(t.nbytes for t in tables) > limit:
        assert buffer.spilled_files >= 1 and any(made[0].iterdir())
    buffer.close()
    assert all(not d.exists() for d in made)
