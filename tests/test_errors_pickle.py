"""Every ``RstError`` survives pickling (a process pool or a cluster executor ships errors between
processes) with the same type, ``str()``, ``args`` and attributes.

The subclasses are found, not listed: every module of the package is imported (in a subprocess) and
``RstError.__subclasses__()`` walked recursively, so a new error class is covered the day it is written.
Each is built by calling its own ``__init__`` with values chosen from its type hints.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pickle
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from rst.errors import RstError, StageError

FIND = """
import importlib, json, pkgutil, rst
from rst.errors import RstError
for module in pkgutil.walk_packages(rst.__path__, "rst."):
    importlib.import_module(module.name)
found, todo = set(), [RstError]
while todo:
    for sub in todo.pop().__subclasses__():
        if sub not in found:
            found.add(sub)
            todo.append(sub)
print(json.dumps(sorted({c.__module__ for c in found})))
"""


def _all_subclasses() -> list[type[RstError]]:
    """Every subclass, found by importing every module of the package, in a subprocess (importing
    every module here would bind submodules over a package's lazily exported names for the
    tests that follow), then importing here only the modules that define one."""
    out = subprocess.run([sys.executable, "-c", FIND], capture_output=True, text=True, check=True, timeout=120)
    for name in json.loads(out.stdout):
        importlib.import_module(name)
    found: set[type[RstError]] = set()
    todo = [RstError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found and sub.__module__.startswith("rst."):
                found.add(sub)
                todo.append(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


SUBCLASSES = _all_subclasses()


def sample(hint: Any, name: str, depth: int = 0) -> Any:
    """A distinctive value of type ``hint`` for parameter ``name``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is Any or hint is str:
        return f"{name}-value"
    if hint is Path:
        return Path(f"/lake/{name}.dbn.zst")
    if hint is bool:
        return True
    if hint is int:
        return 4242
    if hint is float:
        return 2.5
    if isinstance(hint, type) and issubclass(hint, BaseException):
        return build(hint, depth + 1) if issubclass(hint, RstError) else ValueError(f"{name} cause")
    raise AssertionError(f"no sample value for {name}: {hint!r}; teach sample() this type")


def build(cls: type[RstError], depth: int = 0) -> RstError:
    """An instance made through ``cls``'s own ``__init__`` (every parameter given a value)."""
    assert depth < 4
    init = cls.__init__
    if init is BaseException.__init__:  # no own __init__ anywhere in its MRO below Exception
        return cls(f"{cls.__name__}: one actionable line")
    hints = typing.get_type_hints(init)
    params = [p for p in inspect.signature(init).parameters.values() if p.name != "self"]
    kwargs = {p.name: sample(hints.get(p.name, str), p.name, depth) for p in params
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}  # fmt: skip
    return cls(**kwargs)


def comparable(value: Any) -> Any:
    """Exceptions compare by identity: compare their type name and text instead (recursively)."""
    if isinstance(value, BaseException):
        return (type(value).__name__, str(value), comparable(vars(value)) if vars(value) else None)
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    return value


def test_the_package_has_the_known_errors() -> None:
    names = {c.__name__ for c in SUBCLASSES}
    assert {"ContractViolation", "StageError", "RetriesExhausted", "RequestRefused", "CostLimitExceeded"} <= names


@pytest.mark.parametrize("cls", SUBCLASSES, ids=lambda c: c.__qualname__)
def test_every_rst_error_survives_pickling(cls: type[RstError]) -> None:
    error = build(cls)
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        back = pickle.loads(pickle.dumps(error, protocol=protocol))
        assert type(back) is cls
        assert str(back) == str(error) and back.args == error.args
        assert comparable(vars(back)) == comparable(vars(error))


class _Unpicklable(Exception):
    def __init__(self, code: int, detail: str) -> None:  # default exception pickling calls cls(message)
        super().__init__(f"{code}: {detail}")


def test_a_cause_that_cannot_be_pickled_travels_as_its_text() -> None:
    error = StageError("bronze", "ohlcv_1d", "year=2024", _Unpicklable(7, "decoder panic"))
    with pytest.raises(TypeError):
        pickle.loads(pickle.dumps(error.cause))
    back = pickle.loads(pickle.dumps(error))
    assert str(back) == str(error) == "bronze/ohlcv_1d [year=2024] failed: 7: decoder panic"
    assert str(back.cause) == f"{__name__}._Unpicklable: 7: decoder panic"
