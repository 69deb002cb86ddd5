"""The commit protocol: stage a partition outside the table, then swap it in.

Guarantees (local POSIX filesystem, Linux):

* Staging directories live under ``<lake>/_staging/`` on the same filesystem as
  the table, never inside the table tree (hive scans would see them).
* Data files and the staging directory are fsynced before the swap; the parent
  directory after it.
* Replacing an existing partition uses ``renameat2(RENAME_EXCHANGE)``: readers
  see the old complete partition or the new complete one, never a mix and never
  nothing. Where the kernel or filesystem refuses the exchange, we fall back to
  move-old-to-trash then rename, which has a moment with *no* partition but
  never a partial one.
* Removal (``invalidate``) first moves the partition to ``<lake>/_trash/`` with
  one rename, then deletes it there.

Not atomic on object storage, where rename is copy+delete: a future S3 backend
must replace :func:`swap_in` with a conditional-write commit.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import uuid
from pathlib import Path

from rst.framework.lake import Lake
from rst.framework.partition import Partition

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2 << 0  # linux/fs.h


def fsync_path(path: Path) -> None:
    """fsync a file or a directory."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(directory: Path) -> None:
    """fsync every file in ``directory`` (not recursive) and the directory itself."""
    for child in directory.iterdir():
        if child.is_file():
            fsync_path(child)
    fsync_path(directory)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths; False when the platform cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    res = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if res == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), f"{a} <-> {b}")


def new_staging_dir(lake: Lake, partition: Partition) -> Path:
    """A fresh, empty staging directory for ``partition`` (removed by the caller or swept)."""
    base = lake.internal("staging") / partition.slug.parent
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"{partition.key.dirname}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def sweep_staging(lake: Lake, partition: Partition) -> int:
    """Remove stale staging directories of ``partition``; call only under its lock."""
    base = lake.internal("staging") / partition.slug.parent
    removed = 0
    if base.is_dir():
        for stale in base.glob(f"{partition.key.dirname}.*"):
            shutil.rmtree(stale, ignore_errors=True)
            removed += 1
    return removed


def to_trash(lake: Lake, path: Path) -> Path:
    """Move ``path`` out of the table tree with one rename; return where it went."""
    trash = lake.internal("trash")
    trash.mkdir(parents=True, exist_ok=True)
    dest = trash / f"{path.name}.{uuid.uuid4().hex}"
    os.rename(path, dest)
    fsync_path(path.parent)
    return dest


def swap_in(lake: Lake, staging: Path, target: Path) -> None:
    """Make the fully written ``staging`` directory the partition at ``target``.

    ``staging`` must already be fsynced. On return ``staging`` no longer exists.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.rename(staging, target)
    elif _exchange(staging, target):
        # staging now holds the old partition
        shutil.rmtree(to_trash(lake, staging), ignore_errors=True)
    else:
        old = to_trash(lake, target)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(old, target)  # put the old partition back rather than lose it in the trash
            raise
        shutil.rmtree(old, ignore_errors=True)
    fsync_path(target.parent)


def remove_partition(lake: Lake, target: Path) -> bool:
    """Take a partition away from readers at once (trash first), then delete it."""
    if not target.exists():
        return False
    shutil.rmtree(to_trash(lake, target), ignore_errors=True)
    return True
