"""The server as ComfyUI clients and browsers use it: a real uvicorn process, real HTTP and
WebSockets, a real SQLite database; plus the attacks that have hit ComfyUI servers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.webapp.server_process import Server, ws_events


def light_prompt(prefix: str = "t", flips: int = 2) -> dict[str, Any]:
    prompt: dict[str, Any] = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 32, "height": 16, "batch_size": 1, "color": 0x00FF00},
        }
    }
    for i in range(2, flips + 2):
        prompt[str(i)] = {
            "class_type": "ImageFlip",
            "inputs": {"image": [str(i - 1), 0], "flip_method": "x-axis: vertically"},
        }
    prompt["save"] = {
        "class_type": "SaveImage",
        "inputs": {"images": [str(flips + 1), 0], "filename_prefix": prefix},
    }
    return prompt


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("server")
    running = Server(root / "data", root / "models").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(server: Server) -> httpx.Client:
    return server.login()


@pytest.fixture(scope="module")
def bob(server: Server, admin: httpx.Client) -> httpx.Client:
    made = admin.post("/api/users", json={"name": "bob", "password": "bob-password-1"})
    assert made.status_code == 201, made.text
    return server.token_client(server.login("bob", "bob-password-1"))


def wait_history(client: httpx.Client, prompt_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history = client.get(f"/history/{prompt_id}").json()
        if prompt_id in history:
            entry: dict[str, Any] = history[prompt_id]
            return entry
        time.sleep(0.1)
    raise AssertionError(f"{prompt_id} did not finish in {timeout} s")


def test_a_comfyui_client_queues_a_prompt_and_reads_the_result(
    server: Server, bob: httpx.Client
) -> None:
    ws_url = server.url.replace("http", "ws") + "/ws?clientId=c1&token="
    token = bob.headers["Authorization"].removeprefix("Bearer ")
    with connect(ws_url + token) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "status" and hello["data"]["sid"] == "c1"
        answer = bob.post("/prompt", json={"prompt": light_prompt("bob"), "client_id": "c1"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"prompt_id", "number", "node_errors"} and body["node_errors"] == {}
        kinds = []
        while "execution_success" not in kinds:
            message = json.loads(ws.recv(timeout=30))
            if message.get("data", {}).get("prompt_id") == body["prompt_id"]:
                kinds.append(message["type"])
        assert kinds[0] == "execution_start" and "executed" in kinds
    entry = wait_history(bob, body["prompt_id"])
    assert entry["status"]["completed"] is True
    (image,) = entry["outputs"]["save"]["images"]
    view = bob.get("/view", params=image)
    assert view.status_code == 200 and view.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert view.headers["x-content-type-options"] == "nosniff"
    job = bob.get(f"/api/jobs/{body['prompt_id']}").json()
    assert job["status"] == "finished" and job["outputs"]["save"] == {"images": [image]}


def test_another_user_sees_nothing_of_it(
    server: Server, admin: httpx.Client, bob: httpx.Client
) -> None:
    mine = bob.post("/prompt", json={"prompt": light_prompt("private")}).json()["prompt_id"]
    wait_history(bob, mine)
    carol_made = admin.post("/api/users", json={"name": "carol", "password": "carol-pass-1"})
    assert carol_made.status_code == 201
    carol = server.token_client(server.login("carol", "carol-pass-1"))
    assert carol.get(f"/history/{mine}").json() == {}
    assert mine not in carol.get("/history").json()
    assert carol.get(f"/api/jobs/{mine}").status_code == 404
    assert carol.delete(f"/api/jobs/{mine}").status_code == 404
    assert all(j["id"] != mine for j in carol.get("/api/jobs").json()["items"])
    assert admin.get(f"/api/jobs/{mine}").status_code == 200  # admins see everyone's


def test_invalid_prompts_get_comfyui_node_errors(bob: httpx.Client) -> None:
    prompt = light_prompt()
    prompt["1"]["inputs"]["width"] = 0
    answer = bob.post("/prompt", json={"prompt": prompt})
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert set(body["node_errors"]) == {"1"}
    (error,) = body["node_errors"]["1"]["errors"]
    assert error["type"] == "value_smaller_than_min" and "width" in error["details"]
    prompt["5"] = {"class_type": "NoSuchNode", "inputs": {}}
    unknown = bob.post("/prompt", json={"prompt": prompt}).json()
    assert (
        unknown["error"]["type"] == "invalid_prompt" and "NoSuchNode" in unknown["error"]["message"]
    )
    assert bob.post("/prompt", content=b"{not json").status_code == 400
    assert bob.post("/prompt", json={"nothing": 1}).status_code == 400


def test_requests_without_credentials_are_refused(server: Server) -> None:
    anonymous = server.client()
    for path in ("/object_info", "/history", "/queue", "/api/jobs"):
        answer = anonymous.get(path)
        assert answer.status_code == 401, path
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/metrics").status_code == 200
    wrong = anonymous.post("/api/auth/login", json={"username": "admin", "password": "nope"})
    assert wrong.status_code == 401
    traced = anonymous.get("/api/jobs", headers={"X-Request-ID": "trace-me-42"})
    assert traced.headers["x-request-id"] == "trace-me-42"
    assert len(anonymous.get("/api/jobs").headers["x-request-id"]) == 32  # one was made
    deadline = time.monotonic() + 10
    while '"request_id": "trace-me-42"' not in server.log_text():
        assert time.monotonic() < deadline, "no access line for the request"
        time.sleep(0.1)
    line = next(x for x in server.log_text().splitlines() if "trace-me-42" in x)
    access = json.loads(line)
    assert (access["path"], access["status"], access["logger"]) == (
        "/api/jobs",
        401,
        "rxgen.access",
    )


def test_cross_site_requests_and_dns_rebinding_are_refused(
    server: Server, admin: httpx.Client
) -> None:
    prompt = {"prompt": light_prompt()}
    for origin in ("null", "http://evil.example"):
        answer = admin.post("/prompt", json=prompt, headers={"Origin": origin})
        assert answer.status_code == 403, origin
    without_csrf = server.login()
    del without_csrf.headers["X-CSRF-Token"]
    assert without_csrf.post("/prompt", json=prompt).status_code == 403
    assert admin.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
    assert admin.post("/prompt", json=prompt, headers={"Origin": server.url}).status_code == 200


def test_path_traversal_and_non_images_are_refused(server: Server, bob: httpx.Client) -> None:
    (server.data_dir / "output" / "sub").mkdir(parents=True, exist_ok=True)
    outside = server.data_dir.parent / "outside.txt"
    outside.write_text("TOP-SECRET-CONTENT")
    key = (server.data_dir / "secret.key").read_bytes()
    (server.data_dir / "output" / "link.png").symlink_to(outside)
    for params in (
        {"filename": "../secret.key"},
        {"filename": "secret.key", "subfolder": ".."},
        {"filename": "/etc/passwd"},
        {"filename": "..%2fsecret.key"},
        {"filename": "..\\secret.key"},
        {"filename": "link.png"},
        {"filename": "x.png", "type": "../../"},
    ):
        answer = bob.get("/view", params=params)
        assert answer.status_code in (400, 404), params
        assert b"TOP-SECRET" not in answer.content and key not in answer.content
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, data in (("x.svg", svg), ("x.png", svg), ("x.html", b"<html><script>")):
        answer = bob.post("/upload/image", files={"image": (name, data)})
        assert answer.status_code == 415, name
    png = _png_with_trailer()
    uploaded = bob.post("/upload/image", files={"image": ("pic.png", png)})
    assert uploaded.status_code == 200, uploaded.text
    stored = (server.data_dir / "input" / uploaded.json()["name"]).read_bytes()
    assert b"<script>" not in stored and stored[:8] == b"\x89PNG\r\n\x1a\n"


def _png_with_trailer() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG")
    return out.getvalue() + b"<script>alert(1)</script>"


def test_queue_interrupt_and_cancel(server: Server, bob: httpx.Client) -> None:
    long_answer = bob.post("/prompt", json={"prompt": light_prompt("long", flips=3000)})
    assert long_answer.status_code == 200, long_answer.text
    long_id = long_answer.json()["prompt_id"]
    queued_id = bob.post("/prompt", json={"prompt": light_prompt("queued")}).json()["prompt_id"]
    queue = bob.get("/queue").json()
    listed = [entry[1] for entry in queue["queue_running"] + queue["queue_pending"]]
    assert long_id in listed
    assert bob.post("/queue", json={"delete": [queued_id]}).status_code == 200
    assert bob.post("/interrupt").status_code == 200
    for job_id in (long_id, queued_id):
        deadline = time.monotonic() + 30
        while bob.get(f"/api/jobs/{job_id}").json()["status"] not in ("cancelled",):
            assert time.monotonic() < deadline, bob.get(f"/api/jobs/{job_id}").json()
            time.sleep(0.1)


def test_native_websocket_resumes_from_a_seq(server: Server, bob: httpx.Client) -> None:
    token = bob.headers["Authorization"].removeprefix("Bearer ")
    base = server.url.replace("http", "ws") + f"/api/ws?token={token}"
    with connect(base) as ws:
        start_seq = json.loads(ws.recv(timeout=10))["seq"]
    job = bob.post("/prompt", json={"prompt": light_prompt("resume")}).json()["prompt_id"]
    wait_history(bob, job)
    with connect(f"{base}&after={start_seq}") as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello" and hello["gap"] is False
        seen: list[dict[str, Any]] = []
        frames = 0
        while not any(e["event"]["$t"].endswith("JobFinished") for e in seen):
            seen.extend(ws_events(ws.recv(timeout=10)))
            frames += 1
    assert frames < len(seen)  # the backlog came in batches, not one frame per event
    mine = [m for m in seen if m["event"]["job_id"] == job]
    assert mine and all(m["seq"] > start_seq for m in seen)
    seqs = [m["seq"] for m in seen]
    assert seqs == sorted(seqs)


def test_kill_9_keeps_queued_jobs_and_requeues_the_interrupted_one(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", tmp_path / "models").start()
    try:
        client = server.token_client(server.login())
        running = client.post("/prompt", json={"prompt": light_prompt("r", 4000)}).json()
        waiting = client.post("/prompt", json={"prompt": light_prompt("w")}).json()
        deadline = time.monotonic() + 30
        while client.get(f"/api/jobs/{running['prompt_id']}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.get(f"/api/jobs/{waiting['prompt_id']}").json()["status"] == "queued"
        server.kill()
        server.start()
        for job in (running, waiting):
            entry = wait_history(client, job["prompt_id"], timeout=120)
            assert entry["status"]["completed"] is True
        rerun = client.get(f"/api/jobs/{running['prompt_id']}").json()
        assert rerun["attempts"] == 2  # interrupted once, then re-queued and run again
    finally:
        server.stop()


def test_workflows_keep_revisions_and_refuse_stale_writes(
    server: Server, admin: httpx.Client, bob: httpx.Client
) -> None:
    made = bob.post("/api/workflows", json={"name": "fox", "document": light_prompt("fox")})
    assert made.status_code == 201, made.text
    workflow = made.json()
    assert workflow["revision"] == 1
    url = f"/api/workflows/{workflow['id']}"
    edited = light_prompt("fox-2")
    saved = bob.put(url, json={"name": "fox", "document": edited, "revision": 1})
    assert saved.status_code == 200 and saved.json()["revision"] == 2
    stale = bob.put(url, json={"name": "fox", "document": light_prompt("x"), "revision": 1})
    assert stale.status_code == 409
    assert stale.json()["current"]["revision"] == 2
    assert stale.json()["current"]["document"] == edited
    assert bob.put(url, json={"name": "fox", "document": edited}).status_code == 428
    bad = bob.post("/api/workflows", json={"name": "x", "document": {"1": {"inputs": {}}}})
    assert bad.status_code == 422 and bad.json()["field"] == "document"
    listed = [w["id"] for w in bob.get("/api/workflows").json()["items"]]
    assert workflow["id"] in listed
    assert admin.post("/api/users", json={"name": "dave", "password": "dave-pass-12"}).is_success
    dave = server.token_client(server.login("dave", "dave-pass-12"))
    assert dave.get(url).status_code == 404
    assert dave.delete(url).status_code == 404
    assert bob.delete(url).status_code == 204
    assert bob.get(url).status_code == 404


def test_users_are_bounded_per_role_and_admins_are_not(
    admin: httpx.Client, bob: httpx.Client
) -> None:
    big = light_prompt("big", flips=0)
    big["1"]["inputs"]["width"] = 4096
    refused = bob.post("/prompt", json={"prompt": big})
    assert refused.status_code == 400
    (error,) = refused.json()["node_errors"]["1"]["errors"]
    assert error["type"] == "value_bigger_than_max" and "width" in error["details"]
    assert admin.post("/prompt", json={"prompt": big}).status_code == 200


def test_the_server_records_a_session_log_that_replays_identically(tmp_path: Path) -> None:
    import subprocess
    import sys

    server = Server(tmp_path / "data", tmp_path / "models").start()
    try:
        client = server.token_client(server.login())
        job = client.post("/prompt", json={"prompt": light_prompt("logged")}).json()
        wait_history(client, job["prompt_id"])
    finally:
        server.stop()
    (log,) = (tmp_path / "data" / "logs").iterdir()
    verified = subprocess.run(
        [sys.executable, "-m", "webapp.cli", "log", "verify", str(log)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "replay matches" in verified.stdout
    assert server.log_text().count("created user") == 0  # the password came from the env
    from tests.webapp.server_process import ADMIN_PASSWORD

    recorded = b"".join(f.read_bytes() for f in log.iterdir())
    bearer = client.headers["Authorization"].removeprefix("Bearer ").encode()
    assert ADMIN_PASSWORD.encode() not in recorded and bearer not in recorded
