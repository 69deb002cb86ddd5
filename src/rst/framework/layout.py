"""The lake's identity: a layout version file at the root, and the migration from older layouts.

``<lake>/_rst_lake.json`` is written when a lake is created (by ``import``, ``demo``,
``download`` and ``update``) and read by every other command, so a mistyped
``--lake`` fails loudly instead of silently showing an empty lake, and a lake
written by another version of rst is recognised before anything is read or
written.

Layouts:

* **1** (no version file): parents under ``symbol=<PARENT>``. Hive readers
  (``polars.scan_parquet(hive_partitioning=True)``, DuckDB's ``read_parquet``)
  replace the rows' own ``symbol`` column (the contract, ``ESH4``) with the
  directory's value (``ES``): silently wrong data.
* **2**: parents under ``parent=<PARENT>`` (:data:`rst.framework.lake.PARENT_KEY`).

:func:`migrate` turns a layout-1 lake into a layout-2 one: it renames the raw
zone's directories and catalogue entries, and moves the derived layers aside
(bronze rows record their raw file's path, so they are rebuilt rather than
edited). It can be rerun after a crash.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from rst.errors import LakeError
from rst.framework.lake import PARENT_KEY, Lake, Layer

LAYOUT_FILE = "_rst_lake.json"
LAYOUT_VERSION = 2
_OLD_KEY = "symbol"
_MAX_LAYOUT_BYTES = 64 << 10


def layout_path(lake: Lake) -> Path:
    return lake.root / LAYOUT_FILE


def read_layout(lake: Lake) -> int | None:
    """The lake's layout version, None when it has no version file.

    Raises
    ------
    LakeError
        When the file is unreadable, too large, or not a layout document.
    """
    path = layout_path(lake)
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_LAYOUT_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LakeError(f"{path}: cannot read the lake's layout file ({exc.strerror})") from None
    try:
        if len(data) > _MAX_LAYOUT_BYTES:
            raise ValueError("file too large")
        doc = json.loads(data.decode("utf-8"))
        version = doc["layout"]
        if type(version) is not int or version < 1:
            raise ValueError(f"layout {version!r} is not a positive integer")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise LakeError(f"{path}: not an rst lake layout file ({exc}); restore it or recreate the lake") from None
    return version


def _has_old_layout(lake: Lake) -> bool:
    """True when any ``symbol=`` directory of layout 1 is present (raw zone or a layer)."""
    pattern = f"{_OLD_KEY}=*"
    roots = [lake.layer_dir(layer) for layer in Layer]
    raw = lake.raw / "source=databento"
    if raw.is_dir():
        roots.extend(raw.glob("dataset=*/schema=*"))
    return any(any(root.glob(pattern)) for root in roots if root.is_dir())


def _write_layout(lake: Lake) -> None:
    doc = {"layout": LAYOUT_VERSION, "created_by": "rst", "created_at": dt.datetime.now(dt.UTC).isoformat()}
    path = layout_path(lake)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _check_version(lake: Lake, version: int) -> None:
    if version > LAYOUT_VERSION:
        raise LakeError(
            f"lake {lake.root} has layout {version}, newer than this rst understands ({LAYOUT_VERSION}); upgrade rst"
        )
    if version < LAYOUT_VERSION:
        raise _old_layout_error(lake, version)


def _old_layout_error(lake: Lake, version: int) -> LakeError:
    return LakeError(
        f"lake {lake.root} has the old layout {version} (`{_OLD_KEY}=` directories, which hive readers confuse with the "
        f"`symbol` column); run `rst migrate --lake {lake.root}` to rename it (derived layers are rebuilt by the next run)"
    )


def open_lake(lake: Lake) -> Lake:
    """``lake`` if it is an rst lake of the current layout; else a one-line :class:`LakeError` saying what to do."""
    version = read_layout(lake)
    if version is not None:
        _check_version(lake, version)
        return lake
    if not lake.root.exists():
        raise LakeError(
            f"no lake at {lake.root}: pass --lake (or set RST_LAKE), or create one with `rst import`, `rst demo`, "
            "`rst download` or `rst update`"
        )
    if _has_old_layout(lake):
        raise _old_layout_error(lake, 1)
    raise LakeError(f"{lake.root} is not an rst lake (no {LAYOUT_FILE}); pass the lake's root with --lake")


def create_lake(lake: Lake) -> tuple[Lake, bool]:
    """Open ``lake``, creating it (directory and layout file) when it does not exist yet.

    Returns the lake and whether it was created. A non-empty directory that is not a lake is
    adopted only when it holds nothing but rst's own lake-internal folders; anything else is
    refused, so a typo never scatters a lake into an unrelated folder.
    """
    version = read_layout(lake)
    if version is not None:
        _check_version(lake, version)
        return lake, False
    if lake.root.exists():
        if not lake.root.is_dir():
            raise LakeError(f"{lake.root} is a file, not a lake directory; pass another --lake")
        if _has_old_layout(lake):
            raise _old_layout_error(lake, 1)
        foreign = sorted(
            p.name
            for p in lake.root.iterdir()
            if not (p.name.startswith(("_", ".", "README")) or p.name in ("raw", *map(str, Layer)))
        )
        if foreign:
            shown = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
            raise LakeError(f"{lake.root} is not empty and not an rst lake (holds {shown}); pass another --lake")
    ensure_layout(lake)
    return lake, True


def ensure_layout(lake: Lake) -> None:
    """Give ``lake`` its layout file if it has none (what writing the raw zone does first).

    Raises
    ------
    LakeError
        When the lake has an old or newer layout.
    """
    version = read_layout(lake)
    if version is not None:
        _check_version(lake, version)
        return
    if _has_old_layout(lake):
        raise _old_layout_error(lake, 1)
    lake.root.mkdir(parents=True, exist_ok=True)
    _write_layout(lake)


@dataclass(frozen=True)
class Migration:
    """What :func:`migrate` did."""

    from_version: int
    raw_dirs_renamed: int
    catalogue_entries_rewritten: int
    derived_moved_aside: list[str]


def migrate(lake: Lake) -> Migration:
    """Bring a layout-1 lake to the current layout (idempotent; safe to rerun after a crash).

    Raw files keep their bytes and names: their ``symbol=<P>`` directories are renamed
    ``parent=<P>`` and their catalogue entries rewritten. Bronze, silver and gold are moved into
    ``_trash`` (they are derived, and their rows and manifests record the old paths), so the next
    ``rst run --layer all`` rebuilds them from the raw zone.
    """
    version = read_layout(lake)
    if version is not None:
        _check_version(lake, version)
        return Migration(version, 0, 0, [])
    if not lake.root.is_dir():
        raise LakeError(f"no lake at {lake.root}; pass the lake's root with --lake")
    from rst.framework.commit import to_trash
    from rst.sources.raw_zone import RawZone

    renamed = 0
    raw = lake.raw / "source=databento"
    for old in sorted(raw.glob(f"dataset=*/schema=*/{_OLD_KEY}=*")) if raw.is_dir() else []:
        if old.is_symlink() or not old.is_dir():
            continue
        new = old.with_name(PARENT_KEY + old.name[len(_OLD_KEY) :])
        if new.exists():
            raise LakeError(f"cannot migrate {old}: {new} exists too; move one of them away and rerun `rst migrate`")
        os.rename(old, new)
        renamed += 1
    rewritten = RawZone(lake.root).rewrite_paths(f"/{_OLD_KEY}=", f"/{PARENT_KEY}=")
    moved = []
    for layer in Layer:
        base = lake.layer_dir(layer)
        if base.is_dir() and not base.is_symlink() and any(base.glob(f"{_OLD_KEY}=*")):
            to_trash(lake, lake.root / layer.value)
            moved.append(layer.value)
    _write_layout(lake)
    return Migration(1, renamed, rewritten, moved)
