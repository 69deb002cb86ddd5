"""An interrupted stream leaves nothing in the raw zone and no stale staging file; the rerun completes."""

from __future__ import annotations

from datetime import date
from typing import Any

from rst.framework.lake import Lake
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.download import (
    STAGING_PREFIX,
    DownloadRequest,
    download_missing,
    staged_files,
    staging_dir,
)
from rst.sources.databento_api.plan import Chunk, to_ns
from rst.sources.raw_zone import RawZone

from .mock_server import Fault, MockDatabento

START, END = to_ns(date(2024, 1, 1)), to_ns(date(2024, 2, 1))
REQUEST = DownloadRequest("GLBX.MDP3", ("ohlcv-1d",), ("ES",), START, END)


def raw_files(lake: Lake) -> list[str]:
    return sorted(p.name for p in lake.raw.rglob("*") if p.is_file()) if lake.raw.exists() else []


def test_dropped_stream_leaves_nothing_and_rerun_completes(
    lake: Lake, raw_zone: RawZone, make_client: Any, mock_db: MockDatabento
) -> None:
    mock_db.add_fault(Fault("timeseries.get_range", drop=True, times=None))  # every attempt is cut short
    report = download_missing(lake, REQUEST, make_client(max_attempts=2), raw_zone=raw_zone)
    assert not report.ok
    (failure,) = report.failures
    assert "gave up after 2 attempt" in str(failure.error) and "Error streaming response" in str(failure.error)
    assert len(mock_db.calls("timeseries.get_range")) == 2
    assert raw_files(lake) == [] and raw_zone.files() == []
    assert staged_files(lake) == []

    mock_db.faults.clear()
    rerun = download_missing(lake, REQUEST, make_client(), raw_zone=raw_zone)
    assert rerun.ok and len(rerun.new_files) == 1
    assert [n for n in raw_files(lake) if n.endswith(".dbn.zst")] == [
        "GLBX.MDP3-ohlcv-1d-ES.FUT-20240101-20240201.dbn.zst"
    ]
    assert [(f.parent, f.start_ns, f.end_ns) for f in raw_zone.files()] == [("ES", START, END)]


def test_one_drop_is_retried_within_the_run(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    mock_db.add_fault(Fault("timeseries.get_range", drop=True, times=1))
    report = download_missing(lake, REQUEST, client, raw_zone=raw_zone)
    assert report.ok and len(mock_db.calls("timeseries.get_range")) == 2


def test_stale_staging_file_from_a_crash_is_removed_by_the_next_run(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    # a process killed mid-stream leaves its partial file in staging (the raw zone's staging directory)
    chunk = Chunk("GLBX.MDP3", "ohlcv-1d", "ES", START, END)
    assert staging_dir(lake) == raw_zone.staging_dir
    stale = staging_dir(lake) / f"{STAGING_PREFIX}{chunk.file_name}"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"\x28\xb5\x2f\xfd partial")
    other = staging_dir(lake) / f"{STAGING_PREFIX}GLBX.MDP3-ohlcv-1d-NQ.FUT-20230101-20240101.dbn.zst"
    other.write_bytes(b"junk")
    # what others keep in the shared staging directory is not the downloader's to remove
    stage_dir = staging_dir(lake) / "bronze" / "x" / "year=2024.123.abcd1234"
    stage_dir.mkdir(parents=True)
    foreign = staging_dir(lake) / "raw-0123-GLBX.MDP3-ohlcv-1d-ES.FUT-20240101-20240201.dbn.zst"
    foreign.write_bytes(b"another importer's")

    report = download_missing(lake, REQUEST, client, raw_zone=raw_zone)
    assert report.ok
    assert staged_files(lake) == []
    assert stage_dir.is_dir() and foreign.exists()
    assert "GLBX.MDP3-ohlcv-1d-ES.FUT-20240101-20240201.dbn.zst" in raw_files(lake)
