"""Parent metadata editor: derived values and their sources, overrides to save and reload, what becomes stale."""

from __future__ import annotations

import polars as pl
import streamlit as st

from rst.app.common import choose_parent, display, guarded
from rst.framework.lake import Lake
from rst.ops.parents_edit import EDITABLE, fixed_text, override_values, save_override, stale_after_change

LABELS = {
    "exchange": "Exchange (MIC)", "timezone": "Time zone (IANA)", "currency": "Currency",
    "tick_size": "Tick size", "point_value": "Point value (currency per 1.0 of price)",
    "roll_days": "Default roll days", "notes": "Notes",
}  # fmt: skip


def render(lake: Lake) -> None:
    """The whole view."""
    from rst.parents import parent_metadata
    from rst.parents.overrides import PARENTS_FILE, load_overrides

    parent = choose_parent(lake, "parents_parent")
    if parent is None:
        return
    meta = parent_metadata(lake, parent, strict=False)
    current = {
        "exchange": meta.exchange or "", "timezone": meta.timezone or "", "currency": meta.currency or "",
        "tick_size": fixed_text(meta.tick_size), "point_value": fixed_text(meta.point_value),
        "roll_days": "" if meta.roll_days is None else str(meta.roll_days), "notes": meta.notes,
    }  # fmt: skip
    st.caption(f"In effect (source: definitions, exchange or override; overrides in {lake.root / PARENTS_FILE})")
    st.dataframe(
        pl.DataFrame([{"field": k, "value": v, "source": meta.sources.get(k, "")} for k, v in current.items()]),
        hide_index=True, key="parents_effective",
    )  # fmt: skip
    values = override_values(load_overrides(lake.root).get(parent))
    gen = st.session_state.get("parents_gen", 0)  # bumped by Reload: fresh widgets read the file again
    with st.form(key=f"parents_form_{parent}_{gen}"):
        st.caption("Overrides (empty = derive from definitions)")
        cols = st.columns(2)
        edited = {
            key: cols[i % 2].text_input(LABELS[key], value=values[key], key=f"parents_{key}_{parent}_{gen}")
            for i, key in enumerate(EDITABLE)
        }
        save = st.form_submit_button("Save overrides", key=f"parents_save_{parent}_{gen}")
    if st.button("Reload from file", key="parents_reload"):
        st.session_state["parents_gen"] = gen + 1
        st.rerun()
    if save:
        with guarded("not saved: "):
            save_override(lake, parent, edited)
            st.session_state["parents_gen"] = gen + 1
            st.session_state["parents_flash"] = parent
            st.rerun()
    if st.session_state.pop("parents_flash", None) == parent:
        st.success(f"saved overrides of {parent}")
        stale = stale_after_change(lake, parent)
        if stale:
            st.warning(f"{len(stale)} partitions of {parent} are no longer up to date (Lake health rebuilds them)")
            st.dataframe(display(pl.DataFrame(stale)), hide_index=True, key="parents_stale")
        else:
            st.info(f"every partition of {parent} is still up to date")
