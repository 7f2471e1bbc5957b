"""``/api/artifacts``: the gallery's files, content-addressed, and ``/api/uploads``.

A file's URL names its SHA-256, so its bytes never change: answers carry a strong ETag and
immutable caching, and a repeated request with ``If-None-Match`` is a bodiless 304. Only
holders see a file (others get 404 even though it exists on disk); images get WebP thumbnails.
"""

from __future__ import annotations

import asyncio
import shutil

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from drivers.store import artifacts_db
from drivers.store import jobs as job_rows
from drivers.store.artifacts import ArtifactNotFound, ArtifactStore, etag
from drivers.store.images import RejectedUpload
from drivers.store.paths import UnsafePath, check_sha256, safe_join
from drivers.store.records import ArtifactRecord, InvalidCursor
from webapp.auth import Identity
from webapp.bodies import read_query
from webapp.file_access import grant
from webapp.openapi import Body, Operation
from webapp.problems import problem
from webapp.schemas import (
    Artifact,
    ArtifactOrigin,
    ArtifactPage,
    ArtifactQuery,
    Problem,
    Uploaded,
    UploadForm,
)

IMMUTABLE = "private, max-age=31536000, immutable"
MAX_UPLOAD_BYTES = 64 << 20
_INLINE = ("image/", "video/")


def artifact_json(record: ArtifactRecord) -> dict[str, object]:
    base = f"/api/artifacts/{record.sha256}"
    return {
        "sha256": record.sha256,
        "kind": record.kind,
        "name": record.name,
        "media_type": record.media_type,
        "width": record.width,
        "height": record.height,
        "size": record.size,
        "created_at": record.created_at.isoformat(),
        "url": f"{base}/content",
        "thumbnail_url": f"{base}/thumbnail" if record.media_type.startswith("image/") else None,
    }


async def list_artifacts(request: Request) -> Response:
    identity: Identity = request.state.identity
    query = read_query(request, ArtifactQuery)
    if isinstance(query, Response):
        return query
    async with request.app.state.services.database.transaction() as session:
        try:
            page = await artifacts_db.list_artifacts(
                session, identity.user_id, kind=query.kind, limit=query.limit, cursor=query.cursor
            )
        except (InvalidCursor, ValueError) as error:
            return problem(422, "bad cursor", str(error), field="cursor")
    items = [artifact_json(r) for r in page.items if r.kind != "thumbnail"]
    return JSONResponse({"items": items, "next_cursor": page.next_cursor})


async def get_artifact(request: Request) -> Response:
    record = await _visible(request)
    if isinstance(record, Response):
        return record
    return JSONResponse(artifact_json(record))


async def get_content(request: Request) -> Response:
    record = await _visible(request)
    if isinstance(record, Response):
        return record
    store: ArtifactStore = request.app.state.services.artifacts
    return _immutable_file(request, store, record.sha256, record.ext, record.media_type)


async def get_thumbnail(request: Request) -> Response:
    record = await _visible(request)
    if isinstance(record, Response):
        return record
    if not record.media_type.startswith("image/"):
        return problem(404, "no thumbnail", f"{record.media_type} artifacts have none")
    store: ArtifactStore = request.app.state.services.artifacts
    try:
        thumb = await asyncio.to_thread(store.thumbnail, record.sha256)
    except (ArtifactNotFound, ValueError, OSError) as error:
        return problem(404, "no thumbnail", str(error))
    return _immutable_file(request, store, thumb, "webp", "image/webp")


async def get_origin(request: Request) -> Response:
    identity: Identity = request.state.identity
    record = await _visible(request)
    if isinstance(record, Response):
        return record
    async with request.app.state.services.database.transaction() as session:
        origin = await artifacts_db.find_origin(
            session, record.sha256, identity.user_id, admin=identity.is_admin
        )
        job = None
        if origin is not None:
            job = await job_rows.get_job(
                session, origin[0], identity.user_id, admin=identity.is_admin
            )
    if origin is None or job is None:
        return problem(404, "no workflow", "this artifact was uploaded, not made by a job")
    return JSONResponse({"job_id": origin[0], "node_id": origin[1], "prompt": job.prompt})


async def delete_artifact(request: Request) -> Response:
    identity: Identity = request.state.identity
    sha256 = request.path_params["sha256"]
    async with request.app.state.services.database.transaction() as session:
        done = await artifacts_db.release_artifact(session, identity.user_id, sha256)
    if not done:
        return _missing()
    return Response(status_code=204)


