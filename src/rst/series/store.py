"""The saved series definitions of a lake: one TOML file per series.

Layout: ``<lake>/_config/series/<series_id>.toml``, flat ``key = value`` lines,
human-editable. Read with the standard library's :mod:`tomllib`; written by
:func:`dumps_toml`, a writer for exactly this flat structure (strings, integers,
dates; ``None`` values are omitted). Writes are atomic on POSIX (temporary file
in the same directory, fsync, ``os.replace``); two concurrent ``add`` calls for
the same id are not serialised (last writer wins).
"""

from __future__ import annotations

import builtins
import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rst.errors import SeriesError
from rst.framework.paths import replace_file
from rst.series.definition import SeriesDefinition, validate_series_id

SERIES_DIR = Path("_config") / "series"
"""Folder of series definitions, relative to the lake root."""

_HEADER = "# rst continuous-series definition; edit freely, one `key = value` per line.\n"


def _toml_string(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def dumps_toml(doc: Mapping[str, Any]) -> str:
    """Serialise a flat mapping of str/int/date values to TOML (``None`` values omitted).

    Keys must be bare TOML keys (letters, digits, ``_``, ``-``). Raises ``TypeError``
    for any other value type.
    """
    lines = [_HEADER]
    for key, value in doc.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        elif isinstance(value, dt.datetime):
            raise TypeError(f"{key}: date-times are not supported, use a date")
        elif isinstance(value, dt.date):
            text = value.isoformat()
        elif isinstance(value, str):
            text = _toml_string(value)
        else:
            raise TypeError(f"{key}: cannot write {type(value).__name__} to TOML")
        lines.append(f"{key} = {text}\n")
    return "".join(lines)


def fingerprint(defn: SeriesDefinition) -> str:
    """Hex SHA256 of the definition's canonical JSON (all fields but ``notes``)."""
    return defn.fingerprint()


class SeriesStore:
    """The series definitions saved under ``<lake_root>/_config/series/``."""

    def __init__(self, lake_root: Path | str) -> None:
        self.lake_root = Path(lake_root)
        self.root = self.lake_root / SERIES_DIR

    def path(self, series_id: str) -> Path:
        """File holding ``series_id`` (whether or not it exists)."""
        return self.root / f"{validate_series_id(series_id)}.toml"

    def add(self, defn: SeriesDefinition, *, replace: bool = False) -> Path:
        """Save ``defn``; refuses an existing id unless ``replace``. Returns the file written."""
        target = self.path(defn.series_id)
        if target.exists() and not replace:
            raise SeriesError(
                f"series '{defn.series_id}' already exists at {target}; pass --replace to overwrite"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        data = dumps_toml(defn.to_mapping()).encode("utf-8")
        replace_file(target, data, mode=0o600)
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return target

    def load(self, path: Path | str) -> SeriesDefinition:
        """Read and validate one definition file; errors name the file and the field."""
        path = Path(path)
        try:
            with open(path, "rb") as f:
                doc = tomllib.load(f)
        except FileNotFoundError:
            raise SeriesError(f"{path}: no such series definition file") from None
        except tomllib.TOMLDecodeError as exc:
            raise SeriesError(f"{path}: not valid TOML ({exc})") from None
        defn = SeriesDefinition.from_mapping(doc, source=path)
        if defn.series_id != path.stem:
            raise SeriesError(
                f"{path}: field 'series_id': {defn.series_id!r} does not match the file name "
                f"{path.stem!r}; rename the file or fix the field"
            )
        return defn

    def get(self, series_id: str) -> SeriesDefinition:
        """The saved definition of ``series_id``; ``SeriesError`` if unknown."""
        target = self.path(series_id)
        if not target.exists():
            known = ", ".join(d.series_id for d in self.list()) or "none saved"
            raise SeriesError(f"unknown series '{series_id}' (known: {known}); add it first")
        return self.load(target)

    def list(self) -> builtins.list[SeriesDefinition]:
        """All saved definitions, sorted by ``series_id``; an invalid file raises."""
        if not self.root.is_dir():
            return []
        return [self.load(p) for p in sorted(self.root.glob("*.toml"))]

    def remove(self, series_id: str) -> None:
        """Delete the definition of ``series_id``; ``SeriesError`` if unknown."""
        target = self.path(series_id)
        if not target.exists():
            raise SeriesError(f"unknown series '{series_id}'; nothing to remove")
        target.unlink()

    def fingerprint(self, defn: SeriesDefinition) -> str:
        """Hex SHA256 of ``defn``'s canonical JSON; see :meth:`SeriesDefinition.fingerprint`."""
        return defn.fingerprint()
