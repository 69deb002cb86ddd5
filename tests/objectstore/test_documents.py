"""The object-storage documents and names: ``s3://`` URIs, pointers, attempt ids (no server needed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rst.errors import LakeError
from rst.framework.lake import Lake
from rst.framework.objectstore import Location
from rst.framework.pointer import Pointer, attempt_age_ns, new_attempt


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix"),
    [("s3://bkt/lake", "bkt", "lake"), ("s3://bkt/a/b/", "bkt", "a/b"), ("s3://my.bucket", "my.bucket", "")],
)
def test_a_uri_names_bucket_and_prefix(uri: str, bucket: str, prefix: str):
    location = Location.parse(uri)
    assert (location.bucket, location.prefix) == (bucket, prefix)
    assert Location.parse(location.uri) == location
    assert location.rel(location.key("raw/x.dbn")) == "raw/x.dbn"


@pytest.mark.parametrize("uri", ["s3://", "s3://ab/x", "s3://bkt/../x", "s3://bkt/a//b", "/tmp/lake"])
def test_a_bad_uri_is_one_line(uri: str):
    with pytest.raises(LakeError) as err:
        Location.parse(uri)
    assert uri in str(err.value) and "\n" not in str(err.value)


def test_a_remote_lake_mirrors_under_the_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RST_CACHE_DIR", str(tmp_path))
    lake = Lake.resolve("s3://bkt/team/lake")
    assert lake.remote == "s3://bkt/team/lake" and lake.root == tmp_path / "s3" / "bkt" / "team" / "lake"
    assert Lake.resolve(str(tmp_path / "local")).remote is None


def test_a_pointer_round_trips_and_attempts_carry_their_age():
    attempt = new_attempt()
    pointer = Pointer(attempt, "a" * 64, "2026-01-01T00:00:00+00:00")
    assert Pointer.from_json(pointer.to_json()) == pointer
    age = attempt_age_ns(attempt)
    assert age is not None and 0 <= age < 60 * 10**9
    assert attempt_age_ns("not-an-attempt") is None


@given(st.binary(max_size=200))
def test_any_bytes_are_a_pointer_or_none(data: bytes):
    parsed = Pointer.from_json(data)
    assert parsed is None or Pointer.from_json(parsed.to_json()) == parsed
