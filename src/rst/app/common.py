"""What every view shares: the lake, one-line error messages, small formatting helpers.

Views render errors with :func:`guarded` (one line in the page, never a traceback): an
:class:`rst.errors.RstError` shows its own actionable message; anything else shows its
type and first line, so a bug is visible without a stack dump in the page.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import polars as pl
import streamlit as st

from rst.errors import RstError
from rst.framework.lake import Lake

LAKE_ENV = "RST_LAKE"


def one_line(exc: BaseException) -> str:
    """An exception as one line: an ``RstError``'s message, else ``Type: first line``."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, RstError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def guarded(prefix: str = "") -> Iterator[None]:
    """Show any exception raised in the block as one ``st.error`` line (and stop the block there)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - one line in the page (st.stop/st.rerun are BaseException)
        st.error(f"{prefix}{one_line(exc)}")


def lake_root() -> str:
    """The lake the app serves: ``$RST_LAKE`` (``rst app --lake`` sets it), else ``./lake``."""
    return os.environ.get(LAKE_ENV) or "lake"


def open_lake() -> Lake | None:
    """The served lake, or None after showing why it cannot be opened."""
    try:
        return Lake.open(lake_root())
    except RstError as exc:
        st.error(one_line(exc))
        return None


def display(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame ready for ``st.dataframe``: categoricals as strings, UTC timestamps as naive UTC."""
    casts = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Categorical | pl.Enum):
            casts.append(pl.col(name).cast(pl.String))
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            casts.append(pl.col(name).dt.replace_time_zone(None))
    return frame.with_columns(casts) if casts else frame


def parse_day(text: str, name: str) -> dt.date:
    """``YYYY-MM-DD`` as a date; ``UsageError`` naming the field otherwise."""
    from rst.errors import UsageError

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def choose_parent(lake: Lake, key: str, label: str = "Parent") -> str | None:
    """A parent selectbox (None with a hint when the lake has no parent yet)."""
    from rst.ops.names import known_parents

    parents = known_parents(lake)
    if not parents:
        st.info("No parent in this lake yet: import DBN files under Data updates first.")
        return None
    return st.selectbox(label, parents, key=key)


def run_view(render: Callable[[Lake], None]) -> None:
    """Open the lake and render one view, every failure shown as one line."""
    lake = open_lake()
    if lake is None:
        return
    with guarded():
        render(lake)
