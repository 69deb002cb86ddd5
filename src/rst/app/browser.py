"""Symbol browser: a parent's contracts, its coverage per schema over time (gaps visible), a contract's candles."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from rst.app.common import choose_parent, display
from rst.framework.lake import Lake
from rst.ops import browse


def render(lake: Lake) -> None:
    """The whole view."""
    parent = choose_parent(lake, "browser_parent")
    if parent is None:
        return
    st.subheader("Coverage per schema (raw files; a blank is a window no file covers)")
    cover = browse.raw_coverage(lake, parent)
    if cover.is_empty():
        st.info(f"No raw files for {parent}.")
    else:
        st.altair_chart(coverage_chart(cover), key="browser_coverage", width="stretch")
    bars = browse.bar_coverage(lake, parent)
    if not bars.is_empty():
        st.caption("Trading dates with daily bars in silver (a gap is a date without bars)")
        st.altair_chart(dates_chart(bars), key="browser_dates", width="stretch")
    try:
        contracts = browse.contracts(lake, parent)
    except Exception as exc:  # noqa: BLE001 - no definitions yet is normal for a fresh parent
        st.info(f"No contracts: {exc}")
        return
    st.subheader("Contracts")
    st.dataframe(display(contracts), hide_index=True, key="browser_contracts")
    if contracts.is_empty():
        return
    labels = {f"{r['symbol']} ({r['instrument_id']})": r["instrument_id"] for r in contracts.iter_rows(named=True)}
    traded = browse.traded_instruments(lake, parent)
    first = next((i for i, iid in enumerate(labels.values()) if iid in traded), 0)
    label = st.selectbox("Contract", list(labels), index=first, key="browser_contract")
    candles = browse.contract_bars(lake, parent, labels[label])
    if candles.is_empty():
        st.info(f"No daily bars for {label} in silver.")
        return
    st.altair_chart(candle_chart(candles), key="browser_candles", width="stretch")


def coverage_chart(cover: pl.DataFrame) -> alt.Chart:
    """One horizontal bar per covered window, a row per schema."""
    frame = display(cover).to_pandas()
    return (
        alt.Chart(frame)
        .mark_bar(height=18)
        .encode(
            x=alt.X("start:T", title="UTC"),
            x2="end:T",
            y=alt.Y("schema:N", title=None),
            tooltip=["schema:N", "start:T", "end:T", "files:Q"],
        )
        .properties(height=40 * cover["schema"].n_unique() + 40)
    )


def dates_chart(bars: pl.DataFrame) -> alt.Chart:
    """A tick per trading date with bars."""
    return (
        alt.Chart(bars.to_pandas())
        .mark_tick(thickness=2, size=24)
        .encode(x=alt.X("trading_date:T", title="trading date"), tooltip=["trading_date:T", "contracts:Q"])
        .properties(height=70)
    )


def candle_chart(candles: pl.DataFrame) -> alt.LayerChart | alt.FacetChart:
    """Daily candlesticks: a rule from low to high, a bar from open to close (green up, red down)."""
    frame = display(candles).to_pandas()
    color = alt.condition("datum.open <= datum.close", alt.value("#06982d"), alt.value("#ae1325"))
    base = alt.Chart(frame).encode(
        x=alt.X("trading_date:T", title="trading date"), color=color,
        tooltip=["trading_date:T", "open:Q", "high:Q", "low:Q", "close:Q", "volume:Q"],
    )  # fmt: skip
    wick = base.mark_rule().encode(y=alt.Y("low:Q", title="price", scale=alt.Scale(zero=False)), y2="high:Q")
    body = base.mark_bar().encode(y="open:Q", y2="close:Q")
    return alt.layer(wick, body)
