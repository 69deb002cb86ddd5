"""A lake on object storage (``--lake s3://bucket/prefix``): the same guarantees without a rename.

Layout in the bucket (every path below the prefix is the local lake's relative path)::

    _rst_lake.json, _config/...                 lake documents (layout, series, parents)
    raw/<raw path>                              raw files, written once (IfNoneMatch="*")
    raw/_catalog/<sha256>.json                  one catalogue entry per raw file (IfNoneMatch="*")
    <table path>/<key>/_POINTER.json            the partition's current version (rst.framework.pointer)
    <table path>/<key>/_attempts/<id>/...       one build: parts, _MANIFEST.json, _SUCCESS (immutable)
    _locks/<layer>/<parent>/<table>/<key>.lease the partition's lease (rst.framework.lease)

Protocol of one partition build (:meth:`Stage.run <rst.framework.stage.Stage.run>` through
:class:`ObjectStorage`): take the lease (conditional write, with expiry; a dead holder's lease
is taken over once expired) → read the pointer (remember its ETag) and the manifest it names
(its SHA256 must be the pointer's) → up-to-date check → build into a *local* staging directory
→ upload every file under a fresh attempt prefix → publish the pointer with ``IfMatch`` on the
ETag read (``IfNoneMatch`` for a first version). Of two writers exactly one publishes; a writer
killed before publishing leaves an orphan attempt that no reader ever sees, collected with the
attempts a new version supersedes once they are older than :attr:`ObjectStorage.grace_seconds`
(default the local ``_trash`` grace, 600 s), so a reader that resolved the old pointer just
before the swap can still finish reading it.

Readers resolve a partition through its pointer: :meth:`ObjectStorage.table_files` returns the
exact current part URIs (what DuckDB and polars should read; a glob over the table prefix would
also match superseded and orphan attempts), and :meth:`ObjectStorage.local_table_files` the
same parts fetched into a local content-addressed cache (``_objects/<sha256>``, verified).

The local mirror. Stages read and write local paths, so the lake's ``root`` is a local mirror
of the bucket with the local lake's layout: the lake documents and the raw catalogue (pulled
once per process, and again by :func:`open_remote`), each partition as its manifest and
``_SUCCESS`` (installed by :meth:`ObjectStorage.refresh` and by every up-to-date check), and,
once a stage reads it, its parts (hard links into ``_objects/``, each verified against its
manifest's SHA256 when downloaded). Partitions enter the mirror with the local protocol
(staging directory, then an atomic swap), so concurrent processes on one host share it safely.
The mirror is a cache: deleting it loses nothing. Failure records (``_failures/``) and run
logs stay in the mirror of the host that wrote them.

Not covered: ``rst status``, ``verify``, ``app`` and ``serve`` refuse an ``s3://`` lake; a
commit is not fenced against a writer paused longer than its lease (see
:mod:`rst.framework.lease`); GC trusts the attempt's clock stamp (hosts' clocks within the
grace period).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from rst.errors import InputMissing, LakeError, ManifestError, PartitionCorrupt, RawZoneError
from rst.framework.commit import TRASH_GRACE_SECONDS, new_staging_dir, remove_partition, swap_in
from rst.framework.hashing import sha256_bytes, sha256_file
from rst.framework.integrity import directory_problem
from rst.framework.lake import Lake, Layer
from rst.framework.lease import Lease
from rst.framework.listing import partition_at, partition_key
from rst.framework.manifest import MANIFEST, SUCCESS, Manifest, OutputFile, read_manifest
from rst.framework.objectstore import Bucket, Location, PreconditionFailed
from rst.framework.partition import Partition
from rst.framework.paths import make_dirs, remove_tree, replace_file, write_atomic
from rst.framework.pointer import ATTEMPTS, POINTER, Pointer, attempt_age_ns, attempt_rel, new_attempt, read_pointer

if TYPE_CHECKING:
    import datetime as dt

    from rst.framework.stage import Input
    from rst.sources.raw_zone import RawFile

OBJECTS = "objects"
"""Lake-internal directory of the mirror's content-addressed cache (``_objects/<sha[:2]>/<sha256>``)."""
MIRROR = "mirror"
"""Lake-internal directory where the mirror remembers each installed pointer's ETag."""
DOCUMENTS = ("_rst_lake.json", "_config/")
CATALOG = "raw/_catalog/"
MANIFEST_CACHE_SIZE = 20_000
SEEN_LIMIT = 4096
"""Pointers remembered between an up-to-date check and its commit (per thread and partition), at most."""


