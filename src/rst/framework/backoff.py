"""Bounded exponential backoff with jitter: how often and how long to retry a transient failure.

One policy for every retry in rst: Databento calls (:mod:`rst.sources.databento_api.retry`)
and partitions that failed transiently in a run (:mod:`rst.framework.runner`).
Sleep and randomness are injectable so tests run in milliseconds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


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
