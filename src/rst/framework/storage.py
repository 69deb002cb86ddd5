"""Where a lake's partitions are committed and resolved: one interface, a local and an object-storage backend.

:meth:`Stage.run <rst.framework.stage.Stage.run>` never touches the commit protocol itself; it
asks its lake's :class:`Storage` to lock a partition, read its current manifest, check it,
make its inputs readable and commit a staged directory. Two backends:

* :class:`LocalStorage`: today's protocol on a POSIX filesystem (``flock`` partition locks,
  ``renameat2`` exchange into place, ``_trash`` grace period; see :mod:`rst.framework.commit`).
  Each method is the function the stage called before, so a local lake pays nothing extra.
* :class:`~rst.framework.objectlake.ObjectStorage`: an ``s3://`` lake (lease objects, attempt
  prefixes and a conditionally written pointer; see :mod:`rst.framework.objectlake`).

Either way a stage reads and writes *local* paths: its staging directory is local, and on an
object-storage lake its inputs are first materialised (verified by SHA256) into the lake's
local mirror, which has exactly the local layout. So a stage cannot tell them apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rst.framework.commit import remove_partition, swap_in
from rst.framework.integrity import partition_problem
from rst.framework.lake import Lake, Layer
from rst.framework.lock import PartitionLock
from rst.framework.manifest import Manifest, read_manifest
from rst.framework.partition import Partition

if TYPE_CHECKING:
    from rst.framework.objectlake import ObjectStorage
    from rst.framework.stage import Input


class Lock(Protocol):
    """An exclusive partition lock (a ``flock`` file or a lease object)."""

    def acquire(self) -> None: ...

    def release(self) -> None: ...


class Storage(Protocol):
    """What :meth:`Stage.run` needs from the place a lake lives (see the module docstring)."""

    def lock(self, partition: Partition, timeout: float | None = None) -> Lock:
        """The partition's exclusive lock (not yet acquired); busy past ``timeout`` means ``PartitionLocked``."""
        ...

    def current_manifest(self, partition: Partition) -> Manifest | None:
        """The manifest of the partition's current complete version, None when it has none."""
        ...

    def problem(self, partition: Partition, manifest: Manifest) -> str:
        """Why the current version does not hold exactly ``manifest``'s outputs ("" when it does)."""
        ...

    def exists(self, partition: Partition) -> bool:
        """Whether any version of the partition is there (complete or not)."""
        ...

    def sync_upstream(self, layer: Layer, symbol: str) -> None:
        """Make what a ``layer`` stage of ``symbol`` may list upstream current (called before its inputs)."""
        ...

    def input_manifest(self, partition: Partition) -> Manifest | None:
        """The current manifest of an upstream partition, visible at ``partition.path(lake)`` on return."""
        ...

    def fetch_inputs(self, inputs: list[Input]) -> None:
        """Make every input readable at its local path (raw files and upstream partitions' parts)."""
        ...

    def commit(self, partition: Partition, staging: Path) -> None:
        """Make the complete, fsynced ``staging`` directory the partition's current version (atomic)."""
        ...

    def remove(self, partition: Partition) -> bool:
        """Take the partition away from readers at once; False when there was none."""
        ...


class LocalStorage:
    """The local filesystem protocol (:mod:`rst.framework.commit`, :mod:`rst.framework.lock`)."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def lock(self, partition: Partition, timeout: float | None = None) -> Lock:
        return PartitionLock(self.lake, partition, timeout=timeout)

    def current_manifest(self, partition: Partition) -> Manifest | None:
        return read_manifest(partition.path(self.lake))

    def problem(self, partition: Partition, manifest: Manifest) -> str:
        return partition_problem(partition.path(self.lake), manifest, self.lake)

    def exists(self, partition: Partition) -> bool:
        return partition.path(self.lake).exists()

    def sync_upstream(self, layer: Layer, symbol: str) -> None:
        return None  # the filesystem is current

    def input_manifest(self, partition: Partition) -> Manifest | None:
        return read_manifest(partition.path(self.lake))

    def fetch_inputs(self, inputs: list[Input]) -> None:
        return None  # already local

    def commit(self, partition: Partition, staging: Path) -> None:
        swap_in(self.lake, staging, partition.path(self.lake))

    def remove(self, partition: Partition) -> bool:
        return remove_partition(self.lake, partition.path(self.lake))


_STORAGES: dict[tuple[str, str | None], Storage] = {}


def storage_of(lake: Lake) -> Storage:
    """The storage backend of ``lake`` (one per lake and process)."""
    key = (str(lake.root), lake.remote)
    found = _STORAGES.get(key)
    if found is None:
        if lake.remote is None:
            found = LocalStorage(lake)
        else:
            from rst.framework.objectlake import ObjectStorage

            found = ObjectStorage(lake)
        _STORAGES[key] = found
    return found


def object_storage_at(root: Path | str) -> ObjectStorage | None:
    """The object storage whose local mirror is rooted at ``root`` in this process, if any.

    For code that only knows a lake's root directory (the raw zone) and must publish what it
    writes there.
    """
    wanted = str(Path(root).absolute())
    for (path, remote), storage in _STORAGES.items():
        if remote is not None and path == wanted:
            from rst.framework.objectlake import ObjectStorage

            return storage if isinstance(storage, ObjectStorage) else None
    return None