class ObjectStorage:
    """The :class:`~rst.framework.storage.Storage` of an ``s3://`` lake (see the module docstring)."""

    def __init__(self, lake: Lake) -> None:
        assert lake.remote is not None
        self.lake = lake
        self.bucket = Bucket(Location.parse(lake.remote))
        self.grace_seconds = TRASH_GRACE_SECONDS
        """How long a superseded or orphan attempt is kept before :meth:`collect` deletes it."""
        self._seen: dict[tuple[int, str], tuple[Pointer | None, str | None]] = {}
        self._leases: dict[tuple[int, str], Lease] = {}
        self._manifests: dict[tuple[str, str], tuple[bytes, Manifest]] = {}
        self._pulled = False
        self._pull_lock = threading.Lock()
        lake.root.mkdir(parents=True, exist_ok=True)

    # ---- the Storage interface ------------------------------------------------------
    def lock(self, partition: Partition, timeout: float | None = None) -> Lease:
        key = (threading.get_ident(), self._rel(partition))

        def forget() -> None:  # what this thread remembered of the partition while it held the lease
            self._leases.pop(key, None)
            self._seen.pop(key, None)

        lease = Lease(
            self.bucket, f"_locks/{partition.slug.as_posix()}.lease", partition.label, timeout, on_release=forget
        )
        self._leases[key] = lease
        return lease

    def current_manifest(self, partition: Partition) -> Manifest | None:
        self.pull()
        rel = self._rel(partition)
        pointer, etag = read_pointer(self.bucket, rel)
        if len(self._seen) >= SEEN_LIMIT:  # lock-free checks (a runner's skip checks) are never committed
            self._seen.clear()
        self._seen[(threading.get_ident(), rel)] = (pointer, etag)
        if pointer is None:
            return None
        try:
            return self._attempt_manifest(rel, pointer)[1]
        except PartitionCorrupt:
            return None  # rebuilt by the next run

    def problem(self, partition: Partition, manifest: Manifest) -> str:
        rel = self._rel(partition)
        pointer = self._seen.get((threading.get_ident(), rel), (None, None))[0]
        if pointer is None:
            pointer = read_pointer(self.bucket, rel)[0]
        if pointer is None:
            return "no pointer"
        prefix = attempt_rel(rel, pointer.attempt) + "/"
        listed = {o.rel[len(prefix) :]: o.size for o in self.bucket.list(prefix)}
        return _listing_problem(listed, manifest.outputs)

    def exists(self, partition: Partition) -> bool:
        return self.bucket.head(f"{self._rel(partition)}/{POINTER}") is not None

    def input_manifest(self, partition: Partition) -> Manifest | None:
        self.pull()
        return self._resolve(partition, parts=False)

    def fetch_inputs(self, inputs: list[Input]) -> None:
        from rst.framework.stage import PartitionInput

        for item in inputs:
            if isinstance(item, PartitionInput):
                if self.materialise(item.partition) is None:
                    raise InputMissing(
                        item.partition.path(self.lake), f"no {item.partition.label} in {self.lake.remote}"
                    )
            else:
                self.fetch_raw(item.path)

    def commit(self, partition: Partition, staging: Path) -> None:
        """Upload ``staging`` as a new attempt, publish the pointer, then install it in the mirror.

        Raises :class:`~rst.framework.objectstore.PreconditionFailed` (and deletes the attempt)
        when another writer published first or took the lease over.
        """
        from rst.framework import pointer as pointers

        rel = self._rel(partition)
        key = (threading.get_ident(), rel)
        data = (staging / MANIFEST).read_bytes()
        attempt = new_attempt()
        prefix = attempt_rel(rel, attempt)
        names = sorted(p.name for p in staging.iterdir() if p.name not in (MANIFEST, SUCCESS)) + [MANIFEST, SUCCESS]
        uploaded: list[str] = []
        try:
            for name in names:  # the attempt is invisible until the pointer names it: order is for people
                uploaded.append(f"{prefix}/{name}")
                self.bucket.put(uploaded[-1], staging / name, if_none_match=True)
            seen = self._seen.pop(key, None)
            previous = seen[1] if seen is not None else read_pointer(self.bucket, rel)[1]
            lease = self._leases.pop(key, None)
            if lease is not None and lease.lost:
                raise PreconditionFailed(self.bucket.uri(f"{rel}/{POINTER}"))
            etag = pointers.publish(self.bucket, rel, attempt, sha256_bytes(data), previous)
        except BaseException:
            self.bucket.delete_many(uploaded)
            raise
        manifest = Manifest.from_json(data)
        self._manifests[(rel, attempt)] = (data, manifest)
        for o in manifest.outputs:
            self._cache_local(staging / o.path, o.sha256)
        swap_in(self.lake, staging, partition.path(self.lake))
        self._remember(rel, etag)
        self.collect_partition(rel, keep=attempt)

    def remove(self, partition: Partition) -> bool:
        rel = self._rel(partition)
        pointer, etag = read_pointer(self.bucket, rel)
        removed = etag is not None and self.bucket.delete(f"{rel}/{POINTER}", if_match=etag)
        remove_partition(self.lake, partition.path(self.lake))
        remove_tree(self.lake, self._etag_path(rel))
        return removed

    # ---- the mirror -----------------------------------------------------------------
    def pull(self, *, force: bool = False) -> None:
        """Copy the lake documents and the raw catalogue into the mirror (once per process unless ``force``)."""
        with self._pull_lock:
            if self._pulled and not force:
                return
            for prefix in DOCUMENTS:
                for info in self.bucket.list(prefix):
                    found = self.bucket.get(info.rel)
                    if found is not None and "/" in info.rel:
                        write_atomic(self.lake, self.lake.root / info.rel, found[0])
                    elif found is not None:  # the layout document, at the root
                        replace_file(self.lake.root / info.rel, found[0])
            self._pull_catalogue()
            self._pulled = True

    def _pull_catalogue(self) -> None:
        from rst.sources.raw_zone import RawZone

        zone = RawZone(self.lake.root)
        remote = {info.rel.rsplit("/", 1)[1] for info in self.bucket.list(CATALOG) if info.rel.endswith(".json")}
        local = set(os.listdir(zone.catalog_dir)) if zone.catalog_dir.is_dir() else set()
        for name in sorted(remote - local):
            found = self.bucket.get(CATALOG + name)
            if found is not None:
                write_atomic(self.lake, zone.catalog_dir / name, found[0])
        for name in sorted(n for n in local - remote if n.endswith(".json")):  # retired elsewhere
            remove_tree(self.lake, zone.catalog_dir / name)
        zone.refresh()
        for entry in zone.files():
            if entry.end_ns is None:  # an open request window is read from the file while planning
                self.fetch_raw(entry.abspath(self.lake.root))

    def refresh(self) -> None:
        """Bring the whole mirror up to date: documents, catalogue, and every partition's manifest.

        One listing of the layers' prefixes; a pointer whose ETag the mirror already installed
        costs nothing more. Partitions gone from the bucket leave the mirror.
        """
        self.pull(force=True)
        pointers: dict[str, str] = {}
        for layer in Layer:
            pointers.update(self._install_listed(f"{layer.value}/"))
        for layer in Layer:
            base = self.lake.root / layer.value
            for success in sorted(base.rglob(SUCCESS)) if base.is_dir() else ():
                rel = self.lake.relative(success.parent)
                if rel not in pointers and ATTEMPTS not in rel:
                    remove_partition(self.lake, success.parent)
                    remove_tree(self.lake, self._etag_path(rel))

    def sync_upstream(self, layer: Layer, symbol: str) -> None:
        """Install in the mirror the current manifest of every partition of ``symbol`` in the layers before ``layer``.

        Called under the lease before a partition's inputs are listed, so a worker on another host
        sees what other workers of the same run committed. One listing per upstream layer; a pointer
        whose ETag the mirror already installed costs nothing more.
        """
        self.pull()
        for upstream in list(Layer)[: list(Layer).index(layer)]:
            self._install_listed(self.lake.relative(self.lake.parent_dir(upstream, symbol)) + "/")

    def _install_listed(self, prefix: str) -> dict[str, str]:
        """Install the manifest of every partition whose pointer is under ``prefix`` and changed; {partition path: ETag}."""
        pointers = {
            info.rel.rsplit("/", 1)[0]: info.etag
            for info in self.bucket.list(prefix)
            if info.rel.endswith(f"/{POINTER}")
        }
        for rel, etag in sorted(pointers.items()):
            target = self.lake.root / rel
            if self._remembered(rel) == etag and read_manifest(target) is not None:
                continue
            partition = partition_at(self.lake, target)
            if partition is not None:
                self._resolve(partition, parts=False)
        return pointers

    def fetch_raw(self, path: Path) -> None:
        """Make the raw file at ``path`` (in the mirror) present, verified against its catalogue entry."""
        from rst.sources.raw_zone import RawZone

        if path.exists():
            return  # Stage.run hashes it against the catalogue (rst.framework.stage._raw_input_file)
        rel = self.lake.relative(path)
        entry = RawZone(self.lake.root).entry(rel)
        if entry is None:
            raise InputMissing(path, f"not in the raw catalogue of {self.lake.remote}")
        cached = self._cas(entry.sha256, rel, entry.size)
        make_dirs(self.lake, path.parent)
        tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        os.link(cached, tmp)
        os.replace(tmp, path)

    def publish_raw(self, entry: RawFile) -> None:
        """Upload an imported raw file, then its catalogue entry, each only if absent (raw files are immutable).

        Raises :class:`~rst.errors.RawZoneError` when the bucket already holds other bytes under its name.
        """
        path = entry.abspath(self.lake.root)
        try:
            self.bucket.put(entry.path, path, if_none_match=True, metadata={"sha256": entry.sha256})
        except PreconditionFailed:
            head = self.bucket.head(entry.path) or {}
            if head.get("Metadata", {}).get("sha256") != entry.sha256:
                raise RawZoneError(
                    f"{self.bucket.uri(entry.path)} already holds other bytes (raw files are immutable); "
                    "rename the new file to import it"
                ) from None
        try:
            self.bucket.put(f"{CATALOG}{entry.sha256}.json", entry.to_json().encode(), if_none_match=True)
        except PreconditionFailed:
            pass  # catalogued already (entries are named by content)
        self._cache_local(path, entry.sha256)

    def publish_documents(self) -> None:
        """Upload the mirror's lake documents (``_config/``: series, parents, settings) to the bucket."""
        config = self.lake.internal("config")
        for path in sorted(config.rglob("*")) if config.is_dir() else ():
            if path.is_file() and not path.name.startswith("."):
                self.bucket.put(self.lake.relative(path), path.read_bytes())

    # ---- readers ----------------------------------------------------------------------
    def table_versions(
        self, layer: Layer, symbol: str, table: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[tuple[Partition, Pointer, Manifest]]:
        """The current version of each partition of a table overlapping ``[start, end]`` (inclusive), by key.

        Raises :class:`~rst.errors.PartitionCorrupt` for a pointer whose manifest is gone or not its own.
        """
        base = self.lake.relative(self.lake.table_dir(layer, symbol, table))
        found: list[tuple[Partition, Pointer, Manifest]] = []
        for info in self.bucket.list(f"{base}/"):
            head, _, name = info.rel.rpartition("/")
            key = partition_key(head.rsplit("/", 1)[-1]) if name == POINTER else None
            if key is None or (start is not None and key.end <= start) or (end is not None and key.start > end):
                continue
            pointer, _ = read_pointer(self.bucket, head)
            partition = Partition(layer, symbol, table, key)
            if pointer is None:
                raise PartitionCorrupt(partition.label, f"{POINTER} is not a pointer document")
            found.append((partition, pointer, self._attempt_manifest(head, pointer)[1]))
        return sorted(found, key=lambda item: item[0].key)

    def table_files(
        self, layer: Layer, symbol: str, table: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[str]:
        """The ``s3://`` URIs of exactly the current parts of a table's partitions in ``[start, end]``, in order.

        Valid for :attr:`grace_seconds` after the call even if the partitions are rebuilt meanwhile.
        """
        return [
            self.bucket.uri(f"{attempt_rel(self._rel(p), ptr.attempt)}/{o.path}")
            for p, ptr, manifest in self.table_versions(layer, symbol, table, start, end)
            for o in manifest.outputs
        ]

    def local_table_files(
        self, layer: Layer, symbol: str, table: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[Path]:
        """The same parts as :meth:`table_files`, fetched into the mirror's cache (verified), in order.

        The cache is content-addressed and never rewritten: a later rebuild cannot change what
        these paths hold.
        """
        return [
            self._cas(o.sha256, f"{attempt_rel(self._rel(p), ptr.attempt)}/{o.path}", o.size)
            for p, ptr, manifest in self.table_versions(layer, symbol, table, start, end)
            for o in manifest.outputs
        ]

    # ---- garbage collection -----------------------------------------------------------
    def collect_partition(self, rel: str, keep: str | None = None, grace_seconds: float | None = None) -> int:
        """Delete the partition's attempts other than ``keep`` older than the grace period; return how many."""
        grace_ns = int((self.grace_seconds if grace_seconds is None else grace_seconds) * 1e9)
        prefix = f"{rel}/{ATTEMPTS}/"
        by_attempt: dict[str, list[str]] = {}
        for info in self.bucket.list(prefix):
            by_attempt.setdefault(info.rel[len(prefix) :].split("/", 1)[0], []).append(info.rel)
        old = [a for a in by_attempt if a != keep and (attempt_age_ns(a) or 0) >= grace_ns]
        self.bucket.delete_many([rel for a in old for rel in by_attempt[a]])
        return len(old)

    def collect(self, grace_seconds: float | None = None) -> int:
        """Garbage-collect every partition: attempts neither current nor younger than the grace period."""
        partitions: set[str] = set()
        for layer in Layer:
            for info in self.bucket.list(f"{layer.value}/"):
                head, sep, _ = info.rel.partition(f"/{ATTEMPTS}/")
                partitions.add(head if sep else info.rel.rsplit("/", 1)[0])
        collected = 0
        for rel in sorted(partitions):
            pointer, _ = read_pointer(self.bucket, rel)
            collected += self.collect_partition(rel, pointer.attempt if pointer else None, grace_seconds)
        return collected

    # ---- internals ----------------------------------------------------------------------
    def _rel(self, partition: Partition) -> str:
        return self.lake.relative(partition.path(self.lake))

    def _attempt_manifest(self, rel: str, pointer: Pointer) -> tuple[bytes, Manifest]:
        """The bytes and the parsed manifest ``pointer`` names, checked against its SHA256.

        Cached per attempt (attempts are never rewritten); treat the result as read-only.
        """
        cached = self._manifests.get((rel, pointer.attempt))
        if cached is not None and sha256_bytes(cached[0]) == pointer.manifest_sha256:
            return cached
        where = f"{attempt_rel(rel, pointer.attempt)}/{MANIFEST}"
        found = self.bucket.get(where)
        label = rel
        if found is None:
            raise PartitionCorrupt(label, f"{self.bucket.uri(where)} is missing")
        if sha256_bytes(found[0]) != pointer.manifest_sha256:
            raise PartitionCorrupt(label, f"{self.bucket.uri(where)} is not the manifest its pointer names")
        try:
            parsed = found[0], Manifest.from_json(found[0], self.bucket.uri(where))
        except ManifestError as exc:
            raise PartitionCorrupt(label, str(exc)) from None
        if len(self._manifests) >= MANIFEST_CACHE_SIZE:
            self._manifests.clear()
        self._manifests[(rel, pointer.attempt)] = parsed
        return parsed

    def materialise(self, partition: Partition) -> Manifest | None:
        """Install the partition's current version in the mirror with its parts (verified); its manifest.

        What every local reader of a mirror partition gets on demand (:func:`rst.read.partition_files`
        calls it when a mirror partition lacks its parts). None when the bucket has no such partition.
        """
        return self._resolve(partition, parts=True)

    def _resolve(self, partition: Partition, *, parts: bool) -> Manifest | None:
        """Install the partition's current version in the mirror (with its parts when ``parts``); its manifest.

        None when the bucket has no such partition (the mirror's copy, if any, is removed).
        """
        rel = self._rel(partition)
        target = partition.path(self.lake)
        pointer, etag = read_pointer(self.bucket, rel)
        if pointer is None:
            remove_partition(self.lake, target)
            return None
        local = read_manifest(target)
        if local is not None and _success(target) == pointer.manifest_sha256:
            if not parts or not directory_problem(target, local):
                self._remember(rel, etag)
                return local
        data, manifest = self._attempt_manifest(rel, pointer)
        staging = new_staging_dir(self.lake, partition)
        try:
            if parts:
                for o in manifest.outputs:
                    os.link(
                        self._cas(o.sha256, f"{attempt_rel(rel, pointer.attempt)}/{o.path}", o.size), staging / o.path
                    )
            (staging / MANIFEST).write_bytes(data)
            (staging / SUCCESS).write_bytes((pointer.manifest_sha256 + "\n").encode())
            swap_in(self.lake, staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._remember(rel, etag)
        return manifest

    def _cas(self, sha256: str, rel: str, size: int) -> Path:
        """The cached file of content ``sha256`` (downloaded from ``rel`` and verified when absent)."""
        path = self.lake.internal(OBJECTS) / sha256[:2] / sha256
        try:
            if path.stat().st_size == size:
                return path
        except FileNotFoundError:
            pass
        directory = make_dirs(self.lake, path.parent)
        tmp = directory / f".{sha256}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.unlink(missing_ok=True)
        try:
            if not self.bucket.download(rel, tmp):
                raise InputMissing(Path(rel), f"{self.bucket.uri(rel)} is missing")
            digest = sha256_file(tmp)
            if digest != sha256:
                raise PartitionCorrupt(
                    rel, f"{self.bucket.uri(rel)} has SHA256 {digest[:12]}…, expected {sha256[:12]}…"
                )
            os.chmod(tmp, 0o444)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def _cache_local(self, path: Path, sha256: str) -> None:
        """Link a file this process just wrote or imported (content ``sha256``) into the cache (best effort)."""
        try:
            cached = make_dirs(self.lake, self.lake.internal(OBJECTS) / sha256[:2]) / sha256
            if not cached.exists():
                os.link(path, cached)
        except OSError:
            pass

    def _etag_path(self, rel: str) -> Path:
        return self.lake.internal(MIRROR) / f"{rel}.etag"

    def _remember(self, rel: str, etag: str | None) -> None:
        if etag is not None:
            write_atomic(self.lake, self._etag_path(rel), etag.encode())

    def _remembered(self, rel: str) -> str | None:
        try:
            return self._etag_path(rel).read_text()
        except OSError:
            return None


def _success(directory: Path) -> str:
    try:
        with open(directory / SUCCESS, "rb") as f:
            return f.read(256).decode(errors="replace").strip()
    except OSError:
        return ""


def _listing_problem(listed: dict[str, int], outputs: list[OutputFile]) -> str:
    """Why an attempt's listing is not exactly ``outputs`` plus manifest and ``_SUCCESS`` ("" when it is)."""
    wanted = {o.path: o.size for o in outputs}
    for name, size in sorted(wanted.items()):
        if name not in listed:
            return f"{name} is listed in its manifest but missing"
        if listed[name] != size:
            return f"{name} has {listed[name]} bytes, its manifest says {size}"
    extra = sorted(listed.keys() - wanted.keys() - {MANIFEST, SUCCESS})
    return f"{extra[0]} is not listed in its manifest" if extra else ""


def open_remote(lake: Lake) -> Lake:
    """``lake`` (on object storage) once its mirror is refreshed; a one-line ``LakeError`` when there is no lake there."""
    from rst.framework.layout import LAYOUT_FILE, open_lake

    storage = lake.storage
    assert isinstance(storage, ObjectStorage)
    if storage.bucket.head(LAYOUT_FILE) is None:
        raise LakeError(
            f"no lake at {lake.remote}: create one with `rst import --lake {lake.remote}` or `rst demo --lake {lake.remote}`"
        )
    storage.refresh()
    return open_lake(lake)


def create_remote(lake: Lake) -> tuple[Lake, bool]:
    """Open the lake at ``lake.remote``, creating it (its layout document) when the bucket prefix holds none."""
    from rst.framework.layout import LAYOUT_FILE, ensure_layout, layout_path

    storage = lake.storage
    assert isinstance(storage, ObjectStorage)
    if storage.bucket.head(LAYOUT_FILE) is not None:
        return open_remote(lake), False
    ensure_layout(lake)
    try:
        storage.bucket.put(LAYOUT_FILE, layout_path(lake).read_bytes(), if_none_match=True)
        created = True
    except PreconditionFailed:
        created = False  # another process created it meanwhile
    return open_remote(lake), created


def publish_documents(lake: Lake) -> None:
    """Upload ``lake``'s documents (``_config/``) when it is on object storage; nothing for a local lake."""
    storage = lake.storage
    if isinstance(storage, ObjectStorage):
        storage.publish_documents()
