"""``rst verify --repair``: rebuild exactly the partitions verify found damaged.

A damaged partition (a part changed, resized, missing or unlisted; an invalid manifest)
is rebuilt through its stage, like ``rst run`` would (lock, staging, atomic swap), and
verified again. A damaged quarantine partition is rebuilt through its main partition.
Everything else verify reports is left as it is and named: raw files (immutable: fix
them with ``rst import``), stray entries (the user's to remove) and tables no stage
builds. Downstream partitions are not touched: if a rebuilt partition's output differs,
``rst status`` shows what reads it as stale and ``rst run`` refreshes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rst.framework.graph import Task
from rst.framework.integrity import clear_record
from rst.framework.lake import Lake, Layer
from rst.framework.listing import partition_at
from rst.framework.partition import Partition
from rst.framework.runner import run_tasks
from rst.framework.stage import Outcome, PartitionResult, Stage
from rst.framework.verify import Problem, verify_partition
from rst.stages.registry import stages_for


@dataclass
class RepairResult:
    """What ``repair`` rebuilt, what still fails verification after it, and what it cannot rebuild."""

    results: list[PartitionResult] = field(default_factory=list)
    remaining: list[Problem] = field(default_factory=list)
    unrepairable: list[Problem] = field(default_factory=list)


def repair(lake: Lake, problems: Sequence[Problem], *, workers: int = 1) -> RepairResult:
    """Rebuild (forced) the partitions named by ``problems``, readers after what they read, and verify them again."""
    out = RepairResult()
    tasks: dict[Partition, Task] = {}
    directories = {}
    for problem in problems:
        found = _task_for(lake, problem)
        if found is None:
            out.unrepairable.append(problem)
            continue
        tasks.setdefault(found.stage.partition(found.key), found)
        directories[problem.partition] = lake.root / problem.partition
    ordered = sorted(tasks.values(), key=lambda t: (list(Layer).index(t.partition.layer), t.partition))
    out.results = run_tasks(ordered, workers=workers)
    for directory in directories.values():
        again = verify_partition(lake, directory)
        if not again:
            clear_record(lake, directory)
        out.remaining.extend(again)
    return out


def _task_for(lake: Lake, problem: Problem) -> Task | None:
    """The forced task that rebuilds the partition ``problem`` concerns (None: no stage builds it)."""
    if not problem.partition:
        return None
    partition = partition_at(lake, lake.root / problem.partition)
    if partition is None:
        return None
    stage = _stage_writing(lake, partition)
    return Task(stage, partition.key, force=True) if stage is not None else None


def _stage_writing(lake: Lake, partition: Partition) -> Stage | None:
    """The stage whose main or quarantine table is ``partition``'s, with the same granularity."""
    for stage in stages_for(lake, partition.layer, partition.symbol):
        if partition.table in (stage.table, stage.quarantine_table) and stage.granularity is partition.key.granularity:
            return stage
    return None


def failed(result: RepairResult) -> list[PartitionResult]:
    """The rebuilds that failed."""
    return [r for r in result.results if r.outcome is Outcome.FAILED]
