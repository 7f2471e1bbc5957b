"""Request bodies and query strings parsed by the same pydantic models the OpenAPI document
shows, with every failure turned into a problem document that names the offending field."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from webapp.problems import problem

M = TypeVar("M", bound=BaseModel)
DEFAULT_LIMIT = 1 << 20


async def read_body(request: Request, model: type[M], limit: int = DEFAULT_LIMIT) -> M | Response:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _too_large(limit)
    raw = await request.body()
    if len(raw) > limit:
        return _too_large(limit)
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        return problem(400, "body is not JSON", f"{error}; send a JSON object")
    if not isinstance(data, dict):
        return problem(422, "body must be a JSON object", "send {...}", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        return invalid(error, "body")


def read_query(request: Request, model: type[M]) -> M | Response:
    # Repeated keys keep their last value, as a plain query string is usually read.
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as error:
        return invalid(error, "query")


def invalid(error: ValidationError, where: str) -> Response:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or where
    details = [
        {"field": ".".join(str(p) for p in e["loc"]) or where, "message": e["msg"]}
        for e in error.errors()[:20]
    ]
    return problem(
        422, f"invalid {where}: {field}", f"{field}: {first['msg']}", field=field, errors=details
    )


def _too_large(limit: int) -> Response:
    return problem(413, "body too large", f"at most {limit} bytes")
