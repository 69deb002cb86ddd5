"""The pipeline: plan the partitions of some parents and layers, and run them as one task graph.

One place for what ``rst run``, ``rst update``, ``rst demo`` and the app's build buttons
do, so the faces can never disagree. A parent's layer is planned once the layer before it
has settled for that parent (silver's trade dates come from the calendar bronze
definitions give), so one parent's silver runs while another's bronze still does, on one
executor. Partition locks (taken by :meth:`Stage.run`) keep a CLI run and an app run on
the same lake from writing the same partition twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from rst.framework.graph import Task
from rst.framework.lake import Lake, Layer
from rst.framework.runner import run_tasks
from rst.framework.stage import PartitionResult


def plan_pipeline(
    lake: Lake,
    parents: Sequence[str],
    *,
    layers: Sequence[Layer] = tuple(Layer),
    dates: Sequence[dt.date] | None = None,
    force: bool = False,
    tables: Sequence[str] | None = None,
) -> list[Task]:
    """The tasks of ``layers`` as the lake stands now (upstream first); ``dates=None``: every partition the inputs allow."""
    from rst.stages.registry import plan

    return plan(lake, list(layers), list(parents), dates, force=force, tables=list(tables) if tables else None)


class _LayerByLayer:
    """Plans each (parent, layer) once the parent's previous layer has settled: the runner's ``expand``."""

    def __init__(
        self,
        lake: Lake,
        layers: Sequence[Layer],
        dates: Sequence[dt.date] | None,
        force: bool,
        tables: Sequence[str] | None,
        on_planned: Callable[[int], None] | None = None,
    ) -> None:
        self.lake = lake
        self.on_planned = on_planned
        self.layers = sorted(layers, key=list(Layer).index)
        self.dates = dates
        self.force = force
        self.tables = tables
        self.pending: dict[str, int] = {}
        self.next_layer: dict[str, int] = {}

    def start(self, parents: Sequence[str]) -> list[Task]:
        tasks: list[Task] = []
        for parent in parents:
            self.next_layer[parent] = 0
            tasks += self._advance(parent)
        return tasks

    def _advance(self, parent: str) -> list[Task]:
        """The tasks of the parent's next layer that has any (none left: [])."""
        while self.next_layer[parent] < len(self.layers):
            layer = self.layers[self.next_layer[parent]]
            self.next_layer[parent] += 1
            tasks = plan_pipeline(self.lake, [parent], layers=[layer], dates=self.dates, force=self.force, tables=self.tables)
            if tasks:
                self.pending[parent] = len(tasks)
                if self.on_planned:
                    self.on_planned(len(tasks))
                return tasks
        return []

    def __call__(self, task: Task, result: PartitionResult) -> list[Task]:
        parent = task.partition.symbol
        if parent not in self.pending or task.partition.layer is not self.layers[self.next_layer[parent] - 1]:
            return []
        self.pending[parent] -= 1
        return self._advance(parent) if self.pending[parent] == 0 else []


def run_pipeline(
    lake: Lake,
    parents: Sequence[str],
    *,
    layers: Sequence[Layer] = tuple(Layer),
    dates: Sequence[dt.date] | None = None,
    force: bool = False,
    tables: Sequence[str] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    on_result: Callable[[PartitionResult], None] | None = None,
    on_planned: Callable[[int], None] | None = None,
) -> list[PartitionResult]:
    """Run ``parents`` through ``layers``; up-to-date partitions are skipped, failures isolated.

    ``on_planned(n)`` is told each time ``n`` more tasks join the run (a progress bar's total).
    """
    from rst.framework.commit import purge_trash

    planner = _LayerByLayer(lake, layers, dates, force, tables, on_planned)
    results = run_tasks(
        planner.start(parents), workers=workers, executor=executor, on_result=on_result, expand=planner
    )
    purge_trash(lake)  # also when nothing was rebuilt: swapped-out partitions past their grace period
    return results
