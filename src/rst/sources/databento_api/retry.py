"""Bounded exponential backoff with jitter, for calls that fail transiently.

The Databento client does not retry ``timeseries``/``metadata`` calls; this
module does. Only :class:`rst.errors.TransientDownloadError` is retried (the
client module maps 429, 5xx, timeouts and dropped connections to it); any
other exception propagates at once. A 429's ``Retry-After`` (seconds) is
honoured, capped by :attr:`RetryPolicy.max_delay_s`.

Sleep and randomness are injectable so tests run in milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from rst.errors import TransientDownloadError
from rst.framework.backoff import NO_RETRY, RetryPolicy

__all__ = ["NO_RETRY", "RetriesExhausted", "RetryPolicy", "call_with_retry"]

log = logging.getLogger(__name__)

T = TypeVar("T")




class RetriesExhausted(TransientDownloadError):
    """A transient failure persisted through every attempt; ``str()`` says how many and the last cause."""

    def __init__(self, what: str, attempts: int, last: TransientDownloadError) -> None:
        self.what = what
        self.attempts = attempts
        self.last = last
        super().__init__(f"{what}: gave up after {attempts} attempt(s); last error: {last}")


def call_with_retry(fn: Callable[[], T], policy: RetryPolicy, what: str) -> T:
    """``fn()``, retried on :class:`TransientDownloadError` per ``policy``.

    Raises :class:`RetriesExhausted` (chained from the last failure) when every
    attempt failed transiently; other exceptions propagate unchanged.
    ``what`` names the call in log lines and the final message.
    """
    attempt = 1
    while True:
        try:
            return fn()
        except TransientDownloadError as exc:
            if attempt >= policy.max_attempts:
                raise RetriesExhausted(what, attempt, exc) from exc
            wait = policy.delay(attempt, getattr(exc, "retry_after_s", None))
            log.warning("%s: attempt %d failed (%s); retrying in %.2fs", what, attempt, exc, wait)
            policy.sleep(wait)
            attempt += 1
