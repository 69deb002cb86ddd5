"""A first download fetches the whole window; a longer second one fetches only the new part."""

from __future__ import annotations

from datetime import date
from typing import Any

import databento as db

from rst.framework.lake import Lake
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.download import DownloadRequest, download_missing, staging_dir
from rst.sources.databento_api.plan import to_ns

from .mock_server import MockDatabento

D = lambda y, m, d: to_ns(date(y, m, d))  # noqa: E731


def req(start: int, end: int, schemas: tuple[str, ...] = ("ohlcv-1d",)) -> DownloadRequest:
    return DownloadRequest("GLBX.MDP3", schemas, ("ES",), start, end)


def test_second_download_asks_only_for_the_new_window(
    lake: Lake, raw_zone: Any, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    first = download_missing(lake, req(D(2024, 1, 1), D(2024, 2, 1)), client, raw_zone=raw_zone)
    assert first.ok and len(first.new_files) == 1
    assert [r.window for r in mock_db.calls("timeseries.get_range")] == [(D(2024, 1, 1), D(2024, 2, 1))]
    assert mock_db.calls("timeseries.get_range")[0].params["symbols"] == "ES.FUT"
    assert mock_db.calls("timeseries.get_range")[0].params["stype_in"] == "parent"

    mock_db.requests.clear()
    second = download_missing(lake, req(D(2024, 1, 1), D(2024, 3, 1)), client, raw_zone=raw_zone)
    assert second.ok
    assert [r.window for r in mock_db.calls("timeseries.get_range")] == [(D(2024, 2, 1), D(2024, 3, 1))]

    files = sorted(p.name for p in lake.raw.rglob("*.dbn.zst"))
    assert files == [
        "GLBX.MDP3-ohlcv-1d-ES.FUT-20240101-20240201.dbn.zst",
        "GLBX.MDP3-ohlcv-1d-ES.FUT-20240201-20240301.dbn.zst",
    ]
    store = db.DBNStore.from_file(next(lake.raw.rglob("*20240201-20240301.dbn.zst")))
    assert len(store.to_ndarray()) == 29 * 2  # 29 days x 2 instruments
    assert not any(staging_dir(lake).iterdir())

    mock_db.requests.clear()
    third = download_missing(lake, req(D(2024, 1, 1), D(2024, 3, 1)), client, raw_zone=raw_zone)
    assert third.ok and third.chunks == [] and mock_db.requests == []


def test_intraday_schema_is_split_by_month(
    lake: Lake, raw_zone: Any, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    report = download_missing(lake, req(D(2024, 1, 20), D(2024, 3, 10), ("ohlcv-1h",)), client, raw_zone=raw_zone)
    assert report.ok
    assert [r.window for r in mock_db.calls("timeseries.get_range")] == [
        (D(2024, 1, 20), D(2024, 2, 1)),
        (D(2024, 2, 1), D(2024, 3, 1)),
        (D(2024, 3, 1), D(2024, 3, 10)),
    ]
