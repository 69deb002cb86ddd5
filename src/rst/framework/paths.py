"""Directory creation and removal inside a lake that never follow a symlink.

Paths are checked by :meth:`rst.framework.lake.Lake.guard` (nothing outside the lake root);
on top of that, these helpers walk a directory's components below the root with ``lstat``:

* in a lake-internal tree (``_staging``, ``_trash``, ``_locks``, ``_failures``, …: rst owns
  those, and never puts a symlink there) a symlink found on the way is unlinked, the link
  itself, and replaced by a real directory;
* anywhere else (the table tree) a symlink on the way is refused with a
  :class:`~rst.errors.LakeError`;
* removal unlinks a symlink or file and deletes a real directory with ``shutil.rmtree``,
  which on Linux works through directory file descriptors and never follows a link inside
  the tree (``shutil.rmtree.avoids_symlink_attacks``).

Checked at call time: not a defence against a process racing the lake's writer.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from pathlib import Path

from rst.errors import LakeError
from rst.framework.lake import Lake


def make_dirs(lake: Lake, directory: Path) -> Path:
    """Create ``directory`` (and missing parents) inside ``lake`` and return it guarded.

    Raises :class:`LakeError` for a symlink on the way outside a lake-internal tree, or a
    non-directory in the way.
    """
    walked = _walk(lake, directory, create=True)
    assert walked is not None
    return walked


def existing_dir(lake: Lake, directory: Path) -> Path | None:
    """``directory`` guarded when it exists as a real directory, else None (nothing is created).

    Symlinks on the way are handled as by :func:`make_dirs` (unlinked in internal trees).
    """
    return _walk(lake, directory, create=False)


def remove_tree(lake: Lake, path: Path) -> bool:
    """Delete ``path`` inside ``lake`` without following a symlink; False when nothing was there.

    A symlink or file is unlinked; a directory is removed with everything below it (best
    effort: entries that cannot be removed stay, and a later sweep tries again).
    """
    parent = existing_dir(lake, Path(path).absolute().parent)
    if parent is None:
        return False
    target = lake.guard(parent / Path(path).name)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(target, ignore_errors=True)
    else:
        try:
            os.unlink(target)
        except FileNotFoundError:
            return False
    return True


def write_atomic(lake: Lake, path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` inside ``lake`` whole or not at all, never through a symlink.

    The bytes go to a fresh temporary file (``O_EXCL | O_NOFOLLOW``) in the same directory,
    are fsynced, and replace ``path`` with one rename (a symlink planted at ``path`` is
    replaced, not followed). Returns the guarded path.
    """
    directory = make_dirs(lake, Path(path).absolute().parent)
    target = directory / Path(path).name
    replace_file(target, data)
    return target


def replace_file(target: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``target`` with ``data`` whole or not at all; its directory must exist.

    The bytes go to a fresh temporary file (``O_EXCL | O_NOFOLLOW``, created with ``mode``)
    in the same directory, are fsynced, and replace ``target`` with one rename (a symlink
    at ``target`` is replaced, not followed). Neither the directory's path nor the rename
    is checked or fsynced here: inside a lake use :func:`write_atomic`.
    """
    tmp = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _walk(lake: Lake, directory: Path, *, create: bool) -> Path | None:
    root = lake.root
    try:
        rel = Path(directory).absolute().relative_to(root)
    except ValueError:
        raise LakeError(f"{directory}: not inside the lake {root}") from None
    if not rel.parts:
        raise LakeError(f"{directory}: is the lake root, not a directory inside it")
    internal = rel.parts[0].startswith("_")
    if create:
        root.mkdir(parents=True, exist_ok=True)
    current = root
    for part in rel.parts:
        current = current / part
        kind = _kind(current)
        if kind == "link" and internal:
            _unlink_quietly(current)
            kind = None
        if kind is None:
            if not create:
                return None
            try:
                os.mkdir(current)
            except FileExistsError:
                pass
            kind = _kind(current)
        if kind == "link":
            raise LakeError(
                f"{current}: is a symlink inside the lake; rst never writes or deletes through one (remove it)"
            )
        if kind != "dir":
            raise LakeError(f"{current}: expected a directory, found a file; move it out of the lake")
    return lake.guard(current)


def _kind(path: Path) -> str | None:
    """``"dir"``, ``"link"``, ``"other"`` or None (missing), without following a link."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "link"
    return "dir" if stat.S_ISDIR(mode) else "other"


def _unlink_quietly(path: Path) -> None:
    """Unlink a symlink; a concurrent sweeper may have replaced it already."""
    try:
        os.unlink(path)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        pass
