"""The commit protocol: stage a partition outside the table, then swap it in.

Guarantees (local POSIX filesystem, Linux):

* Staging directories live under ``<lake>/_staging/`` on the same filesystem as
  the table, never inside the table tree (hive scans would see them).
* Data files and the staging directory are fsynced before the swap; the parent
  directory after it.
* Replacing an existing partition uses ``renameat2(RENAME_EXCHANGE)`` (ext4, xfs,
  btrfs, tmpfs; checked by ``tests/framework/test_commit.py``): readers see the old
  complete partition or the new complete one, never a mix and never nothing. Where
  the kernel or filesystem refuses the exchange, we fall back to
  move-old-to-trash then rename, which has a moment with *no* partition but never a
  partial one.
* A swapped-out or removed (``invalidate``) partition is moved to ``<lake>/_trash/``
  with one rename and kept there whole for :data:`TRASH_GRACE_SECONDS`, so a reader
  that listed its files just before the swap can still finish reading it (through the
  directory it opened, or the files it opened). Expired entries are deleted by
  :func:`purge_trash`, which every swap and removal calls.
* Every path written, renamed or deleted goes through :meth:`Lake.guard` and the
  symlink-safe helpers of :mod:`rst.framework.paths`: a symlink planted in the lake
  never makes a commit, a sweep or a purge write or delete outside it.

Local filesystems only: on object storage, where rename is copy+delete, a lake commits
with attempt prefixes and a conditionally written pointer instead
(:mod:`rst.framework.objectlake`); :mod:`rst.framework.storage` puts both behind one
interface, and an object-storage lake still uses this module for its local mirror.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from rst.errors import RstError
from rst.framework.lake import Lake
from rst.framework.lock import FileLock
from rst.framework.partition import Partition
from rst.framework.paths import existing_dir, make_dirs, remove_tree

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2 << 0  # linux/fs.h

TRASH_GRACE_SECONDS = 600.0
"""How long a swapped-out or removed partition stays whole in ``_trash`` before a purge deletes it."""
TRASH_LOCK = "trash.lock"
"""Lock file (under ``_locks``) held by the one process purging the trash; others skip the purge."""


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


@functools.cache
def _renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    """glibc's ``renameat2`` (2.28+), typed and reporting errno; None where libc lacks it."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths; False when the platform or filesystem cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    ctypes.set_errno(0)
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), f"{a} <-> {b}")


def new_staging_dir(lake: Lake, partition: Partition) -> Path:
    """A fresh, empty staging directory for ``partition`` (removed by the caller or swept)."""
    base = make_dirs(lake, lake.internal("staging") / partition.slug.parent)
    path = base / f"{partition.key.dirname}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def sweep_staging(lake: Lake, partition: Partition) -> int:
    """Remove stale staging entries of ``partition`` (symlinks unlinked, never followed); call only under its lock."""
    base = existing_dir(lake, lake.internal("staging") / partition.slug.parent)
    if base is None:
        return 0
    prefix = f"{partition.key.dirname}."
    return sum(remove_tree(lake, base / name) for name in os.listdir(base) if name.startswith(prefix))


def to_trash(lake: Lake, path: Path) -> Path:
    """Move ``path`` out of the table tree with one rename; return where it went.

    The entry is named ``<ns since epoch>-<name>-<id>``: :func:`purge_trash` reads its age
    from the name.
    """
    trash = make_dirs(lake, lake.internal("trash"))
    source = lake.guard(path)
    dest = trash / f"{time.time_ns()}-{source.name}-{uuid.uuid4().hex[:12]}"
    os.rename(source, dest)
    fsync_path(source.parent)
    return dest


def expired_trash(lake: Lake, grace_seconds: float | None = None) -> list[Path]:
    """The ``_trash`` entries older than the grace period (default :data:`TRASH_GRACE_SECONDS`).

    Age comes from the entry's name (see :func:`to_trash`), else its ``lstat`` mtime.
    """
    trash = existing_dir(lake, lake.internal("trash"))
    if trash is None:
        return []
    grace = TRASH_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = time.time_ns() - int(grace * 1e9)
    return [trash / name for name in sorted(os.listdir(trash)) if _trashed_at(trash / name) <= cutoff]


def purge_trash(lake: Lake, grace_seconds: float | None = None) -> int:
    """Delete the :func:`expired_trash` entries; return how many went.

    Symlinks are unlinked, never followed. Skipped (returns 0) while another process purges:
    the purge is housekeeping and never waits.
    """
    if not os.path.lexists(lake.internal("trash")):
        return 0
    lock = FileLock(lake.internal("locks") / TRASH_LOCK, timeout=0, lake=lake)
    try:
        lock.acquire()
    except RstError:  # another process is purging
        return 0
    try:
        return sum(remove_tree(lake, entry) for entry in expired_trash(lake, grace_seconds))
    finally:
        lock.release()


def _trashed_at(entry: Path) -> int:
    """When ``entry`` went to the trash, ns since the epoch (its name's stamp, else its lstat mtime)."""
    stamp = entry.name.split("-", 1)[0]
    if stamp.isdigit() and len(stamp) == 19 and int(stamp) <= time.time_ns():  # a future stamp is not trusted
        return int(stamp)
    try:
        return os.lstat(entry).st_mtime_ns
    except FileNotFoundError:
        return time.time_ns()  # already gone: nothing to purge


def swap_in(lake: Lake, staging: Path, target: Path) -> None:
    """Make the fully written ``staging`` directory the partition at ``target``.

    ``staging`` must already be fsynced. On return ``staging`` no longer exists and the
    previous partition, if any, waits in ``_trash`` for the grace period.
    """
    make_dirs(lake, Path(target).absolute().parent)
    staging, target = lake.guard(staging), lake.guard(target)
    if not os.path.lexists(target):
        os.rename(staging, target)
    elif _exchange(staging, target):
        to_trash(lake, staging)  # staging now holds the old partition
    else:
        old = to_trash(lake, target)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(old, target)  # put the old partition back rather than lose it in the trash
            raise
    fsync_path(target.parent)
    purge_trash(lake)


def remove_partition(lake: Lake, target: Path) -> bool:
    """Take a partition away from readers at once (one rename into ``_trash``); False when absent."""
    parent = existing_dir(lake, Path(target).absolute().parent)  # a symlink on the way is refused
    if parent is None or not os.path.lexists(parent / Path(target).name):
        return False
    to_trash(lake, parent / Path(target).name)
    purge_trash(lake)
    return True
