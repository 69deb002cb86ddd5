"""Is a partition what its manifest says? The cheap directory check, and what ``rst verify`` found.

Two questions, asked wherever a partition is trusted (planning, ``rst status``, readers):

* **The directory check** (:func:`directory_problem`): the partition directory holds
  exactly the manifest's outputs, as regular files of the recorded sizes, plus
  ``_MANIFEST.json`` and ``_SUCCESS``. One ``scandir`` and one ``stat`` per part, no
  hashing; never cached, since a planted file changes neither manifest stamp.
* **The verify record** (:func:`recorded_problem`): ``rst verify`` re-hashes every part;
  when a part of the right size has other bytes, it writes
  ``<lake>/_verify/<partition path>.json`` (atomically) naming the partition's ``_SUCCESS``
  hash and what it found. The record applies only while that ``_SUCCESS`` is in place: a
  rebuild writes a new manifest (its times differ), which voids the record at once; verify
  removes void records and the records of partitions it finds clean.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from rst.framework.lake import Lake, Layer
from rst.framework.manifest import MANIFEST, SUCCESS, Manifest
from rst.framework.paths import remove_tree, write_atomic

RECORDS = "verify"
"""Lake-internal directory of the verify records (``<lake>/_verify/``)."""
RECORD_VERSION = 1
_MAX_RECORD_BYTES = 1 << 20


class VerifyRecord(TypedDict):
    """``<lake>/_verify/<partition path>.json``: what ``rst verify`` found in one partition version."""

    schema_version: int
    partition: str
    success: str
    """The partition's ``_SUCCESS`` content (its manifest's SHA256) when verified."""
    problems: list[str]
    at: str


@dataclass(frozen=True)
class Finding:
    """One way a partition directory differs from its manifest: ``kind`` is ``unlisted``,
    ``missing``, ``size``, ``not-a-file`` or ``unreadable``; ``name`` the file (in the partition)."""

    kind: str
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.name} {self.detail}"


def directory_findings(directory: Path, manifest: Manifest) -> list[Finding]:
    """Every way ``directory`` differs from ``manifest``'s outputs (empty when it holds exactly them).

    One ``scandir`` and one ``lstat`` per listed part; nothing is read or hashed.
    """
    path = os.fspath(directory)  # plain strings: this runs for every partition a plan or a status touches
    if os.path.islink(path):
        return [Finding("not-a-file", ".", "(the partition directory) is a symlink")]
    try:
        with os.scandir(path) as it:
            entries = {e.name: e for e in it}
    except OSError as exc:
        return [Finding("unreadable", ".", f"(the partition directory) cannot be listed: {exc.strerror}")]
    listed = {o.path for o in manifest.outputs}
    found = [
        Finding("unlisted", name, "is not listed in its manifest")
        for name in sorted(entries.keys() - listed - {MANIFEST, SUCCESS})
    ]
    for out in manifest.outputs:
        entry = entries.get(out.path)
        if entry is None:
            found.append(Finding("missing", out.path, "is listed in its manifest but missing"))
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            found.append(Finding("unreadable", out.path, f"cannot be read: {exc.strerror}"))
            continue
        if not stat.S_ISREG(st.st_mode):
            found.append(Finding("not-a-file", out.path, "is not a regular file"))
        elif st.st_size != out.size:
            found.append(Finding("size", out.path, f"has {st.st_size} bytes, its manifest says {out.size}"))
    return found


def directory_problem(directory: Path, manifest: Manifest) -> str:
    """Why ``directory`` does not hold exactly ``manifest``'s outputs, naming the file ("" when it does)."""
    found = directory_findings(directory, manifest)
    if not found:
        return ""
    return str(found[0]) + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")


def partition_problem(directory: Path, manifest: Manifest, lake: Lake | None = None) -> str:
    """The directory check, then the verify record ("" when neither finds anything).

    ``lake`` defaults to the lake ``directory`` lies in (derived from the layout).
    """
    problem = directory_problem(directory, manifest)
    if problem:
        return problem
    the_lake = lake or lake_of(directory)
    return recorded_problem(the_lake, directory) if the_lake is not None else ""


def lake_of(directory: Path) -> Lake | None:
    """The lake holding partition ``directory`` (``<root>/<layer>/<prefix>/parent=S/table=T/<key>``), or None."""
    layer_base = Path(directory).absolute().parent.parent.parent
    for layer in Layer:
        segments = (layer.value, *layer.prefix.split("/"))
        if layer_base.parts[-len(segments) :] == segments:
            return Lake(layer_base.parents[len(segments) - 1])
    return None


def record_path(lake: Lake, directory: Path) -> Path:
    """Where the verify record of partition ``directory`` lives."""
    return lake.internal(RECORDS) / f"{lake.relative(directory)}.json"


def recorded_problem(lake: Lake, directory: Path) -> str:
    """What ``rst verify`` found in the partition now at ``directory`` ("" without a record, or a void one).

    One ``stat`` when there is no record (the usual case). An unreadable record counts as
    none: records are written atomically, and the next verify replaces it.
    """
    root, path = os.fspath(lake.root), os.fspath(directory)
    if not path.startswith(root + os.sep):
        return ""
    record_file = os.path.join(root, f"_{RECORDS}", path[len(root) + 1 :] + ".json")
    try:  # string paths: one failing lstat in the usual case, without pathlib's parsing
        st = os.lstat(record_file)
    except OSError:
        return ""
    if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_RECORD_BYTES:  # never follow a planted link
        return ""
    try:
        fd = os.open(record_file, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            record = json.loads(f.read(_MAX_RECORD_BYTES))
        with open(directory / SUCCESS, "rb") as f:
            current = f.read(256).decode().strip()
        problems = record["problems"]
        if record["success"] != current or not problems:
            return ""
        return f"rst verify found {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return ""


def write_record(lake: Lake, directory: Path, problems: list[str]) -> None:
    """Record ``problems`` for the partition version now at ``directory`` (atomic: written whole or not at all)."""
    try:
        with open(directory / SUCCESS, "rb") as f:
            success = f.read(256).decode(errors="replace").strip()
    except OSError:
        success = ""
    record: VerifyRecord = {
        "schema_version": RECORD_VERSION,
        "partition": lake.relative(directory),
        "success": success,
        "problems": problems,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_atomic(lake, record_path(lake, directory), (json.dumps(record) + "\n").encode())


def clear_record(lake: Lake, directory: Path) -> None:
    """Remove the verify record of ``directory`` (the partition verified clean, or was rebuilt)."""
    remove_tree(lake, record_path(lake, directory))


def sweep_records(lake: Lake, layers: list[Layer], keep: set[Path]) -> None:
    """Remove the verify records of ``layers`` except those of the partition directories in ``keep``.

    Never follows a symlink: a planted link is removed, not what it points to.
    """
    wanted = {record_path(lake, d) for d in keep}
    for layer in layers:
        root = lake.internal(RECORDS) / layer.value
        if root.is_symlink() or not root.is_dir():
            continue
        for dirpath, _, files in os.walk(root):  # os.walk does not descend into symlinked directories
            for name in files:
                path = Path(dirpath) / name
                if path not in wanted:
                    remove_tree(lake, path)
