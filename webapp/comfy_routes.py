"""ComfyUI's HTTP API, so its clients and scripts work against rxgen unchanged.

``POST /prompt``, ``GET /history[/{id}]``, ``GET /view``, ``GET /object_info[/{type}]``,
``GET/POST /queue``, ``POST /interrupt``, ``POST /upload/image``, ``GET /system_stats``; each is
also served under ``/api``, as ComfyUI does. Every job belongs to the user who submitted it: the
history, the queue and cancellation show and touch only that user's jobs (all, for admins).
"""

from __future__ import annotations

import json
import platform
import sys
import uuid
from dataclasses import replace
from typing import Any

import torch
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from components.queue_views import QueueSnapshot, snapshot, user_entries
from components.workflow.comfy_messages import comfy_outputs
from drivers.store import jobs as job_rows
from drivers.store.paths import UnsafePath, safe_join
from drivers.store.records import JobRecord
from webapp import comfy_schemas
from webapp.auth import Identity
from webapp.bodies import read_body
from webapp.file_access import grant, may_read, visible_choices
from webapp.openapi import Body, Operation
from webapp.problems import problem
from webapp.schemas import Problem
from webapp.submission import Refused, submit_prompt

MAX_PROMPT_BYTES = 8 << 20
MAX_UPLOAD_BYTES = 64 << 20
_VIEW_TYPES = ("output", "temp", "input")


async def post_prompt(request: Request) -> Response:
    identity: Identity = request.state.identity
    services = request.app.state.services
    body = await _json_body(request, MAX_PROMPT_BYTES)
    if isinstance(body, Response):
        return body
    if not isinstance(body, dict):
        return _comfy_error("invalid_prompt", "the body needs a 'prompt' object (API format)")
    client_id = body.get("client_id")
    outcome = await submit_prompt(
        services,
        identity,
        body.get("prompt"),
        job_id=str(body["prompt_id"]) if body.get("prompt_id") else None,
        client_id=str(client_id) if client_id is not None else None,
        front=bool(body.get("front", False)),
        pnginfo=_extra_pnginfo(body),
    )
    if isinstance(outcome, Refused):
        return JSONResponse(outcome.comfy_body(), status_code=400)
    return JSONResponse({"prompt_id": outcome.job_id, "number": outcome.number, "node_errors": {}})


def _extra_pnginfo(body: dict[str, Any]) -> dict[str, Any] | None:
    """What ComfyUI's editor sends to be saved in PNGs: ``extra_data.extra_pnginfo``."""
    extra = body.get("extra_data")
    info = extra.get("extra_pnginfo") if isinstance(extra, dict) else None
    return {str(k): v for k, v in info.items()} if isinstance(info, dict) else None


async def get_history(request: Request) -> Response:
    identity: Identity = request.state.identity
    services = request.app.state.services
    job_id = request.path_params.get("prompt_id")
    limit = _int(request.query_params.get("max_items"), 200, 1, 10_000)

    async def read() -> bytes:
        async with services.database.transaction() as session:
            if job_id is not None:
                row = await job_rows.get_job(
                    session, job_id, identity.user_id, admin=identity.is_admin
                )
                done = row is not None and row.status not in ("queued", "running")
                rows = [row] if row is not None and done else []
            else:
                page = await job_rows.list_jobs(
                    session,
                    identity.user_id,
                    admin=identity.is_admin,
                    status=("finished", "failed", "cancelled", "interrupted"),
                    limit=limit,
                )
                rows = list(page.items)
        return json.dumps({row.id: _history_entry(row) for row in rows}).encode()

    key = ("history", identity.user_id, identity.is_admin, job_id, limit)
    body = await services.reads.get(key, read)
    return Response(body, media_type="application/json")


