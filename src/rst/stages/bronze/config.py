"""Per-table bronze parameters from ``<lake>/_config/bronze.toml``.

Example (turns on front-month-only selection for the order book)::

    [mbp_10]
    front_month_only = true

    [tbbo]
    front_month_only = true

A table's section becomes its stage's ``params`` (recorded in every manifest and part
of the lineage: changing it makes the table's partitions stale). Absent file or
section: no parameters. Known keys are listed in :data:`KNOWN_PARAMS`; anything else
is a :class:`~rst.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from rst.errors import ConfigError
from rst.framework.lake import Lake

CONFIG_NAME = "bronze.toml"
KNOWN_PARAMS: dict[str, type] = {"front_month_only": bool}
FRONT_MONTH_TABLES = ("mbp_10", "mbp_1", "tbbo", "trades")
"""Tables whose stages honour ``front_month_only``."""


def config_path(lake: Lake) -> Path:
    """The lake's stage configuration file (under the lake's internal ``config`` folder)."""
    return lake.internal("config") / CONFIG_NAME


def stage_params(lake: Lake, table: str) -> dict[str, Any]:
    """The validated parameters of bronze ``table`` (empty when not configured)."""
    path = config_path(lake)
    if not path.is_file():
        return {}
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, f"unreadable bronze config: {exc}") from exc
    section = doc.get(table, {})
    if not isinstance(section, dict):
        raise ConfigError(path, f"[{table}] must be a table")
    params: dict[str, Any] = {}
    for key, value in section.items():
        expected = KNOWN_PARAMS.get(key)
        if expected is None:
            raise ConfigError(path, f"[{table}] unknown key {key!r} (known: {', '.join(KNOWN_PARAMS)})")
        if not isinstance(value, expected):
            raise ConfigError(path, f"[{table}] {key} must be a {expected.__name__}, got {value!r}")
        if key == "front_month_only" and table not in FRONT_MONTH_TABLES:
            raise ConfigError(path, f"[{table}] front_month_only applies to {', '.join(FRONT_MONTH_TABLES)} only")
        params[key] = value
    return params
