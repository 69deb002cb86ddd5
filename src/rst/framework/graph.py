"""The task graph of a run: which partition tasks must settle before which.

A :class:`Task` is one partition of one stage to bring up to date. Its dependencies are
the tasks of the same run that build a partition it reads: the partitions its stage's
``inputs()`` name (:class:`rst.framework.stage.PartitionInput`), resolved while the run is
*planned* (:func:`planning`), so that a partition the run is about to build counts as
one it will read; plus every task of the tables its stage :meth:`~rst.framework.stage.Stage.waits_for`.
When a stage cannot tell yet what it will read (silver needs its parent's bronze
definitions for that), its task waits for every task of the parent's earlier layers.
The runner (:mod:`rst.framework.runner`) dispatches a task as soon as its dependencies
have settled, so a reader is never built before (or concurrently with) what it reads,
whatever the number of workers; ``rst invalidate --downstream`` and ``rst status`` walk
the same edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from rst.errors import RstError
from rst.framework.lake import Layer
from rst.framework.partition import Partition, PartitionKey
from rst.framework.stage import Input, PartitionInput, Stage

_PLANNED: ContextVar[frozenset[Partition]] = ContextVar("rst_planned", default=frozenset())


@dataclass(frozen=True)
class Task:
    """One partition of one stage to bring up to date."""

    stage: Stage
    key: PartitionKey
    force: bool = False

    @property
    def partition(self) -> Partition:
        return self.stage.partition(self.key)

    @property
    def label(self) -> str:
        return self.partition.label


@contextmanager
def planning(partitions: Iterable[Partition]) -> Iterator[None]:
    """Within the block, ``partitions`` count as complete for :meth:`Stage.complete`."""
    token = _PLANNED.set(frozenset(partitions))
    try:
        yield
    finally:
        _PLANNED.reset(token)


def is_planned(partition: Partition) -> bool:
    """Whether the run being planned builds ``partition``."""
    return partition in _PLANNED.get()


def planned_keys(layer: Layer, symbol: str, table: str) -> list[PartitionKey]:
    """Keys of the partitions of one table the run being planned builds."""
    return sorted(
        p.key for p in _PLANNED.get() if (p.layer, p.symbol, p.table) == (layer, symbol, table)
    )


def reads(stage: Stage, key: PartitionKey) -> list[Partition] | None:
    """The upstream partitions ``stage`` reads for ``key`` (planned ones included, under :func:`planning`).

    None when the inputs cannot be resolved yet: a silver stage needs its parent's bronze
    definitions (time zone, calendar) to say which bronze partitions it reads.
    """
    inputs = _inputs(stage, key)
    return None if inputs is None else [i.partition for i in inputs if isinstance(i, PartitionInput)]


def _inputs(stage: Stage, key: PartitionKey) -> list[Input] | None:
    try:
        return stage.inputs(key)
    except RstError:
        return None


@dataclass
class TaskGraph:
    """Tasks and their dependencies; tasks are added upstream first (a layer before the next)."""

    tasks: dict[Partition, Task] = field(default_factory=dict)
    deps: dict[Partition, set[Partition]] = field(default_factory=dict)
    dependants: dict[Partition, set[Partition]] = field(default_factory=dict)
    by_table: dict[tuple[Layer, str, str], list[Partition]] = field(default_factory=dict)
    resolved: dict[Partition, list[Input]] = field(default_factory=dict)
    """The inputs of tasks that read no task of the graph: what they are now is what they will be when
    the task runs (nothing planned stood in for them), so the runner's up-to-date check reuses them."""

    def add(self, tasks: Iterable[Task]) -> list[Task]:
        """Add ``tasks`` (a partition already in the graph is not added twice); return those added."""
        added: list[Task] = []
        for task in tasks:
            me = task.partition
            if me not in self.tasks:
                self.tasks[me] = task
                self.by_table.setdefault((me.layer, me.symbol, me.table), []).append(me)
                added.append(task)
        with planning(self.tasks):
            for task in added:
                self._link(task)
        return added

    def _link(self, task: Task) -> None:
        me = task.partition
        inputs = _inputs(task.stage, task.key)
        read = None if inputs is None else [i.partition for i in inputs if isinstance(i, PartitionInput)]
        if read is None:  # unknown yet: after every task of the parent's earlier layers, to be safe
            rank = list(Layer).index
            read = [p for p in self.tasks if p.symbol == me.symbol and rank(p.layer) < rank(me.layer)]
        upstream = {p for p in read if p in self.tasks and p != me}
        for layer, table in task.stage.waits_for():
            upstream.update(p for p in self.by_table.get((layer, me.symbol, table), ()) if p != me)
        self.deps[me] = upstream
        if inputs is not None and not upstream and not any(is_planned(p) for p in read):
            self.resolved[me] = inputs
        for p in upstream:
            self.dependants.setdefault(p, set()).add(me)

    def downstream(self, partition: Partition) -> set[Partition]:
        """Every partition of the graph that reads ``partition``, directly or transitively."""
        found: set[Partition] = set()
        todo = [partition]
        while todo:
            for p in self.dependants.get(todo.pop(), ()):
                if p not in found:
                    found.add(p)
                    todo.append(p)
        return found

    def depth(self, partition: Partition, memo: dict[Partition, int] | None = None) -> int:
        """0 for a task that reads no task of the graph, else one more than the deepest it reads.

        ``memo`` (shared across calls) keeps a sort by depth linear in the graph's edges.
        """
        memo = {} if memo is None else memo
        if partition not in memo:
            deps = self.deps.get(partition, set())
            memo[partition] = 1 + max(self.depth(d, memo) for d in deps) if deps else 0
        return memo[partition]