def _history_entry(row: JobRecord) -> dict[str, Any]:
    ok = row.status == "finished"
    messages: list[Any] = []
    if row.error:
        messages.append(["execution_error", {"prompt_id": row.id, **row.error}])
    return {
        "prompt": [row.number, row.id, row.prompt, {"client_id": row.client_id}, []],
        "outputs": comfy_outputs(row.outputs or {}),
        "status": {
            "status_str": "success" if ok else "error",
            "completed": ok,
            "messages": messages,
        },
    }


async def get_view(request: Request) -> Response:
    services = request.app.state.services
    params = request.query_params
    kind = params.get("type", "output")
    if kind not in _VIEW_TYPES:
        return problem(400, "unknown type", f"type must be one of {', '.join(_VIEW_TYPES)}")
    root = getattr(services.config, f"{kind}_dir")
    try:
        path = safe_join(root, params.get("subfolder", ""), params.get("filename", ""))
    except UnsafePath as error:
        return problem(400, "unsafe file name", str(error))
    try:
        found = path.is_file()
    except OSError:  # a name the file system refuses (too long, bad bytes) names no file
        found = False
    subfolder, name = params.get("subfolder", ""), params.get("filename", "")
    if found and not await may_read(services, request.state.identity, kind, subfolder, name):
        found = False  # someone else's file: as absent as a file that does not exist
    if not found:
        return problem(404, "no such file", f"{params.get('filename')!r} is not in {kind}")
    # Raster images only, never rendered by the browser as a document.
    return FileResponse(
        path, headers={"Content-Disposition": "inline", "Cache-Control": "no-cache"}
    )


async def get_object_info(request: Request) -> Response:
    services = request.app.state.services
    info = services.catalog.to_object_info(await visible_choices(services, request.state.identity))
    name = request.path_params.get("node_class")
    if name is not None:
        return JSONResponse({name: info[name]} if name in info else {})
    return JSONResponse(info)


def _visible_queue(identity: Identity, services: Any) -> QueueSnapshot:
    state = services.queue_state()
    return snapshot(state) if identity.is_admin else user_entries(state, str(identity.user_id))


async def get_queue(request: Request) -> Response:
    view = _visible_queue(request.state.identity, request.app.state.services)

    def listed(entries: Any) -> list[Any]:
        return [[e.number, e.job_id, {}, {}, []] for e in entries]

    return JSONResponse(
        {"queue_running": listed(view.running), "queue_pending": listed(view.pending)}
    )


async def post_queue(request: Request) -> Response:
    identity: Identity = request.state.identity
    services = request.app.state.services
    body = await read_body(request, comfy_schemas.QueueBody)
    if isinstance(body, Response):
        return body
    if body.clear:
        services.clear(identity.user_id, identity.is_admin)
    for job_id in body.delete:
        services.cancel(job_id, identity.user_id, identity.is_admin)
    return JSONResponse({})


async def post_interrupt(request: Request) -> Response:
    """Stops the caller's running job(s), as ComfyUI's interrupt stops the current one."""
    identity: Identity = request.state.identity
    services = request.app.state.services
    for entry in _visible_queue(identity, services).running:
        services.cancel(entry.job_id, identity.user_id, identity.is_admin)
    return JSONResponse({})


async def post_upload_image(request: Request) -> Response:
    from drivers.store.images import RejectedUpload, reencode_upload

    services = request.app.state.services
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD_BYTES:
        return problem(413, "upload too large", f"at most {MAX_UPLOAD_BYTES >> 20} MiB")
    form = await request.form(max_files=1, max_fields=8)
    upload = form.get("image")
    if upload is None or isinstance(upload, str):
        return problem(422, "no image", "send the file in the multipart field 'image'")
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return problem(413, "upload too large", f"at most {MAX_UPLOAD_BYTES >> 20} MiB")
    try:
        encoded = reencode_upload(data, upload.filename or "")
    except RejectedUpload as error:
        return problem(415, "not an image", str(error), field="image")
    subfolder = str(form.get("subfolder") or "")
    stem = (upload.filename or "upload").rsplit(".", 1)[0][:100] or "upload"
    name = f"{stem}.{encoded.ext}"
    try:
        target = safe_join(services.config.input_dir, subfolder, name)
    except UnsafePath as error:
        return problem(400, "unsafe file name", str(error), field="image")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.read_bytes() != encoded.data and not form.get("overwrite"):
        target = target.with_name(f"{stem}-{uuid.uuid4().hex[:8]}.{encoded.ext}")
    target.write_bytes(encoded.data)
    await grant(services, request.state.identity, "input", subfolder, target.name)
    return JSONResponse({"name": target.name, "subfolder": subfolder, "type": "input"})