async def upload(request: Request) -> Response:
    """An image for LoadImage: decoded and re-encoded, stored by content and in the input
    folder under a name derived from the content (so two users never overwrite each other)."""
    identity: Identity = request.state.identity
    services = request.app.state.services
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        return problem(413, "upload too large", f"at most {MAX_UPLOAD_BYTES >> 20} MiB")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return problem(415, "not a multipart upload", "send multipart/form-data", field="file")
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception as error:  # malformed multipart bodies raise several parser errors
        return problem(400, "unreadable multipart body", str(error), field="file")
    part = form.get("file")
    if part is None or isinstance(part, str):
        return problem(422, "no file", "send the image in the multipart field 'file'", field="file")
    data = await part.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return problem(413, "upload too large", f"at most {MAX_UPLOAD_BYTES >> 20} MiB")
    store: ArtifactStore = services.artifacts
    try:
        ingested = await asyncio.to_thread(store.ingest_upload, data, part.filename or "")
    except RejectedUpload as error:
        return problem(415, "not an image", str(error), field="file")
    stored = store.stat(ingested.sha256, ingested.ext)
    if stored is None:  # just written; gone only if someone deleted it under us
        return problem(409, "upload vanished", "the stored file disappeared; upload it again")
    name = f"{ingested.sha256[:16]}.{ingested.ext}"
    target = safe_join(services.config.input_dir, "uploads", name)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, stored.path, target)
    async with services.database.transaction() as session:
        await artifacts_db.record_blob(
            session,
            ingested.sha256,
            ext=ingested.ext,
            size=stored.size,
            media_type=stored.media_type,
            width=ingested.width,
            height=ingested.height,
        )
        await artifacts_db.claim_artifact(
            session, identity.user_id, ingested.sha256, kind="upload", name=part.filename
        )
    await grant(services, identity, "input", "uploads", name)
    body = {"name": name, "subfolder": "uploads", "type": "input", "sha256": ingested.sha256}
    return JSONResponse(body, status_code=201)


async def _visible(request: Request) -> ArtifactRecord | Response:
    identity: Identity = request.state.identity
    sha256 = request.path_params["sha256"]
    try:
        check_sha256(sha256)
    except UnsafePath:
        return _missing()
    async with request.app.state.services.database.transaction() as session:
        record = await artifacts_db.get_artifact(
            session, sha256, identity.user_id, admin=identity.is_admin
        )
    return _missing() if record is None else record


def _immutable_file(
    request: Request, store: ArtifactStore, sha256: str, ext: str, media_type: str
) -> Response:
    headers = {"ETag": etag(sha256), "Cache-Control": IMMUTABLE}
    if etag(sha256) in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    stat = store.stat(sha256, ext)
    if stat is None:
        return problem(404, "file missing", "the artifact is recorded but its file is gone")
    inline = media_type.startswith(_INLINE) and request.query_params.get("download") is None
    disposition = "inline" if inline else f'attachment; filename="{sha256[:16]}.{ext}"'
    headers["Content-Disposition"] = disposition
    return FileResponse(stat.path, media_type=media_type, headers=headers, stat_result=None)


def _missing() -> Response:
    return problem(404, "no such artifact", "check the hash; other users' files are not visible")


def operations() -> list[Operation]:
    item = "/api/artifacts/{sha256}"
    binary = Body(None, "application/octet-stream", "the file's bytes")
    return [
        Operation("GET", "/api/artifacts", list_artifacts, "The caller's files, newest first",
                  "artifacts", {200: ArtifactPage, 422: Problem}, query=ArtifactQuery),
        Operation("GET", item, get_artifact, "One file's description", "artifacts",
                  {200: Artifact, 404: Problem}),
        Operation("GET", f"{item}/content", get_content, "The file (immutable, ETag)",
                  "artifacts", {200: binary, 304: None, 404: Problem}),
        Operation("GET", f"{item}/thumbnail", get_thumbnail, "A WebP thumbnail of an image",
                  "artifacts", {200: Body(None, "image/webp"), 304: None, 404: Problem}),
        Operation("GET", f"{item}/workflow", get_origin, "The job and prompt that made it",
                  "artifacts", {200: ArtifactOrigin, 404: Problem}),
        Operation("DELETE", item, delete_artifact, "Remove it from the caller's files",
                  "artifacts", {204: None, 404: Problem}),
        Operation("POST", "/api/uploads", upload, "Upload an image for LoadImage", "artifacts",
                  {201: Uploaded, 413: Problem, 415: Problem, 422: Problem},
                  body=Body(UploadForm, "multipart/form-data")),
    ]  # fmt: skip
