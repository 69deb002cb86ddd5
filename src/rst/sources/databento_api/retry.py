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
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from rst.errors import TransientDownloadError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    ``max_attempts`` counts the first call (1 = no retry). The delay before
    retry ``n`` (1-based) is ``min(max_delay_s, base_delay_s * 2**(n-1))``
    scaled by a random factor in ``[1 - jitter, 1]`` ("equal-ish" jitter, so
    concurrent clients spread out), or the server's ``Retry-After`` when given.
    Seconds throughout.
    """

    max_attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    jitter: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    rng: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be in [0, 1]")

    def delay(self, retry_number: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based)."""
        if retry_after_s is not None and retry_after_s >= 0:
            return min(retry_after_s, self.max_delay_s)
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (retry_number - 1))
        return backoff * (1.0 - self.jitter * self.rng())


NO_RETRY = RetryPolicy(max_attempts=1)


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
