"""Planning, pricing and running a Databento download for some parents and schemas.

Wraps :mod:`rst.sources.databento_api.download` for the app: :func:`plan_download` lists the
windows the raw zone lacks (no key, no network), :func:`estimate_download` prices them,
:func:`run_download` checks the spending cap on the price first, then fetches chunk by chunk
under the lake's download lock, reporting progress. Every refusal (no key, a 422 naming the
dataset's available range, a cap exceeded) is a one-line :class:`rst.errors.RstError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rst.errors import UsageError
from rst.framework.lake import Lake
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.download import DownloadReport, DownloadRequest, Estimate
from rst.sources.databento_api.plan import Chunk, to_ns

DEFAULT_DATASET = "GLBX.MDP3"


@dataclass(frozen=True)
class DownloadPlan:
    """The request and the chunks it needs given current coverage (empty: nothing is missing)."""

    request: DownloadRequest
    chunks: tuple[Chunk, ...]


def plan_download(
    lake: Lake,
    parents: Sequence[str],
    schemas: Sequence[str],
    start: dt.date,
    end: dt.date,
    *,
    dataset: str = DEFAULT_DATASET,
) -> DownloadPlan:
    """The missing windows of ``parents`` x ``schemas`` over ``[start, end)`` (UTC dates, end exclusive)."""
    from rst.sources.databento_api.download import plan
    from rst.sources.raw_zone import RawZone

    if not parents:
        raise UsageError("parents: choose at least one parent, e.g. ES")
    if not schemas:
        raise UsageError("schemas: choose at least one schema, e.g. ohlcv-1d")
    if start >= end:
        raise UsageError(f"dates: end {end} must be after start {start} (end is exclusive)")
    request = DownloadRequest(dataset, tuple(schemas), tuple(parents), to_ns(start), to_ns(end))
    return DownloadPlan(request, tuple(plan(RawZone(lake.root), request)))


def make_client(key_file: str | Path | None = None, gateway: str | None = None) -> DatabentoClient:
    """A client with the key from ``$DATABENTO_API_KEY`` or ``key_file``; ``ApiKeyError`` (one line) when none."""
    from rst.sources.databento_api.client import DEFAULT_GATEWAY
    from rst.sources.databento_api.key import load_api_key

    return DatabentoClient(load_api_key(key_file or None), gateway=gateway or DEFAULT_GATEWAY)


def estimate_download(client: DatabentoClient, plan: DownloadPlan) -> Estimate:
    """Cost (USD) and billable size of every planned chunk."""
    from rst.sources.databento_api.download import estimate_plan

    return estimate_plan(client, plan.chunks)


def run_download(
    lake: Lake,
    plan: DownloadPlan,
    client: DatabentoClient,
    *,
    max_cost_usd: float,
    on_chunk: Callable[[int, int, Chunk], None] | None = None,
) -> DownloadReport:
    """Re-plan under the download lock, refuse above ``max_cost_usd`` (``CostLimitExceeded``), then fetch.

    ``on_chunk(done, total, chunk)`` hears each finished chunk. Chunks fail independently
    (see the report's ``failures``); nothing partial reaches the raw zone.
    """
    from rst.sources.databento_api.download import (
        clear_stale_staging,
        fetch_chunk,
        run_plan,
    )
    from rst.sources.databento_api.download import plan as replan
    from rst.sources.databento_api.lock import DownloadLock
    from rst.sources.raw_zone import RawZone

    zone = RawZone(lake.root)
    with DownloadLock(lake):
        clear_stale_staging(lake)
        report = DownloadReport(chunks=replan(zone, plan.request))
        run_plan(zone, client, report, estimate_only=True, max_cost_usd=max_cost_usd)
        report.downloaded = bool(report.chunks)
        for i, chunk in enumerate(report.chunks, 1):
            report.outcomes.append(fetch_chunk(client, zone, chunk))
            if on_chunk is not None:
                on_chunk(i, len(report.chunks), chunk)
    return report
