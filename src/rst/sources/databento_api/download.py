"""Download what the raw zone lacks: plan -> (estimate) -> stream to staging -> import.

Each :class:`~rst.sources.databento_api.plan.Chunk` is streamed by the real
Databento client into ``<lake>/_staging/databento-<file name>`` (the raw
zone's staging directory: :meth:`RawZone.import_staged` takes only files
directly inside it); only a complete response is handed to the raw zone,
whose import decodes the whole file, records its SHA256 and links it into
``raw/source=databento/dataset=…/schema=…/symbol=<PARENT>/<file name>``
without ever overwriting. So an interrupted stream leaves nothing in the raw
zone, and the partial staging file is removed at once or, after a crash, at
the start of the next run (under the lake's download lock; only files with
the ``databento-`` prefix are touched, never the stages' staging directories).

Chunks fail independently: a chunk's failure is recorded in the
:class:`DownloadReport` and the others still run. Only a missing or rejected
API key stops the run, since every other chunk would fail the same way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rst.errors import DbnFormatError, DownloadError, RawZoneError, RstError, Terminal
from rst.framework.lake import Lake
from rst.sources.databento_api.calendars import planner_calendars
from rst.sources.databento_api.client import DatabentoClient
from rst.sources.databento_api.cost import validate_cost_cap
from rst.sources.databento_api.key import ApiKeyError
from rst.sources.databento_api.lock import DownloadLock
from rst.sources.databento_api.plan import (
    DEFAULT_STYPE_IN,
    Chunk,
    Granularity,
    plan_chunks,
)
from rst.sources.raw_zone import RawFile, RawZone

log = logging.getLogger(__name__)

STAGING_PREFIX = "databento-"
"""Name prefix of this module's files in ``<lake>/_staging/`` (the raw zone's staging directory)."""


class CostLimitExceeded(DownloadError, Terminal):
    """The planned requests would cost more than ``--max-cost``; nothing was downloaded."""

    def __init__(self, cost_usd: float, limit_usd: float, n_chunks: int) -> None:
        self.cost_usd = cost_usd
        self.limit_usd = limit_usd
        super().__init__(
            f"planned download of {n_chunks} request(s) costs ${cost_usd:,.2f}, above --max-cost "
            f"${limit_usd:,.2f}; nothing downloaded: narrow the window/symbols or raise --max-cost"
        )


@dataclass(frozen=True)
class DownloadRequest:
    """What to fetch: ``dataset``, ``schemas`` x ``symbols`` over ``[start_ns, end_ns)`` (UTC ns).

    ``granularity`` splits windows (``None``: per-schema default, months intraday,
    years for daily bars/definitions).
    """

    dataset: str
    schemas: tuple[str, ...]
    symbols: tuple[str, ...]
    start_ns: int
    end_ns: int
    stype_in: str = DEFAULT_STYPE_IN
    granularity: Granularity | None = None


@dataclass(frozen=True)
class ChunkEstimate:
    """Cost (USD) and billable size (bytes, uncompressed DBN) of one chunk."""

    chunk: Chunk
    cost_usd: float
    size_bytes: int


@dataclass(frozen=True)
class Estimate:
    """Cost and size of a whole plan."""

    items: tuple[ChunkEstimate, ...]

    @property
    def total_cost_usd(self) -> float:
        return sum(i.cost_usd for i in self.items)

    @property
    def total_bytes(self) -> int:
        return sum(i.size_bytes for i in self.items)


@dataclass(frozen=True)
class ChunkOutcome:
    """One chunk's result: the imported ``raw_file``, or the ``error`` that failed it."""

    chunk: Chunk
    raw_file: RawFile | None = None
    error: RstError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class DownloadReport:
    """What a download run planned, estimated and did. ``ok`` is false if any chunk failed."""

    chunks: list[Chunk] = field(default_factory=list)
    estimate: Estimate | None = None
    outcomes: list[ChunkOutcome] = field(default_factory=list)
    downloaded: bool = False

    @property
    def new_files(self) -> list[RawFile]:
        return [o.raw_file for o in self.outcomes if o.raw_file is not None]

    @property
    def failures(self) -> list[ChunkOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    def extend(self, other: DownloadReport) -> None:
        """Merge ``other`` into this report (used by ``update`` across targets)."""
        self.chunks.extend(other.chunks)
        self.outcomes.extend(other.outcomes)
        self.downloaded = self.downloaded or other.downloaded
        if other.estimate is not None:
            mine = self.estimate.items if self.estimate else ()
            self.estimate = Estimate(mine + other.estimate.items)

    def summary(self) -> str:
        """One line: ``3 planned, 2 downloaded, 1 failed`` (or ``nothing to download``)."""
        if not self.chunks:
            return "nothing to download: the raw zone already covers the window (closed days are not requested)"
        if not self.downloaded:
            return f"{len(self.chunks)} request(s) planned, nothing downloaded"
        done = sum(1 for o in self.outcomes if o.ok)
        return f"{len(self.chunks)} planned, {done} downloaded, {len(self.failures)} failed"


def staging_dir(lake: Lake) -> Path:
    """``<lake>/_staging``: the raw zone's staging directory, where responses are streamed before import.

    Shared with the raw zone's own temp files and the stages' staging directories;
    this module's files are the ones named ``databento-*`` (see :func:`staging_path`).
    """
    return RawZone(lake.root).staging_dir


def staging_path(raw_zone: RawZone, chunk: Chunk) -> Path:
    """Where ``chunk``'s response is streamed: ``<lake>/_staging/databento-<file name>``."""
    return raw_zone.staging_dir / f"{STAGING_PREFIX}{chunk.file_name}"


def staged_files(lake: Lake) -> list[Path]:
    """This module's files in :func:`staging_dir` (leftovers, when no download is running)."""
    root = staging_dir(lake)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name.startswith(STAGING_PREFIX) and not p.is_dir())


