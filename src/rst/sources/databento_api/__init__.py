"""The Databento Historical API as a source: download only what the raw zone lacks.

- :mod:`.key` -- the API key (env or ``config/databento.env``), never shown;
- :mod:`.plan` -- uncovered windows split into calendar chunks, deterministic file names;
- :mod:`.retry` -- bounded exponential backoff with jitter;
- :mod:`.cost` -- cost caps and the gateway's prices: finite and non-negative, or refused;
- :mod:`.client` -- the real ``databento.Historical`` client, errors translated to rst's;
- :mod:`.download` -- estimate, stream to staging, import into the raw zone;
- :mod:`.update_config` / :mod:`.update` -- the nightly, cron-safe update.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rst.sources.databento_api.client import (
        AvailableRange,
        DatabentoClient,
        HttpTransientError,
        RequestRefused,
    )
    from rst.sources.databento_api.cost import InvalidPrice
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

_LAZY = {
    "AvailableRange": "rst.sources.databento_api.client",
    "DatabentoClient": "rst.sources.databento_api.client",
    "HttpTransientError": "rst.sources.databento_api.client",
    "RequestRefused": "rst.sources.databento_api.client",
    "InvalidPrice": "rst.sources.databento_api.cost",
    "CostLimitExceeded": "rst.sources.databento_api.download",
    "DownloadReport": "rst.sources.databento_api.download",
    "DownloadRequest": "rst.sources.databento_api.download",
    "Estimate": "rst.sources.databento_api.download",
    "download_missing": "rst.sources.databento_api.download",
    "estimate_plan": "rst.sources.databento_api.download",
    "ApiKey": "rst.sources.databento_api.key",
    "ApiKeyError": "rst.sources.databento_api.key",
    "load_api_key": "rst.sources.databento_api.key",
    "DownloadLock": "rst.sources.databento_api.lock",
    "DownloadLocked": "rst.sources.databento_api.lock",
    "Chunk": "rst.sources.databento_api.plan",
    "Granularity": "rst.sources.databento_api.plan",
    "plan_chunks": "rst.sources.databento_api.plan",
    "split_window": "rst.sources.databento_api.plan",
    "RetriesExhausted": "rst.sources.databento_api.retry",
    "RetryPolicy": "rst.sources.databento_api.retry",
    "UpdateReport": "rst.sources.databento_api.update",
    "run_update": "rst.sources.databento_api.update",
    "UpdateConfig": "rst.sources.databento_api.update_config",
    "UpdateTarget": "rst.sources.databento_api.update_config",
    "load_update_config": "rst.sources.databento_api.update_config",
}
"""Exports whose modules load on first use (they import heavy libraries), so that importing a light module
of this package, or a CLI ``--help``, does not pay for them."""

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
    "InvalidPrice",
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


def __getattr__(name: str) -> Any:
    """Import a lazy export's module on first use and keep the export as a module attribute."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # also replaces a same-named submodule that the import just bound here
    return value
