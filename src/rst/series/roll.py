"""Which contract is live on each trading date (the roll schedule).

Everything here works on a dense (trading date x contract) grid built once by
:func:`prepare` (numpy, vectorised per roll event; no loop over bars).

Terms
-----
calendar
    The series' trading dates: every ``trading_date`` on which at least one
    eligible contract (allowed month, on/after ``start``) has a bar. Index ``t``.
chain
    Eligible contracts sorted by ``(expiration, instrument_id)``; a contract is
    identified by ``(instrument_id, expiration)``. Its position in the chain is
    ``c``; a later position never has an earlier expiry.
expiration date
    The UTC calendar date of ``expiration``.
started
    A contract has started on ``t`` if it has a bar on some date <= ``t``.
reference bar
    A bar whose ``price_field`` (close or settlement) is not null.

Selection, in three steps
-------------------------
1. **Candidates** on ``t``: started contracts whose expiration date is >= ``t``,
   and, for ``days_before_expiry`` with ``N = roll_offset_days``, that have at
   least ``N`` trading dates strictly after ``t`` up to and including their
   expiration date. Up to the last date of the calendar (the last date with an
   eligible bar) the trading dates are the calendar's; after it they are the trade
   dates of the exchange calendar (:class:`rst.calendars.TradingCalendar`, holidays
   known), so the last ``N`` dates are final as long as later data arrives on the
   exchange's trade dates (:func:`rst.series.engine.update` re-does ``N`` dates
   only when it does not).
   For crossover rules a *front* contract is tracked first: it starts as the
   nearest candidate; when, on a day ``C``, the next candidate after the front
   has a strictly larger volume (open interest) than the front (both with bars
   and non-null values), the front becomes that contract on the
   ``(1 + roll_offset_days)``-th trading date after ``C``; if the front expires
   first, it becomes the nearest candidate after it on the first trading date
   after its expiration date. Candidates are then restricted to the front and
   later contracts.
2. **Desired contract** on ``t``: the ``contract_rank``-th candidate (0 = the
   nearest), made non-decreasing in chain position over time (never roll back to
   an earlier expiry).
3. **Live contract** (what the series holds): the first live contract is the
   desired one on the first date on which it has a bar. The live contract ``O``
   rolls to the desired contract ``N`` on the first date ``R`` on which

   * ``N`` is after ``O`` in the chain and ``N`` has a bar on ``R``, and
   * ``O`` and ``N`` both have a reference bar on some date before ``R`` (so the
     gap can be measured) -- otherwise the roll is **delayed**, unless
   * ``O`` has expired (``R`` after its expiration date): then the roll is
     *forced* and carries no adjustment (there is no day to measure the gap).

   So every live contract starts with a row (the roll row), the series never
   goes back to an earlier expiry, and a missing bar of the live contract never
   causes a switch: on a trading date where the live contract has no bar the
   series has **no row** (it is not filled from another contract).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from rst.calendars import TradingCalendar, get_calendar
from rst.errors import SeriesError
from rst.series.definition import PriceField, RollRule, SeriesDefinition

REQUIRED_COLUMNS: dict[str, pl.DataType] = {
    "trading_date": pl.Date(),
    "instrument_id": pl.UInt32(),
    "symbol": pl.String(),
    "expiration": pl.Datetime("ns", "UTC"),
    "open": pl.Int64(),
    "high": pl.Int64(),
    "low": pl.Int64(),
    "close": pl.Int64(),
    "volume": pl.Int64(),
    "open_interest": pl.Int64(),
    "settlement": pl.Int64(),
}
"""Input bar columns and the dtypes they are cast to (prices int64 fixed-point 1e-9)."""

_MONTH_RE = r"([FGHJKMNQUVXZ])\d{1,2}$"
DEFAULT_CALENDAR = "CMES"
"""Exchange calendar used when none is passed (CME Globex, :mod:`rst.calendars`)."""


@dataclass(frozen=True)
class Panel:
    """Eligible bars laid out on the (calendar index ``t``, chain position ``c``) grid.

    ``bars`` holds the cleaned input rows plus ``_t`` and ``_c``; ``contracts`` one
    row per chain position (``_c``, ``instrument_id``, ``symbol``, ``expiration``,
    ``exp_date``). ``ref_price`` is the ``price_field`` (int64 fixed-point 1e-9; 0
    where ``has_ref`` is False).
    """

    bars: pl.DataFrame
    contracts: pl.DataFrame
    dates: np.ndarray  # datetime64[D], sorted, unique
    has_bar: np.ndarray  # bool (n_dates, n_contracts)
    has_ref: np.ndarray  # bool (n_dates, n_contracts)
    ref_price: np.ndarray  # int64 (n_dates, n_contracts)
    metric: np.ndarray  # int64 (n_dates, n_contracts): volume or open interest (crossover)
    has_metric: np.ndarray  # bool (n_dates, n_contracts)
    first_t: np.ndarray  # int64 (n_contracts): index of the first bar
    exp_t: np.ndarray  # int64 (n_contracts): last index whose date <= expiration date (-1 if none)
    exp_dates: np.ndarray  # datetime64[D] (n_contracts)
    calendar: TradingCalendar | None  # trade dates after the last date of ``dates`` (None: default)

    @property
    def exchange_calendar(self) -> TradingCalendar:
        """The exchange calendar (built on first use: only ``days_before_expiry`` needs it)."""
        return self.calendar if self.calendar is not None else get_calendar(DEFAULT_CALENDAR)

    @property
    def n_dates(self) -> int:
        """Number of trading dates in the calendar."""
        return int(self.dates.shape[0])

    def date_at(self, t: int) -> dt.date:
        """The trading date at calendar index ``t``."""
        day: dt.date = self.dates[t].astype(dt.date)
        return day


def _clean(bars: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in bars.columns]
    if missing:
        raise SeriesError(f"bars: missing column(s) {', '.join(missing)}")
    exprs: list[pl.Expr] = []
    for name, dtype in REQUIRED_COLUMNS.items():
        col = pl.col(name)
        if name == "expiration":
            src = bars.schema[name]
            if not isinstance(src, pl.Datetime):
                raise SeriesError(f"bars: column 'expiration' is {src}, expected datetime[ns, UTC]")
            col = col.dt.replace_time_zone("UTC") if src.time_zone is None else col.dt.convert_time_zone("UTC")
            exprs.append(col.dt.cast_time_unit("ns").alias(name))
        else:
            exprs.append(col.cast(dtype, strict=True).alias(name))
    try:
        out = bars.select(exprs)
    except pl.exceptions.PolarsError as exc:
        raise SeriesError(f"bars: cannot cast columns to the bar schema ({exc})") from None
    for name in ("trading_date", "instrument_id", "symbol", "expiration", "open", "high", "low", "close"):
        nulls = out[name].null_count()
        if nulls:
            raise SeriesError(f"bars: column '{name}' has {nulls} null value(s)")
    return out


def prepare(bars: pl.DataFrame, defn: SeriesDefinition, calendar: TradingCalendar | None = None) -> Panel:
    """Validate and cast ``bars``, apply ``start`` and ``allowed_months``, build the grid.

    ``calendar``: the exchange calendar counting trading dates after the data's end
    (default :data:`DEFAULT_CALENDAR`).

    ``bars``: per-contract daily bars of ``defn.parent`` (outrights only), columns
    as in :data:`REQUIRED_COLUMNS`; ``trading_date`` is the exchange trading date.
    Raises ``SeriesError`` on missing columns, nulls in required fields, duplicate
    ``(trading_date, instrument_id)``, or a contract whose symbol has no month code
    while ``allowed_months`` is set.
    """
    df = _clean(bars)
    if defn.start is not None:
        df = df.filter(pl.col("trading_date") >= defn.start)
    if defn.allowed_months:
        df = df.with_columns(_month=pl.col("symbol").str.extract(_MONTH_RE, 1))
        bad = df.filter(pl.col("_month").is_null())
        if bad.height:
            raise SeriesError(
                f"bars: symbol {bad['symbol'][0]!r} has no month code; cannot apply "
                f"allowed_months={defn.allowed_months!r}"
            )
        df = df.filter(pl.col("_month").is_in(list(defn.allowed_months))).drop("_month")
    dup = df.group_by("trading_date", "instrument_id").len().filter(pl.col("len") > 1)
    if dup.height:
        row = dup.sort("trading_date").row(0, named=True)
        raise SeriesError(
            f"bars: {row['len']} bars for instrument_id {row['instrument_id']} on {row['trading_date']}; "
            "expected one bar per contract per trading date"
        )
    contracts = (
        df.group_by("instrument_id", "expiration")
        .agg(pl.col("symbol").unique().alias("_symbols"), pl.col("trading_date").min().alias("_first"))
        .sort("expiration", "instrument_id")
    )
    multi = contracts.filter(pl.col("_symbols").list.len() > 1)
    if multi.height:
        raise SeriesError(
            f"bars: instrument_id {multi['instrument_id'][0]} has several symbols {multi['_symbols'][0].to_list()}"
        )
    contracts = contracts.with_columns(
        symbol=pl.col("_symbols").list.first(),
        exp_date=pl.col("expiration").dt.date(),
        _c=pl.int_range(pl.len(), dtype=pl.Int64),
    ).drop("_symbols")

    dates = np.unique(df["trading_date"].to_numpy().astype("datetime64[D]"))
    df = df.join(contracts.select("instrument_id", "expiration", "_c"), on=["instrument_id", "expiration"])
    t_idx = np.searchsorted(dates, df["trading_date"].to_numpy().astype("datetime64[D]"))
    df = df.with_columns(_t=pl.Series(t_idx, dtype=pl.Int64))

    n, m = dates.shape[0], contracts.height
    t = df["_t"].to_numpy()
    c = df["_c"].to_numpy()
    has_bar = np.zeros((n, m), dtype=bool)
    has_bar[t, c] = True
    price_col = "close" if defn.price_field is PriceField.CLOSE else "settlement"
    price = df[price_col]
    has_ref = np.zeros((n, m), dtype=bool)
    has_ref[t, c] = price.is_not_null().to_numpy()
    ref_price = np.zeros((n, m), dtype=np.int64)
    ref_price[t, c] = price.fill_null(0).to_numpy()
    metric_col = "open_interest" if defn.roll_rule is RollRule.OPEN_INTEREST_CROSSOVER else "volume"
    metric_s = df[metric_col]
    has_metric = np.zeros((n, m), dtype=bool)
    has_metric[t, c] = metric_s.is_not_null().to_numpy()
    metric = np.zeros((n, m), dtype=np.int64)
    metric[t, c] = metric_s.fill_null(0).to_numpy()

    exp_dates = contracts["exp_date"].to_numpy().astype("datetime64[D]")
    first_t = np.searchsorted(dates, contracts["_first"].to_numpy().astype("datetime64[D]")).astype(np.int64)
    exp_t = np.searchsorted(dates, exp_dates, side="right").astype(np.int64) - 1
    return Panel(
        bars=df,
        contracts=contracts.drop("_first"),
        dates=dates,
        has_bar=has_bar,
        has_ref=has_ref,
        ref_price=ref_price,
        metric=metric,
        has_metric=has_metric,
        first_t=first_t,
        exp_t=exp_t,
        exp_dates=exp_dates,
        calendar=calendar,
    )


def _dbe_last_t(panel: Panel, n_before: int) -> np.ndarray:
    """Per contract: the last calendar index on which it is still eligible under days_before_expiry.

    Eligible on ``t`` iff the number of trading dates in ``(t, expiration date]`` is
    >= ``n_before``; dates after the calendar's end are the exchange calendar's trade dates.
    """
    n = panel.n_dates
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    last = panel.dates[-1]
    n_le = np.searchsorted(panel.dates, panel.exp_dates, side="right").astype(np.int64)
    beyond = panel.exp_dates > last
    extra = np.zeros_like(n_le)
    if beyond.any():
        calendar = panel.exchange_calendar
        extra[beyond] = calendar.count_through(panel.exp_dates[beyond]) - calendar.count_through(np.array([last]))[0]
    return n_le + extra - 1 - n_before


def _kth(mask: np.ndarray, k: int) -> np.ndarray:
    """Per row, the column of the ``k``-th (0-based) True value, or -1."""
    if mask.shape[1] == 0:
        return np.full(mask.shape[0], -1, dtype=np.int64)
    hit = mask & (np.cumsum(mask, axis=1) == k + 1)
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1).astype(np.int64)


def _front_by_crossover(panel: Panel, cand: np.ndarray, offset: int) -> np.ndarray:
    """Front contract per calendar index under a crossover rule (-1 = none); loops over front changes."""
    n = panel.n_dates
    front = np.full(n, -1, dtype=np.int64)
    any_cand = cand.any(axis=1)
    if not any_cand.any():
        return front
    t0 = int(any_cand.argmax())
    f = int(cand[t0].argmax())
    while True:
        after = cand[t0:, f + 1 :]
        has_partner = after.any(axis=1)
        partner = f + 1 + (after.argmax(axis=1) if after.shape[1] else np.zeros(n - t0, dtype=np.int64))
        partner = np.where(has_partner, partner, f)
        ts = np.arange(t0, n)
        cross = (
            has_partner
            & panel.has_metric[ts, f]
            & panel.has_metric[ts, partner]
            & (panel.metric[ts, partner] > panel.metric[ts, f])
        )
        switch_cross, crossed_to = n, f
        if cross.any():
            ci = int(cross.argmax())
            switch_cross = t0 + ci + 1 + offset
            crossed_to = int(partner[ci])
        switch_exp = max(int(panel.exp_t[f]) + 1, t0)
        switch = min(switch_cross, switch_exp)
        front[t0:switch] = f
        if switch >= n:
            return front
        if switch == switch_cross:
            f, t0 = crossed_to, switch
            continue
        # forced: the front expired; the nearest candidate after it, when there is one
        later = cand[switch:, f + 1 :]
        rows = later.any(axis=1)
        if not rows.any():
            return front
        t0 = switch + int(rows.argmax())
        f = f + 1 + int(later[t0 - switch].argmax())


def desired_positions(panel: Panel, defn: SeriesDefinition) -> np.ndarray:
    """Desired chain position per calendar index (-1 = none yet), non-decreasing over time."""
    n, m = panel.has_bar.shape
    if n == 0 or m == 0:
        return np.full(n, -1, dtype=np.int64)
    ts = np.arange(n)[:, None]
    if defn.roll_rule is RollRule.DAYS_BEFORE_EXPIRY:
        last_t = _dbe_last_t(panel, defn.roll_offset_days)
        cand = (panel.first_t[None, :] <= ts) & (ts <= last_t[None, :])
    else:
        cand = (panel.first_t[None, :] <= ts) & (ts <= panel.exp_t[None, :])
        front = _front_by_crossover(panel, cand, defn.roll_offset_days)
        cand = cand & (np.arange(m)[None, :] >= front[:, None]) & (front[:, None] >= 0)
    p = _kth(cand, defn.contract_rank)
    return np.maximum.accumulate(p)


def _first_common_ref(panel: Panel, o: int) -> np.ndarray:
    """Per contract: the first calendar index on which it and ``o`` both have a reference bar (n if never)."""
    n = panel.n_dates
    rows = np.flatnonzero(panel.has_ref[:, o])
    if rows.size == 0:
        return np.full(panel.has_ref.shape[1], n, dtype=np.int64)
    common = panel.has_ref[rows, :]
    return np.where(common.any(axis=0), rows[common.argmax(axis=0)], n).astype(np.int64)


def _next_roll(panel: Panel, desired: np.ndarray, o: int, from_t: int) -> int:
    """First calendar index >= ``from_t`` on which live contract ``o`` rolls (n if none)."""
    n = panel.n_dates
    if from_t >= n:
        return n
    ts = np.arange(from_t, n)
    p = desired[from_t:]
    later = p > o
    pc = np.where(later, p, 0)
    first_common = _first_common_ref(panel, o)
    ok = later & panel.has_bar[ts, pc] & ((first_common[pc] < ts) | (ts > panel.exp_t[o]))
    return from_t + int(ok.argmax()) if ok.any() else n


def live_positions(panel: Panel, desired: np.ndarray, start_t: int = 0, seed: int = -1) -> np.ndarray:
    """Live chain position per calendar index from ``start_t`` on (-1 = none); loops over rolls.

    ``seed``: the live position on ``start_t - 1`` (-1 = none), used by incremental
    updates; entries before ``start_t`` are left at -1.
    """
    n = panel.n_dates
    live = np.full(n, -1, dtype=np.int64)
    t, o = start_t, seed
    if o < 0:
        p = desired[start_t:]
        ok = (p >= 0) & panel.has_bar[np.arange(start_t, n), np.maximum(p, 0)]
        if not ok.any():
            return live
        t = start_t + int(ok.argmax())
        o = int(desired[t])
        nxt = _next_roll(panel, desired, o, t + 1)
    else:
        nxt = _next_roll(panel, desired, o, t)
    while True:
        live[t:nxt] = o
        if nxt >= n:
            return live
        t, o = nxt, int(desired[nxt])
        nxt = _next_roll(panel, desired, o, t + 1)
