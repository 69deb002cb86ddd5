"""``rst invalidate``: take partitions away so that the next run rebuilds them.

Each partition goes through :meth:`Stage.invalidate` (under its lock; moved to
``<lake>/_trash/`` with one rename, then deleted; its failure record cleared), so
readers never see a half-deleted partition. With ``downstream``, the partitions
that read a removed partition (directly or transitively) go too, found through
the run's task graph *before* anything is removed.
Dependants are removed first, so a reader never finds a downstream partition
whose upstream is already gone in the same invalidation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from rst.framework.graph import Task, TaskGraph
from rst.framework.lake import Lake, Layer
from rst.framework.partition import Partition, PartitionKey
from rst.framework.stage import Stage
from rst.stages.registry import stages_for


@dataclass(frozen=True)
class Target:
    """One partition to invalidate; ``because`` names the upstream partition for a dependant."""

    stage: Stage
    key: PartitionKey
    because: str = ""

    @property
    def partition(self) -> Partition:
        return self.stage.partition(self.key)


def select(
    lake: Lake,
    layers: Sequence[Layer],
    symbols: Sequence[str],
    dates: Sequence[dt.date] | None = None,
    tables: Sequence[str] | None = None,
    *,
    downstream: bool = False,
) -> list[Target]:
    """The existing partitions named by the filters (and their dependants), in dependency order."""
    targets: list[Target] = []
    for layer in sorted(layers, key=list(Layer).index):
        for symbol in symbols:
            for stage in stages_for(lake, layer, symbol):
                if tables and stage.table not in tables:
                    continue
                keys = stage.existing_keys()
                if dates is not None:
                    wanted = set(stage.keys_for_dates(list(dates)))
                    keys = [k for k in keys if k in wanted]
                targets.extend(Target(stage, k) for k in keys)
    if downstream and targets:
        targets += dependants(lake, targets, symbols)
    return targets


def dependants(lake: Lake, targets: Sequence[Target], symbols: Sequence[str]) -> list[Target]:
    """Existing partitions that read any of ``targets``, transitively, in the run's task graph.

    The graph is the one a run of every existing partition would build
    (:mod:`rst.framework.graph`), so same-layer readers count too (an intraday bronze
    table keeping the front month reads bronze daily bars).
    """
    chosen = {t.partition for t in targets}
    graph = TaskGraph()
    for layer in Layer:
        graph.add(
            Task(stage, key)
            for symbol in symbols
            for stage in stages_for(lake, layer, symbol)
            for key in stage.existing_keys()
        )
    found: list[Target] = []
    for target in targets:
        for partition in sorted(graph.downstream(target.partition) - chosen):
            chosen.add(partition)
            task = graph.tasks[partition]
            found.append(Target(task.stage, task.key, because=_reader_of(graph, partition, target.partition)))
    depths: dict[Partition, int] = {}
    return sorted(found, key=lambda t: (list(Layer).index(t.partition.layer), graph.depth(t.partition, depths)))


def _reader_of(graph: TaskGraph, partition: Partition, root: Partition) -> str:
    """The label of the partition through which ``partition`` reads ``root`` (itself a direct reader: ``root``)."""
    deps = graph.deps[partition]
    if root in deps:
        return root.label
    via = [d for d in sorted(deps) if d in graph.downstream(root)]
    return via[0].label if via else root.label


def invalidate(targets: Sequence[Target]) -> list[Partition]:
    """Remove ``targets``, dependants first; return the partitions actually removed."""
    removed = []
    for target in reversed(targets):  # dependants come after what they read: remove them first
        if target.stage.invalidate(target.key):
            removed.append(target.partition)
    return removed
