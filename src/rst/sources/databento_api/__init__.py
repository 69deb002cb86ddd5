"""The Databento Historical API as a source: download only what the raw zone lacks.

- :mod:`.key` -- the API key (env or ``config/databento.env``), never shown;
- :mod:`.plan` -- uncovered windows split into calendar chunks, deterministic file names;
- :mod:`.retry` -- bounded exponential backoff with jitter;
- :mod:`.client` -- the real ``databento.Historical`` client, errors translated to rst's;
- :mod:`.download` -- estimate, stream to staging, import into the raw zone;
- :mod:`.update_config` / :mod:`.update` -- the nightly, cron-safe update.
"""

from __future__ import annotations

from rst.sources.databento_api.client import (
    AvailableRange,
    DatabentoClient,
    HttpTransientError,
    RequestRefused,
)
from rst.sources.databento_api.download import (
    CostLimitExceeded,
    DownloadReport,
    DownloadRequest,
    Estimate,
    download_missing,
    estimate_plan,
)
from rst.sources.databento_api.key import ApiKey, ApiKeyError, load_api_key
from rst.sources.databento_api.lock import DownloadLock, DownloadLocked
from rst.sources.databento_api.plan import Chunk, Granularity, plan_chunks, split_window
from rst.sources.databento_api.retry import RetriesExhausted, RetryPolicy
from rst.sources.databento_api.update import UpdateReport, run_update
from rst.sources.databento_api.update_config import UpdateConfig, UpdateTarget, load_update_config

__all__ = [
    "ApiKey",
    "ApiKeyError",
    "AvailableRange",
    "Chunk",
    "CostLimitExceeded",
    "DatabentoClient",
    "DownloadLock",
    "DownloadLocked",
    "DownloadReport",
    "DownloadRequest",
    "Estimate",
    "Granularity",
    "HttpTransientError",
    "RequestRefused",
    "RetriesExhausted",
    "RetryPolicy",
    "UpdateConfig",
    "UpdateReport",
    "UpdateTarget",
    "download_missing",
    "estimate_plan",
    "load_api_key",
    "load_update_config",
    "plan_chunks",
    "run_update",
    "split_window",
]
