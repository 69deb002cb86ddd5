"""Rendering frames for the HTTP API: JSON, CSV and Arrow IPC, and the stats document.

Exactness guarantees (what a client may rely on):

- prices stay int64 fixed-point 1e-9 integers in every format (JSON numbers are written
  from the int64 itself, never through a float; ``latest_close_price`` in ``/stats`` is a
  decimal *string*);
- every timestamp column ``c`` becomes two in JSON and CSV: ``c`` as integer nanoseconds
  since the epoch (exact) and ``c_iso``, the same instant as ISO 8601 with 9 fractional
  digits and its UTC offset (human-readable); dates are ``YYYY-MM-DD``;
- Arrow IPC (stream format) carries the frame itself: the exact lake schema
  (``Datetime[ns, UTC]``, dictionary-encoded categoricals), readable by pyarrow and polars;
- float columns that the lake itself stores as float64 (the adjusted prices of a continuous
  series) are written with the shortest representation that round-trips; NaN becomes null.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.9f%:z"
PRICE_SCALE = 9
"""Prices are int64 fixed-point with 9 decimal places."""
VENDOR = "databento"
_TIMEFRAME = re.compile(r"(?:^|_)(\d+[smhd])(?:_|$)")


class OutputFormat(StrEnum):
    """Response formats of ``/bars`` and ``/series``."""

    JSON = "json"
    CSV = "csv"
    ARROW = "arrow"

    @property
    def media_type(self) -> str:
        return _MEDIA[self]


_MEDIA = {
    OutputFormat.JSON: "application/json",
    OutputFormat.CSV: "text/csv; charset=utf-8",
    OutputFormat.ARROW: "application/vnd.apache.arrow.stream",
}


def wire_frame(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` in JSON/CSV-safe columns: timestamps as ns integers plus ``_iso`` strings, dates and categories as text."""
    import polars as pl

    exprs: list[pl.Expr] = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            exprs.append(col.dt.epoch("ns").alias(name))
            exprs.append(col.dt.to_string(ISO_FORMAT).alias(f"{name}_iso"))
        elif dtype == pl.Date or isinstance(dtype, pl.Categorical | pl.Enum):
            exprs.append(col.cast(pl.String))
        elif dtype.is_float():
            exprs.append(col.fill_nan(None))
        else:
            exprs.append(col)
    return df.select(exprs)


def render_rows(df: pl.DataFrame, fmt: OutputFormat, meta: dict[str, Any]) -> bytes:
    """The response body for ``df`` in ``fmt``; ``meta`` (the query, the backend) heads the JSON document."""
    if fmt is OutputFormat.ARROW:
        import polars as pl

        buf = io.BytesIO()
        df.write_ipc_stream(buf, compat_level=pl.CompatLevel.oldest())
        return buf.getvalue()
    wire = wire_frame(df)
    if fmt is OutputFormat.CSV:
        return wire.write_csv().encode()
    head = {**meta, "row_count": df.height, "columns": [{"name": n, "type": str(t)} for n, t in df.schema.items()]}
    return json.dumps(head)[:-1].encode() + b', "rows": ' + wire.write_json().encode() + b"}"


def price_text(value: int) -> str:
    """An int64 fixed-point 1e-9 price as an exact decimal string: ``16234500000000`` -> ``"16234.5"``."""
    text = f"{Decimal(value).scaleb(-PRICE_SCALE):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def timeframe(table: str) -> str | None:
    """``ohlcv_1d`` -> ``1d``, ``ohlcv_1h_quarantine`` -> ``1h``; continuous series are daily; else None."""
    if table.startswith("continuous_"):
        return "1d"
    found = _TIMEFRAME.search(table)
    return found.group(1) if found else None


def _instant(value: dt.datetime | dt.date) -> tuple[str, int]:
    """(ISO text, ns since the epoch) of a timestamp, or of a date at 00:00 UTC."""
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC)
        seconds = int((utc.replace(microsecond=0) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds())
        return utc.isoformat(), seconds * 10**9 + utc.microsecond * 1000
    return value.isoformat(), (value - dt.date(1970, 1, 1)).days * 86_400 * 10**9


def stats(df: pl.DataFrame, *, symbol: str, table: str, layer: str, backend: str) -> dict[str, Any]:
    """The origin document's stats shape for ``df``: row count, first/last time, latest close and its time.

    The time column is ``ts_event`` (else ``trading_date``); ``min_ts``/``max_ts``/``latest_ts`` are ISO
    strings with ``*_ns`` integer twins (computed from the exact ns column, so no precision is lost).
    The latest bar is the one with the greatest time, ties broken by the greatest volume (the most
    traded contract); ``latest_close`` is its int64 fixed-point close, ``latest_close_price`` the
    same as an exact decimal string. An empty table gives nulls and a ``message``.
    """
    import polars as pl

    doc: dict[str, Any] = {
        "row_count": df.height, "min_ts": None, "max_ts": None, "min_ts_ns": None, "max_ts_ns": None,
        "latest_close": None, "latest_close_price": None, "latest_ts": None, "latest_ts_ns": None,
        "latest_contract": None, "symbol": symbol, "table": table, "layer": layer,
        "timeframe": timeframe(table), "vendor": VENDOR, "backend": backend,
    }  # fmt: skip
    time_col = next((c for c in ("ts_event", "trading_date") if c in df.columns), None)
    if df.height == 0:
        doc["message"] = f"no rows in {layer}/{symbol}/{table} yet"
        return doc
    if time_col is None:
        doc["message"] = f"{layer}/{symbol}/{table} has no ts_event or trading_date column: row count only"
        return doc
    ns = df[time_col].dt.epoch("ns") if df.schema[time_col] != pl.Date else None
    order = [time_col, *(["volume"] if "volume" in df.columns else [])]
    ordered = df.sort(order, nulls_last=False)
    latest = ordered.row(-1, named=True)
    doc["min_ts"], doc["min_ts_ns"] = _instant(df[time_col].min())  # type: ignore[arg-type]
    doc["max_ts"], doc["max_ts_ns"] = _instant(df[time_col].max())  # type: ignore[arg-type]
    doc["latest_ts"], doc["latest_ts_ns"] = _instant(latest[time_col])
    if ns is not None:  # exact nanoseconds (Python datetimes keep microseconds only)
        doc["min_ts_ns"], doc["max_ts_ns"] = ns.min(), ns.max()
        doc["latest_ts_ns"] = ordered[time_col].dt.epoch("ns")[-1]
    if "close" in df.columns and df.schema["close"] == pl.Int64 and latest["close"] is not None:
        doc["latest_close"] = latest["close"]
        doc["latest_close_price"] = price_text(latest["close"])
    if "symbol" in df.columns:
        doc["latest_contract"] = latest["symbol"]
    return doc
