"""Guarantee 3: outputs are checked against the Avro contract before anything is committed."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from toystage import TABLE, TOY_AVSC, snapshot, staging_leftovers

from rst.errors import ConfigError, ContractViolation, StageError
from rst.framework.contract import load_contract
from rst.framework.manifest import read_manifest
from rst.framework.stage import Outcome

VIOLATIONS = {
    # bad mode: (field, expected text, actual text)
    "int32": ("price", "long (int64)", "int32"),
    "missing": ("note", "string", "missing"),
    "extra": ("extra", "no such field", "int64"),
    "nulls": ("price", "long (not null)", "nulls"),
    "tz": ("ts_event", "timestamp[ns, tz=UTC]", "timestamp[ns, tz=America/Chicago]"),
}


@pytest.mark.parametrize("bad", sorted(VIOLATIONS))
def test_violation_fails_and_keeps_previous_partition(stage, make_stage, lake, key, part_dir, bad):
    stage.run(key)
    before = snapshot(part_dir)
    q_before = snapshot(part_dir.parent.parent / "table=toy_quarantine" / key.dirname)
    with pytest.raises(StageError) as info:
        make_stage({"bad": bad}).run(key)
    cause = info.value.__cause__
    assert isinstance(cause, ContractViolation)
    field, expected, actual = VIOLATIONS[bad]
    msg = str(info.value)
    assert f"'{field}'" in msg and expected in msg and actual in msg
    assert cause.column == field
    assert "bronze/toy [dt=2024-03-01]" in msg
    assert snapshot(part_dir) == before
    assert snapshot(part_dir.parent.parent / "table=toy_quarantine" / key.dirname) == q_before
    assert staging_leftovers(lake) == []


def test_violation_with_no_previous_partition_leaves_nothing(make_stage, raw, lake, key, part_dir):
    with pytest.raises(StageError):
        make_stage({"bad": "int32"}).run(key)
    assert not part_dir.exists()
    assert not (part_dir.parent.parent / "table=toy_quarantine").exists()
    assert staging_leftovers(lake) == []


def test_conforming_types_are_cast_to_the_contract(make_stage, raw, key, part_dir):
    stage = make_stage({"bad": "large_string"})
    assert stage.run(key).outcome is Outcome.BUILT
    contract = load_contract("bronze", TABLE)
    for o in read_manifest(part_dir).outputs:
        schema = pq.read_schema(part_dir / o.path)
        assert schema.names == contract.arrow_schema.names
        # the files hold the contract's types as polars writes them: strings as large_string,
        # dictionaries with uint32 indices; everything else exactly
        assert schema.field("symbol").type == pa.dictionary(pa.uint32(), pa.large_string()) or schema.field(
            "symbol"
        ).type == pa.dictionary(pa.uint32(), pa.string())
        assert schema.field("qty").type == pa.uint32()
        assert schema.field("ts_event").type == pa.timestamp("ns", "UTC")
        assert pa.types.is_large_string(schema.field("note").type)
        contract.conform(pq.read_table(part_dir / o.path), "re-read")  # still satisfies the contract
    # the quarantine's large_string reason is a string column like every other
    q = part_dir.parent.parent / "table=toy_quarantine" / key.dirname
    assert pa.types.is_large_string(pq.read_schema(next(q.glob("part-00000-*.parquet"))).field("reason").type)


def test_conform_directly(schemas):
    contract = load_contract("bronze", TABLE)
    ok = pa.table(
        {
            "note": pa.array(["x", None], pa.large_string()),
            "ts_event": pa.array([1, 2], pa.timestamp("ns", "UTC")),
            "price": pa.array([1, 2], pa.int64()),
            "qty": pa.array([1, 2], pa.uint32()),
            "symbol": pa.array(["a", "b"], pa.string_view()),
            "source_file": pa.array(["f", "f"]),
        }
    )
    out = contract.conform(ok, "p")
    assert out.schema == contract.arrow_schema  # reordered to the contract's order and cast
    assert out.column("symbol").to_pylist() == ["a", "b"]
    with pytest.raises(ContractViolation, match="'qty' expected long"):
        contract.conform(ok.set_column(3, "qty", pa.array([1, 2], pa.int64())), "p")
    with pytest.raises(ContractViolation, match="'ts_event'"):
        contract.conform(ok.set_column(1, "ts_event", pa.array([1, 2], pa.timestamp("us", "UTC"))), "p")


def _avsc(field_type, **attrs):
    return json.dumps({"type": "record", "name": "toy", "fields": [{"name": "x", "type": field_type, **attrs}]})


@pytest.mark.parametrize(
    "text, problem",
    [
        ("{not json", "invalid Avro schema"),
        (_avsc("nope"), "invalid Avro schema"),
        (_avsc("long", **{"arrow.type": "int8"}), "arrow.type"),
        (_avsc(["null", "long", "string"]), "unions"),
        (_avsc({"type": "array", "items": "long"}), "unsupported"),
    ],
)
def test_invalid_avsc_is_a_config_error_naming_the_file(schemas, text, problem):
    path = schemas / "bronze" / "broken.avsc"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_contract("bronze", "broken")
    assert info.value.path == path
    assert str(path) in str(info.value) and problem in str(info.value)


def test_missing_avsc_is_a_config_error(schemas):
    with pytest.raises(ConfigError, match="no contract for table bronze/absent"):
        load_contract("bronze", "absent")


def test_fingerprint_ignores_formatting_but_not_content(schemas):
    fp = load_contract("bronze", TABLE).fingerprint
    (schemas / "bronze" / f"{TABLE}.avsc").write_text(json.dumps(TOY_AVSC))  # no indentation
    load_contract.cache_clear()
    assert load_contract("bronze", TABLE).fingerprint == fp
    changed = json.loads(json.dumps(TOY_AVSC))
    changed["fields"][5]["type"] = "string"  # note becomes non-null
    (schemas / "bronze" / f"{TABLE}.avsc").write_text(json.dumps(changed))
    load_contract.cache_clear()
    assert load_contract("bronze", TABLE).fingerprint != fp


STRING_LIKES = {
    "view": lambda v: pa.array(v, pa.string_view()),
    "dict-of-view": lambda v: pa.array(v, pa.string_view()).dictionary_encode(),
    "dict-of-large": lambda v: pa.array(v, pa.large_string()).dictionary_encode(),
    "dict-int8": lambda v: pa.array(v, pa.string()).dictionary_encode().cast(pa.dictionary(pa.int8(), pa.string())),
}


@pytest.mark.parametrize("kind", sorted(STRING_LIKES))
@pytest.mark.parametrize("target", ["symbol", "note"], ids=["to-dictionary", "to-string"])
def test_every_string_like_is_cast(schemas, kind, target):
    contract = load_contract("bronze", TABLE)
    values = ["a", None, "b"] if target == "note" else ["a", "z", "b"]
    data = {
        "ts_event": pa.array(range(3), pa.timestamp("ns", "UTC")),
        "price": pa.array(range(3), pa.int64()),
        "qty": pa.array(range(3), pa.uint32()),
        "symbol": pa.array(["s"] * 3),
        "source_file": pa.array(["f"] * 3),
        "note": pa.array(["x"] * 3),
    }
    data[target] = STRING_LIKES[kind](values)
    out = contract.conform(pa.table(data), "p")
    assert out.schema == contract.arrow_schema
    assert out.column(target).to_pylist() == values
