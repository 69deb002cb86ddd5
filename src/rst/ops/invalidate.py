"""``rst invalidate``: take partitions away so that the next run rebuilds them.

Each partition goes through :meth:`Stage.invalidate` (under its lock; moved to
``<lake>/_trash/`` with one rename, then deleted; its failure record cleared), so
readers never see a half-deleted partition. With ``downstream``, the partitions
of later layers that read a removed partition (directly or transitively) go too,
found through each stage's declared inputs *before* anything is removed.
Dependants are removed first, so a reader never finds a downstream partition
whose upstream is already gone in the same invalidation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from rst.framework.lake import Lake, Layer
from rst.framework.partition import Partition, PartitionKey
from rst.framework.stage import PartitionInput, Stage
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
    """Existing partitions of later layers that read any of ``targets``, transitively."""
    chosen = {t.partition for t in targets}
    first = min(list(Layer).index(t.partition.layer) for t in targets)
    found: list[Target] = []
    for layer in list(Layer)[first + 1 :]:
        for symbol in symbols:
            for stage in stages_for(lake, layer, symbol):
                for key in stage.existing_keys():
                    partition = stage.partition(key)
                    if partition in chosen:
                        continue
                    upstream = [
                        i.partition.label
                        for i in stage.inputs(key)
                        if isinstance(i, PartitionInput) and i.partition in chosen
                    ]
                    if upstream:
                        chosen.add(partition)
                        found.append(Target(stage, key, because=upstream[0]))
    return found


def invalidate(targets: Sequence[Target]) -> list[Partition]:
    """Remove ``targets``, dependants first; return the partitions actually removed."""
    removed = []
    for target in sorted(targets, key=lambda t: list(Layer).index(t.partition.layer), reverse=True):
        if target.stage.invalidate(target.key):
            removed.append(target.partition)
    return removed
