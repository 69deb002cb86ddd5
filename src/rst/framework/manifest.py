"""``_MANIFEST.json`` and ``_SUCCESS``: the lineage document of a partition.

The manifest records which stage (and version, and parameters) produced the
partition from which inputs (path, size, SHA256), which files it wrote (rows,
SHA256), under which contract (schema fingerprint), with row counts and times.
``_SUCCESS`` is written last and holds the manifest's SHA256, so a partition is
complete exactly when ``_SUCCESS`` exists and matches its manifest.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from rst.errors import ManifestError
from rst.framework.hashing import sha256_bytes

MANIFEST = "_MANIFEST.json"
SUCCESS = "_SUCCESS"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class InputFile:
    """One input: ``path`` relative to the lake root.

    ``mtime_ns`` lets the cheap up-to-date check skip re-hashing an unchanged raw file; 0 means
    "do not trust the mtime, re-hash" (upstream partitions, and raw files modified too recently
    when they were hashed).
    """

    path: str
    size: int
    sha256: str
    mtime_ns: int = 0
    inode: int = 0
    """The raw file's inode when hashed (0: not recorded); part of the cheap up-to-date check."""


@dataclass(frozen=True)
class OutputFile:
    """One output file: ``path`` relative to the partition directory."""

    path: str
    rows: int
    size: int
    sha256: str


@dataclass
class Manifest:
    """The typed form of ``_MANIFEST.json`` (``schema_version`` 1)."""

    layer: str
    table: str
    symbol: str
    partition: str
    stage: str
    stage_version: str
    params: dict[str, Any]
    inputs: list[InputFile]
    outputs: list[OutputFile]
    schema_fingerprint: str
    rows_in: int
    rows_out: int
    rows_quarantined: int
    counts: dict[str, int] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes | str, path: Path | str = MANIFEST) -> Manifest:
        """Parse and validate a manifest; ``path`` names the file in the error.

        Raises
        ------
        ManifestError
            When ``data`` is not JSON, not an object, lacks a key, has an unknown one, or holds a
            value of the wrong type (an output path that is not a plain file name included).
        """
        try:
            raw = json.loads(data)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ManifestError(path, f"not JSON ({exc})") from None
        try:
            fields = _checked(raw, _MANIFEST_FIELDS, "manifest")
            if fields.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
                raise ValueError(f"schema_version {fields['schema_version']} is not {SCHEMA_VERSION}")
            inputs = [InputFile(**_checked(i, _INPUT_FIELDS, f"inputs[{n}]")) for n, i in enumerate(raw["inputs"])]
            outputs = [OutputFile(**_checked(o, _OUTPUT_FIELDS, f"outputs[{n}]")) for n, o in enumerate(raw["outputs"])]
        except ValueError as exc:
            raise ManifestError(path, str(exc)) from None
        _check_paths(path, inputs, outputs)
        return cls(**{**fields, "inputs": inputs, "outputs": outputs})

    def lineage_key(self) -> tuple[Any, ...]:
        """What must be unchanged for the partition to be up to date."""
        return (
            self.stage_version,
            json.dumps(self.params, sort_keys=True),
            self.schema_fingerprint,
            tuple(sorted((i.path, i.sha256) for i in self.inputs)),
        )


def write_manifest_and_success(directory: Path, manifest: Manifest) -> None:
    """Write the manifest, then ``_SUCCESS`` holding its hash; both fsynced."""
    data = manifest.to_json()
    _write_synced(directory / MANIFEST, data)
    _write_synced(directory / SUCCESS, (sha256_bytes(data) + "\n").encode())


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest of a *complete* partition, else None (missing, no ``_SUCCESS``, mismatch, invalid).

    Planning a large lake reads thousands of manifests; a parsed one is reused while both
    files keep their inode, size and mtime (a rebuild swaps in new files, a hand edit
    changes the mtime). Treat the result as read-only. Whether the directory holds exactly
    the listed outputs is not checked here (see :mod:`rst.framework.integrity`): a planted
    file changes no stamp, so that check must never be cached.
    """
    path = os.fspath(directory)  # plain strings: a plan calls this thousands of times
    try:
        stamp = (path, _stamp(os.path.join(path, MANIFEST)), _stamp(os.path.join(path, SUCCESS)))
    except OSError:  # missing, or a file where the partition directory should be
        return None
    cached = _READ_CACHE.get(stamp)
    if cached is not None:
        return cached
    manifest, _ = inspect_manifest(directory)
    if manifest is None:
        return None
    if len(_READ_CACHE) >= _READ_CACHE_SIZE:
        _READ_CACHE.clear()
    _READ_CACHE[stamp] = manifest
    return manifest


def inspect_manifest(directory: Path) -> tuple[Manifest | None, str]:
    """The manifest of a complete partition and ``""``, or None and why the partition is not complete.

    Uncached (:func:`read_manifest` is the cached form); the reason is one line such as
    ``no _SUCCESS``, ``_SUCCESS does not match _MANIFEST.json`` or ``_MANIFEST.json: lacks rows_out``.
    """
    path = os.fspath(directory)
    if not os.path.isdir(path):
        return None, "not a directory" if os.path.lexists(path) else "no partition directory"
    try:
        with open(os.path.join(path, MANIFEST), "rb") as f:
            if os.fstat(f.fileno()).st_size > MAX_MANIFEST_BYTES:
                return None, f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES >> 20} MiB"
            data = f.read()
    except OSError as exc:
        return None, f"no {MANIFEST}" if isinstance(exc, FileNotFoundError) else f"{MANIFEST}: {exc.strerror}"
    try:
        with open(os.path.join(path, SUCCESS), "rb") as f:
            marker = f.read(256).strip()
    except OSError as exc:
        return None, f"no {SUCCESS}" if isinstance(exc, FileNotFoundError) else f"{SUCCESS}: {exc.strerror}"
    if marker != sha256_bytes(data).encode():
        return None, f"{SUCCESS} does not match {MANIFEST}"
    try:
        return Manifest.from_json(data, directory / MANIFEST), ""
    except ManifestError as exc:
        return None, f"{MANIFEST}: {exc.problem}"


_READ_CACHE: dict[tuple[str, tuple[int, int, int], tuple[int, int, int]], Manifest] = {}
_READ_CACHE_SIZE = 20_000
MAX_MANIFEST_BYTES = 64 << 20
"""A manifest lists a partition's inputs and parts: megabytes at most; a larger one is refused unread."""


