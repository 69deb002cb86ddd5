"""Avro contracts: ``schemas/<layer>/<table>.avsc`` is the law for a table's columns.

The contracts ship inside the package (``rst/schemas``, read through
:mod:`importlib.resources`, so an installed wheel finds them; the repository's
top-level ``schemas/`` is a link to that folder); ``$RST_SCHEMAS`` names a
custom folder of the same layout instead.

Each output batch is checked against its contract before anything is
committed: field names (none missing, none extra), types (including logical
types and time zones) and nullability (a non-null field may hold no nulls).
The check names the field and both types. Conforming batches are cast to the
contract's canonical Arrow types, so every file of a table has one schema.

Avro is coarser than Arrow in two places, settled by field attributes:
``"arrow.type"`` pins an integer width/signedness Avro lacks (``uint32`` for a
``long``), and ``"tz"`` gives the zone of a ``timestamp-nanos`` (default UTC).
``"arrow.dictionary": true`` stores a string column dictionary-encoded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import fastavro.schema
import pyarrow as pa

from rst.errors import ConfigError, ContractViolation
from rst.framework.hashing import sha256_bytes

SCHEMAS_ENV = "RST_SCHEMAS"

_PRIMITIVE: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "string": pa.string(),
    "bytes": pa.binary(),
}
_PINNED: dict[str, tuple[pa.DataType, str]] = {
    "int8": (pa.int8(), "int"),
    "int16": (pa.int16(), "int"),
    "uint8": (pa.uint8(), "int"),
    "uint16": (pa.uint16(), "int"),
    "uint32": (pa.uint32(), "long"),
    "uint64": (pa.uint64(), "long"),
}
_TIMESTAMP_UNITS = {"timestamp-nanos": "ns", "timestamp-micros": "us", "timestamp-millis": "ms"}


def schemas_dir() -> Traversable:
    """``$RST_SCHEMAS`` when set, else the contracts shipped in the package (``rst/schemas``)."""
    env = os.environ.get(SCHEMAS_ENV)
    if env:
        return Path(env)
    return resources.files("rst") / "schemas"


@dataclass(frozen=True)
class FieldSpec:
    """One contract field: its Arrow type, nullability and the Avro text it came from."""

    name: str
    arrow_type: pa.DataType
    nullable: bool
    avro: str


@dataclass(frozen=True)
class Contract:
    """The parsed contract of one table."""

    layer: str
    table: str
    path: Traversable
    fields: tuple[FieldSpec, ...]
    fingerprint: str

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, f.arrow_type, f.nullable) for f in self.fields])

    def conform(self, data: pa.Table | pa.RecordBatch, partition: str) -> pa.Table:
        """Check ``data`` against the contract and return it cast to the canonical schema.

        Raises
        ------
        ContractViolation
            Naming the first offending field, the expected and the actual type.
        """
        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        actual = {f.name: f.type for f in table.schema}
        expected_names = [f.name for f in self.fields]
        for name in actual:
            if name not in expected_names:
                raise ContractViolation(self.table, partition, name, "no such field", str(actual[name]))
        columns = []
        for spec in self.fields:
            if spec.name not in actual:
                raise ContractViolation(self.table, partition, spec.name, spec.avro, "missing")
            column = table.column(spec.name)
            if not _compatible(spec.arrow_type, column.type):
                raise ContractViolation(
                    self.table, partition, spec.name, f"{spec.avro} ({spec.arrow_type})", str(column.type)
                )
            if not spec.nullable and column.null_count:
                raise ContractViolation(
                    self.table, partition, spec.name, f"{spec.avro} (not null)", f"{column.null_count} nulls"
                )
            if column.type != spec.arrow_type:
                column = _cast(column, spec.arrow_type)
            columns.append(column)
        return pa.Table.from_arrays(columns, schema=self.arrow_schema)


def _is_stringlike(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _is_stringlike(t.value_type)
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _cast(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Cast a compatible column; string-likes Arrow cannot cast directly (views and their dictionaries) are
    decoded to ``large_string`` first."""
    try:
        return column.cast(target)
    except pa.ArrowNotImplementedError:
        if not _is_stringlike(target):
            raise
    chunks = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            values = chunk.dictionary.cast(pa.large_string())
            chunk = pa.DictionaryArray.from_arrays(chunk.indices, values).dictionary_decode()
        chunks.append(chunk.cast(pa.large_string()))
    return pa.chunked_array(chunks, pa.large_string()).cast(target)


def _compatible(expected: pa.DataType, actual: pa.DataType) -> bool:
    if expected == actual:
        return True
    return _is_stringlike(expected) and _is_stringlike(actual)


def _field_type(field: dict[str, Any], where: str) -> tuple[pa.DataType, bool, str]:
    avro = field["type"]
    nullable = False
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        if len(branches) != 1:
            raise ConfigError(where, f"field '{field['name']}': only [\"null\", T] unions are supported")
        nullable = len(branches) < len(avro)
        avro = branches[0]
    text = json.dumps(avro, sort_keys=True) if isinstance(avro, dict) else str(avro)
    if isinstance(avro, dict):
        logical = avro.get("logicalType")
        base = avro["type"]
        if logical in _TIMESTAMP_UNITS and base == "long":
            return pa.timestamp(_TIMESTAMP_UNITS[logical], tz=field.get("tz", "UTC")), nullable, text
        if logical == "date" and base == "int":
            return pa.date32(), nullable, text
        avro = base
    if avro not in _PRIMITIVE:
        raise ConfigError(where, f"field '{field['name']}': unsupported Avro type {text}")
    arrow_type = _PRIMITIVE[avro]
    pinned = field.get("arrow.type")
    if pinned is not None:
        if pinned not in _PINNED or _PINNED[pinned][1] != avro:
            raise ConfigError(where, f"field '{field['name']}': arrow.type {pinned!r} does not fit Avro {avro}")
        arrow_type = _PINNED[pinned][0]
    if avro == "string" and field.get("arrow.dictionary"):
        arrow_type = pa.dictionary(pa.int32(), pa.string())
    return arrow_type, nullable, text


@cache
def load_contract(layer: str, table: str, root: Traversable | None = None) -> Contract:
    """Parse ``<root>/<layer>/<table>.avsc`` (validated by fastavro); ``root`` defaults to :func:`schemas_dir`."""
    path = (root or schemas_dir()) / layer / f"{table}.avsc"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        fastavro.schema.parse_schema(raw)
    except FileNotFoundError:
        override = f" (${SCHEMAS_ENV} is set: unset it to use the shipped contracts)" if os.environ.get(SCHEMAS_ENV) else ""
        raise ConfigError(str(path), f"no contract for table {layer}/{table}{override}") from None
    except (ValueError, fastavro.schema.SchemaParseException) as exc:
        raise ConfigError(str(path), f"invalid Avro schema: {exc}") from exc
    fields = []
    for field in raw["fields"]:
        arrow_type, nullable, text = _field_type(field, str(path))
        fields.append(FieldSpec(field["name"], arrow_type, nullable, text))
    fingerprint = sha256_bytes(json.dumps(raw, sort_keys=True).encode())
    return Contract(layer, table, path, tuple(fields), fingerprint)
