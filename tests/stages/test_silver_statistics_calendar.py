"""Settlement read from bronze statistics (no silver yet) books its trade date with the parent's calendar.

MLK day 2024: a settlement published during Monday's abbreviated holiday session belongs, as CME
books it, to Tuesday 2024-01-16 (silver's ``trading_date``), not to the holiday (the weekday rule).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from intraday_dbn import MID, NS, es_definitions, local_ns, statistics, write

from rst.framework.lake import Lake, Layer
from rst.framework.runner import run_tasks
from rst.framework.stage import Outcome
from rst.sources.raw_zone import RawZone
from rst.stages.registry import plan
from rst.stages.silver.statistics import daily_settlement_oi

MLK = dt.date(2024, 1, 15)
CHICAGO = "America/Chicago"


def test_bronze_fallback_books_a_holiday_session_to_the_next_trade_date(lake: Lake, tmp_path: Path) -> None:
    zone = RawZone(lake.root)
    zone.import_file(es_definitions(tmp_path / "defs.dbn.zst", MLK))
    rows = [{"ts_recv": local_ns(MLK, 11, 0, 0, CHICAGO), "instrument_id": 5482, "stat_type": 3, "price": MID}]
    start = local_ns(MLK, 0, 0, 0, CHICAGO)
    zone.import_file(write(tmp_path / "s.dbn.zst", "statistics", statistics(rows), start, start + 86_400 * NS))
    results = run_tasks(plan(lake, [Layer.BRONZE], ["ES"], [MLK, MLK + dt.timedelta(days=1)]))
    assert results and all(r.outcome is not Outcome.FAILED for r in results), [r.error for r in results]
    assert not lake.table_dir(Layer.SILVER, "ES", "statistics").exists()  # the bronze fallback is what is read

    got = daily_settlement_oi(lake, "ES")
    assert got.select("instrument_id", "trading_date", "settlement").to_dicts() == [
        {"instrument_id": 5482, "trading_date": dt.date(2024, 1, 16), "settlement": MID}
    ]
