"""Calendar tables kept on disk: the same tables as the library's, never reused across a change of key."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rst.calendars import calendar, store
from rst.calendars.calendar import get_calendar


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("RST_CACHE_DIR", str(tmp_path))
    get_calendar.cache_clear()
    yield tmp_path / "calendars"
    get_calendar.cache_clear()


def _library_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = calendar._library_arrays

    def counted(name: str) -> dict[str, np.ndarray]:
        calls.append(name)
        return real(name)

    monkeypatch.setattr(calendar, "_library_arrays", counted)
    return calls


def _same(a: calendar.TradingCalendar, b: calendar.TradingCalendar) -> bool:
    return (
        np.array_equal(a.sessions, b.sessions)
        and np.array_equal(a.holidays, b.holidays)
        and a.early_closes == b.early_closes
        and np.array_equal(a.open_ns, b.open_ns)
        and a.digest(dt.date(1990, 1, 1), dt.date(2040, 12, 31)) == b.digest(dt.date(1990, 1, 1), dt.date(2040, 12, 31))
    )


def test_second_process_reads_the_stored_tables(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _library_calls(monkeypatch)
    built = get_calendar("CMES")
    assert calls == ["CMES"] and len(list(cache.glob("CMES-*.npz"))) == 1
    get_calendar.cache_clear()  # as a new process would start
    stored = get_calendar("CMES")
    assert calls == ["CMES"]  # not asked again
    assert stored is not built and _same(stored, built)
    assert dt.date(2024, 1, 15) not in stored.trading_days(dt.date(2024, 1, 12), dt.date(2024, 1, 16))  # MLK day


def test_new_library_version_does_not_reuse_the_stored_tables(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _library_calls(monkeypatch)
    get_calendar("CMES")
    get_calendar.cache_clear()
    monkeypatch.setattr(store, "library_versions", lambda: "exchange_calendars=99.0,pandas=9.9")
    get_calendar("CMES")
    assert calls == ["CMES", "CMES"]
    assert len(list(cache.glob("CMES-*.npz"))) == 2


def test_unreadable_store_file_is_rebuilt(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _library_calls(monkeypatch)
    built = get_calendar("CMES")
    (path,) = cache.glob("CMES-*.npz")
    path.write_bytes(path.read_bytes()[:1000])  # torn
    get_calendar.cache_clear()
    again = get_calendar("CMES")
    assert calls == ["CMES", "CMES"] and _same(again, built)
    assert store.load(path) is not None  # written whole again


def test_unwritable_store_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("RST_CACHE_DIR", str(blocker))
    get_calendar.cache_clear()
    try:
        assert len(get_calendar("CMES").sessions) > 10_000
    finally:
        get_calendar.cache_clear()


def test_a_warm_process_does_not_import_the_library(cache: Path) -> None:
    get_calendar("CMES")  # stores the tables
    probe = (
        "import sys; from rst.calendars import get_calendar; get_calendar('CMES'); "
        "print(sorted(m for m in ('exchange_calendars', 'pandas') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
