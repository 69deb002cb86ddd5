"""Lake layout: where each layer, table and partition lives on disk.

One place knows the directory scheme (SPEC §2), so stages, the CLI and tests
never build lake paths by hand. Directories whose names start with ``_`` under
the lake root (staging, trash, locks, run log, failure records) are never
tables and are skipped by hive readers.

A lake on object storage (``--lake s3://bucket/prefix``) is a :class:`Lake` whose ``remote``
names the bucket and prefix and whose ``root`` is its local mirror (under ``$RST_CACHE_DIR``,
default ``~/.cache/rst``): the same layout, holding what this host has read or built, verified
against the object store (see :mod:`rst.framework.objectlake`). Paths are built exactly as
for a local lake; :attr:`Lake.storage` says how they are committed and resolved.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rst.errors import LakeError

if TYPE_CHECKING:
    from rst.framework.storage import Storage

DEFAULT_LAKE = Path("lake")
PARENT_KEY = "parent"
"""Hive key of a parent's directory. Not ``symbol``: rows carry a ``symbol`` column (the contract,
``ESH4``) that a hive reader would otherwise overwrite with the parent (``ES``)."""
LAKE_ENV = "RST_LAKE"
CACHE_ENV = "RST_CACHE_DIR"
REMOTE_SCHEMES = ("s3://",)


class Layer(StrEnum):
    """The medallion layers, in dependency order."""

    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"

    @property
    def prefix(self) -> str:
        """Hive path segments between the layer folder and ``parent=``."""
        if self is Layer.BRONZE:
            return "source=databento/product_type=future"
        return "product_type=future"


@dataclass(frozen=True)
class Lake:
    """A lake rooted at ``root``; every path it returns is absolute.

    ``remote``: the ``s3://bucket/prefix`` URI of a lake on object storage (``root`` is then its
    local mirror), None for a local lake.
    """

    root: Path
    remote: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).absolute())

    @classmethod
    def resolve(cls, option: str | os.PathLike[str] | None = None) -> Lake:
        """The lake named by ``--lake``, else ``$RST_LAKE``, else ``./lake`` (an ``s3://`` URI names a remote lake)."""
        chosen = option or os.environ.get(LAKE_ENV) or DEFAULT_LAKE
        if isinstance(chosen, str) and chosen.startswith(REMOTE_SCHEMES):
            return cls.remote_lake(chosen)
        return cls(Path(chosen))

    @classmethod
    def remote_lake(cls, uri: str) -> Lake:
        """The lake at ``uri`` (``s3://bucket/prefix``) with its local mirror under ``$RST_CACHE_DIR``."""
        from rst.framework.objectstore import Location

        location = Location.parse(uri)
        cache = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "rst")
        return cls(cache / "s3" / location.bucket / (location.prefix or "_"), remote=location.uri)

    @property
    def storage(self) -> Storage:
        """How this lake's partitions are locked, committed and resolved (see :mod:`rst.framework.storage`)."""
        from rst.framework.storage import storage_of

        return storage_of(self)

    @property
    def name(self) -> str:
        """How messages name the lake: its URI, or its root directory."""
        return self.remote or str(self.root)

    def refuse_remote(self, what: str) -> None:
        """Raise a one-line ``LakeError`` when this lake is on object storage and ``what`` only works locally."""
        if self.remote is not None:
            raise LakeError(f"{self.remote}: {what} does not support a lake on object storage yet; use a local --lake")

    @classmethod
    def open(cls, option: str | os.PathLike[str] | None = None) -> Lake:
        """The existing lake named as for :meth:`resolve`; a one-line ``LakeError`` when it is not one."""
        from rst.framework.layout import open_lake

        lake = cls.resolve(option)
        if lake.remote is not None:
            from rst.framework.objectlake import open_remote

            return open_remote(lake)
        return open_lake(lake)

    @classmethod
    def create(cls, option: str | os.PathLike[str] | None = None) -> tuple[Lake, bool]:
        """The lake named as for :meth:`resolve`, created if missing; also says whether it was created."""
        from rst.framework.layout import create_lake

        lake = cls.resolve(option)
        if lake.remote is not None:
            from rst.framework.objectlake import create_remote

            return create_remote(lake)
        return create_lake(lake)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    def layer_dir(self, layer: Layer) -> Path:
        return self.root / layer.value / layer.prefix

    def parent_dir(self, layer: Layer, symbol: str) -> Path:
        """Directory of one parent's tables in a layer: ``<layer>/…/parent=S``."""
        return self.layer_dir(layer) / f"{PARENT_KEY}={symbol}"

    def parents_in(self, layer: Layer) -> list[str]:
        """Parents that have a directory in ``layer``, sorted."""
        base = self.layer_dir(layer)
        if not base.is_dir():
            return []
        prefix = f"{PARENT_KEY}="
        return sorted(p.name.removeprefix(prefix) for p in base.glob(f"{prefix}*") if p.is_dir())

    def table_dir(self, layer: Layer, symbol: str, table: str) -> Path:
        """Directory of one table of one parent: ``<layer>/…/parent=S/table=T`` (memoised: paths are immutable)."""
        return _table_dir(self, layer, symbol, table)

    def internal(self, name: str) -> Path:
        """A lake-internal directory (``_staging``, ``_trash``, ``_locks``, ``_runs``, ``_failures``)."""
        return self.root / f"_{name}"

    def relative(self, path: Path) -> str:
        """``path`` relative to the lake root, POSIX style (as recorded in manifests and rows)."""
        text, root = os.fspath(path), os.fspath(self.root)
        if text.startswith(root + "/") and "/./" not in text and "/../" not in text and "//" not in text:
            return text[len(root) + 1 :]  # the common case, without pathlib (a plan asks thousands of times)
        return Path(path).absolute().relative_to(self.root).as_posix()

    def guard(self, path: str | os.PathLike[str]) -> Path:
        """``path`` with its parent directories resolved, refused unless it lies strictly inside the lake.

        Every path the lake writes, renames or deletes goes through here. The parents are resolved as
        ``os.path.realpath`` does (symlinks followed, ``..`` applied after); the last component is kept
        as is, so removing a planted symlink removes the link, never its target. Raises
        :class:`~rst.errors.LakeError` when the result is outside the (resolved) root or is the root
        itself. A check at call time: it does not stop a process that swaps a directory for a symlink
        between this check and the operation.
        """
        p = Path(path).absolute()
        if p.name in ("", ".", ".."):
            raise LakeError(f"{path}: refusing a lake path that does not end in a name")
        resolved = Path(os.path.realpath(p.parent)) / p.name
        root = Path(os.path.realpath(self.root))
        if resolved == root or not resolved.is_relative_to(root):
            raise LakeError(
                f"{path}: resolves to {resolved}, outside the lake {root}; rst never writes or deletes "
                "through a symlink that leaves the lake (remove the symlink)"
            )
        return resolved


@lru_cache(maxsize=1 << 14)
def _table_dir(lake: Lake, layer: Layer, symbol: str, table: str) -> Path:
    return lake.parent_dir(layer, symbol) / f"table={table}"
