"""``rst update``: the nightly job -- download what is missing, then run the pipeline.

Cron-safe (a second concurrent run exits at once), idempotent, exit code 1 with a
summary when any download or any partition failed. After the downloads, the
configured parents are brought up to date bronze -> silver -> gold
(:func:`pipeline_hook`); partitions already up to date are skipped by the
framework, so this costs little beyond the new data, and a partition that failed
last night is retried.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from rst.cli.download import client_options, make_client, render_report
from rst.cli.options import lake_option, verbosity_options
from rst.cli.render import err_console, out_console, summary_table
from rst.errors import RstError, UsageError
from rst.framework.lake import Lake, Layer
from rst.sources.databento_api.update_config import DEFAULT_UPDATE_CONFIG

if TYPE_CHECKING:
    from rst.framework.stage import PartitionResult
    from rst.sources.raw_zone import RawFile

log = logging.getLogger(__name__)


@dataclass
class Pipeline:
    """The callback ``run_update`` hands new raw files to: bronze -> silver -> gold for their parents.

    Called at most once per update. Results and problems are kept for the command
    to render; nothing raises for a failed partition (the runner isolates them).

    Attributes
    ----------
    results : list[PartitionResult]
        Every partition the run touched, in completion order.
    errors : list[str]
        Planning failures (one line each); the waves were not run.
    """

    lake: Lake
    layers: Sequence[Layer] = tuple(Layer)
    parents: list[str] = field(default_factory=list)
    results: list[PartitionResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ran: bool = False

    def __call__(self, new_files: list[RawFile]) -> None:
        """Run the pipeline for the parents of ``new_files`` (the ``on_new_data`` callback)."""
        self.run({f.parent for f in new_files})

    def run(self, parents: Iterable[str]) -> None:
        """Bring every partition of ``parents`` up to date, bronze -> silver -> gold."""
        from rst.ops.pipeline import run_pipeline

        self.ran = True
        self.parents = sorted(set(parents))
        if not self.parents:
            return
        try:
            run_pipeline(self.lake, self.parents, layers=self.layers, on_result=self.results.append)
        except RstError as exc:
            self.errors.append(f"planning {', '.join(self.parents)}: {exc}")

    @property
    def failures(self) -> list[PartitionResult]:
        from rst.framework.stage import Outcome

        return [r for r in self.results if r.outcome is Outcome.FAILED]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors

    def summary(self) -> str:
        """One line: ``pipeline ES, NQ: 12 built, 3 skipped, 0 failed``."""
        from rst.framework.stage import Outcome

        counts = Counter(r.outcome for r in self.results)
        line = (
            f"pipeline {', '.join(self.parents)}: {counts[Outcome.BUILT]} built, {counts[Outcome.SKIPPED]} "
            f"up to date, {counts[Outcome.NO_INPUT]} without input, {len(self.failures)} failed"
        )
        if self.errors:
            line += f", {len(self.errors)} planning error(s)"
        return line


def pipeline_hook(lake: Lake) -> Pipeline:
    """The callback that runs bronze -> silver -> gold (every partition the inputs allow) for new files' parents."""
    return Pipeline(lake)


def render_pipeline(pipeline: Pipeline, *, quiet: bool) -> None:
    """Summary table (stdout), one line per failure and the summary line (stderr)."""
    if not pipeline.ran:
        return
    if pipeline.results and not quiet:
        out_console.print(summary_table(pipeline.results))
    for r in pipeline.failures:
        err_console.print(f"[red]FAILED[/red] {r.partition.label}: {r.error}", highlight=False, soft_wrap=True)
    for problem in pipeline.errors:
        err_console.print(f"[red]failed[/red] {problem}", highlight=False, soft_wrap=True)
    err_console.print(pipeline.summary(), highlight=False, soft_wrap=True)


@click.command("update")
@lake_option
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=str(DEFAULT_UPDATE_CONFIG),
              show_default=True, help="TOML file listing dataset, schemas, parents and start dates.")
@click.option("--no-pipeline", is_flag=True, help="Only download; do not run bronze -> gold afterwards.")
@click.option("--no-download", is_flag=True,
              help="Download nothing (no API key needed); only run the pipeline for the configured parents.")
@client_options
@verbosity_options
def update(
    lake: str | None,
    config_path: str,
    no_pipeline: bool,
    no_download: bool,
    estimate: bool,
    max_cost: float | None,
    key_file: str,
    max_attempts: int,
    gateway: str | None,
    verbose: bool,
    quiet: bool,
) -> None:
    """Bring every target in --config up to the dataset's available end, then run the pipeline for its
    parents (only what is missing or stale is built); exit 1 if anything failed.

    See config/update.example.toml in the repository for a commented example config (it runs as is
    on the demo lake with --no-download)."""
    Lake.resolve(lake).refuse_remote("rst update")
    from rst.framework.runlog import append_run, new_record
    from rst.sources.databento_api.update import UpdateReport, run_update
    from rst.sources.databento_api.update_config import load_update_config

    started = dt.datetime.now(dt.UTC)
    config = load_update_config(config_path)
    if no_download and (no_pipeline or estimate):
        raise UsageError("--no-download leaves only the pipeline to run: drop --no-pipeline and --estimate")
    the_lake, _ = Lake.create(lake)
    hook = None if (no_pipeline or estimate) else pipeline_hook(the_lake)
    if no_download:
        report = UpdateReport()
    else:
        client = make_client(key_file, gateway, max_attempts)
        report = run_update(config, the_lake, None, client=client, estimate_only=estimate, max_cost_usd=max_cost)
    if hook is not None:
        # every configured parent, not only those with new files: a partition that failed last
        # night is retried, and up-to-date partitions cost a manifest read each
        hook.run(p for target in config.targets for p in target.parents)
    for problem in report.problems:
        err_console.print(f"[red]failed[/red] {problem}", highlight=False, soft_wrap=True)
    render_report(report.download, quiet=quiet)
    if hook is not None:
        render_pipeline(hook, quiet=quiet)
    if not estimate:
        errors = [f"download {o.chunk.describe()}: {o.error}" for o in report.download.failures] + [str(p) for p in report.problems]
        errors += hook.errors if hook is not None else []
        params = {
            "config": config_path,
            "pipeline": hook is not None,
            "max_cost": max_cost,
            "downloaded": len(report.new_files),
        }
        results = hook.results if hook is not None else []
        append_run(the_lake, new_record("update", sys.argv, params, results, started_at=started, errors=errors))
    if not report.ok or (hook is not None and not hook.ok):
        raise SystemExit(1)
