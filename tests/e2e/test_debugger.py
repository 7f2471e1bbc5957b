"""The web debugger end to end: a server that ran two light jobs, opened in the Debugger tab as
admin; select an event, see its state tree, diff and output thumbnail, step with the keyboard,
jump to a seq and to a job's start, drop an event in a what-if, scrub, filter, follow the live
session and pause, run verify; axe at each stage. And `rxgen debug LOGFILE` on a recorded log:
the client knows it runs there (only the debugger, the log named instead of "offline")."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Session
from tests.webapp.server_process import ROOT, Server
from tests.webapp.test_debug_cli import Debugger, make_log
from tests.webapp.test_server import light_prompt

pytestmark = pytest.mark.e2e
expect.set_options(timeout=20_000)


def run_jobs(server: Server, count: int) -> tuple[httpx.Client, list[str]]:
    admin = server.login()
    ids = []
    for i in range(count):
        made = admin.post("/api/jobs", json={"workflow": light_prompt(f"dbg{i}")})
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    deadline = time.monotonic() + 30
    for job in ids:
        while (status := admin.get(f"/api/jobs/{job}").json()["status"]) != "finished":
            assert status in ("queued", "running"), f"job {job} ended {status}"
            assert time.monotonic() < deadline, f"job {job} still {status} after 30 s"
            time.sleep(0.1)
    return admin, ids


def events_of(admin: httpx.Client, job: str) -> tuple[str, list[dict[str, Any]]]:
    live = admin.get("/api/logs").json()["live"]
    assert live is not None, "the server records no session"
    page = admin.get(f"/api/logs/{live}/records", params={"kind": "event", "job": job}).json()
    return live, page["items"]


def selected_seq(s: Session) -> int:
    title = s.page.locator("#dbg-inspector-title").inner_text()
    assert title.startswith("Event #"), title
    return int(title.removeprefix("Event #"))


def test_debugger_select_step_jump_verify(session: Session) -> None:
    s, page = session, session.page
    admin, (first_job, second_job) = run_jobs(s.server, 2)
    live, events = events_of(admin, second_job)
    saved = [e for e in events if e["value"].get("ui", {}).get("images")]
    assert saved, f"no event of job {second_job} names its saved image: {events}"
    image_seq = saved[0]["seq"]

    s.login()
    s.nav("Debugger")
    expect(page.locator("#dbg-session")).to_have_value(live)
    rows = page.locator(".dbg-list [role=option]")
    expect(rows.first).to_be_visible()
    s.axe("debugger, nothing selected")
    s.shot("timeline")

    # Select an event with the pointer: its payload, what it caused, the diff, the state tree.
    rows.nth(1).click()
    first_seq = selected_seq(s)
    inspector = page.locator(".dbg-inspector")
    expect(inspector.locator(".dbg-json").first).to_be_visible()
    expect(inspector.locator(".dbg-caused li").first).to_be_visible()
    expect(inspector.locator(".dbg-diff li").first).to_be_visible()
    expect(inspector.locator(".dbg-tree .dbg-node").first).to_be_visible()
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    # The diff is highlighted in the tree: the way to each change is open and marked.
    expect(inspector.locator(".dbg-node.mark-added, .dbg-node.mark-changed").first).to_be_visible()
    s.axe("debugger, an event selected")
    s.shot("selected")

    # Collapse and reopen a tree node by keyboard.
    toggle = inspector.locator(".dbg-toggle").first
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")

    # Step with the keyboard on the timeline, and with the buttons.
    page.locator(".dbg-list").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#dbg-inspector-title")).to_have_text(f"Event #{first_seq + 1}")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#dbg-inspector-title")).to_have_text(f"Event #{first_seq + 1}")
    page.get_by_role("button", name="Step back").click()
    expect(page.locator("#dbg-inspector-title")).to_have_text(f"Event #{first_seq}")

    # Jump to the seq where the second job saved its image: its thumbnail is shown.
    page.fill("#dbg-jump-seq", str(image_seq))
    page.keyboard.press("Enter")
    expect(page.locator("#dbg-inspector-title")).to_have_text(f"Event #{image_seq}")
    thumb = inspector.locator(".dbg-files img")
    expect(thumb).to_be_visible()
    page.wait_for_function("() => document.querySelector('.dbg-files img')?.naturalWidth > 0")
    assert thumb.evaluate("img => img.naturalWidth") == 32
    expect(page.locator(f"#dbg-r-{image_seq}-0")).to_have_attribute("aria-selected", "true")
    s.shot("jumped-to-output")

    # What if that event had not happened: replayed in a sandbox, the job never finishes.
    inspector.get_by_role("button", name="What if it had not happened").click()
    report = inspector.locator(".dbg-report")
    expect(report).to_contain_text(f"First difference at seq {image_seq}", timeout=40_000)
    expect(report.locator(".dbg-differences li.removed").first).to_be_visible()
    s.axe("debugger with a what-if report")
    s.shot("what-if")

    # Jump to the start of the first job: its intake event.
    page.fill("#dbg-job-id", first_job)
    page.get_by_role("button", name="Go to its start").click()
    _, first_events = events_of(admin, first_job)
    expect(page.locator("#dbg-inspector-title")).to_have_text(f"Event #{first_events[0]['seq']}")
    expect(inspector.locator(".dbg-event strong").first).to_contain_text("intake")

    # Scrub to the end with the keyboard: the last rows come into view.
    page.locator("#dbg-scrubber").focus()
    page.keyboard.press("End")
    last = admin.get("/api/logs").json()["items"]
    last_seq = next(x["last_seq"] for x in last if x["name"] == live)
    expect(page.locator(f".dbg-list [data-seq='{last_seq}']").first).to_be_visible()

    # Filter to one driver: only its events are listed.
    page.fill("#dbg-f-driver", "intake")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(2)
    for label in rows.locator(".dbg-label").all_inner_texts():
        assert label.startswith("intake"), label
    page.get_by_role("button", name="Clear filters").click()
    expect(rows.nth(2)).to_be_visible()

    # Follow the live session: a job run now shows up at the end of the timeline; then pause.
    follow = page.locator(".dbg-follow")
    follow.click()
    expect(follow).to_have_attribute("aria-pressed", "true")
    _, (third_job,) = run_jobs(s.server, 1)
    expect(page.locator(".dbg-list .dbg-job", has_text=third_job[:8]).first).to_be_visible()
    follow.click()
    expect(follow).to_have_attribute("aria-pressed", "false")

    # Verify the recording from the page.
    page.get_by_role("button", name="Verify replay").click()
    verdict = page.locator(".dbg-verdict")
    expect(verdict).to_contain_text("Verified: the replay matches the recording", timeout=40_000)
    s.axe("debugger with the verdict")
    s.shot("verified")
    s.assert_clean()


def test_debugger_exports_and_imports_a_session(session: Session, tmp_path: Path) -> None:
    s, page = session, session.page
    run_jobs(s.server, 1)
    s.login()
    s.goto("/app/debugger")
    expect(page.locator(".dbg-list [data-seq]").first).to_be_visible()

    with page.expect_download() as started:
        page.get_by_role("link", name="Export session").click()
    bundle = Path(started.value.path())
    assert zipfile.is_zipfile(bundle) and "manifest.json" in zipfile.ZipFile(bundle).namelist()

    # A session recorded elsewhere (the embedded counter example), bundled by the CLI.
    log = tmp_path / "counter-log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ran = subprocess.run(
        [sys.executable, "examples/embed_counter.py", str(log)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    other = tmp_path / "counter.rxlog"
    exported = subprocess.run(
        [sys.executable, "-m", "webapp.cli", "log", "export", str(log), str(other)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr

    page.set_input_files(".dbg-import", str(other))
    expect(page.locator(".dbg-import-note")).to_contain_text("Imported session counter-log")
    expect(page.locator("#dbg-session")).to_have_value("counter-log")
    expect(page.locator(".dbg-list [data-seq]").first).to_be_visible()
    s.axe("debugger after an import")
    s.shot("imported")
    s.assert_clean()


def test_rxgen_debug_opens_on_the_debugger_alone(browser: Browser, tmp_path: Path) -> None:
    # make_log runs its own event loop; sync Playwright's already runs in this thread.
    with ThreadPoolExecutor(1) as pool:
        log = pool.submit(make_log, tmp_path / "20260101-000000").result(timeout=60)
    debugger = Debugger(log)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        s = Session(page, debugger, "rxgen-debug")
        s.goto("/")
        page.wait_for_url("**/app/debugger")
        expect(page.locator("#dbg-session")).to_have_value(log.name)
        expect(page.locator(".dbg-list [role=option]").first).to_be_visible()
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link")).to_have_count(1)
        expect(nav.get_by_role("link", name="Debugger")).to_have_attribute("aria-current", "page")
        status = page.locator(".connection")
        expect(status).to_have_text(f"log file {log.name} (read-only)")
        expect(page.locator("header")).not_to_contain_text("offline")
        expect(page.get_by_role("button", name="Log out")).to_have_count(0)
        # No export or import of sessions here: the log is only read.
        expect(page.get_by_role("link", name="Export session")).to_have_count(0)

        # Any other page of the client shows the debugger instead.
        s.goto("/app/editor")
        page.wait_for_url("**/app/debugger")
        expect(page.locator(".dbg-list [role=option]").first).to_be_visible()
        rows = page.locator(".dbg-list [role=option]")
        rows.nth(1).click()
        expect(page.locator(".dbg-inspector .dbg-tree .dbg-node").first).to_be_visible()
        s.axe("rxgen debug, an event selected")
        s.shot("rxgen-debug")
        assert sockets == [], f"the client opened a socket under rxgen debug: {sockets}"
        s.assert_clean()
    finally:
        context.close()
        debugger.stop()


def test_a_user_sees_only_their_own_events_and_no_admin_tools(session: Session) -> None:
    s, page = session, session.page
    admin = s.server.login()
    made = admin.post("/api/users", json={"name": "dora-dbg", "password": "dora-password-1"})
    assert made.status_code == 201, made.text
    dora = s.server.login("dora-dbg", "dora-password-1")
    mine = dora.post("/api/jobs", json={"workflow": light_prompt("dora")}).json()["id"]
    _, (theirs,) = run_jobs(s.server, 1)
    deadline = time.monotonic() + 30
    while dora.get(f"/api/jobs/{mine}").json()["status"] != "finished":
        assert time.monotonic() < deadline, "dora's job did not finish"
        time.sleep(0.1)

    s.login("dora-dbg", "dora-password-1")
    s.nav("Debugger")
    rows = page.locator(".dbg-list [role=option]")
    expect(rows.first).to_be_visible()
    jobs = page.locator(".dbg-list .dbg-job[title]")
    expect(jobs.first).to_be_visible()
    titles = set(jobs.evaluate_all("spans => spans.map(s => s.title)"))
    assert titles == {mine}, f"dora's timeline names jobs {titles}; hers is {mine}, not {theirs}"
    # Replaying every user's events is for admins: no verify, no what-if, no export or import.
    expect(page.get_by_role("button", name="Verify replay")).to_have_count(0)
    expect(page.get_by_role("link", name="Export session")).to_have_count(0)
    rows.nth(1).click()
    expect(page.locator(".dbg-inspector .dbg-tree .dbg-node").first).to_be_visible()
    expect(page.get_by_role("button", name="What if it had not happened")).to_have_count(0)
    s.axe("debugger as a user")
    s.shot("as-user")
    s.assert_clean()
