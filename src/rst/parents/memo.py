"""A parent's main exchange, from exchange counts remembered in the lake per definition partition.

Every process that plans or builds silver needs each parent's exchange (time zone, calendar),
and deriving it from scratch reads all of the parent's bronze definitions (20 years: tens of
milliseconds per parent, paid again by each command and each worker, and again after each
day's update). So the count of rows per exchange of each definition partition is stored in
``<lake>/_cache/parents/<PARENT>.json``, next to a digest of the parts that partition's manifest
lists (their SHA256s): a rebuilt partition has other parts, so its stored counts are not used
and only it is read again. The file is written atomically; one that cannot be read counts as
empty. Partitions no longer complete are dropped from it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rst.framework.lake import Lake

CACHE = "cache"
"""Lake-internal directory (``<lake>/_cache``) of derived facts that can always be recomputed."""


def exchange_counts(lake: Lake, symbol: str, directories: Sequence[Path]) -> Counter[str]:
    """Rows per (non-null) exchange over the definition partitions ``directories``.

    Reads only the partitions whose parts changed since the counts were stored.
    """
    from rst.framework.manifest import read_manifest

    stored = _load(lake, symbol)
    current: dict[str, dict[str, Any]] = {}
    total: Counter[str] = Counter()
    for directory in directories:
        manifest = read_manifest(directory)
        if manifest is None:
            continue  # no longer complete: as the definitions reader, skip it
        rel = lake.relative(directory)
        parts = hashlib.sha256("|".join(o.sha256 for o in manifest.outputs).encode()).hexdigest()
        known = stored.get(rel)
        if isinstance(known, dict) and known.get("parts") == parts and _is_counts(known.get("counts")):
            counts = known["counts"]
        else:
            counts = _count(directory)
        current[rel] = {"parts": parts, "counts": counts}
        total.update(counts)
    if current != stored:
        _save(lake, symbol, current)
    return total


def _count(directory: Path) -> dict[str, int]:
    import polars as pl

    from rst.read import read_partitions

    frame = read_partitions([directory], ["exchange"])
    if frame is None:
        return {}
    column = frame.get_column("exchange").cast(pl.String).drop_nulls()
    return {str(k): int(v) for k, v in column.value_counts().iter_rows()}


def _is_counts(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0 for k, v in value.items()
    )


def _path(lake: Lake, symbol: str) -> Path:
    return lake.internal(CACHE) / "parents" / f"{symbol}.json"


def _load(lake: Lake, symbol: str) -> dict[str, Any]:
    try:
        doc = json.loads(_path(lake, symbol).read_bytes())
    except (OSError, ValueError):
        return {}
    partitions = doc.get("definition_partitions") if isinstance(doc, dict) else None
    return partitions if isinstance(partitions, dict) else {}


def _save(lake: Lake, symbol: str, partitions: dict[str, dict[str, Any]]) -> None:
    """Best effort: a read-only lake only means counting again next time."""
    from rst.errors import RstError
    from rst.framework.paths import write_atomic

    data = json.dumps({"definition_partitions": partitions}, sort_keys=True).encode()
    try:
        write_atomic(lake, _path(lake, symbol), data)
    except (OSError, RstError):
        pass
