"""The nightly update: bring every configured target up to the dataset's available end.

``run_update`` is idempotent and cron-safe: it holds the lake's Databento lock
(a second concurrent run fails at once), plans only what the raw zone lacks,
and ends each window at 00:00 UTC of the day the dataset's available range
ends (``metadata.get_dataset_range``, per schema), so it fetches complete UTC
days only and a rerun the same day plans nothing. New raw files are handed to
``on_new_data`` when there are any (``rst update`` runs bronze -> silver -> gold
for their parents there: :func:`rst.cli.update.pipeline_hook`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rst.errors import DownloadError
from rst.framework.lake import Lake
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.download import (
    DownloadReport,
    DownloadRequest,
    clear_stale_staging,
    open_raw_zone,
    plan,
    run_plan,
)
from rst.sources.databento_api.key import ApiKeyError
from rst.sources.databento_api.lock import DownloadLock
from rst.sources.databento_api.plan import floor_day, iso_ns
from rst.sources.databento_api.update_config import UpdateConfig, load_update_config
from rst.sources.raw_zone import RawFile, RawZone

log = logging.getLogger(__name__)


@dataclass
class UpdateReport:
    """What an update did: the merged download report plus target-level problems (one line each)."""

    download: DownloadReport = field(default_factory=DownloadReport)
    problems: list[str] = field(default_factory=list)

    @property
    def new_files(self) -> list[RawFile]:
        return self.download.new_files

    @property
    def ok(self) -> bool:
        return self.download.ok and not self.problems

    def summary(self) -> str:
        line = self.download.summary()
        return f"{line}; {len(self.problems)} target problem(s)" if self.problems else line


def run_update(
    config: UpdateConfig | Path | str,
    lake: Lake | Path | str,
    on_new_data: Callable[[list[RawFile]], None] | None = None,
    *,
    client: DatabentoClient | None = None,
    raw_zone: RawZone | None = None,
    estimate_only: bool = False,
    max_cost_usd: float | None = None,
) -> UpdateReport:
    """Download what is missing for every target of ``config`` up to the dataset's available end.

    ``client`` defaults to one built from :func:`~rst.sources.databento_api.key.load_api_key`.
    ``max_cost_usd`` overrides the config's cap. ``on_new_data`` is called once,
    after the downloads, with the lock released, with the new raw files (not
    called when there are none). Failures are collected in the report (check
    ``ok``); a missing/rejected key or a held lock raises.
    """
    cfg = config if isinstance(config, UpdateConfig) else load_update_config(config)
    lk = lake if isinstance(lake, Lake) else Lake(Path(lake))
    if client is None:
        from rst.sources.databento_api.key import load_api_key

        client = DatabentoClient(load_api_key())
    zone = raw_zone if raw_zone is not None else open_raw_zone(lk)
    cap = max_cost_usd if max_cost_usd is not None else cfg.max_cost_usd
    report = UpdateReport()
    with DownloadLock(lk):
        clear_stale_staging(lk)
        chunks = []
        for target in cfg.targets:
            for schema in target.schemas:
                try:
                    avail = client.available_range(target.dataset)
                except ApiKeyError:
                    raise
                except DownloadError as exc:
                    report.problems.append(f"{target.dataset} {schema}: {exc}")
                    continue
                end_ns = floor_day(avail.for_schema(schema)[1])
                if target.start_ns >= end_ns:
                    log.info("%s %s: start %s is not before available end %s; nothing to do",
                             target.dataset, schema, iso_ns(target.start_ns), iso_ns(end_ns))
                    continue
                request = DownloadRequest(
                    target.dataset, (schema,), target.parents, target.start_ns, end_ns,
                    target.stype_in, target.granularity,
                )
                chunks.extend(plan(zone, request))
        report.download = run_plan(zone, client, DownloadReport(chunks=chunks), estimate_only, cap)
    if on_new_data is not None and report.new_files:
        on_new_data(report.new_files)
    return report
