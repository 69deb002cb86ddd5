"""Backoff: bounded, exponential, jittered; Retry-After honoured; only transient errors retried."""

from __future__ import annotations

import pytest

from rst.errors import DownloadError, TransientDownloadError
from rst.sources.databento_api.client import HttpTransientError
from rst.sources.databento_api.retry import RetriesExhausted, RetryPolicy, call_with_retry


def test_delays_grow_exponentially_and_are_capped() -> None:
    p = RetryPolicy(base_delay_s=1, max_delay_s=5, jitter=0.0)
    assert [p.delay(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]


def test_jitter_scales_down_within_bounds() -> None:
    p = RetryPolicy(base_delay_s=4, max_delay_s=100, jitter=0.5, rng=lambda: 1.0)
    assert p.delay(1) == 2.0
    assert RetryPolicy(base_delay_s=4, jitter=0.5, rng=lambda: 0.0).delay(1) == 4.0


def test_retry_after_is_honoured_but_capped() -> None:
    p = RetryPolicy(max_delay_s=10)
    assert p.delay(1, retry_after_s=3) == 3
    assert p.delay(1, retry_after_s=999) == 10


def test_transient_errors_retried_then_succeed() -> None:
    sleeps: list[float] = []
    calls = iter([HttpTransientError("429", 429, retry_after_s=2.0), HttpTransientError("503", 503), "ok"])

    def fn() -> str:
        v = next(calls)
        if isinstance(v, Exception):
            raise v
        return v

    policy = RetryPolicy(max_attempts=3, base_delay_s=0.5, jitter=0.0, sleep=sleeps.append)
    assert call_with_retry(fn, policy, "x") == "ok"
    assert sleeps == [2.0, 1.0]


def test_gives_up_after_max_attempts_with_clear_message() -> None:
    sleeps: list[float] = []

    def fn() -> None:
        raise HttpTransientError("x: 500 boom", 500)

    with pytest.raises(RetriesExhausted, match="gave up after 4 attempt") as info:
        call_with_retry(fn, RetryPolicy(max_attempts=4, sleep=sleeps.append), "download X")
    assert isinstance(info.value, TransientDownloadError)
    assert len(sleeps) == 3


def test_terminal_errors_are_not_retried() -> None:
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        raise DownloadError("refused")

    with pytest.raises(DownloadError, match="refused"):
        call_with_retry(fn, RetryPolicy(max_attempts=5, sleep=lambda s: None), "x")
    assert calls == [1]
