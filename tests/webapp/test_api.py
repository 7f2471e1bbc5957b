"""rxgen's own REST API against a real server with a tiny diffusion model: submit through
``/api/jobs``, watch ``/api/ws`` (previews as binary frames), and find the outputs as
content-addressed artifacts that only their owner can read."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from websockets.sync.client import connect

from drivers.diffusion.tiny import ensure_tiny_sd
from rxcore.message import TYPE_KEY
from tests.webapp.server_process import Server, ws_events
from tests.webapp.test_server import light_prompt


def txt2img(seed: int = 1, steps: int = 3) -> dict[str, Any]:
    sampler = {
        "seed": seed,
        "steps": steps,
        "cfg": 5.0,
        "sampler_name": "euler",
        "scheduler": "normal",
        "denoise": 1.0,
        "model": ["ckpt", 0],
        "positive": ["pos", 0],
        "negative": ["neg", 0],
        "latent_image": ["latent", 0],
    }
    return {
        "ckpt": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny-sd"}},
        "pos": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["ckpt", 1]}},
        "neg": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["ckpt", 1]}},
        "latent": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1},
        },
        "sample": {"class_type": "KSampler", "inputs": sampler},
        "decode": {
            "class_type": "VAEDecode",
            "inputs": {"samples": ["sample", 0], "vae": ["ckpt", 2]},
        },
        "save": {
            "class_type": "SaveImage",
            "inputs": {"images": ["decode", 0], "filename_prefix": "api"},
        },
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("api")
    ensure_tiny_sd(root / "models" / "tiny-sd")
    running = Server(root / "data", root / "models").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ada(server: Server) -> httpx.Client:
    admin = server.login()
    for name in ("ada", "eve"):
        made = admin.post("/api/users", json={"name": name, "password": f"{name}-password-1"})
        assert made.status_code == 201, made.text
    return server.login("ada", "ada-password-1")


@pytest.fixture(scope="module")
def eve(server: Server, ada: httpx.Client) -> httpx.Client:
    return server.token_client(server.login("eve", "eve-password-1"))


def wait_job(client: httpx.Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def test_a_job_submitted_in_any_format_runs_and_its_outputs_become_artifacts(
    ada: httpx.Client, eve: httpx.Client
) -> None:
    made = ada.post("/api/jobs", json={"workflow": light_prompt("art"), "priority": 5})
    assert made.status_code == 201, made.text
    job = wait_job(ada, made.json()["id"])
    assert job["status"] == "finished" and job["priority"] == 5

    items = ada.get("/api/artifacts", params={"kind": "output"}).json()["items"]
    assert len(items) == 1
    art = items[0]
    assert (art["media_type"], art["width"], art["height"]) == ("image/png", 32, 16)

    content = ada.get(art["url"])
    assert content.status_code == 200
    assert content.headers["etag"] == f'"{art["sha256"]}"'
    assert "immutable" in content.headers["cache-control"]
    assert Image.open(io.BytesIO(content.content)).size == (32, 16)
    again = ada.get(art["url"], headers={"If-None-Match": content.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    thumb = ada.get(art["thumbnail_url"])
    assert thumb.headers["content-type"] == "image/webp"
    origin = ada.get(f"/api/artifacts/{art['sha256']}/workflow").json()
    assert origin["job_id"] == job["id"] and origin["prompt"]["save"]["class_type"] == "SaveImage"

    for suffix in ("", "/content", "/thumbnail", "/workflow"):
        assert eve.get(f"/api/artifacts/{art['sha256']}{suffix}").status_code == 404
    assert eve.get("/api/artifacts").json()["items"] == []
    assert eve.delete(f"/api/artifacts/{art['sha256']}").status_code == 404
    assert eve.get(f"/api/jobs/{job['id']}").status_code == 404


def test_bad_submissions_name_the_field(ada: httpx.Client) -> None:
    unknown = ada.post("/api/jobs", json={"workflow": {"1": {"class_type": "Nope", "inputs": {}}}})
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "workflow" and "1" in unknown.json()["node_errors"]
    wrong = ada.post("/api/jobs", json={"workflow": light_prompt(), "priority": 1000})
    assert (wrong.status_code, wrong.json()["field"]) == (422, "priority")
    assert ada.post("/api/jobs", content=b"{nope").status_code == 400


def test_uploads_are_reencoded_and_feed_load_image(ada: httpx.Client) -> None:
    png = io.BytesIO()
    Image.new("RGB", (20, 10), "blue").save(png, "PNG")
    up = ada.post("/api/uploads", files={"file": ("blue.png", png.getvalue(), "image/png")})
    assert up.status_code == 201, up.text
    name = f"{up.json()['subfolder']}/{up.json()['name']}"
    prompt = {
        "load": {"class_type": "LoadImage", "inputs": {"image": name}},
        "save": {
            "class_type": "SaveImage",
            "inputs": {"images": ["load", 0], "filename_prefix": "up"},
        },
    }
    job = wait_job(ada, ada.post("/api/jobs", json={"workflow": prompt}).json()["id"])
    assert job["status"] == "finished", job
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = ada.post("/api/uploads", files={"file": ("x.svg", svg, "image/svg+xml")})
    assert (refused.status_code, refused.json()["field"]) == (415, "file")


def test_native_websocket_sends_progress_and_binary_previews(
    server: Server, ada: httpx.Client
) -> None:
    cookie = "; ".join(f"{k}={v}" for k, v in ada.cookies.items())
    url = server.url.replace("http", "ws") + "/api/ws"
    with connect(url, additional_headers={"Cookie": cookie}) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        made = ada.post("/api/jobs", json={"workflow": txt2img()})
        assert made.status_code == 201, made.text
        job_id = made.json()["id"]
        previews: list[tuple[int, int, bytes]] = []
        progress_seqs: set[int] = set()
        while True:
            frame = ws.recv(timeout=120)
            if isinstance(frame, bytes):
                assert frame[:4] == b"RXP1"
                seq, kind = int.from_bytes(frame[4:12], "big"), int.from_bytes(frame[12:16], "big")
                previews.append((seq, kind, frame[16:]))
                continue
            ended = False
            for message in ws_events(frame):
                event = message["event"]
                if event.get("job_id") != job_id:
                    continue
                kind_name = str(event.get(TYPE_KEY, ""))
                if "Progress" in kind_name:
                    progress_seqs.add(message["seq"])
                if kind_name.endswith(("JobFinished", "JobFailed")):
                    assert kind_name.endswith("JobFinished"), event
                    ended = True
            if ended:
                break
    assert previews, "no preview frame arrived"
    for seq, kind, data in previews:
        assert seq in progress_seqs  # a preview follows the event it belongs to
        assert kind in (1, 2)
        Image.open(io.BytesIO(data)).verify()


def test_saved_pngs_carry_the_prompt_and_the_editor_workflow(ada: httpx.Client) -> None:
    fixture = Path(__file__).parents[1] / "components/workflow/fixtures/txt2img_editor.json"
    editor = json.loads(fixture.read_text())
    widgets = {
        "EmptyLatentImage": [64, 64, 1],
        "KSampler": [7, "fixed", 2, 5.0, "euler", "normal", 1],
        "CheckpointLoaderSimple": ["tiny-sd"],
    }
    for node in editor["nodes"]:
        node["widgets_values"] = widgets.get(node["type"], node.get("widgets_values"))
    made = ada.post("/api/jobs", json={"workflow": editor})
    assert made.status_code == 201, made.text
    job = wait_job(ada, made.json()["id"])
    assert job["status"] == "finished", job
    origin = ada.get("/api/artifacts", params={"kind": "output"}).json()["items"][0]
    png = Image.open(io.BytesIO(ada.get(origin["url"]).content))
    assert json.loads(png.text["workflow"]) == editor  # what an editor restores on drop
    assert json.loads(png.text["prompt"])["3"]["class_type"] == "KSampler"


def test_view_serves_a_file_only_to_who_made_or_uploaded_it(
    server: Server, ada: httpx.Client, eve: httpx.Client
) -> None:
    made = ada.post("/prompt", json={"prompt": light_prompt("mine")}).json()
    job = wait_job(ada, made["prompt_id"])
    image = job["outputs"]["save"]["images"][0]
    params = {"filename": image["filename"], "subfolder": image["subfolder"], "type": "output"}
    assert ada.get("/view", params=params).status_code == 200
    assert eve.get("/view", params=params).status_code == 404  # guessable name, not eve's
    assert server.login().get("/view", params=params).status_code == 200  # admins see all

    png = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(png, "PNG")
    up = ada.post("/upload/image", files={"image": ("private.png", png.getvalue())}).json()
    upload = {"filename": up["name"], "subfolder": up["subfolder"], "type": "input"}
    assert ada.get("/view", params=upload).status_code == 200
    assert eve.get("/view", params=upload).status_code == 404
    steal = {
        "load": {"class_type": "LoadImage", "inputs": {"image": up["name"]}},
        "save": {
            "class_type": "SaveImage",
            "inputs": {"images": ["load", 0], "filename_prefix": "stolen"},
        },
    }
    refused = eve.post("/prompt", json={"prompt": steal})
    assert refused.status_code == 400 and "load" in refused.json()["node_errors"]
    mine = ada.post("/prompt", json={"prompt": steal})
    assert mine.status_code == 200, mine.text


def test_admins_list_accounts_and_users_list_their_own_tokens(
    server: Server, ada: httpx.Client, eve: httpx.Client
) -> None:
    admin = server.login()
    names = {u["name"] for u in admin.get("/api/users").json()["items"]}
    assert {"admin", "ada", "eve"} <= names
    assert eve.get("/api/users").status_code == 403
    mine = eve.get("/api/tokens").json()["items"]
    assert mine and {t["user_id"] for t in mine} == {mine[0]["user_id"]}
    assert all("token" not in t for t in mine)  # the secret is shown once, at creation
    everyone = {t["user_id"] for t in admin.get("/api/tokens").json()["items"]}
    assert mine[0]["user_id"] in everyone


def test_metrics_report_durations_sampler_steps_and_model_memory(
    server: Server, ada: httpx.Client
) -> None:
    job = wait_job(ada, ada.post("/api/jobs", json={"workflow": txt2img(seed=9)}).json()["id"])
    assert job["status"] == "finished"
    text = httpx.get(f"{server.url}/metrics").text
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert values['rxgen_job_duration_seconds_count{outcome="finished"}'] >= 1
    assert values["rxgen_sampler_steps_total"] >= 3  # the txt2img job's three steps, at least
    assert values['rxgen_model_memory_bytes{where="resident"}'] > 0
    assert "rxgen_sampler_steps_per_second" in values


def test_api_ws_tells_a_user_of_their_workflow_changes_only(
    server: Server, ada: httpx.Client, eve: httpx.Client
) -> None:
    base = server.url.replace("http", "ws") + "/api/ws?topics=workflows"
    cookie = "; ".join(f"{k}={v}" for k, v in ada.cookies.items())
    eve_token = eve.headers["Authorization"].removeprefix("Bearer ")
    with (
        connect(base, additional_headers={"Cookie": cookie}) as ada_ws,
        connect(f"{base}&token={eve_token}") as eve_ws,
    ):
        assert json.loads(ada_ws.recv(timeout=10))["topics"] == ["workflows"]
        json.loads(eve_ws.recv(timeout=10))
        made = ada.post("/api/workflows", json={"name": "w", "document": light_prompt()})
        assert made.status_code == 201, made.text
        workflow = made.json()
        events = ws_events(ada_ws.recv(timeout=10))
        assert events[0]["event"]["workflow_id"] == workflow["id"]
        assert events[0]["event"]["revision"] == 1
        ada.post("/api/jobs", json={"workflow": light_prompt("quiet")})  # not on this topic
        ada.delete(f"/api/workflows/{workflow['id']}")
        gone = ws_events(ada_ws.recv(timeout=10))
        assert gone[0]["event"]["revision"] == 0  # deleted
        with pytest.raises(TimeoutError):
            eve_ws.recv(timeout=1)


def test_the_catalog_lists_only_the_callers_own_uploads(
    ada: httpx.Client, eve: httpx.Client
) -> None:
    png = io.BytesIO()
    Image.new("RGB", (3, 3), "green").save(png, "PNG")
    up = ada.post("/api/uploads", files={"file": ("g.png", png.getvalue(), "image/png")}).json()
    name = f"{up['subfolder']}/{up['name']}"
    assert name in ada.get("/api/models").json()["input_images"]
    assert name not in eve.get("/api/models").json()["input_images"]
    load = eve.get("/object_info/LoadImage").json()["LoadImage"]["input"]["required"]["image"]
    assert name not in load[0]


def test_a_malformed_queue_request_is_refused_naming_the_field(ada: httpx.Client) -> None:
    # Found by the schemathesis run: a number where ComfyUI sends a list of ids was a 500.
    refused = ada.post("/queue", json={"delete": 1.5})
    assert (refused.status_code, refused.json()["field"]) == (422, "delete")
    assert ada.post("/queue", json={"delete": ["no-such-job"]}).status_code == 200
