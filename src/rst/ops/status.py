"""``rst status``: the state of every partition, computed from the lake alone.

A partition is ``done`` (complete, and its stage version, parameters, contract and
inputs are what its manifest recorded), ``missing`` (no complete partition),
``stale`` (complete but out of date: :meth:`Stage.state` gives the reason),
``failed`` (its last run failed: the error is kept under ``<lake>/_failures/``) or
``corrupt`` (it claims to be complete but its directory is not what its manifest
lists, or ``rst verify`` found a part's bytes changed: the file is named).

Problems outside any partition are reported once each, and every partition is still
reported: entries of the table tree that are not partitions (``year=2024.bak/``, a file
named like a partition), raw catalogue entries that do not parse, unreadable run-log lines.

Staleness propagates downstream: a partition whose own lineage is unchanged but
that reads an upstream partition which is not ``done`` is ``stale`` too ("upstream
… is stale"), because the next ``rst run --layer all`` rebuilds the upstream first
and then, when its output changes, this one.

Cost: manifests and the raw catalogue are read, and each partition directory is
listed (one ``stat`` per part); raw files are re-hashed only when their size or mtime
differ from the manifest's record (see ``Stage.state``).
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rst.framework.graph import planning, reads
from rst.framework.lake import Lake, Layer
from rst.framework.listing import scan_lake
from rst.framework.manifest import read_manifest
from rst.framework.partition import Granularity, Partition, PartitionKey
from rst.framework.stage import PartitionState, Stage
from rst.framework.verify import Problem, catalogue_issues, run_log_issues, stray_issues
from rst.ops.gaps import Gap, lake_gaps
from rst.stages.registry import stages_for

SCHEMA_VERSION = 1
STATES = tuple(PartitionState)


@dataclass(frozen=True)
class PartitionStatus:
    """One partition's state, the reason when not done, and the command that brings it up to date."""

    partition: Partition
    state: PartitionState
    reason: str = ""
    command: str = ""

    @property
    def label(self) -> str:
        return self.partition.label

    def to_dict(self) -> dict[str, Any]:
        p = self.partition
        return {
            "layer": p.layer.value,
            "symbol": p.symbol,
            "table": p.table,
            "partition": p.key.dirname,
            "state": self.state.value,
            "reason": self.reason,
            "command": self.command,
        }


@dataclass
class LakeStatus:
    """Every partition asked about, in layer order (bronze, silver, gold), then symbol, table, key."""

    lake: Lake
    partitions: list[PartitionStatus] = field(default_factory=list)
    lake_problems: list[Problem] = field(default_factory=list)
    """Problems outside any partition (kinds ``stray``, ``catalogue``, ``run-log``): never read or built."""
    gaps: list[Gap] = field(default_factory=list)
    """Trade dates missing inside covered day-partitioned data (holidays and weekends never count)."""
    unprocessed: list[str] = field(default_factory=list)
    """Raw files imported but read by no stage (a schema rst has no table for): ``path (schema)``."""

    def totals(self) -> dict[str, int]:
        counts = Counter(s.state for s in self.partitions)
        return {state.value: counts[state] for state in STATES}

    def tables(self) -> list[dict[str, Any]]:
        """One row per (layer, symbol, table) with a count per state."""
        groups: dict[tuple[str, str, str], Counter[PartitionState]] = {}
        for s in self.partitions:
            p = s.partition
            groups.setdefault((p.layer.value, p.symbol, p.table), Counter())[s.state] += 1
        return [
            {"layer": layer, "symbol": symbol, "table": table, **{st.value: c[st] for st in STATES}}
            for (layer, symbol, table), c in groups.items()
        ]

    def problems(self) -> list[PartitionStatus]:
        return [s for s in self.partitions if s.state is not PartitionState.DONE]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "lake": str(self.lake.root),
            "totals": self.totals(),
            "tables": self.tables(),
            "partitions": [s.to_dict() for s in self.partitions],
            "lake_problems": [{"kind": p.kind, "path": p.path, "problem": p.detail} for p in self.lake_problems],
            "gaps": [g.to_dict() for g in self.gaps],
            "unprocessed": self.unprocessed,
        }

    def needs_attention(self) -> bool:
        """A failed or corrupt partition, a stray entry or a bad catalogue entry (not a damaged run-log line:
        history only, it changes no data)."""
        totals = self.totals()
        data = [p for p in self.lake_problems if p.kind != "run-log"]
        return bool(totals[PartitionState.FAILED.value] or totals[PartitionState.CORRUPT.value] or data)


_RETIRE = re.compile(r"`(rst retire [^`]+)`")


def rerun_command(lake: Lake, partition: Partition) -> str:
    """The ``rst run`` command that rebuilds exactly ``partition`` (``--lake`` only when not the default)."""
    args = ["rst", "run"]
    if lake.root != Lake.resolve(None).root:
        args += ["--lake", str(lake.root)]
    args += ["--layer", partition.layer.value, "--symbol", partition.symbol]
    if partition.key.granularity is not Granularity.ALL:
        args += ["--dt", partition.key.start.isoformat()]
    args += ["--table", partition.table]
    return shlex.join(args)


