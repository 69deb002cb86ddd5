"""Editing parent metadata overrides (``<lake>/_config/parents.toml``) and seeing what becomes stale.

:func:`save_override` validates the new values the way :mod:`rst.parents.overrides` reads them,
rewrites the whole file atomically (other parents' tables are kept as read) and reads it back;
:func:`stale_after_change` lists the partitions of the parent that are no longer up to date,
so the app can show the effect of an edit (a new time zone re-dates every silver partition).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from rst.errors import ConfigError
from rst.framework.lake import Lake, Layer
from rst.framework.paths import replace_file
from rst.parents.overrides import FIXED_SCALE, PARENTS_FILE, ParentOverride, load_overrides, to_fixed, validate_timezone

EDITABLE = ("exchange", "timezone", "currency", "tick_size", "point_value", "roll_days", "notes")
"""Keys of a parent's table the editor writes (an empty value removes the key: derive it again)."""


def fixed_text(value: int | None) -> str:
    """An int64 fixed-point 1e-9 value as an exact decimal string (``250000000`` -> ``"0.25"``)."""
    return "" if value is None else format((Decimal(value) / FIXED_SCALE).normalize(), "f")


def override_values(override: ParentOverride | None) -> dict[str, str]:
    """The editor's text fields for ``override`` (empty strings where nothing is overridden)."""
    o = override or ParentOverride()
    return {
        "exchange": o.exchange or "",
        "timezone": o.timezone or "",
        "currency": o.currency or "",
        "tick_size": fixed_text(o.tick_size),
        "point_value": fixed_text(o.point_value),
        "roll_days": "" if o.roll_days is None else str(o.roll_days),
        "notes": o.notes,
    }


def _clean(parent: str, values: Mapping[str, str]) -> dict[str, Any]:
    """The TOML table for ``values``: validated, empty fields dropped; ``ConfigError`` names the field."""
    path = PARENTS_FILE
    out: dict[str, Any] = {}
    try:
        for key in EDITABLE:
            text = str(values.get(key, "") or "").strip()
            if not text:
                continue
            if key == "timezone":
                out[key] = validate_timezone(text, f"[{parent}] timezone")
            elif key in ("tick_size", "point_value"):
                to_fixed(text, f"[{parent}] {key}")
                out[key] = text
            elif key == "roll_days":
                if not text.isdigit():
                    raise ValueError(f"[{parent}] roll_days: {text!r} is not an integer >= 0")
                out[key] = int(text)
            elif key == "notes":
                out[key] = str(values.get(key, ""))
            else:
                out[key] = text.upper()
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None
    return out


def _dumps(doc: Mapping[str, Mapping[str, Any]]) -> str:
    lines = ["# rst parent metadata overrides (see rst.parents.overrides); written by the app.\n"]
    for parent, table in sorted(doc.items()):
        if not table:
            continue
        lines.append(f"\n[{parent}]\n")
        for key, value in table.items():
            text = str(value) if isinstance(value, int) and not isinstance(value, bool) else json.dumps(str(value))
            lines.append(f"{key} = {text}\n")
    return "".join(lines)


def save_override(lake: Lake, parent: str, values: Mapping[str, str]) -> dict[str, ParentOverride]:
    """Replace ``parent``'s overrides with ``values`` (validated) and return every override as read back.

    The file is written atomically (temporary file, fsync, rename); a file that does not
    read back is restored. Raises :class:`ConfigError` naming the file, parent and key.
    """
    path = lake.root / PARENTS_FILE
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        old = None
    doc: dict[str, Any] = tomllib.loads(old.decode("utf-8")) if old else {}
    load_overrides(lake.root)  # refuse to rewrite a file that is already invalid (its message names it)
    doc[parent.strip().upper()] = _clean(parent, values)
    _write_atomic(path, _dumps(doc).encode("utf-8"))
    try:
        return load_overrides(lake.root)
    except ConfigError:
        if old is None:
            path.unlink(missing_ok=True)
        else:
            _write_atomic(path, old)
        raise


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, data, mode=0o600)


def stale_after_change(lake: Lake, parent: str) -> list[dict[str, Any]]:
    """The partitions of ``parent`` that are not done (stale, missing, failed), with the reason."""
    from rst.ops.status import lake_status

    status = lake_status(lake, list(Layer), [parent])
    return [s.to_dict() for s in status.problems()]


def refresh_definitions(lake: Lake, parents: list[str]) -> list[dict[str, Any]]:
    """Bring the parents' bronze definitions up to date, then report each parent's metadata.

    One row per parent: the values derived from definitions (overrides applied) and
    ``missing``, the fields that are still unknown and need an override.
    """
    from rst.ops.pipeline import run_pipeline
    from rst.parents import parent_metadata

    run_pipeline(lake, parents, layers=(Layer.BRONZE,), tables=["definition"])
    rows = []
    for parent in parents:
        meta = parent_metadata(lake, parent, strict=False)
        values = {
            "exchange": meta.exchange, "timezone": meta.timezone, "currency": meta.currency,
            "tick_size": fixed_text(meta.tick_size), "point_value": fixed_text(meta.point_value),
        }  # fmt: skip
        missing = [k for k, v in values.items() if not v]
        rows.append({"parent": parent, **values, "months": meta.months, "contracts": meta.contracts,
                     "missing": ", ".join(missing)})  # fmt: skip
    return rows
