"""``rst download``: fetch from Databento only the windows the raw zone lacks.

Thin: parse and validate options, build the client, call
:func:`rst.sources.databento_api.download`, render. The API key is never printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from rst.cli.options import lake_option, symbol_option, verbosity_options
from rst.cli.render import err_console, out_console
from rst.errors import UsageError
from rst.framework.lake import Lake
from rst.sources.databento_api.plan import Granularity

if TYPE_CHECKING:
    from rich.table import Table

    from rst.sources.databento_api.client import DatabentoClient
    from rst.sources.databento_api.download import DownloadReport, Estimate

F = TypeVar("F", bound=Callable[..., Any])


def validate_time(value: str, param: str) -> int:
    """``YYYY-MM-DD`` (00:00 UTC) or an ISO 8601 datetime (naive = UTC) -> ns since the epoch."""
    from rst.sources.databento_api.plan import to_ns

    text = value.strip()
    try:
        if len(text) == 10:
            return to_ns(dt.date.fromisoformat(text))
        return to_ns(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise UsageError(f"{param}: {value!r} is not a date (YYYY-MM-DD) or ISO 8601 UTC datetime") from None


def _max_cost(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    from rst.sources.databento_api.cost import validate_cost_cap

    return None if value is None else validate_cost_cap(value, "--max-cost")


def client_options(f: F) -> F:
    """Options shared by ``download`` and ``update``: key file, cost cap, estimate, retries, gateway."""
    from rst.sources.databento_api.key import DEFAULT_ENV_FILE

    f = click.option(
        "--gateway", default=None, hidden=True,
        help="Historical API gateway URL (default: Databento's; tests point it at a local server).",
    )(f)
    f = click.option("--max-attempts", type=click.IntRange(1, 20), default=5, show_default=True,
                     help="Attempts per request on 429/5xx/timeouts (exponential backoff with jitter).")(f)
    f = click.option("--key-file", type=click.Path(dir_okay=False), default=str(DEFAULT_ENV_FILE), show_default=True,
                     help="KEY=value file holding DATABENTO_API_KEY (used when the variable is not set).")(f)
    f = click.option("--max-cost", callback=_max_cost, default=None,
                     help="Refuse (download nothing) if the planned requests cost more than this, in USD.")(f)
    return click.option("--estimate", is_flag=True,
                        help="Print the cost (USD) and billable size (bytes) of the plan; download nothing.")(f)


def make_client(key_file: str, gateway: str | None, max_attempts: int) -> DatabentoClient:
    """A client with the key from ``$DATABENTO_API_KEY`` or ``key_file`` (explicit path only if it exists)."""
    from rst.sources.databento_api.client import DEFAULT_GATEWAY, DatabentoClient
    from rst.sources.databento_api.key import load_api_key
    from rst.sources.databento_api.retry import RetryPolicy

    return DatabentoClient(
        load_api_key(key_file), gateway=gateway or DEFAULT_GATEWAY, retry=RetryPolicy(max_attempts=max_attempts)
    )


@click.command("download")
@lake_option
@symbol_option
@click.option("--schema", "schemas", multiple=True, default=("ohlcv-1d",), show_default=True,
              help="Databento schema(s) (repeatable), e.g. ohlcv-1d, definition, ohlcv-1m.")
@click.option("--dataset", default="GLBX.MDP3", show_default=True, help="Databento dataset code.")
@click.option("--start", "start_text", required=True, help="Window start, inclusive: YYYY-MM-DD or ISO datetime, UTC.")
@click.option("--end", "end_text", required=True, help="Window end, exclusive: YYYY-MM-DD or ISO datetime, UTC.")
@click.option("--stype-in", default="parent", show_default=True, help="Input symbology (parent: ES -> ES.FUT).")
@click.option("--granularity", type=click.Choice([g.value for g in Granularity]), default=None,
              help="Split windows by UTC day/month/year (default: year for daily schemas, month intraday).")
@client_options
@verbosity_options
def download(
    lake: str | None,
    symbols: list[str],
    schemas: tuple[str, ...],
    dataset: str,
    start_text: str,
    end_text: str,
    stype_in: str,
    granularity: str | None,
    estimate: bool,
    max_cost: float | None,
    key_file: str,
    max_attempts: int,
    gateway: str | None,
    verbose: bool,
    quiet: bool,
) -> None:
    """Download SYMBOLs' uncovered windows of [START, END) into the raw zone; exit 1 if any failed."""
    Lake.resolve(lake).refuse_remote("rst download")
    from rst.ops.names import databento_schema
    from rst.sources.databento_api.download import DownloadRequest, download_missing

    if not symbols:
        raise UsageError("--symbol: give at least one parent, e.g. --symbol ES")
    schemas = tuple(databento_schema(s) for s in schemas)  # before any key check: a typo costs nothing
    start_ns, end_ns = validate_time(start_text, "--start"), validate_time(end_text, "--end")
    if start_ns >= end_ns:
        raise UsageError(f"--end: {end_text!r} must be after --start {start_text!r} (end is exclusive)")
    request = DownloadRequest(
        dataset, tuple(schemas), tuple(symbols), start_ns, end_ns, stype_in,
        Granularity(granularity) if granularity else None,
    )
    client = make_client(key_file, gateway, max_attempts)
    report = download_missing(Lake.create(lake)[0], request, client, estimate_only=estimate, max_cost_usd=max_cost)
    render_report(report, quiet=quiet)
    if not report.ok:
        raise SystemExit(1)


def estimate_table(estimate: Estimate) -> Table:
    """One row per planned request, plus a total: cost in USD, billable size in bytes."""
    from rich.table import Table

    table = Table(title="download estimate")
    for col in ("request", "cost (USD)", "size (bytes)"):
        table.add_column(col, justify="left" if col == "request" else "right")
    for item in estimate.items:
        table.add_row(item.chunk.describe(), f"{item.cost_usd:,.4f}", f"{item.size_bytes:,}")
    table.add_row("[bold]total", f"[bold]{estimate.total_cost_usd:,.4f}", f"[bold]{estimate.total_bytes:,}")
    return table


def render_report(report: DownloadReport, *, quiet: bool) -> None:
    """Estimate table (stdout), one line per failure and the summary line (stderr)."""
    if report.estimate is not None and not quiet:
        out_console.print(estimate_table(report.estimate))
    for outcome in report.failures:
        err_console.print(f"[red]failed[/red] {outcome.chunk.describe()}: {outcome.error}", markup=True,
                          highlight=False, soft_wrap=True)
    if not quiet and report.downloaded:
        for outcome in report.outcomes:
            if outcome.ok:
                err_console.print(f"downloaded {outcome.chunk.describe()}", highlight=False, soft_wrap=True)
    err_console.print(report.summary(), highlight=False, soft_wrap=True)

