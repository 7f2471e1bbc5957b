"""REST latency under concurrent clients and WebSocket delivery delay to many listeners.

    python bench/api_load.py [--rest-clients 100] [--requests 20] [--ws-clients 200] [--jobs 5]

Starts a real `rxgen serve` (SQLite, a fresh data dir) and logs in. REST: ``--rest-clients``
concurrent clients each make ``--requests`` authenticated requests, cycling through
``GET /api/jobs``, ``GET /queue``, ``GET /history?max_items=20`` and ``GET /api/auth/me``;
p50/p99 of the response times. WebSocket: ``--ws-clients`` connections to ``/api/ws`` while
``--jobs`` light jobs (50 image nodes each, so plenty of progress events) run; each event frame
carries the time the server published it, so delivery delay = receive time - publish time
(same machine, same clock). The last line is one JSON object.
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


async def rest_load(base: str, bearer: str, clients: int, requests: int) -> list[float]:
    timings: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {bearer}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:

        async def one(index: int) -> None:
            for n in range(requests):
                start = time.perf_counter()
                answer = await client.get(PATHS[(index + n) % len(PATHS)], timeout=60)
                timings.append(time.perf_counter() - start)
                answer.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(clients)))
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
            message = json.loads(await connection.recv())
            if message.get("type") != "event":
                continue
            delays.append(time.time() - message["time"])
            if message["event"]["$t"].endswith(":JobFinished"):
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
            delays, finished = asyncio.run(ws_load(base, bearer, args.ws_clients, args.jobs))
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures = {
        "rest_clients": args.rest_clients,
        "rest_requests": len(rest),
        "rest_p50_ms": round(statistics.median(rest) * 1000, 2),
        "rest_p99_ms": round(percentile(rest, 99) * 1000, 2),
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
        f"WebSocket: {len(delays)} events to {args.ws_clients} clients, delay p50 "
        f"{figures['ws_p50_ms']} ms, p99 {figures['ws_p99_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
