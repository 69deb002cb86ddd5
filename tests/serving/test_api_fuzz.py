"""Fuzzing ``rst serve`` against its own published OpenAPI schema (schemathesis), over a real socket.

The schema is loaded from the live server's ``/openapi.json``. The server runs with a bearer
token (so schemathesis also checks that a request without it is refused). For every operation,
valid and invalid requests alike must get a documented status with a body conforming to the
schema, and never a 5xx. Bounded and deterministic: 30 examples per operation and mode,
derandomized.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from api_fixtures import running_server, server_env
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from rst.framework.lake import Lake
from synthetic_lake import shared_lake

TOKEN = "fuzz-token-0123456789"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    lake: Lake = shared_lake(tmp_path_factory)
    with running_server("--lake", str(lake.root), env=server_env(RST_API_TOKEN=TOKEN)) as url:
        yield url


def ordered_dates(case: schemathesis.Case) -> bool:
    """False for ``start > end``: a rule across two parameters that OpenAPI cannot state (the server answers 400)."""
    query = case.query or {}
    start, end = query.get("start"), query.get("end")
    return not (isinstance(start, str) and isinstance(end, str) and start > end)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_published_schema(base: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/bars", "/api/v1/series/{series_id}", "/api/v1/stats"}
    statuses: set[int] = set()
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
            continue  # /health takes nothing: no invalid request to make

        @settings(
            max_examples=30, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy(generation_mode=mode).filter(ordered_dates))
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})
            statuses.add(response.status_code)

        fuzz()
    assert statuses <= {200, 400, 401, 404}, statuses
    assert (200 in statuses) if mode is GenerationMode.POSITIVE else (400 in statuses)
