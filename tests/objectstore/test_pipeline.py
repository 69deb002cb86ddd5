"""The demo pipeline on an ``s3://`` lake, and the same bytes on a local lake and on object storage."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import polars as pl
import pytest

from rst.demo import ensure_demo_series, generate_raw, run_demo
from rst.framework.lake import Lake, Layer
from rst.framework.listing import partition_at
from rst.framework.manifest import SUCCESS, Manifest, read_manifest
from rst.framework.objectlake import ObjectStorage, publish_documents
from rst.framework.stage import Outcome
from rst.ops.pipeline import run_pipeline
from rst.read import current_files, partition_files, read_series, read_table
from rst.sources.raw_zone import RawZone

PARENTS = ("ES",)
START, END = dt.date(2024, 1, 1), dt.date(2024, 3, 1)


def storage_of(lake: Lake) -> ObjectStorage:
    storage = lake.storage
    assert isinstance(storage, ObjectStorage)
    return storage


def test_demo_pipeline_on_object_storage(s3_lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    result = run_demo(s3_lake, parents=PARENTS, start=START, end=END, workers=2)  # on the process pool
    outcomes = {r.outcome for r in result.results}
    assert outcomes == {Outcome.BUILT}, [r.error for r in result.results if r.error]
    assert {r.partition.layer for r in result.results} == set(Layer)
    bars = read_table(Layer.SILVER, "ES", "ohlcv_1d", START, END, lake=s3_lake.remote)
    assert bars.height > 0 and bars["trading_date"].min() >= START
    files = current_files(Layer.SILVER, "ES", "ohlcv_1d", lake=s3_lake.remote)
    assert files and all(f.startswith("s3://") and f.endswith(".parquet") for f in files)
    options = {"aws_endpoint_url": os.environ["AWS_ENDPOINT_URL"], "aws_allow_http": "true",
               "aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_region": "us-east-1"}  # fmt: skip
    direct = pl.scan_parquet(files, hive_partitioning=False, storage_options=options).collect()
    assert direct.sort("trading_date", "symbol").equals(
        read_table(Layer.SILVER, "ES", "ohlcv_1d", lake=s3_lake.remote).sort("trading_date", "symbol")
    )
    assert {r.outcome for r in run_pipeline(s3_lake, list(PARENTS))} == {Outcome.SKIPPED}

    # another host: an empty mirror finds everything up to date, and reads the series through pointers
    monkeypatch.setenv("RST_CACHE_DIR", str(tmp_path / "other-host"))
    other = Lake.open(s3_lake.remote)
    assert other.root != s3_lake.root
    again = run_pipeline(other, list(PARENTS))
    assert {r.outcome for r in again} == {Outcome.SKIPPED}, [r.error for r in again if r.error]
    series = read_series("es_front_ratio", lake=s3_lake.remote)
    assert series.height > 0 and series["trading_date"].is_sorted()
    assert not list(other.raw.rglob("*.dbn*")), "skip checks fetched raw files"


def _comparable(manifest: Manifest) -> Manifest:
    """The manifest without what may differ between two lakes: times, and the raw files' local stat stamps."""
    inputs = [dataclasses.replace(i, mtime_ns=0, inode=0) for i in manifest.inputs]
    return dataclasses.replace(manifest, inputs=inputs, started_at="", finished_at="", seconds=0.0)


def test_same_bytes_on_a_local_lake_and_on_object_storage(s3_lake: Lake, tmp_path: Path):
    raw = generate_raw(tmp_path / "incoming", PARENTS, START, END)
    local, _ = Lake.create(tmp_path / "local")
    for lake in (local, s3_lake):
        zone = RawZone(lake.root)
        for path in raw:
            zone.import_file(path)
        ensure_demo_series(lake, PARENTS)
        publish_documents(lake)
        results = run_pipeline(lake, list(PARENTS))
        assert {r.outcome for r in results} == {Outcome.BUILT}, [r.error for r in results if r.error]

    storage = storage_of(s3_lake)
    compared = 0
    for success in sorted(local.root.rglob(SUCCESS)):
        partition = partition_at(local, success.parent)
        assert partition is not None
        ours = read_manifest(success.parent)
        theirs = storage.current_manifest(partition)
        assert ours is not None and theirs is not None, partition.label
        assert _comparable(ours) == _comparable(theirs), partition.label
        remote_parts = storage.local_table_files(partition.layer, partition.symbol, partition.table)
        local_parts = [
            f
            for d in sorted(success.parent.parent.iterdir())
            if (d / SUCCESS).exists()
            for f in partition_files(d, local)
        ]
        assert [p.read_bytes() for p in local_parts] == [p.read_bytes() for p in remote_parts], partition.label
        compared += 1
    pointers = [o for layer in Layer for o in storage.bucket.list(f"{layer.value}/") if o.rel.endswith("_POINTER.json")]
    assert compared == len(pointers) > 10


def test_a_second_host_builds_on_what_the_first_committed(
    s3_lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Bronze built on one host; silver and gold on another (an empty mirror): its inputs are fetched, verified."""
    result = run_demo(s3_lake, parents=PARENTS, start=START, end=END, layers=(Layer.BRONZE,))
    assert {r.outcome for r in result.results} == {Outcome.BUILT}
    monkeypatch.setenv("RST_CACHE_DIR", str(tmp_path / "second-host"))
    second = Lake.open(s3_lake.remote)
    results = run_pipeline(second, list(PARENTS), layers=[Layer.SILVER, Layer.GOLD])
    assert {r.outcome for r in results} == {Outcome.BUILT}, [r.error for r in results if r.error]
    assert {r.partition.layer for r in results} == {Layer.SILVER, Layer.GOLD}
    # the first host sees the second's partitions as up to date
    monkeypatch.setenv("RST_CACHE_DIR", str(tmp_path / "cache"))  # the first host's mirror (see conftest)
    first = Lake.open(s3_lake.remote)
    assert first.root == s3_lake.root
    assert {r.outcome for r in run_pipeline(first, list(PARENTS))} == {Outcome.SKIPPED}


@pytest.mark.slow
def test_the_demo_on_a_dask_cluster_over_object_storage(s3_lake: Lake):
    """Dask workers (2 processes) build an ``s3://`` lake: the lake travels pickled, each worker talks to S3 itself."""
    from rst.cluster.dask_executor import dask_executor

    raw = run_demo(s3_lake, parents=PARENTS, start=START, end=END, layers=())
    assert raw.raw_files
    with dask_executor(None, 2) as executor:
        results = run_pipeline(s3_lake, list(PARENTS), executor=executor)
    assert {r.outcome for r in results} == {Outcome.BUILT}, [r.error for r in results if r.error]
    assert {r.partition.layer for r in results} == set(Layer)
    assert read_series("es_front_ratio", lake=s3_lake.remote).height > 0
