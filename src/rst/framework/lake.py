"""Lake layout: where each layer, table and partition lives on disk.

One place knows the directory scheme (SPEC §2), so stages, the CLI and tests
never build lake paths by hand. Directories whose names start with ``_`` under
the lake root (staging, trash, locks, run log, failure records) are never
tables and are skipped by hive readers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rst.errors import LakeError

DEFAULT_LAKE = Path("lake")
PARENT_KEY = "parent"
"""Hive key of a parent's directory. Not ``symbol``: rows carry a ``symbol`` column (the contract,
``ESH4``) that a hive reader would otherwise overwrite with the parent (``ES``)."""
LAKE_ENV = "RST_LAKE"


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
    """A lake rooted at ``root``; every path it returns is absolute."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).absolute())

    @classmethod
    def resolve(cls, option: str | os.PathLike[str] | None = None) -> Lake:
        """The lake named by ``--lake``, else ``$RST_LAKE``, else ``./lake``."""
        chosen = option or os.environ.get(LAKE_ENV) or DEFAULT_LAKE
        return cls(Path(chosen))

    @classmethod
    def open(cls, option: str | os.PathLike[str] | None = None) -> Lake:
        """The existing lake named as for :meth:`resolve`; a one-line ``LakeError`` when it is not one."""
        from rst.framework.layout import open_lake

        return open_lake(cls.resolve(option))

    @classmethod
    def create(cls, option: str | os.PathLike[str] | None = None) -> tuple[Lake, bool]:
        """The lake named as for :meth:`resolve`, created if missing; also says whether it was created."""
        from rst.framework.layout import create_lake

        return create_lake(cls.resolve(option))

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
        """Directory of one table of one parent: ``<layer>/…/parent=S/table=T``."""
        return self.parent_dir(layer, symbol) / f"table={table}"

    def internal(self, name: str) -> Path:
        """A lake-internal directory (``_staging``, ``_trash``, ``_locks``, ``_runs``, ``_failures``)."""
        return self.root / f"_{name}"

    def relative(self, path: Path) -> str:
        """``path`` relative to the lake root, POSIX style (as recorded in manifests and rows)."""
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
