"""What the intraday bronze stages share: streaming per batch, overlap policy, front-month selection.

Every intraday table (``mbp_10``, ``mbp_1``, ``tbbo``, ``trades``, ``statistics``,
``status``) is partitioned by trading date (``dt=``, CME session of ``ts_recv``, the
column Databento's request windows filter on) and built **batch by batch**: each raw
file is streamed with :func:`rst.sources.dbn_file.iter_batches`; every batch is
filtered to the partition, de-duplicated against earlier files, resolved
(symbol, outright/spread: :func:`rst.stages.bronze.instruments.resolve`, whose
definition directory is built once per partition), enriched (readable codes, flag
booleans), validated (:mod:`rst.stages.bronze.quality`) and yielded. Nothing holds a
whole file, so peak memory does not grow with the file size (quarantined rows are
kept by the framework until commit, spilled to disk past
:data:`rst.framework.spill.SPILL_BYTES`).

Overlap policy (several raw files feeding one partition). Files are ordered by
(request start, path). Two files are *the same request* when they have the same
``stype_in`` and the same requested symbols. Each instant of time belongs to the
first file of a request whose window (metadata ``[start, end)``, see
:func:`rst.stages.bronze.base.file_window`) covers it: a record of file ``i`` is
dropped when its ``ts_recv`` lies in the window of an earlier file of the same
request (counted as ``overlap_dropped``). Files of *different* requests are not
de-duplicated against each other (e.g. ``ESH1`` and ``ESM1`` requested separately
over the same day): a lake that mixes a parent request with raw-symbol requests for
the same contracts and days will hold their overlap twice.

A raw file feeding several partitions (a UTC-day file touches two trading dates, a monthly
file twenty-odd) is decompressed once for all of them: the pass building one partition sets
the others' records aside (:mod:`rst.sources.dbn_slices`, :meth:`BronzeStage.aside`). The
batches yielded are streamed into the Parquet writer, which compresses them on other cores
while the next ones are decoded (:mod:`rst.framework.parts`).

Row accounting per partition (manifest): ``rows_in`` counts the records of the raw
files that fall in the partition; each of them is written, quarantined, or counted
in ``overlap_dropped``, ``spreads_filtered`` or ``front_month_filtered``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pyarrow as pa

from rst.framework.lake import Layer
from rst.framework.partition import Granularity, Partition, PartitionKey
from rst.framework.stage import Input, PartitionInput, Role, StageContext
from rst.sources.dbn_file import DEFAULT_BATCH_RECORDS, iter_batches, read_info
from rst.sources.dbn_slices import Aside
from rst.stages.bronze import frontmonth
from rst.stages.bronze.bars import data_and_definition_paths
from rst.stages.bronze.base import NS_PER_DAY, BronzeStage, file_window
from rst.stages.bronze.instruments import definition_directory, mapping_symbols, resolve
from rst.stages.bronze.quality import UNKNOWN_INSTRUMENT, Rule, reason_expr

DAILY_BARS = "ohlcv_1d"
_SPREAD = "\x00spread"
_NOT_FRONT = "\x00not front month"
"""Internal reasons: rows filtered and counted in the manifest, never quarantined."""
OUTPUT_ROWS = 131_072
"""Rows gathered before a yield: one Parquet row group each (bounded: ~50 MB of MBP-10)."""


class IntradayStage(BronzeStage):
    """Base of the intraday bronze stages; subclasses set the table, columns, rules and :meth:`enrich`."""

    granularity = Granularity.DAY
    date_basis = "session"
    time_column = "ts_recv"
    version = "1"
    columns: ClassVar[list[str]]
    """Output columns, in order (``source_file`` last)."""
    rules: ClassVar[list[Rule]] = []
    batch_records: ClassVar[int] = 4 * DEFAULT_BATCH_RECORDS
    """Records per decoded batch (65,536: ~24 MB of MBP-10): big enough to amortise the per-batch
    polars work, small enough that peak memory stays a few hundred MB whatever the file size."""
    sort_keys: ClassVar[tuple[str, ...]] = ()
    """Unused: rows keep file order (``ts_recv`` order within a file)."""

    # ---- what a subclass provides -------------------------------------------------
    def prepare(self, df: pl.DataFrame) -> pl.DataFrame:
        """Rename decoded columns that would clash with rst's own (e.g. status ``reason``)."""
        return df

    def enrich(self, df: pl.DataFrame) -> pl.DataFrame:
        """Add the readable columns (flag booleans, action/side words…) to a resolved batch."""
        return df

    @property
    def quarantine_columns(self) -> list[str]:
        return [*self.columns, "reason"]

    # ---- parameters -----------------------------------------------------------------
    @property
    def front_month_only(self) -> bool:
        return bool(self.params.get("front_month_only", False))

    # ---- inputs -----------------------------------------------------------------------
    def inputs(self, key: PartitionKey) -> list[Input]:
        inputs = super().inputs(key)
        if inputs and self.front_month_only:
            inputs += self.daily_bar_inputs(key)
        return inputs

    def daily_bar_inputs(self, key: PartitionKey) -> list[Input]:
        """Complete bronze ``ohlcv_1d`` partitions covering the volume look-back of ``key``."""
        first = key.start - frontmonth.VOLUME_LOOKBACK
        years = sorted({first.year, (key.start - dt.timedelta(days=1)).year})
        found: list[Input] = []
        for year in years:
            partition = Partition(Layer.BRONZE, self.symbol, DAILY_BARS, PartitionKey(Granularity.YEAR, f"{year:04d}"))
            if self.complete(partition):
                found.append(PartitionInput(partition, Role.DAILY_BARS))
        return found

    # ---- transform --------------------------------------------------------------------
    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:
        self.record_coverage(ctx)
        data_paths, def_paths = data_and_definition_paths(ctx, self.dbn_schema)
        directory = definition_directory(def_paths)
        plan = self.overlap_plan(data_paths)
        front: int | None = None
        if self.front_month_only:
            front = self.choose_front_month(ctx, plan, directory, def_paths)
        pending: list[pa.Table] = []
        rows = 0
        for path, earlier in plan:
            source = ctx.lake.relative(path)
            resolver = BatchResolver(directory, mapping_symbols(path))
            for df in self._partition_batches(ctx, path, earlier, count=True):
                for table in self._refine(ctx, df, source, resolver, front):
                    pending.append(table)
                    rows += table.num_rows
                    if rows >= OUTPUT_ROWS:
                        yield pa.concat_tables(pending)
                        pending, rows = [], 0
        if pending:
            yield pa.concat_tables(pending)

    def overlap_plan(self, data_paths: list[Path]) -> list[tuple[Path, list[tuple[int, int]]]]:
        """Each data file (in window order) with the windows of earlier files of the same request."""
        catalog = {f.abspath(self.lake.root): f for f in self.raw_files()}
        ordered = sorted(data_paths, key=lambda p: (catalog[p].start_ns if p in catalog else 0, str(p)))
        seen: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
        plan = []
        for path in ordered:
            info = read_info(path)
            request = (info.stype_in, tuple(sorted(info.symbols)))
            earlier = list(seen.get(request, []))
            plan.append((path, earlier))
            if path in catalog:
                window = file_window(self.lake.root, catalog[path], self.time_column)
            else:
                window = (info.start, info.end if info.end is not None else info.start)
            seen.setdefault(request, []).append(window)
        return plan

    def _partition_batches(
        self, ctx: StageContext, path: Path, earlier: list[tuple[int, int]], *, count: bool
    ) -> Iterator[pl.DataFrame]:
        """The file's batches cut to the partition, minus instants owned by earlier files."""
        # A day partition's window is exactly the instants whose trading date is the key
        # (BronzeStage.window_ns; tests/stages/test_intraday_windows.py checks it against
        # date_expr, DST days included), so the decoder cuts raw records to it before any
        # column is converted: integer comparisons, no time-zone arithmetic.
        lo_ns, hi_ns = self.window_ns(ctx.partition.key)
        ts = pl.col(self.time_column).dt.epoch("ns")
        owned = pl.lit(False)
        for lo, hi in earlier:
            owned = owned | ts.is_between(lo, hi, closed="left")
        # The main pass sets the file's other partitions aside (decompressed once for all of them);
        # the front-month pre-pass (count=False) only reads this partition's slice, leaving it for the main pass.
        aside = self.aside(ctx, path) if count else Aside(self.slices_dir, consume=False)
        window = (self.time_column, lo_ns, hi_ns)
        for batch in iter_batches(path, self.batch_records, time_filter=window, aside=aside):
            df = pl.from_arrow(batch)
            assert isinstance(df, pl.DataFrame)  # already cut to [lo_ns, hi_ns) by time_filter
            if earlier and df.height:
                mine = df.filter(~owned)
                if count:
                    ctx.count("overlap_dropped", df.height - mine.height)
                    ctx.rows_in += df.height
                df = mine
            elif count:
                ctx.rows_in += df.height
            if df.height:
                yield df

    def _refine(
        self,
        ctx: StageContext,
        df: pl.DataFrame,
        source: str,
        resolver: BatchResolver,
        front: int | None,
    ) -> Iterator[pa.Table]:
        """Classify a batch in one pass: kept, quarantined (with reason), or filtered and counted.

        The first matching rule decides: unknown instrument (quarantine), spread (counted),
        not the front month (counted), then the table's validation rules (quarantine).
        """
        df = resolver(self.prepare(df))
        rules: list[Rule] = [UNKNOWN_INSTRUMENT, (_SPREAD, ~pl.col("is_outright"))]
        if front is not None and self.front_month_only:
            rules.append((_NOT_FRONT, pl.col("instrument_id") != front))
        tagged = self.enrich(df).with_columns(source_file=pl.lit(source), reason=reason_expr(rules + self.rules))
        reasons = tagged.get_column("reason")
        if reasons.null_count() == tagged.height:  # the usual batch: everything kept, no filtering copies
            yield tagged.select(self.columns).to_arrow()
            return
        for marker, counter in ((_SPREAD, "spreads_filtered"), (_NOT_FRONT, "front_month_filtered")):
            n = int((reasons == marker).sum())
            if n:
                ctx.count(counter, n)
        bad = tagged.filter(pl.col("reason").is_not_null() & ~pl.col("reason").is_in([_SPREAD, _NOT_FRONT]))
        if bad.height:
            ctx.quarantine(bad.select(self.quarantine_columns).to_arrow())
        good = tagged.filter(pl.col("reason").is_null())
        if good.height:
            yield good.select(self.columns).to_arrow()

    # ---- front month ------------------------------------------------------------------
    def choose_front_month(
        self,
        ctx: StageContext,
        plan: list[tuple[Path, list[tuple[int, int]]]],
        directory: pl.DataFrame,
        def_paths: list[Path],
    ) -> int | None:
        """The partition's front-month instrument (see :mod:`rst.stages.bronze.frontmonth`); recorded in counts."""
        day = ctx.partition.key.start
        daily_files = ctx.files(Role.DAILY_BARS)
        daily = pl.read_parquet(daily_files, columns=["ts_event", "instrument_id", "volume"]) if daily_files else None
        chosen = frontmonth.by_volume(daily, day)
        rule = "volume"
        if chosen is None:
            counts = self._outright_record_counts(ctx, plan, directory)
            chosen = frontmonth.by_expiry(counts, frontmonth.expirations(def_paths), day)
            rule = "expiry"
            if chosen is None:
                chosen = frontmonth.by_records(counts)
                rule = "records"
        if chosen is not None:
            ctx.count("front_month_instrument_id", chosen)
            ctx.count(f"front_month_by_{rule}", 1)
        return chosen

    def _outright_record_counts(
        self, ctx: StageContext, plan: list[tuple[Path, list[tuple[int, int]]]], directory: pl.DataFrame
    ) -> pl.DataFrame:
        """Records per outright instrument in the partition (a streaming pre-pass over the data)."""
        parts = []
        for path, earlier in plan:
            mappings = mapping_symbols(path)
            per_file = []
            for df in self._partition_batches(ctx, path, earlier, count=False):
                per_file.append(
                    df.group_by("instrument_id").agg(records=pl.len(), ts_event=pl.col("ts_event").max())
                )
            if per_file:
                merged = (
                    pl.concat(per_file)
                    .group_by("instrument_id")
                    .agg(pl.col("records").sum(), pl.col("ts_event").max())
                )
                parts.append(resolve(merged, directory, mappings))
        if not parts:
            return pl.DataFrame(schema={"instrument_id": pl.UInt32, "records": pl.UInt32})
        return (
            pl.concat(parts)
            .filter(pl.col("is_outright").fill_null(False))
            .group_by("instrument_id")
            .agg(pl.col("records").sum())
        )


