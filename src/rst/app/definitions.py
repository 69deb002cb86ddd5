"""Definitions viewer: a parent's contracts ordered by expiry, and the definition history of one contract."""

from __future__ import annotations

import streamlit as st

from rst.app.common import choose_parent, display
from rst.framework.lake import Lake
from rst.ops import browse

COLUMNS = ["symbol", "instrument_id", "activation", "expiration", "tick_size", "point_value", "currency", "exchange"]


def render(lake: Lake) -> None:
    """The whole view."""
    parent = choose_parent(lake, "defs_parent")
    if parent is None:
        return
    contracts = browse.contracts(lake, parent)
    st.caption(f"{contracts.height} contracts of {parent}, by expiry (latest definition of each)")
    st.dataframe(display(contracts.select(COLUMNS)), hide_index=True, key="defs_contracts")
    if contracts.is_empty():
        return
    labels = {f"{r['symbol']} ({r['instrument_id']})": r["instrument_id"] for r in contracts.iter_rows(named=True)}
    label = st.selectbox("Definition history of", list(labels), key="defs_contract")
    history = browse.definition_history(lake, parent, labels[label])
    st.dataframe(display(history), hide_index=True, key="defs_history")
