"""Streamed part files are byte-identical to writing each whole part at once (issue 14, item 3).

:func:`rst.framework.parts._write_parts` streams each part's batches into polars' Parquet sink
(compression overlaps the production of the next batches). The reference here is what it did
before: buffer the batches, cut a part at ``ROWS_PER_FILE`` rows or ``PART_BYTES``, concatenate,
``write_parquet``. Same cuts, same bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rst.framework.parts as parts
from rst.framework.contract import Contract, FieldSpec

SCHEMA = pa.schema([pa.field("n", pa.int64(), False), pa.field("word", pa.dictionary(pa.int32(), pa.string()), False)])


def _contract() -> Contract:
    fields = tuple(FieldSpec(f.name, f.type, False, avro) for f, avro in zip(SCHEMA, ("long", "string"), strict=True))
    return Contract("bronze", "t", Path("t.avsc"), fields, "f")


def _batches(sizes: list[int]) -> list[pa.Table]:
    out, start = [], 0
    for k in sizes:
        n = list(range(start, start + k))
        words = pa.array([("add", "cancel", "trade")[i % 3] for i in n], pa.large_string())
        out.append(pa.table({"n": pa.array(n, pa.int64()), "word": words}))
        start += k
    return out


def _reference(batches: list[pa.Table], contract: Contract, directory: Path) -> list[bytes]:
    """The pre-streaming algorithm: buffer, cut, concatenate, write each part at once."""
    files: list[bytes] = []
    buffer: list[pa.Table] = []
    rows = nbytes = 0

    def flush(limit: int | None = None) -> None:
        nonlocal buffer, rows, nbytes
        table = pa.concat_tables(buffer)
        head, rest = (table, None) if limit is None else (table.slice(0, limit), table.slice(limit))
        path = directory / f"ref-{len(files)}.parquet"
        pl.from_arrow(head, rechunk=False).write_parquet(path, **parts.PARQUET_OPTIONS)  # type: ignore[union-attr]
        files.append(path.read_bytes())
        buffer = [rest] if rest is not None and rest.num_rows else []
        rows = sum(t.num_rows for t in buffer)
        nbytes = sum(t.nbytes for t in buffer)

    for batch in (contract.conform(b, "x") for b in batches):
        if batch.num_rows == 0:
            continue
        buffer.append(batch)
        rows += batch.num_rows
        nbytes += batch.nbytes
        while rows >= parts.ROWS_PER_FILE:
            flush(parts.ROWS_PER_FILE)
        if nbytes >= parts.PART_BYTES:
            flush()
    if buffer:
        flush()
    if not files:
        path = directory / "ref-empty.parquet"
        pl.from_arrow(contract.arrow_schema.empty_table()).write_parquet(path, **parts.PARQUET_OPTIONS)  # type: ignore[union-attr]
        files.append(path.read_bytes())
    return files


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(0, 40), max_size=8),
    rows_per_file=st.integers(1, 50),
    part_bytes=st.integers(1, 2_000),
)
def test_streamed_parts_equal_whole_part_writes(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, sizes: list[int], rows_per_file: int,
    part_bytes: int,
) -> None:
    directory = tmp_path_factory.mktemp("parts")
    contract = _contract()
    monkeypatch.setattr(parts, "ROWS_PER_FILE", rows_per_file)
    monkeypatch.setattr(parts, "PART_BYTES", part_bytes)
    expected = _reference(_batches(sizes), contract, directory)
    staging = directory / "staging"
    staging.mkdir()
    outputs = parts._write_parts(staging, contract, "x", _batches(sizes))
    got = [(staging / o.path).read_bytes() for o in outputs]
    assert [hashlib.sha256(b).hexdigest() for b in got] == [hashlib.sha256(b).hexdigest() for b in expected]
    assert sum(o.rows for o in outputs) == sum(sizes)
    assert all(o.rows <= rows_per_file for o in outputs)


def test_an_error_while_producing_a_part_is_raised_unchanged(tmp_path: Path) -> None:
    def batches():  # type: ignore[no-untyped-def]
        yield from _batches([5])
        raise LookupError("the transform failed")

    with pytest.raises(LookupError, match="the transform failed"):
        parts._write_parts(tmp_path, _contract(), "x", batches())
