"""Options shared by several commands, declared once."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from rst.errors import UsageError
from rst.framework.lake import Lake, Layer
from rst.validation import validate_dates, validate_dt, validate_symbol

F = TypeVar("F", bound=Callable[..., Any])


def lake_option(f: F) -> F:
    """``--lake``: the lake root (None means $RST_LAKE or ./lake, resolved by :class:`~rst.framework.lake.Lake`)."""
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
    """``--symbol`` (repeatable, comma-separated): validated parent symbols as one list; empty means every parent."""
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


def layers_for(layer: str) -> list[Layer]:
    """``all`` → bronze, silver, gold; otherwise the one layer."""
    return list(Layer) if layer == "all" else [Layer(layer)]


@dataclass(frozen=True)
class Selection:
    """The partitions named by ``--lake``, ``--layer``, ``--symbol``, ``--dt``/``--dates`` and ``--table``.

    ``symbols``: the named parents, else every parent of the lake; ``dates``: None means every
    date; ``tables``: in rst's spelling, empty means every table.
    """

    lake: Lake
    layers: list[Layer]
    symbols: list[str]
    dates: list[dt.date] | None
    tables: list[str]


def select_partitions(
    lake: str | None, layer: str, symbols: list[str], dt_text: str | None, dates_text: str | None,
    tables: tuple[str, ...],
) -> Selection:  # fmt: skip
    """Open the lake and check the shared options against it; a name it lacks is a one-line error."""
    from rst.ops.names import check_parents, check_tables
    from rst.stages.registry import known_symbols

    the_lake = Lake.open(lake)
    dates = parse_dates(dt_text, dates_text)
    layers = layers_for(layer)
    chosen = check_parents(the_lake, symbols) or known_symbols(the_lake)
    checked = check_tables(the_lake, chosen, tables, layers)
    return Selection(the_lake, layers, chosen, dates, checked)


def layer_option(f: F) -> F:
    """``--layer``: ``bronze``, ``silver``, ``gold`` or ``all`` (the default; see :func:`layers_for`)."""
    return click.option(
        "--layer",
        type=click.Choice(["bronze", "silver", "gold", "all"]),
        default="all",
        show_default=True,
        help="Layer to run; 'all' runs bronze → silver → gold in order.",
    )(f)


def verbosity_options(f: F) -> F:
    """``--verbose``/``-v`` and ``--quiet``/``-q`` (see :func:`apply_verbosity`)."""
    f = click.option("--quiet", "-q", is_flag=True, help="Only errors and the final line (for cron).")(f)
    return click.option("--verbose", "-v", is_flag=True, help="Logs and tracebacks.")(f)


def table_option(f: F) -> F:
    """``--table`` (repeatable): only these tables; empty means every table."""
    return click.option("--table", "tables", multiple=True, help="Only these tables (repeatable), e.g. ohlcv_1d.")(f)


def apply_verbosity(verbose: bool, quiet: bool) -> None:
    """Make ``--verbose`` / ``--quiet`` mean the same on every command.

    ``--verbose``: INFO logs (one line per partition, never per record) and tracebacks on
    errors. ``--quiet``: only errors and the command's final line (for cron). Default:
    warnings, progress bar on a terminal, the summary.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # the group's flags (``rst -v run``) count too
        verbose = verbose or bool(ctx.meta.get("rst.verbose"))
        quiet = quiet or bool(ctx.meta.get("rst.quiet"))
    if verbose and quiet:
        raise UsageError("--verbose and --quiet exclude each other")
    if ctx is not None and verbose:
        ctx.meta["rst.verbose"] = True  # ``meta`` is shared by the whole context chain
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    logging.getLogger().setLevel(level)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
