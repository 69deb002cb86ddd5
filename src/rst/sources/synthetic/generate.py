"""The generator's entry points: validate the request, dispatch per schema, build metadata, write one file.

Schemas plug in through :func:`register_schema`: a generator returns one parent's records for a
window as a numpy structured array in the DBN record layout of the requested version. ohlcv-1h,
ohlcv-1d and definition are registered here; the intraday schemas register the same way from
their own modules: mbp-10, mbp-1 and tbbo in ``book``, trades in ``trades``, statistics in
``statistics`` (windowed and sorted on ``ts_recv``, as Databento sorts them).

Times are UTC ns, windows ``[start, end)`` (end exclusive); prices int64 fixed-point 1e-9.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from databento_dbn import DBNError, Metadata, RType, Schema

from rst.errors import UsageError
from rst.sources.synthetic import bars, definitions
from rst.sources.synthetic.calendar import to_ns
from rst.sources.synthetic.dbn_writer import build_metadata, write_dbn
from rst.sources.synthetic.definitions import Cadence
from rst.sources.synthetic.faults import Fault, inject_faults, validate_faults
from rst.sources.synthetic.parents import Parent, resolve_parents
from rst.sources.synthetic.prices import END_YEAR, FIRST_YEAR
from rst.sources.synthetic.symbology import parent_mappings
from rst.validation import validate_dt

DateLike = dt.date | dt.datetime | str
"""A date (00:00 UTC), a datetime (naive = UTC) or ``YYYY-MM-DD``."""

EARLIEST = dt.date(FIRST_YEAR + 1, 1, 1)
LATEST = dt.date(END_YEAR - 1, 1, 1)


@dataclass(frozen=True)
class Options:
    """Per-request knobs every schema generator receives."""

    seed: int = 0
    dbn_version: int = 3
    definition_cadence: Cadence = Cadence.MONTH
    intraday_scale: float = 1.0
    """Multiplier of the number of book events of the intraday schemas (mbp-10, mbp-1, tbbo, trades,
    statistics); 1.0 gives ES's front contract ~70,000 events a session."""


GeneratorFn = Callable[[Parent, int, int, Options], np.ndarray]
"""``fn(parent, start_ns, end_ns, options) -> records``."""


@dataclass(frozen=True)
class SchemaGenerator:
    """How to generate one schema: records of one parent in ``[start, end)`` UTC ns."""

    schema: Schema
    generate: GeneratorFn
    time_field: str
    """The field files are windowed and sorted on (``ts_event``, or ``ts_recv`` for definitions)."""
    faultable: bool = False
    """Whether :class:`Fault` injection applies (OHLCV-like records)."""


_GENERATORS: dict[Schema, SchemaGenerator] = {}


def register_schema(
    schema: Schema, time_field: str = "ts_event", *, faultable: bool = False
) -> Callable[[GeneratorFn], GeneratorFn]:
    """Decorator registering ``fn(parent, start_ns, end_ns, options) -> records`` as the generator of ``schema``.

    The records must be sorted by ``time_field`` and carry only times in ``[start, end)``.
    """

    def deco(fn: GeneratorFn) -> GeneratorFn:
        _GENERATORS[schema] = SchemaGenerator(schema, fn, time_field, faultable)
        return fn

    return deco


@register_schema(Schema.OHLCV_1H, faultable=True)
def _ohlcv_1h(parent: Parent, start: int, end: int, options: Options) -> np.ndarray:
    return bars.ohlcv_records(parent, options.seed, start, end, int(RType.OHLCV_1H))


@register_schema(Schema.OHLCV_1D, faultable=True)
def _ohlcv_1d(parent: Parent, start: int, end: int, options: Options) -> np.ndarray:
    return bars.ohlcv_records(parent, options.seed, start, end, int(RType.OHLCV_1D))


@register_schema(Schema.DEFINITION, time_field="ts_recv")
def _definition(parent: Parent, start: int, end: int, options: Options) -> np.ndarray:
    return definitions.definition_records(
        parent, options.seed, start, end, options.dbn_version, options.definition_cadence
    )


def schema_time_field(schema: Schema) -> str:
    """The field records of ``schema`` are sorted and windowed on."""
    return _GENERATORS[schema].time_field


def supported_schemas() -> tuple[Schema, ...]:
    """Schemas the generator can write."""
    return tuple(_GENERATORS)


def validate_schema(value: Schema | str, param: str = "schema") -> Schema:
    """A supported schema from its enum or name (``ohlcv-1d``)."""
    try:
        schema = value if isinstance(value, Schema) else Schema.from_str(str(value).strip().lower())
    except DBNError:
        schema = None
    if schema is None or schema not in _GENERATORS:
        known = ", ".join(str(s) for s in _GENERATORS)
        raise UsageError(f"{param}: {value!r} is not a schema the synthetic generator writes ({known})")
    return schema