def _checked(obj: Any, spec: dict[str, tuple[str, bool]], where: str) -> dict[str, Any]:
    """``obj`` as a dict whose keys and value kinds are ``spec``'s (``{name: (kind, required)}``); ValueError if not."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where} is a JSON {_json_kind(obj)}, not an object")
    missing = [k for k, (_, required) in spec.items() if required and k not in obj]
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing[:4])}" + (" …" if len(missing) > 4 else ""))
    unknown = sorted(str(k) for k in obj.keys() - spec.keys())
    if unknown:
        raise ValueError(f"{where} has unknown key(s) {', '.join(unknown)[:200]}")
    for name, value in obj.items():
        kind = spec[name][0]
        if not _KINDS[kind](value):
            raise ValueError(f"{where}.{name} is {_json_kind(value)} {_short(value)}, expected {kind}")
    return obj


def _check_paths(path: Path | str, inputs: list[InputFile], outputs: list[OutputFile]) -> None:
    """Outputs are plain file names inside the partition; inputs relative paths inside the lake."""
    names = [o.path for o in outputs]
    for name in names:
        if not _OUTPUT_NAME.fullmatch(name):
            raise ManifestError(path, f"output {_short(name)} is not a plain part file name")
    if len(set(names)) != len(names):
        raise ManifestError(path, "an output is listed twice")
    for i in inputs:
        if i.path and "/." not in f"/{i.path}" and not i.path.startswith("/") and "\x00" not in i.path:
            continue  # the usual clean relative path, decided without building a PurePosixPath
        parts = PurePosixPath(i.path).parts
        if not parts or i.path.startswith("/") or "\x00" in i.path or any(p in (".", "..") for p in parts):
            raise ManifestError(path, f"input {_short(i.path)} is not a path inside the lake")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_SHA256 = re.compile(r"[0-9a-f]{64}")
_KINDS: dict[str, Any] = {
    "a string": lambda v: isinstance(v, str),
    "a count": _is_count,
    "a finite number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "an object": lambda v: isinstance(v, dict),
    "a list": lambda v: isinstance(v, list),
    "a SHA256": lambda v: isinstance(v, str) and _SHA256.fullmatch(v) is not None,
    "counters": lambda v: isinstance(v, dict) and all(isinstance(k, str) and _is_count(c) for k, c in v.items()),
}
_MANIFEST_FIELDS: dict[str, tuple[str, bool]] = {
    **{k: ("a string", True) for k in ("layer", "table", "symbol", "partition", "stage", "stage_version")},
    "params": ("an object", True),
    "inputs": ("a list", True),
    "outputs": ("a list", True),
    "schema_fingerprint": ("a string", True),
    **{k: ("a count", True) for k in ("rows_in", "rows_out", "rows_quarantined")},
    "counts": ("counters", False),
    "started_at": ("a string", False),
    "finished_at": ("a string", False),
    "seconds": ("a finite number", False),
    "schema_version": ("a count", False),
}
_INPUT_FIELDS = {"path": ("a string", True), "size": ("a count", True), "sha256": ("a SHA256", True),
                 "mtime_ns": ("a count", False), "inode": ("a count", False)}  # fmt: skip
_OUTPUT_FIELDS = {"path": ("a string", True), "rows": ("a count", True), "size": ("a count", True),
                  "sha256": ("a SHA256", True)}  # fmt: skip
_OUTPUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _stamp(path: str) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