async def get_system_stats(request: Request) -> Response:
    devices: list[dict[str, Any]] = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            devices.append(
                {
                    "name": torch.cuda.get_device_name(index),
                    "type": "cuda",
                    "index": index,
                    "vram_total": total,
                    "vram_free": free,
                }
            )
    else:
        devices.append({"name": "cpu", "type": "cpu", "index": None})
    return JSONResponse(
        {
            "system": {
                "os": platform.system().lower(),
                "python_version": sys.version,
                "pytorch_version": torch.__version__,
                "rxgen_version": "0.1.0",
            },
            "devices": devices,
        }
    )


def _comfy_error(kind: str, message: str) -> JSONResponse:
    body = {
        "error": {"type": kind, "message": message, "details": "", "extra_info": {}},
        "node_errors": {},
    }
    return JSONResponse(body, status_code=400)


async def _json_body(request: Request, limit: int) -> Any:
    raw = await request.body()
    if len(raw) > limit:
        return problem(413, "body too large", f"at most {limit} bytes")
    try:
        return json.loads(raw or b"null")
    except ValueError as error:
        return problem(400, "body is not JSON", str(error))


def _int(text: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(text))) if text is not None else default
    except ValueError:
        return default


def operations() -> list[Operation]:
    C = comfy_schemas
    image = Body(None, "image/png", "the file (PNG, JPEG, WebP, GIF, MP4 or WebM)")
    table = [
        Operation("POST", "/prompt", post_prompt, "Queue a prompt (ComfyUI)", "comfyui",
                  {200: C.PromptQueued, 400: C.ComfyError}, body=C.PromptBody),
        Operation("GET", "/history", get_history, "Finished prompts (ComfyUI)", "comfyui",
                  {200: C.History}, query=C.HistoryQuery),
        Operation("GET", "/history/{prompt_id}", get_history, "One finished prompt (ComfyUI)",
                  "comfyui", {200: C.History}),
        Operation("GET", "/view", get_view, "An output, input or temp file (ComfyUI)",
                  "comfyui", {200: image, 400: Problem, 404: Problem}, query=C.ViewQuery),
        Operation("GET", "/object_info", get_object_info, "The node catalog (ComfyUI)",
                  "comfyui", {200: C.ObjectInfo}),
        Operation("GET", "/object_info/{node_class}", get_object_info, "One node type (ComfyUI)",
                  "comfyui", {200: C.ObjectInfo}),
        Operation("GET", "/queue", get_queue, "Running and pending prompts (ComfyUI)",
                  "comfyui", {200: C.QueueListing}),
        Operation("POST", "/queue", post_queue, "Clear or delete queued prompts (ComfyUI)",
                  "comfyui", {200: C.Empty, 422: Problem}, body=C.QueueBody),
        Operation("POST", "/interrupt", post_interrupt, "Stop the caller's running prompt",
                  "comfyui", {200: C.Empty}),
        Operation("POST", "/upload/image", post_upload_image, "Upload an input image (ComfyUI)",
                  "comfyui", {200: C.UploadedImage, 413: Problem, 415: Problem, 422: Problem},
                  body=Body(C.UploadImageForm, "multipart/form-data")),
        Operation("GET", "/system_stats", get_system_stats, "Versions and devices (ComfyUI)",
                  "comfyui", {200: C.SystemStats}),
    ]  # fmt: skip
    # ComfyUI serves every route both bare and under /api; so does rxgen.
    return [*table, *(replace(op, path="/api" + op.path) for op in table)]
