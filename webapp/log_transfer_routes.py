"""Export a recorded session as one file, and import one, from the debugger page (admins).

The same bundles as ``rxgen log export`` and ``rxgen log import``: the log's segments plus the
files its events name (outputs, inputs, artifacts), redactions kept. An import never
overwrites a file that differs and never writes outside the data dir.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from rxcore.log import LogError, LogReader
from rxcore.log_bundle import BundleError, export_bundle, import_bundle
from rxcore.segments import LogCorrupted
from webapp.auth import Identity
from webapp.log_access import OpenLogs
from webapp.log_refs import referenced_files
from webapp.openapi import Body, Operation
from webapp.problems import problem
from webapp.schemas import LogImported, Problem, UploadForm

MAX_BUNDLE_BYTES = 2 << 30


async def export_log(request: Request) -> Response:
    identity: Identity = request.state.identity
    if not identity.is_admin:
        return problem(403, "admins only", "a bundle holds every user's events and files")
    services = request.app.state.services
    logs: OpenLogs = services.logs
    name = request.path_params["name"]
    path = logs.path(name)
    if path is None:
        return problem(404, "no such session", f"{name!r} is not a recorded session")
    out = Path(tempfile.mkstemp(prefix="rxgen-export-", suffix=".rxlog")[1])
    try:
        await asyncio.to_thread(_export, path, out, services.config.data_dir)
    except (LogError, LogCorrupted, OSError) as error:
        out.unlink(missing_ok=True)
        return problem(409, "cannot export this session", str(error))
    return FileResponse(
        out,
        media_type="application/zip",
        filename=f"{name}.rxlog",
        background=BackgroundTask(out.unlink, missing_ok=True),
    )


def _export(log: Path, out: Path, data_dir: Path) -> None:
    with LogReader(log) as reader:
        files = referenced_files(reader, data_dir)
        created = reader.header.created
    export_bundle(log, out, files, created=created)


async def import_log(request: Request) -> Response:
    identity: Identity = request.state.identity
    if not identity.is_admin:
        return problem(403, "admins only", "an import writes into the server's data dir")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BUNDLE_BYTES:
        return problem(413, "bundle too large", f"at most {MAX_BUNDLE_BYTES >> 30} GiB")
    try:
        form = await request.form(max_files=1, max_fields=2, max_part_size=MAX_BUNDLE_BYTES)
    except Exception as error:  # malformed multipart bodies raise several parser errors
        return problem(400, "unreadable multipart body", str(error), field="file")
    part = form.get("file")
    if part is None or isinstance(part, str):
        return problem(
            422, "no file", "send the bundle in the multipart field 'file'", field="file"
        )
    services = request.app.state.services
    with tempfile.NamedTemporaryFile(prefix="rxgen-import-", suffix=".rxlog") as held:
        while chunk := await part.read(1 << 20):
            held.write(chunk)
        held.flush()
        try:
            done = await asyncio.to_thread(import_bundle, held.name, services.config.data_dir)
        except (BundleError, LogError, OSError) as error:
            return problem(422, "not an importable bundle", str(error), field="file")
    body = {
        "name": done.log.name,
        "written": len(done.written),
        "already_there": len(done.already_there),
    }
    return JSONResponse(body, status_code=201)


def operations() -> list[Operation]:
    return [
        Operation("GET", "/api/logs/{name}/export", export_log,
                  "The session and the files it names, as one bundle (admins)", "debugger",
                  {200: Body(None, "application/zip", "an rxgen log bundle"), 403: Problem,
                   404: Problem, 409: Problem}),
        Operation("POST", "/api/logs/import", import_log,
                  "Import a bundle made by export (admins)", "debugger",
                  {201: LogImported, 400: Problem, 403: Problem, 413: Problem, 422: Problem},
                  body=Body(UploadForm, "multipart/form-data")),
    ]  # fmt: skip
