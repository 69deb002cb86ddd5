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

DEFAULT_LAKE = Path("lake")
LAKE_ENV = "RST_LAKE"


class Layer(StrEnum):
    """The medallion layers, in dependency order."""

    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"

    @property
    def prefix(self) -> str:
        """Hive path segments between the layer folder and ``symbol=``."""
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

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    def layer_dir(self, layer: Layer) -> Path:
        return self.root / layer.value / layer.prefix

    def table_dir(self, layer: Layer, symbol: str, table: str) -> Path:
        """Directory of one table of one symbol: ``<layer>/…/symbol=S/table=T``."""
        return self.layer_dir(layer) / f"symbol={symbol}" / f"table={table}"

    def internal(self, name: str) -> Path:
        """A lake-internal directory (``_staging``, ``_trash``, ``_locks``, ``_runs``, ``_failures``)."""
        return self.root / f"_{name}"

    def relative(self, path: Path) -> str:
        """``path`` relative to the lake root, POSIX style (as recorded in manifests and rows)."""
        return Path(path).absolute().relative_to(self.root).as_posix()
