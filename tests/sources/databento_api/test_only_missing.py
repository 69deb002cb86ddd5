"""A first download fetches the whole window; a longer second one fetches only the new part."""

from __future__ import annotations

from datetime import date

import databento as db

from rst.framework.lake import Lake
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.download import DownloadRequest, download_missing, staged_files
from rst.sources.databento_api.plan import to_ns
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import generate

from .mock_server import MockDatabento

D = lambda y, m, d: to_ns(date(y, m, d))  # noqa: E731


def req(start: int, end: int, schemas: tuple[str, ...] = ("ohlcv-1d",)) -> DownloadRequest:
    return DownloadRequest("GLBX.MDP3", schemas, ("ES",), start, end)


def test_second_download_asks_only_for_the_new_window(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento
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
    expected = generate("ohlcv-1d", "ES.FUT", date(2024, 2, 1), date(2024, 3, 1)).records
    assert len(expected) > 0 and len(store.to_ndarray()) == len(expected)
    assert staged_files(lake) == []

    # filed under the lake parent, requested as the Databento parent symbol
    entries = raw_zone.files("GLBX.MDP3", "ohlcv-1d", "ES")
    assert [e.path for e in entries] == [
        "raw/source=databento/dataset=GLBX.MDP3/schema=ohlcv-1d/parent=ES/"
        f"GLBX.MDP3-ohlcv-1d-ES.FUT-{span}.dbn.zst"
        for span in ("20240101-20240201", "20240201-20240301")
    ]
    assert {(e.parent, e.symbols) for e in entries} == {("ES", ("ES.FUT",))}
    assert raw_zone.coverage("GLBX.MDP3", "ohlcv-1d", "ES") == [(D(2024, 1, 1), D(2024, 3, 1))]
    assert sorted(e.path for e in second.new_files) == [entries[1].path]

    mock_db.requests.clear()
    third = download_missing(lake, req(D(2024, 1, 1), D(2024, 3, 1)), client, raw_zone=raw_zone)
    assert third.ok and third.chunks == [] and mock_db.requests == []


def test_intraday_schema_is_split_by_month(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    report = download_missing(lake, req(D(2024, 1, 20), D(2024, 3, 10), ("ohlcv-1h",)), client, raw_zone=raw_zone)
    assert report.ok
    assert [r.window for r in mock_db.calls("timeseries.get_range")] == [
        (D(2024, 1, 20), D(2024, 2, 1)),
        (D(2024, 2, 1), D(2024, 3, 1)),
        (D(2024, 3, 1), D(2024, 3, 10)),
    ]
