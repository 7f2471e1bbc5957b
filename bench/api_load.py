"""REST latency under concurrent clients and WebSocket delivery delay to many listeners.

    python bench/api_load.py [--rest-clients 100] [--requests 20] [--ws-clients 200] [--jobs 5]

Starts a real `rxgen serve` (SQLite, a fresh data dir) and logs in. REST: ``--rest-clients``
concurrent clients each make ``--requests`` authenticated requests back to back, cycling
through ``GET /api/jobs``, ``GET /queue``, ``GET /history?max_items=20`` and ``GET
/api/auth/me``; p50/p99 of the response times, once on an idle server and once while light
jobs are submitted every 50 ms (so job rows are written throughout). WebSocket:
``--ws-clients`` connections to ``/api/ws`` while ``--jobs`` light jobs (50 image nodes each, so
plenty of progress events) run; each event carries the time the server published it, so
delivery delay = receive time - publish time (same machine, same clock). The last line is one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-admin-password"
PATHS = ("/api/jobs", "/queue", "/history?max_items=20", "/api/auth/me")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RXGEN_ADMIN_PASSWORD": PASSWORD}
    command = [sys.executable, "-m", "webapp.cli", "serve", "--port", str(port),
               "--data-dir", str(data / "data"), "--models-dir", str(data / "models"),
               "--device", "cpu", "--no-log"]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def token(base: str) -> str:
    with httpx.Client(base_url=base) as client:
        client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        csrf = client.get("/api/auth/me").json()["csrf_token"]
        made = client.post(
            "/api/tokens", json={"scopes": ["admin"]}, headers={"X-CSRF-Token": csrf}
        )
        value: str = made.json()["token"]
        return value


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def rest_load(
    base: str, bearer: str, clients: int, requests: int, *, jobs: int = 0
) -> list[float]:
    """Each client sends its requests back to back (no think time: the worst case), on one
    kept-alive connection, as a browser tab does. aiohttp, not httpx: on these two shared
    cores httpx's connection pool costs more CPU per request than the server does.

    With ``jobs``, light jobs are submitted one after another while the clients run, so job
    rows are written (queued, running, finished) throughout, as on a busy server."""
    timings: list[float] = []
    headers = {"Authorization": f"Bearer {bearer}"}
    connector = aiohttp.TCPConnector(limit=clients + 1)
    async with aiohttp.ClientSession(base, headers=headers, connector=connector) as client:
        running = True

        async def one(index: int) -> None:
            for n in range(requests):
                start = time.perf_counter()
                async with client.get(PATHS[(index + n) % len(PATHS)]) as answer:
                    await answer.read()
                    timings.append(time.perf_counter() - start)
                    answer.raise_for_status()

        async def writer() -> None:
            submitted = 0
            while running and submitted < jobs:
                body = {"prompt": light_job(20)}
                async with client.post("/prompt", json=body) as answer:
                    answer.raise_for_status()
                submitted += 1
                await asyncio.sleep(0.05)

        churn = asyncio.create_task(writer())
        await asyncio.gather(*(one(i) for i in range(clients)))
        running = False
        await churn
        if jobs:  # leave an empty queue for what is measured next
            async with client.post("/queue", json={"clear": True}) as answer:
                answer.raise_for_status()
            async with client.post("/interrupt") as answer:
                answer.raise_for_status()
    return timings


def light_job(nodes: int) -> dict[str, Any]:
    prompt: dict[str, Any] = {
        "0": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0},
        }
    }
    for i in range(1, nodes):
        prompt[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}}
    prompt["save"] = {
        "class_type": "PreviewImage",
        "inputs": {"images": [str(nodes - 1), 0]},
    }
    return prompt


async def ws_load(base: str, bearer: str, clients: int, jobs: int) -> tuple[list[float], int]:
    url = base.replace("http", "ws") + f"/api/ws?token={bearer}"
    delays: list[float] = []
    connections = [await websockets.connect(url, max_size=None) for _ in range(clients)]
    for connection in connections:
        await connection.recv()  # hello
    finished = 0

    async def listen(connection: Any) -> None:
        nonlocal finished
        seen_done = 0
        while seen_done < jobs:
            raw = await connection.recv()
            received = time.time()
            message = json.loads(raw)
            if message.get("type") == "events":
                events = message["items"]
            elif message.get("type") == "event":
                events = [message]
            else:
                continue
            for event in events:
                delays.append(received - event["time"])
                if event["event"]["$t"].endswith(":JobFinished"):
                    seen_done += 1
                    finished += 1

    listeners = [asyncio.create_task(listen(c)) for c in connections]
    headers = {"Authorization": f"Bearer {bearer}"}
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        for _ in range(jobs):
            answer = await client.post("/prompt", json={"prompt": light_job(50)}, timeout=60)
            answer.raise_for_status()
    try:
        await asyncio.wait_for(asyncio.gather(*listeners), timeout=300)
    finally:
        for task in listeners:
            task.cancel()
        for connection in connections:
            await connection.close()
    return delays, finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rest-clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--ws-clients", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(Path(tmp), port)
        base = f"http://127.0.0.1:{port}"
        try:
            bearer = token(base)
            asyncio.run(rest_load(base, bearer, 4, 5))  # warm-up
            rest = asyncio.run(rest_load(base, bearer, args.rest_clients, args.requests))
            busy = asyncio.run(
                rest_load(base, bearer, args.rest_clients, args.requests, jobs=10_000)
            )
            delays, finished = asyncio.run(ws_load(base, bearer, args.ws_clients, args.jobs))
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures = {
        "rest_clients": args.rest_clients,
        "rest_requests": len(rest),
        "rest_p50_ms": round(statistics.median(rest) * 1000, 2),
        "rest_p99_ms": round(percentile(rest, 99) * 1000, 2),
        "rest_busy_p50_ms": round(statistics.median(busy) * 1000, 2),
        "rest_busy_p99_ms": round(percentile(busy, 99) * 1000, 2),
        "ws_clients": args.ws_clients,
        "ws_events_delivered": len(delays),
        "ws_jobs_seen_finished": finished,
        "ws_p50_ms": round(statistics.median(delays) * 1000, 2),
        "ws_p99_ms": round(percentile(delays, 99) * 1000, 2),
        "targets": {"rest_p99_ms": 200, "ws_p99_ms": 50},
    }
    print(
        f"REST: {len(rest)} requests from {args.rest_clients} clients, p50 "
        f"{figures['rest_p50_ms']} ms, p99 {figures['rest_p99_ms']} ms"
    )
    print(
        f"REST while jobs are written: p50 {figures['rest_busy_p50_ms']} ms, "
        f"p99 {figures['rest_busy_p99_ms']} ms"
    )
    print(
        f"WebSocket: {len(delays)} events to {args.ws_clients} clients, delay p50 "
        f"{figures['ws_p50_ms']} ms, p99 {figures['ws_p99_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
