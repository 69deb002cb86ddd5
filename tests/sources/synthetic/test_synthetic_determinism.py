"""Same arguments give the same bytes; a window generated alone equals the same window cut from a longer run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synthetic_helpers import WriteFile, read_store

from rst.sources.synthetic import generate, write_dataset


@pytest.mark.parametrize("schema", ["ohlcv-1d", "ohlcv-1h", "definition"])
def test_same_seed_same_bytes(write_file: WriteFile, schema: str) -> None:
    first = write_file(schema, ["ES", "GC"], seed=7).read_bytes()
    second = write_file(schema, ["ES", "GC"], seed=7).read_bytes()

    assert first == second


@pytest.mark.parametrize("schema", ["ohlcv-1d", "ohlcv-1h", "definition"])
def test_different_seed_different_bytes(write_file: WriteFile, schema: str) -> None:
    assert write_file(schema, seed=1).read_bytes() != write_file(schema, seed=2).read_bytes()


@pytest.mark.parametrize("schema", ["ohlcv-1d", "ohlcv-1h", "definition"])
def test_window_alone_equals_window_cut_from_longer_run(schema: str) -> None:
    time_field = "ts_recv" if schema == "definition" else "ts_event"
    long = generate(schema, ["CL", "6E"], "2023-11-15", "2024-04-10", seed=3).records
    window = generate(schema, ["CL", "6E"], "2024-01-10", "2024-02-20", seed=3).records
    lo, hi = np.searchsorted(long[time_field], np.array([1704844800, 1708387200]) * 10**9)

    assert len(window) > 0
    assert np.array_equal(long[lo:hi], window)


def test_dataset_files_equal_single_window_files(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path / "a", "NQ", "ohlcv-1d", "2024-01-15", "2024-04-01", split="month")
    alone = generate("ohlcv-1d", "NQ", "2024-02-01", "2024-03-01").records
    february = read_store(paths[1]).to_ndarray()

    assert [p.name for p in paths][1] == "glbx-mdp3-NQ-ohlcv-1d-20240201-20240229.dbn.zst"
    assert np.array_equal(february, alone.view(february.dtype))
