"""Re-hash the lake against its own records: partition outputs against manifests, raw files against the catalogue.

Nothing is trusted from mtimes here: every file is read and hashed. The result
lists each problem with the file it concerns; an empty list means the lake is
exactly what its manifests and catalogue say.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rst.framework.hashing import sha256_file
from rst.framework.lake import Lake, Layer
from rst.framework.manifest import MANIFEST, SUCCESS, read_manifest


@dataclass(frozen=True)
class Problem:
    """One mismatch: ``kind`` is ``corrupt``, ``missing``, ``incomplete`` or ``raw-changed``."""

    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path} ({self.detail})"


def partition_dirs(lake: Lake, layers: list[Layer] | None = None) -> Iterator[Path]:
    """Every partition directory (complete or not) under the given layers."""
    for layer in layers or list(Layer):
        base = lake.layer_dir(layer)
        if base.is_dir():
            yield from sorted(p.parent for p in base.glob("symbol=*/table=*/*=*/" + MANIFEST))


def verify_partition(lake: Lake, directory: Path) -> list[Problem]:
    """Problems of one partition: incomplete marker, missing or corrupt outputs."""
    rel = lake.relative(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        detail = "no _SUCCESS" if not (directory / SUCCESS).exists() else "_SUCCESS does not match _MANIFEST.json"
        return [Problem("incomplete", rel, detail)]
    problems = []
    for out in manifest.outputs:
        path = directory / out.path
        if not path.exists():
            problems.append(Problem("missing", f"{rel}/{out.path}", "listed in the manifest"))
        elif sha256_file(path) != out.sha256:
            problems.append(Problem("corrupt", f"{rel}/{out.path}", "SHA256 differs from the manifest"))
    return problems


def verify_raw(lake: Lake) -> list[Problem]:
    """Raw files whose bytes no longer match their catalogue SHA256 (or that vanished)."""
    from rst.sources.raw_zone import RawZone

    problems = []
    for f in RawZone(lake.root).files():
        path = f.abspath(lake.root)
        if not path.exists():
            problems.append(Problem("missing", f.path, "raw file in the catalogue is gone"))
        elif sha256_file(path) != f.sha256:
            problems.append(Problem("raw-changed", f.path, "SHA256 differs from the raw catalogue"))
    return problems


def verify_lake(lake: Lake, layers: list[Layer] | None = None, *, raw: bool = True) -> list[Problem]:
    """Every problem in the lake (raw zone first, then partitions)."""
    problems = verify_raw(lake) if raw else []
    for directory in partition_dirs(lake, layers):
        problems.extend(verify_partition(lake, directory))
    return problems
