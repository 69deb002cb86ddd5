"""Names a user types (parents, tables, series), checked against what the lake has, with the nearest match.

A typo must fail loudly: a mistyped parent or table that matches nothing would
otherwise make ``run`` or ``invalidate`` exit 0 having done nothing. Databento's
own spellings are accepted for tables (``ohlcv-1d`` = ``ohlcv_1d``, ``mbp-10``
= ``mbp_10``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from rst.errors import UsageError
from rst.framework.lake import Lake, Layer

_SHOWN = 8


def normalise_table(name: str) -> str:
    """A table name in rst's spelling: ``OHLCV-1d`` → ``ohlcv_1d``."""
    return name.strip().lower().replace("-", "_")


def _listing(choices: Sequence[str]) -> str:
    shown = ", ".join(choices[:_SHOWN])
    return shown + (f", … ({len(choices)} in all)" if len(choices) > _SHOWN else "")


def unknown(what: str, value: str, choices: Iterable[str], where: str, match: str | None = None) -> UsageError:
    """``unknown table 'ohlcv-1x' (did you mean ohlcv_1d? tables of ES: …)``; ``match`` is ``value`` normalised."""
    ordered = sorted(set(choices))
    close = difflib.get_close_matches(match or value, ordered, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    listing = f"{where}: {_listing(ordered)}" if ordered else f"{where}: none yet"
    return UsageError(f"unknown {what} '{value}' ({hint}{listing})")


def known_parents(lake: Lake) -> list[str]:
    """Parents with raw files, bronze tables or metadata overrides."""
    from rst.parents import list_parents
    from rst.stages.registry import known_symbols

    return sorted(set(known_symbols(lake)) | set(list_parents(lake)))


def check_parents(lake: Lake, symbols: Sequence[str], param: str = "--symbol") -> list[str]:
    """``symbols`` when every one is a parent of the lake; else a one-line error with the nearest match."""
    if not symbols:
        return list(symbols)
    known = known_parents(lake)
    for symbol in symbols:
        if symbol not in known:
            raise unknown("parent", symbol, known, f"{param} takes a parent of {lake.root}")
    return list(symbols)


def tables_of(lake: Lake, symbol: str, layers: Sequence[Layer] = tuple(Layer)) -> set[str]:
    """Tables ``symbol`` has or will have in ``layers`` (stages that apply, and tables on disk)."""
    from rst.stages.registry import stages_for

    names: set[str] = set()
    for layer in layers:
        for stage in stages_for(lake, layer, symbol):
            names.add(stage.table)
            if stage.quarantine_table:
                names.add(stage.quarantine_table)
        base = lake.parent_dir(layer, symbol)
        if base.is_dir():
            names.update(p.name.removeprefix("table=") for p in base.glob("table=*") if p.is_dir())
    return names


def check_tables(
    lake: Lake, symbols: Sequence[str], tables: Iterable[str], layers: Sequence[Layer] = tuple(Layer)
) -> list[str]:
    """``tables`` in rst's spelling, each a table of at least one of ``symbols``; else a one-line error."""
    wanted = [normalise_table(t) for t in tables]
    if not wanted:
        return []
    known: set[str] = set()
    for symbol in symbols:
        known |= tables_of(lake, symbol, layers)
    for given, table in zip(tables, wanted, strict=True):
        if table not in known:
            of = ", ".join(symbols) if symbols else "the lake"
            raise unknown("table", given, known, f"tables of {of}", match=table)
    return wanted


def databento_schema(name: str, param: str = "--schema") -> str:
    """A Databento schema in Databento's spelling (``ohlcv_1d`` → ``ohlcv-1d``); a one-line error naming the nearest."""
    from databento_dbn import Schema

    spelled = name.strip().lower().replace("_", "-")
    known = sorted(str(s.value) for s in Schema.variants())
    if spelled not in known:
        raise unknown("schema", name, known, f"{param} takes a Databento schema", match=spelled)
    return spelled
