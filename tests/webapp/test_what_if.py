"""What-if on a real server's session: the route (admins only, named 4xx problems), and the
server's main resumed from a snapshot giving the same answers as a replay from the start."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rxcore.log import Kind, LogReader, LogWriter
from rxcore.replay import load_main, replay_drivers, verify
from rxcore.run import Runtime
from rxcore.what_if import Bounds, Edit, what_if
from tests.webapp.server_process import Server
from tests.webapp.test_server import light_prompt
from webapp.what_if_server import resume_for


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("what-if")
    running = Server(root / "data", root / "models").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def session(server: Server) -> dict[str, Any]:
    """Five finished jobs and one cancelled; the live session's name and its events."""
    admin = server.login()
    made = admin.post("/api/users", json={"name": "ada", "password": "ada-password-1"})
    assert made.status_code == 201, made.text
    ids = [admin.post("/api/jobs", json={"workflow": light_prompt(f"w{i}")}).json()["id"]
           for i in range(5)]  # fmt: skip
    cancelled = admin.post("/api/jobs", json={"workflow": light_prompt("c", 30)}).json()["id"]
    admin.delete(f"/api/jobs/{cancelled}")
    deadline = time.monotonic() + 60
    for job in [*ids, cancelled]:
        while admin.get(f"/api/jobs/{job}").json()["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    name = admin.get("/api/logs").json()["live"]
    events = admin.get(f"/api/logs/{name}/records", params={"kind": "event", "limit": 1000})
    return {
        "admin": admin,
        "ada": server.token_client(server.login("ada", "ada-password-1")),
        "name": name,
        "events": events.json()["items"],
        "path": server.data_dir / "logs" / name,
    }


def post(client: httpx.Client, name: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"/api/logs/{name}/what-if", json=body, timeout=60)


def test_dropping_a_submission_removes_its_job_from_what_follows(session: dict[str, Any]) -> None:
    submitted = next(e for e in session["events"] if e["value"]["$t"].endswith(":NewJob"))
    job_id = submitted["value"]["job"]["job_id"]
    answer = post(session["admin"], session["name"], {"seq": submitted["seq"], "action": "drop"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["first_difference"] == submitted["seq"]
    first = report["differences"][0]
    removed = {(s["driver"], s["recorded"]["$t"].rpartition(":")[2]) for s in first["sinks"]}
    assert ("store", "Queued") in removed and all(s["op"] == "removed" for s in first["sinks"])
    assert all(job_id not in str(c["after"]) for d in report["differences"] for c in d["state"])


def test_an_unchanged_edit_changes_nothing(session: dict[str, Any]) -> None:
    last = session["events"][-1]
    body = {"seq": last["seq"], "action": "edit", "payload": last["value"]}
    report = post(session["admin"], session["name"], body).json()
    assert report["complete"] and report["first_difference"] is None, report


def test_what_if_is_for_admins_and_bad_requests_are_named(session: dict[str, Any]) -> None:
    name, admin = session["name"], session["admin"]
    assert post(session["ada"], name, {"seq": 1, "action": "drop"}).status_code == 403
    assert post(admin, "no-such-session", {"seq": 1, "action": "drop"}).status_code == 404
    far = post(admin, name, {"seq": 10**9, "action": "drop"})
    assert far.status_code == 422 and "outside this log" in far.json()["detail"]
    bare = post(admin, name, {"seq": 1, "action": "edit"})
    assert (bare.status_code, bare.json()["field"]) == (422, "payload")
    odd = post(admin, name, {"seq": 1, "action": "toggle"})
    assert (odd.status_code, odd.json()["field"]) == (422, "action")
    wrong = post(admin, name, {"seq": 1, "action": "edit", "payload": {"no_such_field": 5}})
    assert wrong.status_code == 422 and "not a valid event" in wrong.json()["detail"]
    # A payload of the right shape but nonsense values is a finding: main fails on it.
    broken = post(admin, name, {"seq": 1, "action": "edit", "payload": {"job": 5}})
    assert broken.status_code == 200 and "#1" in broken.json()["fault"]
    spec = admin.get("/openapi.json").json()["paths"]["/api/logs/{name}/what-if"]["post"]
    assert {"200", "403", "404", "422", "429"} <= set(spec["responses"])


def rerecord(source: Path, target: Path, snapshot_every: int) -> None:
    """Replay a server log through its main into a new log with frequent snapshots."""

    async def go() -> None:
        with LogReader(source) as reader:
            drivers = replay_drivers(reader.header.drivers)
            writer = LogWriter(target, snapshot_every=snapshot_every)
            main = load_main(reader.header.main or "")
            runtime = Runtime(main, drivers, recorder=writer, main_ref=reader.header.main)
            for event in reader.events():
                drivers[event.name].subject.on_next(event.value)
            await asyncio.sleep(0)
            runtime.dispose()

    asyncio.run(go())


def test_the_server_main_resumed_from_a_snapshot_agrees_with_a_full_replay(
    session: dict[str, Any], tmp_path: Path
) -> None:
    rerecord(session["path"], tmp_path / "log", snapshot_every=2)
    log = tmp_path / "log"
    assert verify(str(log)).ok
    with LogReader(log) as reader:
        last = reader.last_seq or 0
        assert sum(1 for e in reader.entries() if e.kind == Kind.SNAPSHOT) > 3
        resume = resume_for(reader.header.main)
        payload = next(e.value for e in reader.entries(last, last, decode=False) if e.kind == 2)
    assert resume is not None
    same = what_if(log, Edit(last, "edit", payload), resume=resume)
    assert same.replayed_from > 0 and same.complete and same.first_difference is None
    for seq in (2, last // 2, last - 1):
        bounds = Bounds(max_seqs=500)
        resumed = what_if(log, Edit(seq, "drop"), resume=resume, bounds=bounds)
        full = what_if(log, Edit(seq, "drop"), bounds=bounds)
        assert full.replayed_from == 0 and full.complete and resumed.complete
        assert (resumed.differences, resumed.final_state) == (full.differences, full.final_state)
