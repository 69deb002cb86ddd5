"""The dependency-graph runner: a task runs only after what it reads has settled, exactly once;
what reads a failed partition is not built; transient failures are retried; an executor that
loses a task fails only that partition. Stages here are in-memory (``run_task`` is replaced),
so the properties are about scheduling alone, on real executors (threads, inline)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rst.errors import PartitionLocked
from rst.framework import runner
from rst.framework.backoff import RetryPolicy
from rst.framework.graph import Task, TaskGraph
from rst.framework.lake import Lake, Layer
from rst.framework.partition import Granularity, Partition, PartitionKey
from rst.framework.stage import Input, Outcome, PartitionInput, PartitionResult, Stage, StageContext

KEY = PartitionKey(Granularity.DAY, "2024-03-01")
NO_WAIT = RetryPolicy(max_attempts=3, base_delay_s=0.0, max_delay_s=0.0, jitter=0.0)


class NodeStage(Stage):
    """A stage named ``n<i>`` whose one partition reads the partitions of the stages ``reads`` names."""

    layer = Layer.BRONZE

    def __init__(self, lake: Lake, name: str, reads: tuple[str, ...]) -> None:
        super().__init__(lake, "ES", {})
        self.table = name  # type: ignore[misc]
        self.reads = reads

    def inputs(self, key: PartitionKey) -> list[Input]:
        return [PartitionInput(Partition(Layer.BRONZE, "ES", r, key)) for r in self.reads]

    def transform(self, ctx: StageContext) -> Iterator[pa.Table]:  # never called: run_task is replaced
        raise AssertionError


class Recorder:
    """Stands in for ``run_task``: records start/end order; fails or raises for chosen tables."""

    def __init__(self, fail: set[str] = frozenset(), transient: dict[str, int] | None = None) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []
        self.fail = fail
        self.transient = dict(transient or {})
        self.calls: dict[str, int] = {}

    def __call__(self, task: Task) -> PartitionResult:
        name = task.partition.table
        with self.lock:
            self.events.append(("start", name))
            self.calls[name] = self.calls.get(name, 0) + 1
            left = self.transient.get(name, 0)
            if left:
                self.transient[name] = left - 1
        time.sleep(0.001)
        with self.lock:
            self.events.append(("end", name))
        if left:
            exc = PartitionLocked(f"{name} is locked by another process")
            return PartitionResult(task.partition, Outcome.FAILED, error=str(exc), transient=runner.is_transient(exc))
        if name in self.fail:
            return PartitionResult(task.partition, Outcome.FAILED, error="boom")
        return PartitionResult(task.partition, Outcome.BUILT)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


def _tasks(lake: Lake, edges: dict[int, set[int]]) -> list[Task]:
    stages = {i: NodeStage(lake, f"n{i}", tuple(f"n{j}" for j in sorted(edges[i]))) for i in edges}
    return [Task(stages[i], KEY) for i in sorted(edges)]


def _run(monkeypatch: pytest.MonkeyPatch, tasks: list[Task], recorder: Recorder, **kw: Any) -> list[PartitionResult]:
    monkeypatch.setattr(runner, "run_task", recorder)
    monkeypatch.setattr(runner, "precheck", lambda task, inputs=None: None)
    return runner.run_tasks(tasks, retry=NO_WAIT, **kw)


@st.composite
def dags(draw: st.DrawFn) -> dict[int, set[int]]:
    """A random DAG on up to 12 nodes: node i reads some nodes j < i."""
    n = draw(st.integers(1, 12))
    return {i: set(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else set() for i in range(n)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edges=dags(), failing=st.sets(st.integers(0, 11), max_size=2), threads=st.sampled_from([0, 1, 2, 4]))
def test_every_task_runs_once_after_what_it_reads_and_not_after_a_failure(
    monkeypatch: pytest.MonkeyPatch, lake: Lake, edges: dict[int, set[int]], failing: set[int], threads: int
) -> None:
    tasks = _tasks(lake, edges)
    fail = {f"n{i}" for i in failing if i in edges}
    recorder = Recorder(fail)
    executor: Executor | None = ThreadPoolExecutor(threads) if threads else None
    try:
        results = _run(monkeypatch, tasks, recorder, executor=executor)
    finally:
        if executor is not None:
            executor.shutdown()
    ended = {name: i for i, (what, name) in enumerate(recorder.events) if what == "end"}
    started = {name: i for i, (what, name) in enumerate(recorder.events) if what == "start"}
    blocked = set()  # what transitively reads a failed node
    for i in sorted(edges):
        if any(f"n{j}" in fail or f"n{j}" in blocked for j in edges[i]):
            blocked.add(f"n{i}")
    assert sorted(r.partition.table for r in results) == sorted(f"n{i}" for i in edges)  # each settles once
    assert set(started) == {f"n{i}" for i in edges} - blocked  # a blocked task never runs
    assert all(n == 1 for n in recorder.calls.values())  # and no task runs twice
    for i, reads in edges.items():
        if f"n{i}" in started:
            assert all(ended[f"n{j}"] < started[f"n{i}"] for j in reads)  # after all it reads ended
    for r in results:
        if r.partition.table in blocked:
            assert r.outcome is Outcome.FAILED and "not built: its input bronze/ES/n" in (r.error or "")


def test_transient_failures_are_retried_until_they_pass_then_reported(monkeypatch: pytest.MonkeyPatch, lake: Lake) -> None:
    tasks = _tasks(lake, {0: set(), 1: {0}, 2: set()})
    recorder = Recorder(transient={"n0": 2, "n2": 5})  # n0 passes on its third try; n2 never within 3
    results = {r.partition.table: r for r in _run(monkeypatch, tasks, recorder)}
    assert recorder.calls == {"n0": 3, "n1": 1, "n2": 3}
    assert results["n0"].outcome is Outcome.BUILT and results["n1"].outcome is Outcome.BUILT
    assert results["n2"].outcome is Outcome.FAILED and "locked by another process" in (results["n2"].error or "")


def test_a_terminal_failure_is_not_retried(monkeypatch: pytest.MonkeyPatch, lake: Lake) -> None:
    recorder = Recorder(fail={"n0"})
    (result,) = _run(monkeypatch, _tasks(lake, {0: set()}), recorder)
    assert recorder.calls == {"n0": 1} and result.outcome is Outcome.FAILED and not result.transient


class LosingExecutor(ThreadPoolExecutor):
    """An executor that loses the task of one table (as Dask does with ``KilledWorker``)."""

    def __init__(self, lose: str) -> None:
        super().__init__(2)
        self.lose = lose

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        task = args[0]
        if task.partition.table == self.lose:
            future: Future[Any] = Future()
            future.set_exception(RuntimeError("worker tcp://127.0.0.1:1 died"))
            return future
        return super().submit(fn, *args, **kwargs)


def test_a_task_the_executor_loses_fails_alone_and_blocks_its_readers(monkeypatch: pytest.MonkeyPatch, lake: Lake) -> None:
    tasks = _tasks(lake, {0: set(), 1: {0}, 2: set()})
    with LosingExecutor("n0") as executor:
        results = {r.partition.table: r for r in _run(monkeypatch, tasks, Recorder(), executor=executor)}
    assert "worker process died" in (results["n0"].error or "") and "tcp://127.0.0.1:1 died" in (results["n0"].error or "")
    assert results["n1"].error == "not built: its input bronze/ES/n0/dt=2024-03-01 failed; rerun once that is fixed"
    assert results["n2"].outcome is Outcome.BUILT


def test_expand_adds_tasks_that_wait_for_what_they_read(monkeypatch: pytest.MonkeyPatch, lake: Lake) -> None:
    first = _tasks(lake, {0: set()})
    later = Task(NodeStage(lake, "n1", ("n0",)), KEY)
    added: list[str] = []

    def expand(task: Task, result: PartitionResult) -> list[Task]:
        added.append(task.partition.table)
        return [later] if task.partition.table == "n0" else []

    recorder = Recorder()
    results = _run(monkeypatch, first, recorder, expand=expand)
    assert [r.partition.table for r in results] == ["n0", "n1"] and added == ["n0", "n1"]


def test_graph_downstream_is_transitive(lake: Lake) -> None:
    graph = TaskGraph()
    graph.add(_tasks(lake, {0: set(), 1: {0}, 2: {1}, 3: set()}))
    part = {f"n{i}": Partition(Layer.BRONZE, "ES", f"n{i}", KEY) for i in range(4)}
    assert graph.downstream(part["n0"]) == {part["n1"], part["n2"]}
    assert graph.downstream(part["n3"]) == set()


def test_pool_workers_see_the_environment_of_when_the_pool_was_made(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    runner.warm_forkserver()  # started before the variable exists, as a long-lived process would have it
    monkeypatch.setenv("RST_TEST_LATE_SECRET", "set-after-the-fork-server")
    pool = runner.make_executor(2)
    assert pool is not None
    try:
        assert pool.submit(os.getenv, "RST_TEST_LATE_SECRET").result(timeout=60) == "set-after-the-fork-server"
    finally:
        pool.shutdown()
