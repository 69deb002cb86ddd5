"""422 names the available range; 429 is retried after Retry-After; persistent 500 fails one chunk only;
401 is a one-line key instruction."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from rst.framework.lake import Lake
from rst.sources.databento_api.client import DatabentoClient, RequestRefused
from rst.sources.databento_api.download import DownloadRequest, download_missing
from rst.sources.databento_api.key import ApiKeyError
from rst.sources.databento_api.plan import Chunk, to_ns
from rst.sources.raw_zone import RawZone

from .mock_server import Fault, MockDatabento, parse_time

D = lambda y, m, d: to_ns(date(y, m, d))  # noqa: E731


def test_422_names_the_available_range_and_what_to_change(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    report = download_missing(
        lake, DownloadRequest("GLBX.MDP3", ("ohlcv-1d",), ("ES",), D(2024, 1, 1), D(2025, 1, 1)), client,
        raw_zone=raw_zone,
    )
    (failure,) = report.failures
    err = failure.error
    assert isinstance(err, RequestRefused) and err.case == "data_end_after_available_end"
    msg = str(err)
    assert "\n" not in msg
    assert "GLBX.MDP3 is available over [2023-01-01, 2024-06-01T20:00:00Z)" in msg
    assert "change --start/--end" in msg
    assert len(mock_db.calls("timeseries.get_range")) == 1  # terminal: not retried
    assert not list(lake.raw.rglob("*.dbn.zst")) if lake.raw.exists() else True


def test_422_without_payload_falls_back_to_get_dataset_range(
    client: DatabentoClient, mock_db: MockDatabento, tmp_path: Any
) -> None:
    mock_db.add_fault(Fault("timeseries.get_range", status=422, body={
        "detail": {"case": "data_start_before_available_start", "message": "too early", "status_code": 422,
                   "docs": "", "payload": {}}}))
    with pytest.raises(RequestRefused) as info:
        client.get_range_to_file(Chunk("GLBX.MDP3", "ohlcv-1d", "ES", D(2022, 1, 1), D(2022, 2, 1)), tmp_path / "x")
    assert "available over [2023-01-01, 2024-06-01T20:00:00Z)" in str(info.value)
    assert mock_db.calls("metadata.get_dataset_range")
    assert not (tmp_path / "x").exists()


def test_429_with_retry_after_is_retried_and_succeeds(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento, sleeps: list[float]
) -> None:
    mock_db.add_fault(Fault("timeseries.get_range", status=429, retry_after="0.02", times=2))
    report = download_missing(
        lake, DownloadRequest("GLBX.MDP3", ("ohlcv-1d",), ("ES",), D(2024, 1, 1), D(2024, 2, 1)), client,
        raw_zone=raw_zone,
    )
    assert report.ok and len(report.new_files) == 1
    assert len(mock_db.calls("timeseries.get_range")) == 3
    assert sleeps == [0.02, 0.02]  # the server's Retry-After, not our backoff


def test_persistent_500_fails_that_chunk_while_others_complete(
    lake: Lake, raw_zone: RawZone, client: DatabentoClient, mock_db: MockDatabento
) -> None:
    bad_start = D(2024, 2, 1)
    mock_db.add_fault(Fault(
        "timeseries.get_range", status=500, times=None,
        when=lambda r: parse_time(r.params["start"]) == bad_start,
    ))
    report = download_missing(
        lake, DownloadRequest("GLBX.MDP3", ("ohlcv-1h",), ("ES",), D(2024, 1, 1), D(2024, 4, 1)), client,
        raw_zone=raw_zone,
    )
    assert not report.ok
    assert len(report.new_files) == 2
    (failure,) = report.failures
    assert failure.chunk.start_ns == bad_start
    msg = str(failure.error)
    assert "ohlcv-1h ES.FUT [2024-02-01, 2024-03-01)" in msg and "gave up after 3 attempt" in msg and "500" in msg
    assert report.summary() == "3 planned, 2 downloaded, 1 failed"
    names = sorted(p.name for p in lake.raw.rglob("*.dbn.zst"))
    assert names == [
        "GLBX.MDP3-ohlcv-1h-ES.FUT-20240101-20240201.dbn.zst",
        "GLBX.MDP3-ohlcv-1h-ES.FUT-20240301-20240401.dbn.zst",
    ]


def test_rejected_key_stops_the_run_with_one_instruction_line(
    lake: Lake, raw_zone: RawZone, make_client: Any, mock_db: MockDatabento
) -> None:
    bad = make_client(key="db-WRONGKEY000000000000000")
    with pytest.raises(ApiKeyError) as info:
        download_missing(lake, DownloadRequest("GLBX.MDP3", ("ohlcv-1h",), ("ES",), D(2024, 1, 1), D(2024, 4, 1)), bad,
                 raw_zone=raw_zone)
    msg = str(info.value)
    assert "\n" not in msg and "rejected" in msg and "DATABENTO_API_KEY" in msg
    assert len(mock_db.calls("timeseries.get_range")) == 1  # stopped at the first chunk


def test_timeout_is_retried(mock_db: MockDatabento, sleeps: list[float], tmp_path: Any) -> None:
    from rst.sources.databento_api.key import ApiKey
    from rst.sources.databento_api.retry import RetryPolicy

    from .conftest import API_KEY

    mock_db.add_fault(Fault("metadata.get_cost", status=200, delay_s=1.0, times=1))
    client = DatabentoClient(ApiKey(API_KEY, "t"), gateway=mock_db.gateway, timeout_s=0.3,
                             retry=RetryPolicy(max_attempts=2, base_delay_s=0.01, sleep=sleeps.append))
    cost = client.get_cost(Chunk("GLBX.MDP3", "ohlcv-1d", "ES", D(2024, 1, 1), D(2024, 1, 3)))
    assert cost == 1.0 and len(mock_db.calls("metadata.get_cost")) == 2 and len(sleeps) == 1
