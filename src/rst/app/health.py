"""Lake health: status per layer and table, problems with reasons, verify, rebuild, and the run log."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from rst.app import jobs
from rst.app.common import display
from rst.app.progress import job_panel, show_results
from rst.framework.lake import Lake, Layer

if TYPE_CHECKING:
    from rst.framework.stage import PartitionResult

JOB = "rebuild"


def render(lake: Lake) -> None:
    """The whole view."""
    from rst.ops.names import known_parents
    from rst.ops.status import lake_status

    parents = known_parents(lake)
    status = lake_status(lake, list(Layer), parents)
    totals = status.totals()
    cols = st.columns(len(totals))
    for col, (state, count) in zip(cols, totals.items(), strict=True):
        col.metric(state, count)
    if status.tables():
        st.dataframe(pl.DataFrame(status.tables()), hide_index=True, key="health_tables")
    problems = status.problems()
    if problems:
        st.subheader("Not up to date")
        st.dataframe(pl.DataFrame([p.to_dict() for p in problems]), hide_index=True, key="health_problems")
    for p in status.lake_problems:
        st.warning(f"{p.kind}: {p.path}: {p.detail}")
    actions = st.columns(2)
    if actions[0].button("Verify (re-hash every file)", key="health_verify"):
        from rst.framework.verify import verify_lake

        found = verify_lake(lake)
        st.session_state["health_verified"] = [str(p) for p in found]
    verified = st.session_state.get("health_verified")
    if verified is not None:
        if verified:
            st.error(f"verify found {len(verified)} problem(s)")
            st.dataframe(pl.DataFrame({"problem": verified}), hide_index=True, key="health_verify_out")
        else:
            st.success("verify: every partition and raw file matches its manifest and catalogue")
    root = str(lake.root)
    if actions[1].button("Rebuild what is stale, missing or failed", key="health_rebuild", disabled=not problems):
        from rst.ops.pipeline import run_pipeline

        todo = sorted({p.partition.symbol for p in problems})

        def work(job: jobs.Job) -> list[PartitionResult]:
            job.report(total=len(problems))
            started_at = dt.datetime.now(dt.UTC)
            results = run_pipeline(lake, todo, on_result=lambda r: job.report(done=job.done + 1, line=r.partition.label))
            jobs.record_run(lake, "rebuild", {"symbols": todo}, results, started_at)
            return results

        _, started = jobs.start(root, JOB, f"rebuilding {', '.join(todo)}", work)
        if not started:
            st.warning("a rebuild is already running on this lake")
    job_panel(root, JOB, lambda job: show_results(job.result))
    st.subheader("Run log")
    from rst.framework.runlog import read_runs

    runs = read_runs(lake, last=30)
    if runs:
        rows = [
            {"started": r.started_at, "command": r.command, "status": str(r.status), "seconds": round(r.seconds, 1),
             **{k: r.partitions.get(k, 0) for k in ("built", "skipped", "failed")}, "errors": "; ".join(r.errors[:2])}
            for r in reversed(runs)
        ]  # fmt: skip
        st.dataframe(display(pl.DataFrame(rows)), hide_index=True, key="health_runs")
    else:
        st.info("No run recorded yet.")
