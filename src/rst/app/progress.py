"""Showing a background job in the page: a progress bar refreshed every second while it runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from rst.app import jobs

if TYPE_CHECKING:
    from rst.framework.stage import PartitionResult


def job_panel(lake_root: str, kind: str, on_done: Callable[[jobs.Job], None]) -> jobs.Job | None:
    """Show the job of ``kind``: live progress while it runs, then ``on_done(job)`` (its error as one line)."""
    job = jobs.current(lake_root, kind)
    if job is None:
        return None
    if not job.finished:

        @st.fragment(run_every=1.0)
        def poll() -> None:
            if job.finished:
                st.rerun(scope="app")
            st.progress(job.fraction, text=f"{job.label}: {job.line or 'working…'} ({job.done}/{job.total or '?'})")

        poll()
        return job
    if job.error:
        st.error(f"{job.label}: {job.error}")
    else:
        on_done(job)
    return job


def results_line(results: list[PartitionResult]) -> str:
    """``12 built, 3 up to date, 0 without input, 0 failed`` for partition results."""
    from collections import Counter

    from rst.framework.stage import Outcome

    counts = Counter(r.outcome for r in results)
    return (
        f"{counts[Outcome.BUILT]} built, {counts[Outcome.SKIPPED]} up to date, "
        f"{counts[Outcome.NO_INPUT]} without input, {counts[Outcome.FAILED]} failed"
    )


def show_results(results: list[PartitionResult]) -> None:
    """The summary line, then each failed partition as one error line."""
    from rst.framework.stage import Outcome

    failed = [r for r in results if r.outcome is Outcome.FAILED]
    (st.warning if failed else st.success)(results_line(results))
    for r in failed:
        st.error(f"FAILED {r.partition.label}: {r.error}")
