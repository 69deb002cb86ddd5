"""The nightly update's configuration: which datasets, schemas and parents, from when.

The file is TOML, read with the standard library's :mod:`tomllib`: no new
dependency (no YAML parser needed), comments are allowed, and dates are a
native TOML type, so ``start = 2018-01-01`` needs no string parsing::

    # config/update.toml -- what `rst update` keeps complete, up to the dataset's available end
    max_cost_usd = 25.0            # optional: refuse a night whose plan costs more (finite, >= 0)

    [[target]]
    dataset = "GLBX.MDP3"
    schemas = ["ohlcv-1d", "definition"]
    parents = ["ES.FUT", "NQ.FUT"]
    start = 2018-01-01             # UTC, inclusive
    # stype_in = "parent"          # default
    # granularity = "year"         # day | month | year; default per schema

Every value is validated here, once, with errors naming the file and the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from databento_dbn import Schema, SType

from rst.errors import ConfigError, UsageError
from rst.sources.databento_api.cost import validate_cost_cap
from rst.sources.databento_api.plan import DEFAULT_STYPE_IN, Granularity, to_ns
from rst.validation import validate_symbol

DEFAULT_UPDATE_CONFIG = Path("config") / "update.toml"

_TARGET_KEYS = {"dataset", "schemas", "parents", "start", "stype_in", "granularity"}
_TOP_KEYS = {"target", "max_cost_usd"}


@dataclass(frozen=True)
class UpdateTarget:
    """Keep ``schemas`` x ``parents`` of ``dataset`` complete from ``start_ns`` (UTC ns, inclusive).

    ``parents`` are lake parent names (``ES``; ``ES.FUT`` in the file is accepted and reduced).
    """

    dataset: str
    schemas: tuple[str, ...]
    parents: tuple[str, ...]
    start_ns: int
    stype_in: str = DEFAULT_STYPE_IN
    granularity: Granularity | None = None


@dataclass(frozen=True)
class UpdateConfig:
    """All targets of one update config file; ``max_cost_usd`` caps a run's planned cost (USD)."""

    targets: tuple[UpdateTarget, ...]
    max_cost_usd: float | None = None
    path: Path | None = None


def load_update_config(path: Path | str = DEFAULT_UPDATE_CONFIG) -> UpdateConfig:
    """Read and validate an update config (TOML). Raises :class:`ConfigError` naming the problem."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(p, "file not found; see rst.sources.databento_api.update_config for the format") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(p, f"not valid TOML: {exc}") from None
    return parse_update_config(doc, p)


def parse_update_config(doc: dict[str, Any], path: Path | str = "<config>") -> UpdateConfig:
    """Validate an already parsed TOML document (see the module docstring for the format)."""
    p = Path(path)
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise ConfigError(p, f"unknown key(s) {sorted(unknown)}; expected {sorted(_TOP_KEYS)}")
    raw_targets = doc.get("target")
    if not isinstance(raw_targets, list) or not raw_targets:
        raise ConfigError(p, "no [[target]] tables: add at least one with dataset, schemas, parents, start")
    max_cost = doc.get("max_cost_usd")
    if max_cost is not None:
        if isinstance(max_cost, str):  # TOML has numbers (nan and inf included); a string is a mistake
            raise ConfigError(p, f"max_cost_usd must be a number in USD, got the string {max_cost!r}")
        try:
            max_cost = validate_cost_cap(max_cost, "max_cost_usd")
        except UsageError as exc:
            raise ConfigError(p, str(exc)) from None
    targets = tuple(_parse_target(t, p, i) for i, t in enumerate(raw_targets, start=1))
    return UpdateConfig(targets, max_cost, p)


def _parse_target(t: Any, p: Path, i: int) -> UpdateTarget:
    where = f"[[target]] #{i}"
    if not isinstance(t, dict):
        raise ConfigError(p, f"{where} is not a table")
    unknown = set(t) - _TARGET_KEYS
    if unknown:
        raise ConfigError(p, f"{where}: unknown key(s) {sorted(unknown)}; expected {sorted(_TARGET_KEYS)}")
    for key in ("dataset", "schemas", "parents", "start"):
        if key not in t:
            raise ConfigError(p, f"{where}: missing '{key}'")
    dataset = t["dataset"]
    if not isinstance(dataset, str) or not dataset.strip():
        raise ConfigError(p, f"{where}: dataset must be a non-empty string like 'GLBX.MDP3'")
    schemas = _str_list(t["schemas"], p, f"{where}: schemas")
    for s in schemas:
        try:
            Schema.from_str(s)
        except Exception:
            raise ConfigError(p, f"{where}: '{s}' is not a Databento schema (e.g. ohlcv-1d, definition)") from None
    parents = tuple(_parent(v, p, where) for v in _str_list(t["parents"], p, f"{where}: parents"))
    start = t["start"]
    if isinstance(start, datetime) or not isinstance(start, date):
        raise ConfigError(p, f"{where}: start must be a TOML date like 2018-01-01 (UTC), got {start!r}")
    stype_in = t.get("stype_in", DEFAULT_STYPE_IN)
    try:
        SType(stype_in)
    except Exception:
        raise ConfigError(p, f"{where}: '{stype_in}' is not a Databento stype_in (e.g. parent, raw_symbol)") from None
    grain = t.get("granularity")
    try:
        granularity = Granularity(grain) if grain is not None else None
    except ValueError:
        raise ConfigError(p, f"{where}: granularity must be one of day, month, year; got {grain!r}") from None
    return UpdateTarget(dataset.strip(), schemas, parents, to_ns(start), stype_in, granularity)


def _parent(value: str, p: Path, where: str) -> str:
    try:
        return validate_symbol(value, f"{where}: parents")
    except UsageError as exc:
        raise ConfigError(p, str(exc)) from None


def _str_list(value: Any, p: Path, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(p, f"{what} must be a non-empty list of strings")
    return tuple(v.strip() for v in value)
