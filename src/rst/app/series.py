"""Continuous series view: saved definitions; create, edit, delete; build/update with progress; chart, rolls, export."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Any

import altair as alt
import polars as pl
import streamlit as st

from rst.app import jobs
from rst.app.common import display, guarded
from rst.app.progress import job_panel, show_results
from rst.framework.lake import Lake
from rst.series import Adjustment, PriceField, RollRule, SeriesDefinition, SeriesStore

if TYPE_CHECKING:
    from rst.framework.stage import PartitionResult

NEW = "(new series)"
JOB = "series-build"


def render(lake: Lake) -> None:
    """The whole view."""
    store = SeriesStore(lake.root)
    saved = store.list()
    if saved:
        st.dataframe(
            display(pl.DataFrame([d.to_mapping() for d in saved]).drop("schema_version")),
            hide_index=True, key="series_list",
        )  # fmt: skip
    else:
        st.info("No series saved yet: define one below.")
    ids = [d.series_id for d in saved]
    if "series_pick_next" in st.session_state:  # set by save/delete: a widget's own key cannot change after it renders
        st.session_state["series_pick"] = st.session_state.pop("series_pick_next")
    choice = st.selectbox("Series", [NEW, *ids], key="series_pick")
    current = None if choice == NEW else store.get(choice)
    flash = st.session_state.pop("series_flash", None)
    if flash:
        st.success(flash)
    if current is not None:
        build_panel(lake, current)
        results_panel(lake, current)
    with st.expander("Define a new series" if current is None else f"Edit {current.series_id}",
                     expanded=current is None):
        edit_form(lake, current)


def edit_form(lake: Lake, current: SeriesDefinition | None) -> None:
    """Create or edit a definition (validated on save), or delete it."""
    d = current.to_mapping() if current else {}
    tag = current.series_id if current else "new"
    with st.form(key=f"series_form_{tag}"):
        cols = st.columns(3)
        series_id = cols[0].text_input("Series id", value=d.get("series_id", ""), disabled=current is not None,
                                       key=f"series_id_{tag}", help="lowercase letters, digits, '_' or '-'")
        parent = cols[1].text_input("Parent", value=d.get("parent", ""), key=f"series_parent_{tag}")
        rules = [r.value for r in RollRule]
        roll_rule = cols[2].selectbox("Roll rule", rules, index=rules.index(d.get("roll_rule", rules[0])),
                                      key=f"series_rule_{tag}")
        cols = st.columns(3)
        offset = cols[0].number_input("Roll offset (trading days)", min_value=0, max_value=365, step=1,
                                      value=int(d.get("roll_offset_days", 5)), key=f"series_offset_{tag}")
        adjustments = [a.value for a in Adjustment]
        adjustment = cols[1].selectbox("Adjustment", adjustments,
                                       index=adjustments.index(d.get("adjustment", adjustments[0])),
                                       key=f"series_adj_{tag}")
        rank = cols[2].number_input("Contract rank (0 = front)", min_value=0, max_value=12, step=1,
                                    value=int(d.get("contract_rank", 0)), key=f"series_rank_{tag}")
        cols = st.columns(3)
        months = cols[0].text_input("Months (e.g. HMUZ; empty = all)", value=d.get("allowed_months", ""),
                                    key=f"series_months_{tag}")
        fields = [p.value for p in PriceField]
        price_field = cols[1].selectbox("Price field", fields, index=fields.index(d.get("price_field", fields[0])),
                                        key=f"series_price_{tag}")
        start = cols[2].text_input("Start (YYYY-MM-DD, optional)", value=str(d.get("start") or ""),
                                   key=f"series_start_{tag}")
        notes = st.text_input("Notes", value=d.get("notes", ""), key=f"series_notes_{tag}")
        saved = st.form_submit_button("Save series", key=f"series_save_{tag}")
    if saved:
        fields_in: dict[str, Any] = {
            "series_id": series_id.strip(), "parent": parent, "roll_rule": roll_rule, "roll_offset_days": int(offset),
            "adjustment": adjustment, "contract_rank": int(rank), "allowed_months": months,
            "price_field": price_field, "start": start.strip() or None, "notes": notes,
        }  # fmt: skip
        with guarded("not saved: "):
            from rst.ops.series import save_series

            defn = save_series(lake, fields_in, replace=current is not None)
            st.session_state["series_flash"] = f"saved {defn.series_id}; build it below"
            st.session_state["series_pick_next"] = defn.series_id
            st.rerun()
    if current is not None and st.button("Delete this series", key=f"series_delete_{tag}"):
        with guarded("not deleted: "):
            from rst.ops.series import delete_series

            delete_series(lake, current.series_id)
            st.session_state["series_flash"] = f"deleted {current.series_id} (its gold table stays until invalidated)"
            st.session_state["series_pick_next"] = NEW
            st.rerun()


def build_panel(lake: Lake, defn: SeriesDefinition) -> None:
    """Incremental update or full build, in the background, with progress."""
    root = str(lake.root)
    cols = st.columns(2)
    update = cols[0].button("Build / update", key="series_build", type="primary")
    full = cols[1].button("Full rebuild", key="series_full")
    if update or full:
        from rst.ops.series import update_series

        def work(job: jobs.Job) -> list[PartitionResult]:
            def on_result(result: Any) -> None:
                job.report(done=job.done + 1, line=result.partition.label)

            started_at = dt.datetime.now(dt.UTC)
            results = update_series(lake, defn, full=full, on_result=on_result)
            jobs.record_run(lake, "series", {"series": defn.series_id, "full": full}, results, started_at)
            return results

        _, started = jobs.start(root, JOB, f"building {defn.series_id}", work)
        if not started:
            st.warning("a build is already running on this lake; wait for it to finish")
    job_panel(root, JOB, lambda job: show_results(job.result))


def results_panel(lake: Lake, defn: SeriesDefinition) -> None:
    """Chart of adjusted and unadjusted closes with roll dates marked, the roll events, the exports."""
    from rst.errors import InputMissing
    from rst.ops.series import series_with_rolls

    try:
        series, events = series_with_rolls(lake, defn)
    except InputMissing:
        st.info(f"{defn.series_id} is not built yet: press Build / update.")
        return
    if series.is_empty():
        st.info(f"{defn.series_id} is built but empty: its parent has no bars in range.")
        return
    rolls = "1 roll" if events.height == 1 else f"{events.height} rolls"
    st.subheader(f"{defn.series_id}: {series.height:,} trading days, {rolls}")
    st.altair_chart(price_chart(series, events), key="series_chart", width="stretch")
    st.markdown("**Roll events** (which prices on which day set each adjustment)")
    st.dataframe(display(events), hide_index=True, key="series_rolls")
    table = display(series)
    csv = table.write_csv().encode()
    buf = io.BytesIO()
    series.write_parquet(buf)
    cols = st.columns(2)
    cols[0].download_button("Export CSV", csv, file_name=f"{defn.series_id}.csv", mime="text/csv",
                            key="series_csv", on_click="ignore")
    cols[1].download_button("Export Parquet", buf.getvalue(), file_name=f"{defn.series_id}.parquet",
                            mime="application/octet-stream", key="series_parquet", on_click="ignore")


def price_chart(series: pl.DataFrame, events: pl.DataFrame) -> alt.LayerChart | alt.FacetChart:
    """Adjusted and unadjusted close over time; a dashed rule on each roll date."""
    long = (
        series.select("trading_date", pl.col("adj_close").alias("adjusted"), pl.col("close").alias("unadjusted"))
        .unpivot(index="trading_date", variable_name="price", value_name="value")
        .to_pandas()
    )
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("trading_date:T", title="trading date"),
            y=alt.Y("value:Q", title="close", scale=alt.Scale(zero=False)),
            color=alt.Color("price:N", title=None),
        )
    )
    rolls = events.select("roll_date", "from_symbol", "to_symbol").to_pandas() if events.height else None
    if rolls is None:
        return alt.layer(lines)
    rules = (
        alt.Chart(rolls)
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(x="roll_date:T", tooltip=["roll_date:T", "from_symbol:N", "to_symbol:N"])
    )
    return alt.layer(lines, rules)
