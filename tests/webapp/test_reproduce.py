"""A real server session with a tiny model, then the log tools on it, as separate processes:
three ComfyUI prompts and one interrupted, the recording verifies; `rxgen reproduce` gives the
same image bytes, notices a changed model instead of reporting a false mismatch; `rxgen log
export` + `import` into another data dir gives the same `show` output and verifies; filters by
job and user work on the server's own events."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.webapp.server_process import ADMIN_PASSWORD, Server
from tests.webapp.test_server import light_prompt, wait_history

ROOT = Path(__file__).resolve().parents[2]


def rxgen(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "webapp.cli", *argv],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def tiny_prompt(seed: int) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage",
              "inputs": {"width": 64, "height": 48, "batch_size": 1}},
        "5": {"class_type": "KSampler", "inputs": {
            "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0],
            "seed": seed, "steps": 3, "cfg": 6.0, "sampler_name": "euler", "scheduler": "normal",
            "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "fox"}},
    }  # fmt: skip


@dataclass
class Session:
    data_dir: Path
    models_dir: Path
    log: Path
    tiny_job: str
    light_job: str
    bob_job: str
    cancelled_job: str
    token: str


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from drivers.diffusion.tiny import ensure_tiny_sd

    tiny = ensure_tiny_sd(tmp_path_factory.getbasetemp() / "rxgen-tiny-sd")
    root = tmp_path_factory.mktemp("reproduce")
    models = root / "models"
    models.mkdir()
    shutil.copytree(tiny, models / "tiny")  # a copy: one test changes it
    server = Server(root / "data", models).start()
    try:
        admin = server.login()
        client = server.token_client(admin)
        made = admin.post("/api/users", json={"name": "bob", "password": "bob-password-1"})
        assert made.status_code == 201, made.text
        bob = server.token_client(server.login("bob", "bob-password-1"))
        jobs = []
        # The editor's workflow rides along as a PNG chunk (not in the log: see reproduce_cli).
        extra = {"extra_pnginfo": {"workflow": {"nodes": [{"id": 7}], "version": 0.4}}}
        for who, prompt in ((client, tiny_prompt(5)), (client, light_prompt("l")),
                            (bob, light_prompt("b"))):  # fmt: skip
            answer = who.post("/prompt", json={"prompt": prompt, "extra_data": extra})
            assert answer.status_code == 200, answer.text
            jobs.append(answer.json()["prompt_id"])
            wait_history(who, jobs[-1], timeout=120)
        cancelled = cancel_a_running_job(client)
        token = client.headers["Authorization"].removeprefix("Bearer ")
    finally:
        server.stop()
    (log,) = (root / "data" / "logs").iterdir()
    tiny_job, light_job, bob_job = jobs
    yield Session(root / "data", models, log, tiny_job, light_job, bob_job, cancelled, token)


def cancel_a_running_job(client: httpx.Client) -> str:
    """A long job, interrupted while it runs (ComfyUI's POST /interrupt)."""
    job: str = client.post("/prompt", json={"prompt": light_prompt("c", 4000)}).json()["prompt_id"]
    deadline = time.monotonic() + 60
    while client.get(f"/api/jobs/{job}").json()["status"] != "running":
        assert time.monotonic() < deadline, "the long job never started"
        time.sleep(0.05)
    assert client.post("/interrupt").status_code == 200
    while (status := client.get(f"/api/jobs/{job}").json()["status"]) == "running":
        assert time.monotonic() < deadline, "the interrupted job kept running"
        time.sleep(0.05)
    assert status == "cancelled", status
    return job


def reproduce(session: Session, job: str) -> subprocess.CompletedProcess[str]:
    where = ("--data-dir", str(session.data_dir), "--models-dir", str(session.models_dir))
    return rxgen("reproduce", job, *where, "--device", "cpu", "--threads", "1")


def test_reproduce_gives_the_same_image_bytes(session: Session) -> None:
    from PIL import Image

    with Image.open(next((session.data_dir / "output").glob("fox_*.png"))) as saved:
        assert {"prompt", "workflow"} <= set(saved.info)  # so both chunks must come out equal
    for job in (session.tiny_job, session.light_job):
        result = reproduce(session, job)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "reproduced: every output matches" in result.stdout
    assert "model tiny: tiny@dir:" in reproduce(session, session.tiny_job).stdout


def test_a_changed_model_is_reported_not_a_false_mismatch(session: Session) -> None:
    weights = next((session.models_dir / "tiny" / "unet").glob("*.safetensors"))
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    try:
        result = reproduce(session, session.tiny_job)
    finally:
        os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "model 'tiny' changed since the job ran" in result.stdout
    assert "DIFFERS" not in result.stdout
    unknown = reproduce(session, "no-such-job")
    assert unknown.returncode == 2 and "no-such-job" in unknown.stderr


def test_the_comfyui_session_with_a_cancel_verifies(session: Session) -> None:
    verified = rxgen("log", "verify", str(session.log))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = rxgen("log", "show", str(session.log), "--job", session.cancelled_job, "--json")
    sinks = [json.loads(line) for line in shown.stdout.splitlines()]
    told = {
        row["value"]["$t"] for row in sinks if row["kind"] == "sink" and row["name"] == "events"
    }
    assert "components.workflow.protocol:JobCancelled" in told, told


def test_export_then_import_shows_the_same_and_verifies(session: Session, tmp_path: Path) -> None:
    bundle = tmp_path / "session.rxlog"
    exported = rxgen("log", "export", str(session.log), str(bundle))
    assert exported.returncode == 0, exported.stderr
    assert "referenced file(s)" in exported.stdout
    contents = bundle.read_bytes()
    assert ADMIN_PASSWORD.encode() not in contents and session.token.encode() not in contents
    other = tmp_path / "other-data"
    imported = rxgen("log", "import", str(bundle), str(other))
    assert imported.returncode == 0, imported.stderr
    copy = other / "logs" / session.log.name
    for flags in ((), ("--json",), ("--job", session.tiny_job)):
        before = rxgen("log", "show", str(session.log), *flags)
        after = rxgen("log", "show", str(copy), *flags)
        assert before.returncode == after.returncode == 0
        assert before.stdout == after.stdout and before.stdout
    verified = rxgen("log", "verify", str(copy))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    images = sorted(p.name for p in (other / "output").iterdir())
    assert images == sorted(p.name for p in (session.data_dir / "output").iterdir())
    assert list((other / "temp" / "previews").glob("*.jpeg"))  # the progress previews


def test_show_filters_by_job_and_user_on_a_server_log(session: Session) -> None:
    shown = rxgen("log", "show", str(session.log), "--job", session.bob_job, "--json")
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    assert rows and all(session.bob_job in r["jobs"] for r in rows)
    assert {r["kind"] for r in rows} == {"event", "sink", "state"}
    bob_id = rows[0]["users"][0]
    by_user = rxgen("log", "show", str(session.log), "--user", bob_id, "--kind", "event", "--json")
    jobs = {j for line in by_user.stdout.splitlines() for j in json.loads(line)["jobs"]}
    assert jobs == {session.bob_job}
    listed = rxgen("log", "ls", str(session.data_dir))
    assert session.log.name in listed.stdout
