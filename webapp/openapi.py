"""Routes declared once, with the pydantic models they read and answer, and the OpenAPI 3.1
document generated from those declarations.

An ``Operation`` is both a Starlette ``Route`` and its entry in ``/openapi.json``, so the
document cannot drift from what the server does: the same query and body models that describe a
parameter are the ones the handler parses it with (``webapp.bodies``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from webapp.schemas import Problem

Endpoint = Callable[[Request], Awaitable[Response]]
_PATH_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?}")
_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Body:
    """What a response (or request) carries: a model, raw bytes of a media type, or nothing."""

    model: type[BaseModel] | None = None
    media_type: str = "application/json"
    description: str = ""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    endpoint: Endpoint
    summary: str
    tag: str
    responses: Mapping[int, type[BaseModel] | Body | None]
    body: type[BaseModel] | Body | None = None
    query: type[BaseModel] | None = None
    public: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def route(self) -> Route:
        return Route(self.path, self.endpoint, methods=[self.method])


def routes(operations: Iterable[Operation]) -> list[Route]:
    return [op.route() for op in operations]


def document(operations: Iterable[Operation], *, title: str, version: str) -> dict[str, Any]:
    ops = list(operations)
    models = _models(ops)
    refs, schemas = models_json_schema(
        [(m, "validation") for m in models] + [(m, "serialization") for m in models],
        ref_template=_REF,
    )

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return dict(refs[(model, mode)])  # type: ignore[index]

    paths: dict[str, dict[str, Any]] = {}
    seen_ids: set[str] = set()
    for op in ops:
        entry: dict[str, Any] = {
            "operationId": _unique_id(op, seen_ids),
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": _parameters(op),
            "responses": {
                str(status): _response(body, ref) for status, body in op.responses.items()
            },
        }
        entry["responses"].setdefault(
            "default", _response(Body(Problem, "application/problem+json"), ref)
        )
        if op.public:
            entry["security"] = []
        request_body = _request_body(op.body, ref)
        if request_body is not None:
            entry["requestBody"] = request_body
        entry.update(op.extra)
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "rxgen_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


def openapi_endpoint(operations: Iterable[Operation], *, title: str, version: str) -> Endpoint:
    ops = list(operations)
    cached: list[dict[str, Any]] = []

    async def openapi_json(request: Request) -> Response:
        if not cached:  # built on first use: pydantic's schema generation is not free
            cached.append(document(ops, title=title, version=version))
        return JSONResponse(cached[0])

    return openapi_json


def _models(ops: list[Operation]) -> list[type[BaseModel]]:
    found: dict[type[BaseModel], None] = {Problem: None}
    for op in ops:
        for body in (op.body, op.query, *op.responses.values()):
            model = body.model if isinstance(body, Body) else body
            if model is not None:
                found[model] = None
    return list(found)


def _unique_id(op: Operation, seen: set[str]) -> str:
    base = op.extra.get("operationId") or f"{op.method.lower()}_{op.endpoint.__name__}"
    name, n = base, 2
    while name in seen:  # the ComfyUI routes are served twice, bare and under /api
        name, n = f"{base}_{n}", n + 1
    seen.add(name)
    return str(name)


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(op.path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            }
            if prop.get("description"):
                param["description"] = prop["description"]
            params.append(param)
    return params


def _response(
    body: type[BaseModel] | Body | None, ref: Callable[[type[BaseModel], str], dict[str, Any]]
) -> dict[str, Any]:
    if body is None:
        return {"description": "no content"}
    if not isinstance(body, Body):
        body = Body(body)
    if body.model is None:
        return {
            "description": body.description or body.media_type,
            "content": {body.media_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    return {
        "description": body.description or body.model.__doc__ or body.model.__name__,
        "content": {body.media_type: {"schema": ref(body.model, "serialization")}},
    }


def _request_body(
    body: type[BaseModel] | Body | None, ref: Callable[[type[BaseModel], str], dict[str, Any]]
) -> dict[str, Any] | None:
    if body is None:
        return None
    if not isinstance(body, Body):
        body = Body(body)
    schema = ref(body.model, "validation") if body.model is not None else {"type": "object"}
    return {"required": True, "content": {body.media_type: {"schema": schema}}}
