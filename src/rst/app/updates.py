"""Data updates: import local DBN files, download what is missing from Databento, import definitions.

Every step calls :mod:`rst.ops` (the functions behind ``rst import``/``download``/``run``);
long work (the pipeline, a download) runs in the background with progress.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from rst.app import jobs
from rst.app.common import display, guarded
from rst.app.progress import job_panel, show_results
from rst.framework.lake import Lake

if TYPE_CHECKING:
    from rst.framework.stage import PartitionResult
    from rst.sources.databento_api.download import DownloadReport

PIPELINE_JOB = "pipeline"
DOWNLOAD_JOB = "download"
SCHEMAS = ("ohlcv-1d", "definition", "statistics", "ohlcv-1h")


def render(lake: Lake) -> None:
    """The whole view: three tabs."""
    local, remote, defs = st.tabs(["Import local files", "Download from Databento", "Definitions & metadata"])
    with local:
        import_tab(lake)
    with remote:
        download_tab(lake)
    with defs:
        definitions_tab(lake)


def start_pipeline(lake: Lake, parents: list[str]) -> None:
    """Run bronze -> silver -> gold for ``parents`` in the background (one run at a time per lake)."""
    from rst.ops.pipeline import run_pipeline

    def work(job: jobs.Job) -> list[PartitionResult]:
        started_at = dt.datetime.now(dt.UTC)
        results = run_pipeline(lake, parents, on_result=lambda r: job.report(done=job.done + 1, line=r.partition.label))
        jobs.record_run(lake, "pipeline", {"symbols": parents}, results, started_at)
        return results

    _, started = jobs.start(str(lake.root), PIPELINE_JOB, f"pipeline {', '.join(parents)}", work)
    if not started:
        st.warning("the pipeline is already running on this lake; wait for it to finish")


def import_tab(lake: Lake) -> None:
    """Choose a folder, list its DBN files, select, import, see imported/skipped/refused and why."""
    from rst.ops.importing import ImportStatus, import_files, scan_folder

    folder = st.text_input("Folder holding .dbn / .dbn.zst files", key="upd_folder",
                           placeholder="/home/me/databento/downloads")  # fmt: skip
    if st.button("List files", key="upd_list"):
        st.session_state.pop("upd_outcomes", None)
        with guarded():
            st.session_state["upd_found"] = scan_folder(folder)
    found = st.session_state.get("upd_found")
    if found is not None:
        if not found:
            st.warning(f"no .dbn or .dbn.zst file under {folder}")
        else:
            rows = [
                {"file": str(f.path), "schema": f.schema, "parent": f.parent, "start": f.start, "end": f.end,
                 "bytes": f.size, "problem": f.problem}
                for f in found
            ]  # fmt: skip
            st.dataframe(pl.DataFrame(rows), hide_index=True, key="upd_files")
            names = [str(f.path) for f in found]
            chosen = st.multiselect("Files to import", names, default=[str(f.path) for f in found if not f.problem],
                                    key="upd_selected")  # fmt: skip
            if st.button("Import selected", key="upd_import", disabled=not chosen):
                st.session_state["upd_outcomes"] = import_files(lake, [Path(c) for c in chosen])
    outcomes = st.session_state.get("upd_outcomes")
    if outcomes is not None:
        counts = {s: sum(o.status is s for o in outcomes) for s in ImportStatus}
        st.info(", ".join(f"{n} {s.value}" for s, n in counts.items()))
        st.dataframe(
            pl.DataFrame([{"file": str(o.path), "status": o.status.value, "detail": o.detail} for o in outcomes]),
            hide_index=True, key="upd_outcome_table",
        )  # fmt: skip
        from rst.ops.importing import imported_parents

        parents = imported_parents(outcomes, lake) or sorted({f.parent for f in found or [] if f.parent})
        if parents and st.button(f"Run the pipeline for {', '.join(parents)}", key="upd_run"):
            start_pipeline(lake, parents)
    job_panel(str(lake.root), PIPELINE_JOB, lambda job: show_results(job.result))


def download_tab(lake: Lake) -> None:
    """Per parent and schema: the planned missing windows, the cost first, a cap, then download and run."""
    from rst.ops.download_plan import DEFAULT_DATASET, plan_download
    from rst.ops.names import known_parents
    from rst.sources.databento_api.key import DEFAULT_ENV_FILE

    cols = st.columns(3)
    parents_text = cols[0].text_input("Parents (comma-separated)", value=",".join(known_parents(lake)[:1]),
                                      key="dl_parents")  # fmt: skip
    schemas = cols[1].multiselect("Schemas", SCHEMAS, default=["ohlcv-1d"], key="dl_schemas")
    dataset = cols[2].text_input("Dataset", value=DEFAULT_DATASET, key="dl_dataset")
    cols = st.columns(3)
    start = cols[0].date_input("Start (UTC, inclusive)", value=dt.date(2024, 1, 1), key="dl_start")
    end = cols[1].date_input("End (UTC, exclusive)", value=dt.date.today(), key="dl_end")
    cap = cols[2].number_input("Spending cap (USD)", min_value=0.0, value=5.0, step=1.0, key="dl_cap")
    key_file = st.text_input("API key file (used when DATABENTO_API_KEY is not set)", value=str(DEFAULT_ENV_FILE),
                             key="dl_key_file")  # fmt: skip
    parents = [p.strip().upper() for p in parents_text.split(",") if p.strip()]
    plan = None
    with guarded("cannot plan: "):
        plan = plan_download(lake, parents, schemas, start, end, dataset=dataset.strip())
    if plan is None:
        return
    if not plan.chunks:
        st.success("nothing to download: the raw zone already covers this window")
        return
    st.caption(f"{len(plan.chunks)} request(s) planned for the windows the raw zone lacks")
    st.dataframe(pl.DataFrame({"request": [c.describe() for c in plan.chunks]}), hide_index=True, key="dl_plan")
    actions = st.columns(2)
    if actions[0].button("Estimate cost", key="dl_estimate"):
        with guarded("estimate refused: "):
            from rst.ops.download_plan import estimate_download, make_client

            estimate = estimate_download(make_client(key_file), plan)
            st.session_state["dl_estimated"] = [
                {"request": i.chunk.describe(), "cost_usd": i.cost_usd, "bytes": i.size_bytes} for i in estimate.items
            ]
    estimated = st.session_state.get("dl_estimated")
    if estimated:
        total = sum(r["cost_usd"] for r in estimated)
        st.dataframe(pl.DataFrame(estimated), hide_index=True, key="dl_estimate_table")
        (st.warning if total > cap else st.info)(f"estimated total ${total:,.2f} (cap ${cap:,.2f})")
    if actions[1].button("Download and run the pipeline", key="dl_go", type="primary"):
        with guarded("download refused: "):
            from rst.ops.download_plan import make_client, run_download
            from rst.ops.pipeline import run_pipeline

            client = make_client(key_file)  # a missing key is refused here, in the page

            def work(job: jobs.Job) -> tuple[DownloadReport, list[PartitionResult]]:
                report = run_download(lake, plan, client, max_cost_usd=float(cap),
                                      on_chunk=lambda i, n, c: job.report(done=i, total=n, line=c.describe()))
                job.report(line="running the pipeline")
                fetched = sorted({f.parent for f in report.new_files})
                return report, run_pipeline(lake, fetched) if fetched else []

            _, started = jobs.start(str(lake.root), DOWNLOAD_JOB, "download", work)
            if not started:
                st.warning("a download is already running on this lake")
    job_panel(str(lake.root), DOWNLOAD_JOB, show_download)


def show_download(job: jobs.Job) -> None:
    """A finished download: the summary line, each failed request, the pipeline's summary."""
    report, results = job.result
    (st.success if report.ok else st.warning)(report.summary())
    for outcome in report.failures:
        st.error(f"{outcome.chunk.describe()}: {outcome.error}")
    if results:
        show_results(results)


def definitions_tab(lake: Lake) -> None:
    """Bring bronze definitions up to date for some parents and show their metadata and what is still missing."""
    from rst.ops.names import known_parents

    parents = st.multiselect("Parents", known_parents(lake), default=known_parents(lake), key="defs_fill_parents")
    st.caption("Import definition files with 'Import local files' first; this builds the bronze definition table "
               "and derives each parent's metadata from it (fields still missing need an override).")  # fmt: skip
    if st.button("Import definitions and fill metadata", key="defs_fill", disabled=not parents):
        with guarded("cannot fill metadata: "):
            from rst.ops.parents_edit import refresh_definitions

            st.session_state["defs_filled"] = refresh_definitions(lake, parents)
    filled = st.session_state.get("defs_filled")
    if filled:
        st.dataframe(display(pl.DataFrame(filled)), hide_index=True, key="defs_filled_table")
        gaps = [r["parent"] for r in filled if r["missing"]]
        if gaps:
            st.warning(f"still missing for {', '.join(gaps)}: set them under Parent metadata")
        else:
            st.success("every parent's metadata is complete")
