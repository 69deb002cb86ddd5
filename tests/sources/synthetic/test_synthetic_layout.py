"""write_dataset: one file per (schema, parent, month or year), named and windowed as documented."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from synthetic_helpers import read_store

from rst.errors import UsageError
from rst.sources.synthetic import write_dataset


def test_monthly_files_per_schema_and_parent(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path, ["ES", "CL"], ["ohlcv-1d", "definition"], "2024-01-10", "2024-03-05")
    names = [p.name for p in paths]

    assert names == [
        "glbx-mdp3-ES-ohlcv-1d-20240110-20240131.dbn.zst",
        "glbx-mdp3-ES-ohlcv-1d-20240201-20240229.dbn.zst",
        "glbx-mdp3-ES-ohlcv-1d-20240301-20240304.dbn.zst",
        "glbx-mdp3-CL-ohlcv-1d-20240110-20240131.dbn.zst",
        "glbx-mdp3-CL-ohlcv-1d-20240201-20240229.dbn.zst",
        "glbx-mdp3-CL-ohlcv-1d-20240301-20240304.dbn.zst",
        # ES: no definition is published between 10 and 31 January (re-publication on the first
        # weekday of a month, no activation); CL lists a new contract around the 20th
        "glbx-mdp3-ES-definition-20240201-20240229.dbn.zst",
        "glbx-mdp3-ES-definition-20240301-20240304.dbn.zst",
        "glbx-mdp3-CL-definition-20240110-20240131.dbn.zst",
        "glbx-mdp3-CL-definition-20240201-20240229.dbn.zst",
        "glbx-mdp3-CL-definition-20240301-20240304.dbn.zst",
    ]
    assert all(p.parent == tmp_path and p.exists() for p in paths)


def test_file_metadata_window_and_records_match_its_name(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path, "GC", "ohlcv-1h", "2024-01-01", "2024-03-01", split="month")
    store = read_store(paths[1])
    ts = pd.to_datetime(store.to_ndarray()["ts_event"], utc=True)

    assert pd.Timestamp(store.metadata.start, tz="UTC") == pd.Timestamp("2024-02-01", tz="UTC")
    assert pd.Timestamp(store.metadata.end, tz="UTC") == pd.Timestamp("2024-03-01", tz="UTC")
    assert ts.min() >= pd.Timestamp("2024-02-01", tz="UTC")
    assert ts.max() < pd.Timestamp("2024-03-01", tz="UTC")
    assert store.metadata.symbols == ["GC.FUT"]


def test_yearly_split(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path, "6E", "ohlcv-1d", "2022-06-01", "2024-02-01", split="year")

    assert [p.name for p in paths] == [
        "glbx-mdp3-6E-ohlcv-1d-20220601-20221231.dbn.zst",
        "glbx-mdp3-6E-ohlcv-1d-20230101-20231231.dbn.zst",
        "glbx-mdp3-6E-ohlcv-1d-20240101-20240131.dbn.zst",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"split": "week"}, "split"),
        ({"schemas": "mbo"}, "schema"),
        ({"parents": "XX"}, "parent"),
        ({"start": "2024-03-01"}, "end"),
        ({"dbn_version": 1}, "dbn_version"),
        ({"faults": ["bogus"]}, "faults"),
    ],
)
def test_bad_arguments_name_the_parameter(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "parents": "ES", "schemas": "ohlcv-1d", "start": "2024-01-01", "end": "2024-02-01", **kwargs
    }
    with pytest.raises(UsageError, match=message):
        write_dataset(tmp_path, **args)  # type: ignore[arg-type]
