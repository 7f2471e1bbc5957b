"""``/openapi.json`` describes the whole API, and no input generated from it (valid or not)
makes the server answer 5xx: schemathesis fuzzes every operation against a real server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.webapp.server_process import Server
from webapp.server import operations

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("fuzz")
    running = Server(root / "data", root / "models").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def token(server: Server) -> str:
    """A regular user's token: what most traffic looks like (admin-only routes answer 403)."""
    admin = server.login()
    made = admin.post("/api/users", json={"name": "fuzz", "password": "fuzz-password-1"})
    assert made.status_code == 201, made.text
    issued = server.login("fuzz", "fuzz-password-1").post(
        "/api/tokens", json={"name": "fuzz", "scopes": ["read", "write"]}
    )
    issued.raise_for_status()
    return str(issued.json()["token"])


@pytest.fixture(scope="module")
def api_schema(server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def test_the_document_is_openapi_3_1_and_covers_the_api(server: Server) -> None:
    document = httpx.get(f"{server.url}/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    for path, method in [
        ("/api/jobs", "post"),
        ("/api/jobs", "get"),
        ("/api/jobs/{job_id}", "delete"),
        ("/api/workflows/{workflow_id}", "put"),
        ("/api/artifacts/{sha256}/content", "get"),
        ("/api/uploads", "post"),
        ("/api/nodes", "get"),
        ("/api/models", "get"),
        ("/api/tokens", "post"),
        ("/api/users", "post"),
        ("/prompt", "post"),
        ("/api/history/{prompt_id}", "get"),
    ]:
        assert method in paths[path], f"{method.upper()} {path} is not documented"
    submit = paths["/api/jobs"]["post"]
    schema_ref = submit["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert body["properties"]["priority"]["maximum"] == 100


OPERATIONS = [(op.method, op.path) for op in operations()]


# Each operation is its own test (a failure names it); the schema is the one the server serves.
# Not schemathesis' pytest plugin: it does not run under this pytest's node API.
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_no_input_makes_a_server_error(
    method: str,
    path: str,
    mode: GenerationMode,
    api_schema: schemathesis.BaseSchema,
    server: Server,
    token: str,
) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case: schemathesis.Case) -> None:
        # Invalid input must be refused, not answered per the success schema: only the
        # no-5xx check applies to it.
        checks = [not_a_server_error]
        if mode is GenerationMode.POSITIVE:
            checks += [status_code_conformance, response_schema_conformance]
        case.call_and_validate(base_url=server.url, headers=headers, checks=checks, timeout=30)

    call()
