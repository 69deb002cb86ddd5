"""``rst status`` tells a missing trading day from a holiday: ES trades for 8-19 January 2024 (MLK day,
the 15th, inside), one trade date's bronze partition removed: one gap, that day; the holiday is not one."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from opshelpers import status_json

from rst.framework.lake import Lake, Layer
from rst.framework.partition import Granularity, PartitionKey
from rst.sources.raw_zone import RawZone
from rst.sources.synthetic import write_dataset


def test_missing_day_is_one_gap_and_the_holiday_is_not(cli_run, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    paths = write_dataset(tmp_path / "incoming", ["ES"], ["definition", "trades"], dt.date(2024, 1, 8),
                          dt.date(2024, 1, 20), seed=3)  # fmt: skip
    zone = RawZone(lake.root)
    for p in paths:
        zone.import_file(p)
    assert cli_run(lake, "run", "--layer", "bronze").exit_code == 0
    assert status_json(cli_run, lake)["gaps"] == []  # the weekend and MLK day are not gaps
    directory = lake.table_dir(Layer.BRONZE, "ES", "trades") / PartitionKey.containing(
        Granularity.DAY, dt.date(2024, 1, 10)
    ).dirname
    shutil.move(directory, tmp_path / "moved")  # a real missing day, in MLK day's month
    gaps = status_json(cli_run, lake)["gaps"]
    assert gaps == [{"layer": "bronze", "symbol": "ES", "table": "trades", "dates": ["2024-01-10"]}]
    text = cli_run(lake, "status", "--layer", "bronze").stdout
    assert "gap: bronze/ES/trades: 1 missing trade date(s): 2024-01-10" in text
    assert "2024-01-15" not in text.split("gap:", 1)[1].splitlines()[0], "MLK day is a holiday, not a gap"
