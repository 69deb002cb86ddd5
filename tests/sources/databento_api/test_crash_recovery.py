"""An interrupted stream leaves nothing in the raw zone and no stale staging file; the rerun completes."""

from __future__ import annotations

from datetime import date
from typing import Any

from rst.framework.lake import Lake
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.download import DownloadRequest, download_missing, staging_dir
from rst.sources.databento_api.plan import Chunk, to_ns

from .mock_server import Fault, MockDatabento

START, END = to_ns(date(2024, 1, 1)), to_ns(date(2024, 2, 1))
REQUEST = DownloadRequest("GLBX.MDP3", ("ohlcv-1d",), ("ES",), START, END)


def raw_files(lake: Lake) -> list[str]:
    return sorted(p.name for p in lake.raw.rglob("*") if p.is_file()) if lake.raw.exists() else []


def test_dropped_stream_leaves_nothing_and_rerun_completes(
    lake: Lake, raw_zone: Any, make_client: Any, mock_db: MockDatabento
) -> None:
    mock_db.add_fault(Fault("timeseries.get_range", drop=True, times=None))  # every attempt is cut short
    report = download_missing(lake, REQUEST, make_client(max_attempts=2), raw_zone=raw_zone)
    assert not report.ok
    (failure,) = report.failures
    assert "gave up after 2 attempt" in str(failure.error) and "Error streaming response" in str(failure.error)
    assert len(mock_db.calls("timeseries.get_range")) == 2
    assert raw_files(lake) == [] or all(not n.endswith(".dbn.zst") for n in raw_files(lake))
    assert list(staging_dir(lake).iterdir()) == []

    mock_db.faults.clear()
    rerun = download_missing(lake, REQUEST, make_client(), raw_zone=raw_zone)
    assert rerun.ok and len(rerun.new_files) == 1
    assert [n for n in raw_files(lake) if n.endswith(".dbn.zst")] == [
        "GLBX.MDP3-ohlcv-1d-ES.FUT-20240101-20240201.dbn.zst"
    ]


def test_one_drop_is_retried_within_the_run(
    lake: Lake, raw_zone: Any, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    mock_db.add_fault(Fault("timeseries.get_range", drop=True, times=1))
    report = download_missing(lake, REQUEST, client, raw_zone=raw_zone)
    assert report.ok and len(mock_db.calls("timeseries.get_range")) == 2


def test_stale_staging_file_from_a_crash_is_removed_by_the_next_run(
    lake: Lake, raw_zone: Any, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    # a process killed mid-stream leaves its partial file in staging
    chunk = Chunk("GLBX.MDP3", "ohlcv-1d", "ES", START, END)
    stale = staging_dir(lake) / chunk.file_name
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"\x28\xb5\x2f\xfd partial")
    other = staging_dir(lake) / "GLBX.MDP3-ohlcv-1d-NQ.FUT-20230101-20240101.dbn.zst"
    other.write_bytes(b"junk")

    report = download_missing(lake, REQUEST, client, raw_zone=raw_zone)
    assert report.ok
    assert list(staging_dir(lake).iterdir()) == []
    assert "GLBX.MDP3-ohlcv-1d-ES.FUT-20240101-20240201.dbn.zst" in raw_files(lake)
