"""WebSockets: ComfyUI's ``/ws?clientId=`` and rxgen's own ``/api/ws``.

Both read from the event hub and show a user only their own jobs (all, for admins). ``/ws``
speaks ComfyUI's message types, with previews as binary frames (4-byte big-endian event type
1, 4-byte image format 1 = JPEG, 2 = PNG, then the image).

``/api/ws`` sends every event with its sequence number: job events and saved-workflow changes
(``?topics=jobs,workflows`` chooses), as JSON, or msgpack when the client asks for the
``rxgen.msgpack`` subprotocol. Events ready together share one ``{"type": "events", "items":
[...]}`` frame (each item the same as a single ``event`` frame); a progress event with a
preview is followed by a binary frame (``RXP1``, seq, format, image). A client reconnecting
with ``?after=SEQ`` gets everything after that seq (``gap`` says when some had already left
the window); heartbeats keep idle connections alive, and a slow client gets coalesced progress
rather than an unbounded buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import msgpack
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from components.queue_views import snapshot
from components.workflow.comfy_messages import comfy_messages, status_message
from components.workflow.protocol import JobEvent, JobProgress, WorkflowChanged
from drivers.event_hub import Overflow, Subscription
from rxcore.message import to_plain

HEARTBEAT_S = 20.0
TOPICS = frozenset({"jobs", "workflows"})
MSGPACK = "rxgen.msgpack"
_PREVIEW_FORMATS = {".jpeg": 1, ".jpg": 1, ".png": 2}


async def comfy_ws(websocket: WebSocket) -> None:
    services = websocket.app.state.services
    identity = await services.auth.identify(websocket)
    if identity is None:
        await websocket.close(code=4401, reason="authentication required")
        return
    await websocket.accept()
    client_id = websocket.query_params.get("clientId") or websocket.query_params.get("clientid")
    remaining = snapshot(services.queue_state()).remaining
    await websocket.send_json(status_message(remaining, client_id))
    subscription = services.hub.subscribe(_owned(services, identity, frozenset({"jobs"})))
    try:
        await _pump(websocket, subscription, lambda items: _comfy_frames(services, items))
    finally:
        services.hub.unsubscribe(subscription)


async def native_ws(websocket: WebSocket) -> None:
    services = websocket.app.state.services
    identity = await services.auth.identify(websocket)
    if identity is None:
        await websocket.close(code=4401, reason="authentication required")
        return
    binary = MSGPACK in websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=MSGPACK if binary else None)
    after_text = websocket.query_params.get("after")
    after = int(after_text) if after_text and after_text.isdigit() else None
    asked = websocket.query_params.get("topics")
    topics = frozenset(asked.split(",")) & TOPICS if asked else TOPICS
    subscription = services.hub.subscribe(_owned(services, identity, topics), after=after)
    hello = {
        "type": "hello",
        "seq": services.hub.seq,
        "gap": subscription.gap,
        "topics": sorted(topics),
    }
    await _send(websocket, hello, binary)

    def frames(items: list[Any]) -> list[Any]:
        # Events ready together go out as one ``events`` frame: a client that fell behind
        # catches up in a few frames instead of one per event. A preview frame follows the
        # event it belongs to, so it ends a batch.
        out: list[Any] = []
        run: list[Any] = []
        for item in items:
            event, *preview = _encoded(services, item, binary)
            run.append(event)
            if preview:
                out.append(_batch(run, binary))
                out.extend(preview)
                run = []
        if run:
            out.append(_batch(run, binary))
        return out

    try:
        await _pump(websocket, subscription, frames)
    finally:
        services.hub.unsubscribe(subscription)


_FRAME_CACHE = 4096


def _batch(frames: list[Any], binary: bool) -> Any:
    """One frame for several encoded ``event`` messages: ``{"type": "events", "items": [...]}``,
    assembled from the already encoded messages rather than encoding them again."""
    if len(frames) == 1:
        return frames[0]
    if not binary:
        return '{"type":"events","items":[' + ",".join(frames) + "]}"
    packer = msgpack.Packer()
    head = packer.pack_map_header(2) + packer.pack("type") + packer.pack("events")
    return head + packer.pack("items") + packer.pack_array_header(len(frames)) + b"".join(frames)


def _encoded(services: Any, item: Any, binary: bool) -> tuple[Any, ...]:
    """The event's frames (the event, then its preview image if it has one), encoded once and
    shared by every client that receives them."""
    cache: OrderedDict[tuple[int, bool], tuple[Any, ...]] = services.__dict__.setdefault(
        "_ws_frames", OrderedDict()
    )
    key = (item.seq, binary)
    frames = cache.get(key)
    if frames is None:
        message = {
            "type": "event",
            "seq": item.seq,
            "time": item.time,  # when published: lets a client measure delivery delay
            "event": to_plain(item.event),
        }
        frames = (msgpack.packb(message) if binary else json.dumps(message),)
        preview = _native_preview(services.config.temp_dir, item, binary)
        if preview is not None:
            frames += (preview,)
        cache[key] = frames
        if len(cache) > _FRAME_CACHE:
            cache.popitem(last=False)
    return frames


def _native_preview(temp_dir: Path, item: Any, binary: bool) -> bytes | None:
    """``/api/ws``'s preview frame: in JSON mode the only binary frames, ``RXP1``, the event's
    seq (8 bytes) and the image format (4 bytes; 1 JPEG, 2 PNG), big-endian, then the image;
    in msgpack mode a ``preview`` message carrying the same."""
    event = item.event
    if not isinstance(event, JobProgress) or not event.preview:
        return None
    found = _preview_file(temp_dir, event.preview)
    if found is None:
        return None
    kind, data = found
    if binary:
        message = {"type": "preview", "seq": item.seq, "format": kind, "data": data}
        packed: bytes = msgpack.packb(message)
        return packed
    seq: int = item.seq
    return b"RXP1" + seq.to_bytes(8, "big") + kind.to_bytes(4, "big") + data


def _owned(services: Any, identity: Any, topics: frozenset[str] = TOPICS) -> Any:
    user = str(identity.user_id)
    owners = services.job_owners
    everyone = identity.is_admin

    def accept(event: Any) -> bool:
        if isinstance(event, WorkflowChanged):
            return "workflows" in topics and (everyone or event.user_id == user)
        if "jobs" not in topics:
            return False
        return everyone or bool(owners.get(event.job_id) == user)

    return accept


async def _pump(websocket: WebSocket, subscription: Subscription, frames: Any) -> None:
    reader = asyncio.create_task(_read_until_closed(websocket))
    try:
        while not reader.done():
            waiter = asyncio.create_task(subscription.next_batch())
            done, _ = await asyncio.wait(
                {waiter, reader}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED
            )
            if waiter not in done:
                waiter.cancel()
                if reader in done:
                    return
                await websocket.send_json({"type": "heartbeat", "time": time.time()})
                continue
            try:
                items = waiter.result()
            except Overflow as error:
                await websocket.close(code=4408, reason=f"{error}; reconnect with ?after=SEQ")
                return
            for frame in frames(items):
                if isinstance(frame, bytes):
                    await websocket.send_bytes(frame)
                else:
                    await websocket.send_text(frame)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader


async def _read_until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive()


def _comfy_frames(services: Any, items: list[Any]) -> list[Any]:
    out: list[Any] = []
    now_ms = int(time.time() * 1000)
    for item in items:
        if not isinstance(item.event, JobEvent):
            continue  # saved-workflow changes have no ComfyUI counterpart
        for message in comfy_messages(item.event, now_ms):
            out.append(json.dumps(message))
        if isinstance(item.event, JobProgress) and item.event.preview:
            frame = _preview_frame(services.config.temp_dir, item.event.preview)
            if frame is not None:
                out.append(frame)
    return out


def _preview_frame(temp_dir: Path, reference: str) -> bytes | None:
    found = _preview_file(temp_dir, reference)
    if found is None:
        return None
    kind, data = found
    return (1).to_bytes(4, "big") + kind.to_bytes(4, "big") + data


def _preview_file(temp_dir: Path, reference: str) -> tuple[int, bytes] | None:
    """A preview's format code and bytes, if ``reference`` names a file inside ``temp_dir``."""
    path = (temp_dir / reference).resolve()
    kind = _PREVIEW_FORMATS.get(path.suffix.lower())
    if kind is None or not path.is_relative_to(temp_dir.resolve()) or not path.is_file():
        return None
    return kind, path.read_bytes()


async def _send(websocket: WebSocket, message: dict[str, Any], binary: bool) -> None:
    if binary:
        await websocket.send_bytes(msgpack.packb(message))
    else:
        await websocket.send_json(message)


def routes() -> list[WebSocketRoute]:
    return [WebSocketRoute("/ws", comfy_ws), WebSocketRoute("/api/ws", native_ws)]
