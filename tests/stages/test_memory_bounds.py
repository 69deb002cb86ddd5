"""Huge and hostile raw files stay under 1 GiB through ``import`` and bronze (issue 9, item 6).

Each file is crafted here (tiny on disk, gigabytes decoded: identical records compress to
almost nothing), then imported and built in a fresh interpreter whose peak RSS is measured
(:func:`hostile_input.peak_rss`). The printed figures (``pytest -s``) are the issue's.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import databento_dbn as dbn
import pytest
from intraday_dbn import NS, daily_bars, definitions, es_definitions, local_ns, ns, trades

from hostile_input import GIB, metadata, peak_rss, write_repeated
from rst.framework.lake import Lake

pytestmark = pytest.mark.slow


def _import_and_run(lake: Lake, files: list[Path], stage: str, key: str, extra: str = "") -> dict:
    """In a fresh interpreter: import ``files``, run bronze ``stage`` (module.Class) for ``key``; its facts and peak RSS."""
    module, cls = stage.rsplit(".", 1)
    peak, out = peak_rss(
        f"""
        import json
        from pathlib import Path
        from rst.framework.lake import Lake
        from rst.framework.manifest import read_manifest
        from rst.framework.partition import PartitionKey
        from rst.sources.raw_zone import RawZone
        from {module} import {cls}

        lake = Lake(Path({str(lake.root)!r}))
        zone = RawZone(lake.root)
        raw = [zone.import_file(Path(p)).abspath(lake.root) for p in {[str(f) for f in files]!r}]
        stage = {cls}(lake, "ES")
        key = PartitionKey.parse({key!r})
        result = stage.run(key)
        facts = {{"rows_in": result.rows_in, "rows_out": result.rows_out, "quarantined": result.rows_quarantined,
                  "counts": read_manifest(stage.partition(key).path(lake)).counts}}
        {extra}
        print(json.dumps(facts))
        """
    )
    facts: dict = json.loads(out.strip().splitlines()[-1])
    facts["peak"] = peak
    return facts


def test_zstd_bomb_of_definitions_is_streamed(lake: Lake, tmp_path: Path) -> None:
    """(b) 50 KB of zstd holding a million copies of one definition (0.5 GB): import, bronze
    ``definition`` and the definition directory every other bronze stage builds."""
    t = ns(dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    record = definitions([{"instrument_id": 5482, "raw_symbol": "ESH4", "ts_recv": t, "expiration": t + 30 * 86_400 * NS}])
    header = metadata(dbn.Schema.DEFINITION, t - 86_400 * NS, t + 86_400 * NS)
    path = write_repeated(tmp_path / "glbx-mdp3-20240301.definition.dbn.zst", header, record, 1_000_000)
    assert path.stat().st_size < 100_000
    extra = """
        from rst.stages.bronze.instruments import definition_directory
        facts["directory_rows"] = definition_directory(raw).height
    """
    facts = _import_and_run(lake, [path], "rst.stages.bronze.definitions.DefinitionStage", "year=2024", extra)
    assert facts["peak"] < GIB
    assert (facts["rows_in"], facts["rows_out"], facts["directory_rows"]) == (1_000_000, 1, 1)
    assert facts["counts"]["duplicates_dropped"] == 999_999


def test_20_million_repeated_daily_bars(lake: Lake, tmp_path: Path) -> None:
    """(c) A ~100 KiB ``.dbn.zst`` of 20 million copies of one daily bar (1.1 GB decoded): one bar out,
    the rest dropped as duplicates although they span hundreds of batches."""
    start = ns(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    bar = daily_bars([{"ts_event": start + 40 * 86_400 * NS, "instrument_id": 5482, "volume": 10}])
    header = metadata(dbn.Schema.OHLCV_1D, start, start + 366 * 86_400 * NS)
    path = write_repeated(tmp_path / "glbx-mdp3-2024.ohlcv-1d.dbn.zst", header, bar, 20_000_000)
    assert path.stat().st_size < 200 << 10
    defs = es_definitions(tmp_path / "defs.dbn.zst", dt.date(2024, 1, 10))
    facts = _import_and_run(lake, [path, defs], "rst.stages.bronze.bars.Ohlcv1dStage", "year=2024")
    assert facts["peak"] < GIB
    assert (facts["rows_in"], facts["rows_out"], facts["quarantined"]) == (20_000_000, 1, 0)
    assert facts["counts"]["duplicates_dropped"] == 19_999_999


def test_10_million_quarantined_trades_spill_to_disk(lake: Lake, tmp_path: Path) -> None:
    """(d) 10 million zero-size trades: every one quarantined, the quarantine spilled and written from disk."""
    day = dt.date(2024, 3, 5)
    trade = trades([local_ns(day, 10, 0)])
    trade["size"] = 0
    header = metadata(dbn.Schema.TRADES, local_ns(day - dt.timedelta(days=1), 18, 0), local_ns(day, 17, 0))
    path = write_repeated(tmp_path / "glbx-mdp3-20240305.trades.dbn.zst", header, trade, 10_000_000)
    defs = es_definitions(tmp_path / "defs.dbn.zst", day)
    extra = """
        q = read_manifest(stage._quarantine_partition(key).path(lake))
        facts["quarantine_rows"] = q.rows_out
        facts["staging_files"] = [str(p) for p in lake.internal("staging").rglob("*") if p.is_file()]
    """
    facts = _import_and_run(lake, [path, defs], "rst.stages.bronze.trades.TradesStage", f"dt={day}", extra)
    assert facts["peak"] < GIB
    assert (facts["rows_out"], facts["quarantined"], facts["quarantine_rows"]) == (0, 10_000_000, 10_000_000)
    assert facts["staging_files"] == []  # the spill files are gone