def validate_time(value: DateLike, param: str) -> int:
    """UTC ns of a date-like value within the generator's range."""
    if isinstance(value, str):
        value = validate_dt(value, param)
    if not isinstance(value, dt.date):
        raise UsageError(f"{param}: {value!r} is not a date")
    ns = to_ns(value)
    if not to_ns(EARLIEST) <= ns <= to_ns(LATEST):
        raise UsageError(f"{param}: {value} is outside the synthetic range {EARLIEST}..{LATEST}")
    return ns


def validate_window(start: DateLike, end: DateLike) -> tuple[int, int]:
    """``(start_ns, end_ns)``; end exclusive and after start."""
    start_ns, end_ns = validate_time(start, "start"), validate_time(end, "end")
    if end_ns <= start_ns:
        raise UsageError(f"end: {end} is not after start {start}")
    return start_ns, end_ns


def validate_version(value: int, param: str = "dbn_version") -> int:
    """DBN version 2 or 3."""
    if value not in (2, 3):
        raise UsageError(f"{param}: DBN version must be 2 or 3, got {value!r}")
    return int(value)


def make_options(
    seed: int, dbn_version: int, definition_cadence: Cadence | str, intraday_scale: float = 1.0
) -> Options:
    """Validated :class:`Options`."""
    if not isinstance(seed, int) or seed < 0:
        raise UsageError(f"seed: must be a non-negative integer, got {seed!r}")
    try:
        cadence = Cadence(definition_cadence)
    except ValueError:
        known = ", ".join(c.value for c in Cadence)
        raise UsageError(f"definition_cadence: {definition_cadence!r} is not one of {known}") from None
    if not isinstance(intraday_scale, int | float) or not 0 < intraday_scale <= 10_000:
        raise UsageError(f"intraday_scale: must be a number in (0, 10000], got {intraday_scale!r}")
    return Options(
        seed=seed, dbn_version=validate_version(dbn_version), definition_cadence=cadence,
        intraday_scale=float(intraday_scale),
    )


def parent_records(
    schema: Schema, parent: Parent, start: int, end: int, options: Options,
    faults: tuple[Fault, ...] = (), fault_count: int = 2,
) -> np.ndarray:
    """Records of one parent (validated inputs), faults injected if the schema allows them."""
    gen = _GENERATORS[schema]
    records = gen.generate(parent, start, end, options)
    if faults and gen.faultable:
        records = inject_faults(records, faults, options.seed + parent.number, fault_count)
    return records


def merge_records(schema: Schema, parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate per-parent records and sort by (time field, instrument_id), stably."""
    if len(parts) == 1:
        return parts[0]
    records = np.concatenate(parts)
    return records[np.lexsort((records["instrument_id"], records[_GENERATORS[schema].time_field]))]


@dataclass(frozen=True)
class SyntheticData:
    """A generated DBN stream: its metadata and its records (numpy structured array, DBN layout)."""

    metadata: Metadata
    records: np.ndarray


def generate(
    schema: Schema | str,
    parents: str | Parent | Iterable[str | Parent],
    start: DateLike,
    end: DateLike,
    *,
    seed: int = 0,
    dbn_version: int = 3,
    faults: Iterable[Fault | str] = (),
    fault_count: int = 2,
    definition_cadence: Cadence | str = Cadence.MONTH,
    intraday_scale: float = 1.0,
) -> SyntheticData:
    """Generate one schema for one or more parents over ``[start, end)`` without writing.

    ``parents``: roots (``ES``), parent symbols (``ES.FUT``), ``P07``.. or :class:`Parent`.
    ``faults``: :class:`Fault` kinds to inject into OHLCV bars (``fault_count`` bars each, per
    parent); ignored for definitions. Same arguments give identical records.
    """
    schema_ = validate_schema(schema)
    parent_list = resolve_parents(parents)
    start_ns, end_ns = validate_window(start, end)
    options = make_options(seed, dbn_version, definition_cadence, intraday_scale)
    fault_kinds = validate_faults(faults)
    parts = [parent_records(schema_, p, start_ns, end_ns, options, fault_kinds, fault_count) for p in parent_list]
    metadata = build_metadata(
        schema_, [p.symbol for p in parent_list], start_ns, end_ns,
        parent_mappings(parent_list, start_ns, end_ns), options.dbn_version,
    )
    return SyntheticData(metadata=metadata, records=merge_records(schema_, parts))


def write_dbn_file(
    path: Path | str,
    schema: Schema | str,
    parents: str | Parent | Iterable[str | Parent],
    start: DateLike,
    end: DateLike,
    *,
    seed: int = 0,
    dbn_version: int = 3,
    faults: Iterable[Fault | str] = (),
    fault_count: int = 2,
    definition_cadence: Cadence | str = Cadence.MONTH,
    intraday_scale: float = 1.0,
) -> Path:
    """Generate like :func:`generate` and write one ``.dbn.zst`` file at ``path``; returns ``path``."""
    data = generate(
        schema, parents, start, end, seed=seed, dbn_version=dbn_version, faults=faults,
        fault_count=fault_count, definition_cadence=definition_cadence, intraday_scale=intraday_scale,
    )
    return write_dbn(path, data.metadata, data.records)
