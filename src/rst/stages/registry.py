"""Which stages exist for a symbol, and the plan (the tasks) of a run.

Bronze has one stage per raw DBN schema present for the parent; silver one per
bronze table it refines; gold the session windows and the saved continuous
series of the parent. The runner orders the tasks by what they read
(:mod:`rst.framework.graph`).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Sequence

from rst.framework.graph import Task
from rst.framework.lake import Lake, Layer
from rst.framework.listing import is_symbol
from rst.framework.stage import Stage

StageFactory = Callable[[Lake, str], list[Stage]]
_FACTORIES: dict[Layer, list[StageFactory]] = {layer: [] for layer in Layer}


def register(layer: Layer) -> Callable[[StageFactory], StageFactory]:
    """Decorator: ``factory(lake, symbol)`` returns the stages of ``layer`` for a symbol."""

    def wrap(factory: StageFactory) -> StageFactory:
        _FACTORIES[layer].append(factory)
        return factory

    return wrap


def _load(layer: Layer) -> None:
    """Import the layer's package, which runs its ``@register`` decorators."""
    importlib.import_module(f"rst.stages.{layer.value}")


def stages_for(lake: Lake, layer: Layer, symbol: str) -> list[Stage]:
    """The stages of ``layer`` that apply to ``symbol`` in this lake."""
    _load(layer)
    stages: list[Stage] = []
    for factory in _FACTORIES[layer]:
        stages.extend(factory(lake, symbol))
    return stages


def known_symbols(lake: Lake) -> list[str]:
    """Every parent with raw files or bronze tables in the lake."""
    from rst.sources.raw_zone import RawZone

    symbols = {f.parent for f in RawZone(lake.root).files()}
    symbols.update(lake.parents_in(Layer.BRONZE))
    return sorted(s for s in symbols if is_symbol(s))  # a stray such as parent=ES.bak is no parent


def plan(
    lake: Lake,
    layers: Sequence[Layer],
    symbols: Sequence[str],
    dates: Sequence[dt.date] | None,
    *,
    force: bool = False,
    tables: Sequence[str] | None = None,
) -> list[Task]:
    """The tasks of ``layers`` for ``symbols``, upstream layers first; ``dates=None``: every partition the inputs allow."""
    tasks: list[Task] = []
    for layer in sorted(layers, key=list(Layer).index):
        for symbol in symbols:
            for stage in stages_for(lake, layer, symbol):
                if tables and stage.table not in tables:
                    continue
                keys = stage.keys_for_dates(dates) if dates is not None else stage.available_keys()
                tasks.extend(Task(stage, key, force) for key in keys)
    return tasks
