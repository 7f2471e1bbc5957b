"""The browser client end to end: log in, generate with progress and a live preview, find the
result in the gallery, cancel, reload mid-job and resume, and axe on every page."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Session

pytestmark = pytest.mark.e2e
expect.set_options(timeout=20_000)


def generate(s: Session, *, size: int, steps: int, prompt: str) -> None:
    page = s.page
    page.fill("#image-prompt", prompt)
    page.fill("#image-width", str(size))
    page.fill("#image-height", str(size))
    page.fill("#image-steps", str(steps))
    page.click("button.generate")


def progress_value(s: Session, selector: str) -> int:
    value = s.page.locator(selector).first.get_attribute("aria-valuenow")
    return int(value) if value is not None else -1


def test_login_generate_and_find_it_in_the_gallery(session: Session) -> None:
    s, page = session, session.page
    s.goto("/")
    page.wait_for_url("**/app/login")
    s.axe("login page")
    s.shot("login")
    s.login()
    s.axe("image workspace")
    generate(s, size=128, steps=120, prompt="a red fox in the snow")
    panel = page.locator(".image-job")
    expect(panel.get_by_role("progressbar")).to_be_visible()
    expect(panel.locator("img.preview")).to_be_visible()
    s.shot("progress-and-preview")
    s.axe("image workspace while generating")
    expect(panel.locator(".job-status")).to_have_text("finished", timeout=60_000)
    result = panel.locator("ul.results img")
    expect(result).to_be_visible()
    assert result.evaluate("img => img.naturalWidth") == 128
    expect(page.locator(".toast.success")).to_contain_text("finished")
    s.shot("finished")

    s.nav("Gallery")
    first = page.locator("button.open-item").first
    expect(first).to_be_visible()
    s.axe("gallery")
    first.click()
    viewer = page.get_by_role("dialog")
    expect(viewer.locator("img.full")).to_be_visible()
    assert viewer.locator("img.full").evaluate("img => img.naturalWidth") == 128
    s.shot("gallery-viewer")
    s.axe("gallery with the viewer open")
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    s.assert_clean()


def test_cancel_a_running_job(session: Session) -> None:
    s, page = session, session.page
    s.login()
    generate(s, size=256, steps=500, prompt="a long one to cancel")
    panel = page.locator(".image-job")
    expect(panel.locator(".job-status")).to_contain_text("running", timeout=30_000)
    panel.get_by_role("button", name="Cancel").click()
    expect(panel.locator(".job-status")).to_have_text("cancelled", timeout=30_000)
    s.shot("cancelled")
    s.nav("Queue")
    expect(page.locator(".job-row[data-status=cancelled] .badge")).to_have_text("cancelled")
    s.axe("queue")
    s.shot("queue")
    s.assert_clean()


def test_reload_mid_job_and_progress_resumes(session: Session) -> None:
    s, page = session, session.page
    s.login()
    generate(s, size=256, steps=300, prompt="a job that outlives a reload")
    bar = ".image-job [role=progressbar][aria-valuenow]"
    page.locator(bar).wait_for()
    page.reload()
    page.locator(".connection.open").wait_for()
    s.nav("Queue")
    running = page.locator(".job-row[data-status=running]")
    expect(running).to_have_count(1, timeout=30_000)
    live = ".job-row[data-status=running] [role=progressbar][aria-valuenow]"
    page.locator(live).wait_for()
    before = progress_value(s, live)
    deadline = time.monotonic() + 30
    while progress_value(s, live) <= before and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert progress_value(s, live) > before, "progress did not move after the reload"
    expect(running.locator(".job-status")).to_have_text(re.compile(r"running: .*step \d+ of 300"))
    s.shot("resumed")
    s.axe("queue with a running job")
    running.get_by_role("button", name=re.compile("Cancel")).click()
    expect(page.locator(".job-row[data-status=running]")).to_have_count(0, timeout=30_000)
    s.assert_clean()


def test_every_other_page_passes_axe(session: Session) -> None:
    s, page = session, session.page
    s.login()
    for title in ("Video", "Admin"):
        s.nav(title)
        page.locator("main h1").first.wait_for()
        s.axe(f"{title} page")
        s.shot(title.lower())
    s.nav("Editor")
    expect(page.locator("main .editor-screen canvas.rx-editor-canvas")).to_be_visible()
    s.axe("Editor page")
    s.shot("editor")
    page.set_viewport_size({"width": 800, "height": 1000})  # tablet width
    s.nav("Image")
    page.get_by_role("radio", name="Inpaint").check()
    s.axe("image workspace, inpaint mode, tablet width")
    s.shot("tablet-inpaint")
    page.emulate_media(color_scheme="dark")
    s.axe("image workspace, dark theme")
    s.shot("dark")
    s.assert_clean()
