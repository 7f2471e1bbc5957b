"""`rxgen debug LOGFILE` as a real process: one log, read-only, loopback only, no login."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rxcore import run
from rxcore.log import LogWriter
from rxcore.log_bundle import export_bundle
from rxcore.testing import FakeDriver
from tests.rxcore import what_if_app
from tests.rxcore.replay_app import Input
from tests.webapp.test_reproduce import rxgen

ROOT = Path(__file__).resolve().parents[2]


def make_log(path: Path, events: int = 30) -> Path:
    """A log an embedded program wrote (no server): the replay test app."""

    async def scenario() -> None:
        source, output = FakeDriver(), FakeDriver()
        runtime = run(
            what_if_app.main,
            {"input": source, "output": output},
            recorder=LogWriter(path, snapshot_every=5),
            main_ref="tests.rxcore.what_if_app:main",
        )
        for i in range(1, events + 1):
            source.emit(Input(key="xy"[i % 2], n=i))
            await asyncio.sleep(0)
        runtime.dispose()

    asyncio.run(scenario())
    return path


def digest(folder: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir())}


class Debugger:
    def __init__(self, target: Path, *extra: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "webapp.cli", "debug", str(target), "--port", "0", *extra]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line + self.process.stdout.read()
        self.url = found.group(0).rstrip("/")
        self.line = line
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_log(tmp_path_factory.mktemp("debug") / "20260101-000000")


@pytest.fixture(scope="module")
def debugger(log: Path) -> Iterator[Debugger]:
    running = Debugger(log)
    yield running
    running.stop()


def test_it_serves_the_one_log_and_says_where(debugger: Debugger, log: Path) -> None:
    assert "30 events" in debugger.line and "tests.rxcore.what_if_app:main" in debugger.line
    with httpx.Client(base_url=debugger.url) as client:
        listing = client.get("/api/logs").json()
        assert [s["name"] for s in listing["items"]] == [log.name]
        assert listing["read_only"] is True  # the client offers no export or import here
        name = log.name
        page = client.get(f"/api/logs/{name}/records", params={"kind": "event", "limit": 5})
        assert [r["seq"] for r in page.json()["items"]] == [1, 2, 3, 4, 5]
        state = client.get(f"/api/logs/{name}/state", params={"at": 4}).json()["state"]
        assert state["sum"] == 1 + 2 + 3 + 4 and state["by_key"] == {"x": 2 + 4, "y": 1 + 3}


def test_verify_and_what_if_run_in_the_sandbox(debugger: Debugger, log: Path) -> None:
    before = digest(log)
    with httpx.Client(base_url=debugger.url, timeout=60) as client:
        verdict = client.post(f"/api/logs/{log.name}/verify").json()
        assert verdict["ok"] and verdict["events"] == 30
        report = client.post(
            f"/api/logs/{log.name}/what-if", json={"seq": 20, "action": "edit", "payload": {"n": 0}}
        ).json()
        assert report["first_difference"] == 20 and 0 < report["replayed_from"] < 20
        final = {c["path"]: c for c in report["final_state"]}
        assert final["/sum"]["before"] - final["/sum"]["after"] == 20
        me = client.get("/api/auth/me").json()
        about = client.get("/api/debug").json()
        assert me["role"] == "admin" and about["read_only"] is True
        # The client learns from "who am I" that it runs here: only the debugger, no socket.
        assert me["debug"] == about == {"log": log.name, "path": str(log), "read_only": True}
    assert digest(log) == before  # nothing was written to the log


def test_the_client_page_or_a_plain_note_is_served(debugger: Debugger) -> None:
    page = httpx.get(f"{debugger.url}/")
    index = ROOT / "webapp" / "static" / "index.html"
    if index.is_file():
        assert page.status_code == 200 and page.text == index.read_text()
    else:
        assert page.status_code == 503 and "client bundle is missing" in page.text
    assert page.headers["x-content-type-options"] == "nosniff"


def test_foreign_hosts_and_origins_are_refused(debugger: Debugger, log: Path) -> None:
    rebinding = httpx.get(f"{debugger.url}/api/logs", headers={"Host": "evil.example"})
    assert rebinding.status_code == 400
    foreign = httpx.post(
        f"{debugger.url}/api/logs/{log.name}/verify", headers={"Origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    assert httpx.delete(f"{debugger.url}/api/logs/{log.name}/records").status_code == 405


def test_other_addresses_and_non_logs_are_refused(log: Path, tmp_path: Path) -> None:
    wide = rxgen("debug", str(log), "--host", "0.0.0.0")
    assert wide.returncode == 2 and "loopback only" in wide.stderr
    empty = rxgen("debug", str(tmp_path))
    assert empty.returncode == 1 and "holds no log segments" in empty.stderr
    missing = rxgen("debug", str(tmp_path / "nope"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_an_exported_bundle_opens_too(log: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "session.rxlog"
    export_bundle(log, bundle, {})
    running = Debugger(bundle)
    try:
        items = httpx.get(f"{running.url}/api/logs").json()["items"]
        assert [(s["name"], s["events"]) for s in items] == [(log.name, 30)]
    finally:
        running.stop()


def test_without_a_built_client_the_page_says_how_to_build_it(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.testclient import TestClient

    from webapp import static_routes
    from webapp.debug_app import create_debug_app

    monkeypatch.setattr(static_routes, "STATIC_DIR", tmp_path / "not-built")
    with TestClient(create_debug_app(log), base_url="http://127.0.0.1") as client:
        page = client.get("/")
        assert page.status_code == 503 and "client bundle is missing" in page.text
        assert "npm run build" in page.text
        assert client.get("/api/logs").json()["items"][0]["name"] == log.name