class BatchResolver:
    """:func:`~rst.stages.bronze.instruments.resolve` for the batches of one data file, each instrument resolved once when possible.

    No instrument's resolution can change within a batch when all its records share one UTC
    date (mappings are per date) and no definition of its instruments was published in
    ``(first ts_event, last ts_event]``; then each instrument's resolution at the first
    ``ts_event`` applies to all its records. Otherwise the whole batch is resolved record by
    record. Same result either way, at a fraction of the cost for the usual batch (checked on
    the batch's span as a whole: a few column scans, no group-by). The facts of the previous
    batch are reused while the same instruments stay on the same date with no definition
    published since.
    """

    def __init__(self, directory: pl.DataFrame, mappings: pl.DataFrame) -> None:
        self.directory = directory
        self.mappings = mappings
        self._published = directory.select("instrument_id", _def_ns=pl.col("ts_recv").dt.epoch("ns"))
        self._memo: tuple[pl.Series, int, pl.DataFrame] | None = None
        """(instrument ids, first ts_event ns, their facts) of the last batch resolved per instrument."""

    def __call__(self, df: pl.DataFrame) -> pl.DataFrame:
        """``df`` with ``symbol`` and ``is_outright`` added."""
        ts = df.get_column("ts_event").dt.epoch("ns")
        lo_, hi_ = ts.min(), ts.max()
        if lo_ is None or hi_ is None:
            return resolve(df, self.directory, self.mappings)
        lo, hi = int(lo_), int(hi_)  # type: ignore[arg-type]
        if lo // NS_PER_DAY != hi // NS_PER_DAY:
            return resolve(df, self.directory, self.mappings)
        ids = df.get_column("instrument_id").unique().sort()
        memo = self._memo
        if (
            memo is not None
            and memo[1] <= lo
            and memo[1] // NS_PER_DAY == lo // NS_PER_DAY
            and memo[0].equals(ids)
            and not self._published_between(ids, memo[1], hi)
        ):
            facts = memo[2]  # resolved at memo[1]: still valid up to hi
        elif not self._published_between(ids, lo, hi):
            first = pl.lit(lo).cast(pl.Datetime("ns", "UTC"))
            facts = resolve(ids.to_frame().with_columns(ts_event=first), self.directory, self.mappings)
            self._memo = (ids, lo, facts)
        else:
            self._memo = None
            return resolve(df, self.directory, self.mappings)
        if facts.height == 1:  # the usual batch: one instrument, two constant columns
            return df.with_columns(
                symbol=pl.lit(facts.item(0, "symbol"), pl.String),
                is_outright=pl.lit(facts.item(0, "is_outright"), pl.Boolean),
            )
        keys = facts.get_column("instrument_id")
        return df.with_columns(
            symbol=pl.col("instrument_id").replace_strict(keys, facts.get_column("symbol"), return_dtype=pl.String),
            is_outright=pl.col("instrument_id").replace_strict(
                keys, facts.get_column("is_outright"), return_dtype=pl.Boolean
            ),
        )

    def _published_between(self, ids: pl.Series, lo: int, hi: int) -> bool:
        """Whether a definition of one of ``ids`` was published in ``(lo, hi]`` (UTC ns)."""
        hits = self._published.filter(
            pl.col("instrument_id").is_in(ids.implode()) & pl.col("_def_ns").is_between(lo, hi, closed="right")
        )
        return hits.height > 0