class StatusResolver:
    """Computes partition states with downstream propagation, memoised (one instance per question).

    Upstream partitions are resolved on demand through the stage that builds them, so
    ``rst status --layer gold`` still sees a stale silver or bronze partition beneath.
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.planned: frozenset[Partition] = frozenset()
        """The partitions a run would build or keep (the task graph's nodes, set by :func:`lake_status`): a
        partition reading one of them that is not done is stale, as the next run would rebuild it."""
        self._memo: dict[Partition, PartitionStatus] = {}
        self._stages: dict[tuple[Layer, str], dict[str, Stage]] = {}
        self._key_cache: dict[int, list[PartitionKey]] = {}

    def stages(self, layer: Layer, symbol: str) -> dict[str, Stage]:
        """The stages of ``layer`` for ``symbol`` by table (one instance each, so per-stage caches are shared)."""
        found = self._stages.get((layer, symbol))
        if found is None:
            found = {s.table: s for s in stages_for(self.lake, layer, symbol)}
            self._stages[(layer, symbol)] = found
        return found

    def status(self, stage: Stage, key: PartitionKey) -> PartitionStatus:
        partition = stage.partition(key)
        known = self._memo.get(partition)
        if known is not None:
            return known
        state, reason = stage.state(key)
        if state is PartitionState.DONE:
            with planning(self.planned):  # the run's task graph: what a run would build counts as read
                read = reads(stage, key) or []
            problem = self._upstream_problem(key, read)
            if problem:
                state, reason = PartitionState.STALE, problem
        fix = _RETIRE.search(reason)  # a changed or undecodable raw file: a rerun would change nothing
        command = "" if state is PartitionState.DONE else fix.group(1) if fix else rerun_command(self.lake, partition)
        result = PartitionStatus(partition, state, reason, command)
        self._memo[partition] = result
        return result

    def _upstream_problem(self, key: PartitionKey, read: list[Partition]) -> str:
        """Why a partition whose own lineage holds will still be rebuilt ("" when it will not).

        Either a partition it reads is not done, or its upstream tables have a partition in
        its date range that it did not read (built since, or buildable but missing: stages
        read only the *complete* upstream partitions, so the next run would add it).
        """
        for partition in read:
            upstream = self.partition_status(partition)
            if upstream.state is not PartitionState.DONE:
                return f"upstream {upstream.label} is {upstream.state.value}"
        chosen = set(read)
        for layer, symbol, table in sorted({(p.layer, p.symbol, p.table) for p in read}):
            stage = self.stages(layer, symbol).get(table)
            if stage is None:
                continue
            for other in self._keys(stage):
                if other.start >= key.end or key.start >= other.end or stage.partition(other) in chosen:
                    continue
                upstream = self.status(stage, other)
                if upstream.state is PartitionState.DONE:
                    return f"upstream {upstream.label} is new since this partition was built"
                if upstream.state is not PartitionState.MISSING or stage.inputs(other):
                    return f"upstream {upstream.label} is {upstream.state.value}"
        return ""

    def _keys(self, stage: Stage) -> list[PartitionKey]:
        found = self._key_cache.get(id(stage))
        if found is None:
            found = self._key_cache[id(stage)] = stage_keys(stage, None)
        return found

    def partition_status(self, partition: Partition) -> PartitionStatus:
        """The status of any partition, through its stage when one builds it, else from its manifest."""
        stage = self.stages(partition.layer, partition.symbol).get(partition.table)
        if stage is not None:
            return self.status(stage, partition.key)
        done = read_manifest(partition.path(self.lake)) is not None
        return PartitionStatus(
            partition,
            PartitionState.DONE if done else PartitionState.MISSING,
            "" if done else "no complete partition (no stage builds this table)",
        )


def stage_keys(stage: Stage, dates: Sequence[dt.date] | None) -> list[PartitionKey]:
    """The partitions of ``stage`` worth reporting: what its inputs allow plus what exists, within ``dates``."""
    keys = set(stage.available_keys()) | set(stage.existing_keys())
    if dates is not None:
        keys &= set(stage.keys_for_dates(list(dates)))
    return sorted(keys)


def lake_status(
    lake: Lake,
    layers: Sequence[Layer],
    symbols: Sequence[str],
    dates: Sequence[dt.date] | None = None,
    tables: Sequence[str] | None = None,
) -> LakeStatus:
    """The status of every partition of ``layers`` x ``symbols`` (x ``tables``) within ``dates`` (None: all)."""
    resolver = StatusResolver(lake)
    keys = {
        stage: stage_keys(stage, None)
        for layer in Layer
        for symbol in symbols
        for stage in resolver.stages(layer, symbol).values()
    }
    resolver.planned = frozenset(stage.partition(k) for stage, ks in keys.items() for k in ks)
    out = LakeStatus(lake)
    granularities = {}
    for layer in sorted(layers, key=list(Layer).index):
        for symbol in symbols:
            for table, stage in sorted(resolver.stages(layer, symbol).items()):
                granularities[(layer, table)] = stage.granularity
                if tables and table not in tables:
                    continue
                wanted = set(stage.keys_for_dates(list(dates))) if dates is not None else None
                out.partitions.extend(
                    resolver.status(stage, key) for key in keys[stage] if wanted is None or key in wanted
                )
                out.gaps.extend(lake_gaps([stage]))
    strays = scan_lake(lake, layers, symbols, granularities).strays
    out.lake_problems = [*catalogue_issues(lake), *run_log_issues(lake)]
    out.lake_problems += stray_issues(
        [s for s in strays if not tables or any(f"/table={t}/" in s.path for t in tables)]
    )
    out.unprocessed = unprocessed_raw(lake, symbols)
    return out


def unprocessed_raw(lake: Lake, symbols: Sequence[str]) -> list[str]:
    """Raw files of ``symbols`` whose schema no bronze stage reads: imported, kept, but in no table."""
    from rst.ops.names import tables_of
    from rst.sources.raw_zone import RawZone

    found = []
    for symbol in symbols:
        tables = tables_of(lake, symbol, [Layer.BRONZE])
        for f in RawZone(lake.root).files(symbol=symbol):
            if f.schema.replace("-", "_") not in tables:
                found.append(f"{f.path} ({f.schema})")
    return found
