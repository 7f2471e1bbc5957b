"""Every recorded session replays exactly: random sequences of API actions against a real
server (submit, cancel, create and edit a workflow, upload, reconnect a WebSocket), then
verify on the recording. And verify catches a non-deterministic main at the right event."""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from websockets.sync.client import connect

from rxcore import run
from rxcore.log import LogWriter
from rxcore.replay import verify
from rxcore.testing import FakeDriver
from tests.rxcore.replay_app import Input
from tests.webapp.server_process import Server
from tests.webapp.test_reproduce import rxgen
from tests.webapp.test_server import light_prompt

pytestmark = pytest.mark.slow

actions = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.integers(1, 3), st.sampled_from(["admin", "ada"])),
        st.tuples(st.just("cancel"), st.integers(0, 5), st.sampled_from(["admin", "ada"])),
        st.tuples(st.just("workflow"), st.integers(0, 3), st.sampled_from(["admin", "ada"])),
        st.tuples(st.just("upload"), st.integers(0, 255), st.sampled_from(["admin", "ada"])),
        st.tuples(st.just("reconnect"), st.integers(0, 1), st.sampled_from(["admin", "ada"])),
    ),
    min_size=1,
    max_size=7,
)


class Session:
    """One server and its two users, driven by the actions."""

    def __init__(self, server: Server) -> None:
        self.server = server
        admin = server.login()
        made = admin.post("/api/users", json={"name": "ada", "password": "ada-password-1"})
        assert made.status_code == 201, made.text
        self.clients = {"admin": admin, "ada": server.login("ada", "ada-password-1")}
        self.jobs: list[str] = []
        self.workflows: dict[str, tuple[str, int]] = {}  # user -> (id, revision)
        self.last_seq = 0

    def do(self, action: tuple[str, int, str]) -> None:
        verb, n, user = action
        client = self.clients[user]
        if verb == "submit":
            made = client.post("/api/jobs", json={"workflow": light_prompt(f"{user}{n}", n)})
            assert made.status_code in (200, 201, 202), made.text
            self.jobs.append(made.json()["id"])
        elif verb == "cancel":
            # A long job, cancelled at once (queued or running), or an earlier one (maybe over).
            if n == 0 or not self.jobs:
                long = client.post("/api/jobs", json={"workflow": light_prompt("long", 400)})
                self.jobs.append(long.json()["id"])
                target = self.jobs[-1]
            else:
                target = self.jobs[n % len(self.jobs)]
            assert client.delete(f"/api/jobs/{target}").status_code in (200, 202, 403, 404, 409)
        elif verb == "workflow":
            self.workflow(client, user, n)
        elif verb == "upload":
            image = io.BytesIO()
            Image.new("RGB", (8, 8), (n, 0, 255 - n)).save(image, format="PNG")
            up = client.post("/api/uploads", files={"file": (f"u{n}.png", image.getvalue())})
            assert up.status_code in (200, 201), up.text
        else:
            self.reconnect(user, resume=bool(n))

    def workflow(self, client: httpx.Client, user: str, n: int) -> None:
        document = light_prompt(f"wf{n}", n + 1)
        if user not in self.workflows:
            made = client.post("/api/workflows", json={"name": f"w{n}", "document": document})
            assert made.status_code in (200, 201), made.text
            body = made.json()
            self.workflows[user] = (body["id"], body["revision"])
            return
        workflow_id, revision = self.workflows[user]
        edit = {"name": f"w{n}", "document": document, "revision": revision}
        changed = client.put(f"/api/workflows/{workflow_id}", json=edit)
        assert changed.status_code == 200, changed.text
        self.workflows[user] = (workflow_id, changed.json()["revision"])

    def reconnect(self, user: str, resume: bool) -> None:
        token = self.server.token_client(self.clients[user]).headers["Authorization"][7:]
        url = self.server.url.replace("http", "ws") + f"/api/ws?token={token}"
        if resume:
            url += f"&after={self.last_seq}"
        with connect(url) as ws:
            hello = json.loads(ws.recv(timeout=10))
            assert hello["type"] == "hello", hello
            self.last_seq = int(hello.get("seq", self.last_seq))

    def settle(self, timeout: float = 60) -> None:
        client = self.clients["admin"]
        deadline = time.monotonic() + timeout
        for job in self.jobs:
            while client.get(f"/api/jobs/{job}").json()["status"] in ("queued", "running"):
                assert time.monotonic() < deadline, f"job {job} did not finish"
                time.sleep(0.05)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=False,
)
@given(script=actions)
def test_every_recorded_session_verifies(script: list[tuple[str, int, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = Server(root / "data", root / "models").start()
        try:
            session = Session(server)
            for action in script:
                session.do(action)
            session.settle()
        finally:
            server.stop()
        (log,) = (root / "data" / "logs").iterdir()
        report = verify(str(log))
        assert report.ok, f"{script}: {report}"
        submitted = sum(1 for verb, *_ in script if verb in ("submit", "cancel"))
        assert report.events >= submitted and (report.sinks > 0 or submitted == 0)


def record_flaky(path: Path, keys: list[str]) -> None:
    from tests.webapp.flaky_main import main

    async def scenario() -> None:
        source, output = FakeDriver(), FakeDriver()
        runtime = run(
            main, {"input": source, "output": output}, recorder=LogWriter(path),
            main_ref="tests.webapp.flaky_main:main",
        )  # fmt: skip
        for i, key in enumerate(keys, start=1):
            source.emit(Input(key=key, n=i))
            await asyncio.sleep(0)
        runtime.dispose()

    asyncio.run(scenario())


def test_verify_names_the_first_event_where_main_read_the_clock(tmp_path: Path) -> None:
    record_flaky(tmp_path / "log", ["a", "b", "a", "b", "late", "a", "late"])
    report = verify(str(tmp_path / "log"))
    assert not report.ok and report.divergence is not None
    assert (report.divergence.cause, report.divergence.what) == (5, "sink")
    assert report.sinks == 1  # event #3's echo (n=3) matched; #5 is the first that differs
    shown = rxgen("log", "verify", str(tmp_path / "log"))
    assert shown.returncode == 1, shown.stdout + shown.stderr
    assert "while handling event #5" in shown.stdout and "'late'" in shown.stdout
    record_flaky(tmp_path / "steady", ["a", "b", "a"])
    assert verify(str(tmp_path / "steady")).ok
