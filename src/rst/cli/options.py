"""Options shared by several commands, declared once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

from rst.validation import validate_dates, validate_dt, validate_symbol

F = TypeVar("F", bound=Callable[..., Any])


def lake_option(f: F) -> F:
    return click.option(
        "--lake",
        "lake",
        type=click.Path(file_okay=False),
        default=None,
        help="Lake root (default: $RST_LAKE or ./lake).",
    )(f)


def _symbols(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for item in value:
        out.extend(validate_symbol(s, "--symbol") for s in item.split(",") if s.strip())
    return out


def symbol_option(f: F) -> F:
    return click.option(
        "--symbol",
        "symbols",
        multiple=True,
        callback=_symbols,
        help="Parent symbol(s), e.g. ES or ES,NQ (repeatable). Default: every parent in the lake.",
    )(f)


def dates_options(f: F) -> F:
    """``--dt`` (one date) and ``--dates`` (list and ranges), merged into one sorted list or None."""
    f = click.option("--dates", "dates_text", default=None, help="Dates: 2024-03-01,2024-03-04 or 2024-03-01..2024-03-31.")(f)
    return click.option("--dt", "dt_text", default=None, help="One trading date, YYYY-MM-DD.")(f)


def parse_dates(dt_text: str | None, dates_text: str | None) -> list[dt.date] | None:
    """The dates named by ``--dt``/``--dates``; None when neither was given (meaning: all)."""
    dates: set[dt.date] = set()
    if dt_text:
        dates.add(validate_dt(dt_text, "--dt"))
    if dates_text:
        dates.update(validate_dates(dates_text, "--dates"))
    return sorted(dates) if dates else None


def layer_option(f: F) -> F:
    return click.option(
        "--layer",
        type=click.Choice(["bronze", "silver", "gold", "all"]),
        default="all",
        show_default=True,
        help="Layer to run; 'all' runs bronze → silver → gold in order.",
    )(f)


def verbosity_options(f: F) -> F:
    f = click.option("--quiet", "-q", is_flag=True, help="Only errors and the final line (for cron).")(f)
    return click.option("--verbose", "-v", is_flag=True, help="Logs and tracebacks.")(f)
