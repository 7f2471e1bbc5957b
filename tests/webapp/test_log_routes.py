"""The debugger's read access to a live server's session log: pages of records, states and
diffs; a user sees only their own jobs, an admin everything and may run verify."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.webapp.server_process import Server
from tests.webapp.test_server import light_prompt


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("logs")
    running = Server(root / "data", root / "models").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def clients(server: Server) -> dict[str, httpx.Client]:
    admin = server.login()
    for name in ("ada", "eve"):
        made = admin.post("/api/users", json={"name": name, "password": f"{name}-password-1"})
        assert made.status_code == 201, made.text
    return {
        "admin": admin,
        "ada": server.token_client(server.login("ada", "ada-password-1")),
        "eve": server.token_client(server.login("eve", "eve-password-1")),
    }


def finished(client: httpx.Client, prefix: str) -> str:
    job_id: str = client.post("/api/jobs", json={"workflow": light_prompt(prefix)}).json()["id"]
    deadline = time.monotonic() + 60
    while client.get(f"/api/jobs/{job_id}").json()["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return job_id


def all_records(client: httpx.Client, session: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 50, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/api/logs/{session}/records", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        out.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return out


def test_users_read_their_own_jobs_in_the_log_and_admins_read_all(
    clients: dict[str, httpx.Client],
) -> None:
    ada_job = finished(clients["ada"], "ada")
    eve_job = finished(clients["eve"], "eve")
    listing = clients["ada"].get("/api/logs").json()
    session = listing["live"]
    assert listing["read_only"] is False
    assert session and any(s["name"] == session and s["events"] > 0 for s in listing["items"])

    ada_sees = all_records(clients["ada"], session)
    text = json.dumps(ada_sees)
    assert ada_job in text and eve_job not in text
    assert all(set(r["jobs"]) <= {ada_job} for r in ada_sees)
    admin_sees = json.dumps(all_records(clients["admin"], session, kind="event"))
    assert ada_job in admin_sees and eve_job in admin_sees
    only_eve = all_records(clients["admin"], session, job=eve_job)
    assert only_eve and all(eve_job in r["jobs"] for r in only_eve)

    last = max(r["seq"] for r in ada_sees)
    ada_state = clients["ada"].get(f"/api/logs/{session}/state", params={"at": last})
    assert ada_state.status_code == 200, ada_state.text
    assert eve_job not in ada_state.text
    admin_state = clients["admin"].get(f"/api/logs/{session}/state", params={"at": last})
    assert "queue" in admin_state.json()["state"]["core"]
    at_queue = {"at": last, "path": "/core/queue"}
    queue = clients["admin"].get(f"/api/logs/{session}/state", params=at_queue).json()
    assert queue["path"] == "/core/queue" and "lanes" in queue["state"]
    ada_queue = clients["ada"].get(f"/api/logs/{session}/state", params=at_queue).json()
    assert "served" not in ada_queue["state"] and "served" in queue["state"]

    first = min(r["seq"] for r in ada_sees)
    diff = clients["ada"].get(f"/api/logs/{session}/diff", params={"a": first, "b": last})
    assert diff.status_code == 200 and diff.json()["changes"]
    assert eve_job not in diff.text


def test_verify_is_for_admins_and_passes_on_the_live_log(
    clients: dict[str, httpx.Client],
) -> None:
    session = clients["admin"].get("/api/logs").json()["live"]
    assert clients["ada"].post(f"/api/logs/{session}/verify").status_code == 403
    verdict = clients["admin"].post(f"/api/logs/{session}/verify", timeout=120)
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["ok"] is True, verdict.json()["divergence"]


def test_bad_log_requests_are_named(clients: dict[str, httpx.Client]) -> None:
    ada = clients["ada"]
    assert ada.get("/api/logs/../../etc/records").status_code == 404
    assert ada.get("/api/logs/no-such-session/records").status_code == 404
    session = ada.get("/api/logs").json()["live"]
    bad = ada.get(f"/api/logs/{session}/records", params={"kind": "nonsense"})
    assert (bad.status_code, bad.json()["field"]) == (422, "kind")
    far = ada.get(f"/api/logs/{session}/state", params={"at": 10**12})
    assert far.status_code == 422
    missing = ada.get(f"/api/logs/{session}/state", params={"at": 1, "path": "/nope/deeper"})
    assert missing.status_code == 422


def test_admins_export_a_session_and_import_it_elsewhere(
    clients: dict[str, httpx.Client], tmp_path_factory: pytest.TempPathFactory
) -> None:
    session = clients["admin"].get("/api/logs").json()["live"]
    assert clients["ada"].get(f"/api/logs/{session}/export").status_code == 403
    bundle = clients["admin"].get(f"/api/logs/{session}/export", timeout=60)
    assert bundle.status_code == 200, bundle.text
    assert bundle.headers["content-type"] == "application/zip"
    root = tmp_path_factory.mktemp("other")
    other = Server(root / "data", root / "models").start()
    try:
        admin = other.login()
        files = {"file": ("s.rxlog", bundle.content, "application/zip")}
        done = admin.post("/api/logs/import", files=files)
        assert done.status_code == 201, done.text
        name = done.json()["name"]
        assert name in {s["name"] for s in admin.get("/api/logs").json()["items"]}
        mine = all_records(clients["admin"], session, end=20)
        theirs = all_records(admin, name, end=20)
        assert [r["seq"] for r in theirs] == [r["seq"] for r in mine]
        verdict = admin.post(f"/api/logs/{name}/verify", timeout=120).json()
        assert verdict["ok"] is True, verdict
        junk = {"file": ("x.rxlog", b"not a zip", "application/zip")}
        refused = admin.post("/api/logs/import", files=junk)
        assert (refused.status_code, refused.json()["field"]) == (422, "file")
    finally:
        other.stop()