def clear_stale_staging(lake: Lake) -> list[Path]:
    """Remove leftovers of interrupted runs (:func:`staged_files`); call only under :class:`DownloadLock`."""
    removed = staged_files(lake)
    for entry in removed:
        entry.unlink(missing_ok=True)
    if removed:
        log.info("removed %d stale staging file(s) from %s", len(removed), staging_dir(lake))
    return removed


def estimate_plan(client: DatabentoClient, chunks: Sequence[Chunk]) -> Estimate:
    """Cost and billable size of every chunk (``metadata.get_cost`` / ``get_billable_size``); downloads nothing."""
    return Estimate(
        tuple(ChunkEstimate(c, client.get_cost(c), client.get_billable_size(c)) for c in chunks)
    )


def import_into_raw_zone(raw_zone: RawZone, staged: Path, chunk: Chunk) -> RawFile:
    """Hand a complete staged response to the raw zone (validate, hash, link in; never overwrite).

    The file is named :attr:`Chunk.file_name` and filed under ``symbol=<chunk.symbol>``,
    the lake parent that was requested (``ES`` for ``ES.FUT``), whatever the
    metadata's symbols. Dataset and schema come from the file's own metadata.
    The staged file is consumed whatever happens.
    """
    return raw_zone.import_staged(staged, name=chunk.file_name, symbol=chunk.symbol)


def fsync_file(path: Path) -> None:
    """Flush ``path``'s data to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fetch_chunk(client: DatabentoClient, raw_zone: RawZone, chunk: Chunk) -> ChunkOutcome:
    """Download one chunk into staging and import it; failures become the outcome's ``error``.

    :class:`ApiKeyError` propagates (no other chunk can succeed either).
    """
    staged = staging_path(raw_zone, chunk)
    try:
        staged.parent.mkdir(parents=True, exist_ok=True)
        client.get_range_to_file(chunk, staged)
        fsync_file(staged)  # import_staged expects durable bytes; the client does not fsync
        raw_file = import_into_raw_zone(raw_zone, staged, chunk)
    except ApiKeyError:
        raise
    except DbnFormatError as exc:
        err = DownloadError(f"{chunk.describe()}: the response did not verify as DBN ({exc}); rerun to fetch it again")
        log.error("%s", err)
        return ChunkOutcome(chunk, error=err)
    except (DownloadError, RawZoneError) as exc:
        log.error("%s", exc)
        return ChunkOutcome(chunk, error=exc)
    finally:
        staged.unlink(missing_ok=True)
    log.info("downloaded %s", chunk.describe())
    return ChunkOutcome(chunk, raw_file=raw_file)


def download_missing(
    lake: Lake,
    request: DownloadRequest,
    client: DatabentoClient,
    *,
    raw_zone: RawZone | None = None,
    estimate_only: bool = False,
    max_cost_usd: float | None = None,
) -> DownloadReport:
    """Download every uncovered window of ``request`` into the raw zone of ``lake``.

    With ``estimate_only`` the plan is priced and nothing is downloaded. With
    ``max_cost_usd`` the plan is priced first and :class:`CostLimitExceeded`
    is raised if it costs more. Holds the lake's :class:`DownloadLock`
    throughout. Per-chunk failures are in the report, not raised.
    """
    zone = raw_zone if raw_zone is not None else open_raw_zone(lake)
    with DownloadLock(lake):
        clear_stale_staging(lake)
        report = DownloadReport(chunks=plan(zone, request))
        return run_plan(zone, client, report, estimate_only, max_cost_usd)


def plan(raw_zone: RawZone, request: DownloadRequest) -> list[Chunk]:
    """The chunks :func:`download_missing` would request for ``request`` given current coverage.

    Days the parent's calendar says are closed throughout are not requested (:func:`planner_calendars`).
    """
    return plan_chunks(
        raw_zone,
        request.dataset,
        request.schemas,
        request.symbols,
        request.start_ns,
        request.end_ns,
        granularity=request.granularity,
        stype_in=request.stype_in,
        calendars=planner_calendars(Lake(raw_zone.lake), request.dataset, request.symbols),
    )


def run_plan(
    zone: RawZone,
    client: DatabentoClient,
    report: DownloadReport,
    estimate_only: bool = False,
    max_cost_usd: float | None = None,
) -> DownloadReport:
    """Price (if asked) and fetch ``report.chunks``; call under :class:`DownloadLock`.

    ``max_cost_usd`` must be finite and non-negative (:func:`validate_cost_cap`); every price
    the gateway returns is checked too (:class:`InvalidPrice` refuses the plan).
    """
    if max_cost_usd is not None:
        max_cost_usd = validate_cost_cap(max_cost_usd, "max_cost_usd")
    if not report.chunks:
        return report
    if estimate_only or max_cost_usd is not None:
        report.estimate = estimate_plan(client, report.chunks)
        if max_cost_usd is not None and report.estimate.total_cost_usd > max_cost_usd:
            raise CostLimitExceeded(report.estimate.total_cost_usd, max_cost_usd, len(report.chunks))
    if estimate_only:
        return report
    report.downloaded = True
    for chunk in report.chunks:
        report.outcomes.append(fetch_chunk(client, zone, chunk))
    return report


def open_raw_zone(lake: Lake) -> RawZone:
    """The lake's :class:`rst.sources.raw_zone.RawZone`."""
    return RawZone(lake.root)

