"""Write a directory of synthetic raw files: one per (schema, parent, calendar month or year).

Names follow ``glbx-mdp3-<PARENT>-<schema>-<YYYYMMDD>-<YYYYMMDD>.dbn.zst`` with the first and the
last UTC date covered (both inclusive, as in Databento batch file names). Each file's metadata
start/end is its own window ``[start, end)`` clipped to the request, with the mappings of that
window. A (schema, parent) is generated once over the whole request and then cut, so the
files equal what :func:`rst.sources.synthetic.generate` gives for each window alone.
Windows without records produce no file (as Databento delivers none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

import numpy as np
from databento_dbn import Schema

from rst.errors import UsageError
from rst.sources.synthetic.calendar import NS_PER_DAY, add_months, date_of, to_ns
from rst.sources.synthetic.dbn_writer import build_metadata, write_dbn
from rst.sources.synthetic.definitions import Cadence
from rst.sources.synthetic.faults import Fault, validate_faults
from rst.sources.synthetic.generate import (
    DateLike,
    make_options,
    parent_records,
    schema_time_field,
    validate_schema,
    validate_window,
)
from rst.sources.synthetic.parents import Parent, resolve_parents
from rst.sources.synthetic.symbology import parent_mappings


class Split(StrEnum):
    """How a request is cut into files."""

    MONTH = "month"
    YEAR = "year"


def file_name(parent: Parent, schema: Schema, start: int, end: int) -> str:
    """``glbx-mdp3-ES-ohlcv-1d-20240101-20240131.dbn.zst`` for the window ``[start, end)`` UTC ns."""
    first = date_of(start // NS_PER_DAY)
    last = date_of((end - 1) // NS_PER_DAY)
    return f"glbx-mdp3-{parent.root}-{schema}-{first:%Y%m%d}-{last:%Y%m%d}.dbn.zst"


def windows(start: int, end: int, split: Split) -> list[tuple[int, int]]:
    """Calendar months or years cut from ``[start, end)``, clipped to it."""
    first = date_of(start // NS_PER_DAY)
    edge = dt.date(first.year, first.month, 1) if split is Split.MONTH else dt.date(first.year, 1, 1)
    out = []
    lo = start
    while lo < end:
        edge = add_months(edge, 1 if split is Split.MONTH else 12)
        hi = min(end, to_ns(edge))
        if hi > lo:
            out.append((lo, hi))
        lo = max(lo, hi)
    return out


def write_dataset(
    directory: Path | str,
    parents: str | Parent | Iterable[str | Parent],
    schemas: Schema | str | Iterable[Schema | str],
    start: DateLike,
    end: DateLike,
    *,
    split: Split | str = Split.MONTH,
    seed: int = 0,
    dbn_version: int = 3,
    faults: Iterable[Fault | str] = (),
    fault_count: int = 2,
    definition_cadence: Cadence | str = Cadence.MONTH,
    intraday_scale: float = 1.0,
) -> list[Path]:
    """Write one file per (schema, parent, window) into ``directory`` (flat); returns the paths written.

    ``faults`` are injected once per (schema, parent) over the whole request, then cut.
    Paths are ordered by schema, parent, window.
    """
    schema_items = [schemas] if isinstance(schemas, Schema | str) else list(schemas)
    schema_list = list(dict.fromkeys(validate_schema(s) for s in schema_items))
    if not schema_list:
        raise UsageError("schemas: no schema given")
    parent_list = resolve_parents(parents)
    start_ns, end_ns = validate_window(start, end)
    try:
        split_ = Split(split)
    except ValueError:
        raise UsageError(f"split: {split!r} is not one of {', '.join(s.value for s in Split)}") from None
    options = make_options(seed, dbn_version, definition_cadence, intraday_scale)
    fault_kinds = validate_faults(faults)
    directory = Path(directory)
    cuts = windows(start_ns, end_ns, split_)
    paths = []
    for schema in schema_list:
        time_field = schema_time_field(schema)
        for parent in parent_list:
            records = parent_records(schema, parent, start_ns, end_ns, options, fault_kinds, fault_count)
            times = records[time_field]
            for lo, hi in cuts:
                a, b = np.searchsorted(times, [lo, hi], side="left")
                if b <= a:
                    continue
                metadata = build_metadata(
                    schema, [parent.symbol], lo, hi, parent_mappings([parent], lo, hi), options.dbn_version
                )
                paths.append(write_dbn(directory / file_name(parent, schema, lo, hi), metadata, records[a:b]))
    return paths
