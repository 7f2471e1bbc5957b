"""The node editor inside the real app, against a real `rxgen serve`: a three-node graph built
by pointer (palette, dragged wires) and by keyboard (outline view) and run, with which nodes
ran or came from cache; a ComfyUI editor workflow imported and run on the tiny model; a PNG
saved by rxgen dropped on the canvas and its workflow restored; the gallery's "open the
workflow" and presets kept across a reload; a workflow saved to the server, changed there (the
page offers to reload it), saved again from a stale revision (the conflict dialog) and deleted
there; axe over the editor's own markup."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Session
from tests.webapp.server_process import ROOT

pytestmark = pytest.mark.e2e
expect.set_options(timeout=20_000)

CANVAS = "canvas.rx-editor-canvas"
RUN_TEXT = ".rx-ed-run-text"
FIXTURES = ROOT / "tests" / "components" / "workflow" / "fixtures"
# Enough sampler steps on the tiny model (a few seconds) to see the node's progress move.
SAMPLER_STEPS = 60

# The canvas's read-only `rxFrame` (the frame drawn last): where each node and socket is.
FRAME = """sel => {
  const f = document.querySelector(sel).rxFrame;
  const s = (k) => ({name: k.name, slot: k.slot, x: k.x, y: k.y});
  return {viewport: f.viewport, nodes: f.scene.nodes.map(n => ({id: n.id, title: n.title,
    x: n.x, y: n.y, w: n.w, status: n.status,
    inputs: n.inputs.map(s), outputs: n.outputs.map(s)}))};
}"""

# Distinct colours among a grid of the canvas's pixels: a blank canvas has one or two.
CANVAS_COLOURS = """sel => {
  const c = document.querySelector(sel);
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < data.length; i += 4 * 7)
    seen.add(data[i] << 16 | data[i + 1] << 8 | data[i + 2]);
  return seen.size;
}"""


def open_editor(s: Session) -> Page:
    s.login()
    s.nav("Editor")
    page = s.page
    expect(page.locator(CANVAS)).to_be_visible()
    return page


def wait_catalog(page: Page) -> None:
    """Open the outline view and wait for the node catalog (its list of types) to be there."""
    page.get_by_role("button", name="Show the outline view").click()
    expect(page.locator("#rx-ed-add-type option[value=SaveImage]")).to_have_count(1)


def canvas_frame(page: Page) -> dict[str, Any]:
    frame: dict[str, Any] = page.evaluate(FRAME, CANVAS)
    return frame


def socket_on_page(page: Page, node_title: str, side: str, name: str) -> tuple[float, float]:
    """Page coordinates of a node's input (by name) or output (by name) socket."""
    frame = canvas_frame(page)
    box = page.locator(CANVAS).bounding_box()
    assert box is not None
    node = next(n for n in frame["nodes"] if n["title"] == node_title)
    socket = next(k for k in node[side] if k["name"] == name)
    v = frame["viewport"]
    zoom = v["zoom"]
    return box["x"] + (socket["x"] - v["x"]) * zoom, box["y"] + (socket["y"] - v["y"]) * zoom


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def add_by_palette(page: Page, at: tuple[float, float], query: str, name: str) -> None:
    """Double-click empty canvas at `at` (relative to the canvas), pick `name` in the palette."""
    box = page.locator(CANVAS).bounding_box()
    assert box is not None
    page.mouse.dblclick(box["x"] + at[0], box["y"] + at[1])
    palette = page.get_by_role("dialog", name="Add a node")
    palette.get_by_label("Search node types").fill(query)
    palette.get_by_role("button", name=re.compile(f"^Add {name} ")).click()
    expect(palette).to_be_hidden()


def expect_counts(page: Page, nodes: int, links: int) -> None:
    expect(page.locator(CANVAS)).to_have_attribute(
        "aria-label", re.compile(f": {nodes} nodes, {links} links,")
    )


def outline_statuses(page: Page) -> list[str]:
    buttons = page.locator(".rx-ed-outline-nodes > li > button.rx-act")
    return [re.sub(r"^.*?#\d+ ?", "", t) for t in buttons.all_inner_texts()]


def run_to_the_end(page: Page, how: str = "click") -> None:
    run = page.get_by_role("button", name="Run the workflow")
    if how == "keyboard":
        run.focus()
        page.keyboard.press("Enter")
    else:
        run.click()
    expect(page.locator(RUN_TEXT)).to_contain_text("finished", timeout=90_000)


def test_build_by_pointer_and_run(session: Session) -> None:
    s = session
    page = open_editor(s)
    wait_catalog(page)
    page.get_by_role("button", name="Show the outline view").click()  # back to canvas only
    page.get_by_role("button", name="Add node (Space)").click()
    page.get_by_label("Search node types").fill("image")
    s.axe("editor with the palette open")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Add a node")).to_be_hidden()
    add_by_palette(page, (90, 140), "EmptyImage", "EmptyImage")
    add_by_palette(page, (360, 140), "invert", "Invert Image")
    add_by_palette(page, (630, 140), "save image", "Save Image")
    expect_counts(page, 3, 0)
    drag(
        page,
        socket_on_page(page, "EmptyImage", "outputs", "IMAGE"),
        socket_on_page(page, "Invert Image", "inputs", "image"),
    )
    drag(
        page,
        socket_on_page(page, "Invert Image", "outputs", "IMAGE"),
        socket_on_page(page, "Save Image", "inputs", "images"),
    )
    expect_counts(page, 3, 2)
    # A wire the types forbid is refused with the reason.
    drag(
        page,
        socket_on_page(page, "EmptyImage", "outputs", "IMAGE"),
        socket_on_page(page, "EmptyImage", "inputs", "width"),
    )
    expect(page.get_by_role("alert")).to_contain_text("Connection refused")
    expect_counts(page, 3, 2)
    page.get_by_role("button", name="Dismiss the message").click()
    # The canvas really draws inside the shell: nodes, wires and text give many colours.
    assert page.evaluate(CANVAS_COLOURS, CANVAS) > 20
    s.shot("graph")

    run_to_the_end(page)
    expect(page.locator(RUN_TEXT)).to_contain_text("3 of 3 nodes done")
    assert {n["status"] for n in canvas_frame(page)["nodes"]} == {"ran"}
    page.get_by_role("button", name="Show the outline view").click()
    assert outline_statuses(page) == ["(ran)"] * 3
    s.shot("ran")
    # Change only the save node's prefix: the server takes the inverted image from its cache
    # (and so never needs the empty image) and runs the save node alone. The job is short enough
    # to end before the POST answers, which the editor must not miss.
    page.locator("#rx-ed-p-3-filename_prefix-value").fill("again")
    page.locator("#rx-ed-p-3-filename_prefix-value").press("Tab")
    run_to_the_end(page)
    expect(page.locator(RUN_TEXT)).to_contain_text("1 from cache")
    assert outline_statuses(page) == ["", "(from cache)", "(ran)"]
    statuses = {n["id"]: n["status"] for n in canvas_frame(page)["nodes"]}
    assert statuses == {"1": "idle", "2": "cached", "3": "ran"}
    s.shot("cached")
    s.axe("editor page with a graph, the outline and a finished run")
    s.assert_clean()


def test_build_by_keyboard_and_run_then_keep_it_as_a_preset(session: Session) -> None:
    s = session
    page = open_editor(s)
    outline_toggle = page.get_by_role("button", name="Show the outline view")
    outline_toggle.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#rx-ed-add-type option[value=SaveImage]")).to_have_count(1)
    for node_type in ("EmptyImage", "ImageInvert", "SaveImage"):
        page.locator("#rx-ed-add-type").focus()
        page.locator("#rx-ed-add-type").select_option(node_type)
        page.locator(".rx-ed-add-button").focus()
        page.keyboard.press("Enter")
    expect_counts(page, 3, 0)
    # The last node added is selected; its form links its input from another node's output.
    page.locator("#rx-ed-o-3-images-link").select_option("2:0")
    page.get_by_role("button", name="Select Invert Image #2", exact=True).focus()
    page.keyboard.press("Enter")
    page.locator("#rx-ed-o-2-image-link").select_option("1:0")
    page.get_by_role("button", name="Select EmptyImage #1", exact=True).focus()
    page.keyboard.press("Enter")
    for name, value in (("width", "24"), ("height", "12")):
        page.locator(f"#rx-ed-o-1-{name}-value").focus()
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    expect_counts(page, 3, 2)
    expect(page.locator(".rx-ed-outline-links")).to_contain_text(
        "EmptyImage #1 · IMAGE → Invert Image #2 · image"
    )
    s.axe("editor outline with a node form open")
    run_to_the_end(page, how="keyboard")
    assert outline_statuses(page)[0] == "(ran)"
    s.shot("ran")

    page.get_by_label("Preset name").fill("invert and save")
    page.get_by_role("button", name="Save whole workflow").click()
    presets = page.locator(".rx-ed-presets")
    expect(presets).to_contain_text("invert and save (3 nodes)")
    page.reload()
    page.locator(".connection.open").wait_for()
    expect(page.locator(".rx-ed-presets")).to_contain_text("invert and save (3 nodes)")
    page.get_by_role("button", name="Insert preset invert and save").click()
    expect_counts(page, 3, 2)
    s.assert_clean()


def adapted_comfy_workflow() -> dict[str, Any]:
    """The ComfyUI editor fixture, made to fit the e2e server's tiny model and to be quick."""
    workflow: dict[str, Any] = json.loads((FIXTURES / "txt2img_editor.json").read_text())
    for node in workflow["nodes"]:
        if node["type"] == "CheckpointLoaderSimple":
            node["widgets_values"] = ["tiny"]
        elif node["type"] == "EmptyLatentImage":
            node["widgets_values"] = [64, 64, 1]
        elif node["type"] == "KSampler":
            node["widgets_values"] = [1234, "fixed", SAMPLER_STEPS, 7.5, "euler", "normal", 1]
    return workflow


def test_import_a_comfyui_editor_workflow_and_run_it(session: Session, tmp_path: Path) -> None:
    s = session
    page = open_editor(s)
    path = tmp_path / "txt2img_tiny.json"
    path.write_text(json.dumps(adapted_comfy_workflow()))
    page.get_by_label("Open a workflow (JSON or PNG)").set_input_files(path)
    expect(page.locator(".rx-ed-info")).to_have_text(
        "Opened txt2img_tiny.json (ComfyUI workflow): 7 nodes, 9 links."
    )
    expect_counts(page, 7, 9)
    s.shot("imported")
    page.get_by_role("button", name="Run the workflow").click()
    progress = page.get_by_role("progressbar", name="Progress of node #3")
    expect(progress).to_have_attribute("aria-valuenow", re.compile(r"^([1-9]|[1-9]\d)$"))
    s.shot("sampling")
    expect(page.locator(RUN_TEXT)).to_contain_text("finished", timeout=90_000)
    expect(page.locator(RUN_TEXT)).to_contain_text("7 of 7 nodes done")
    statuses = {n["title"]: n["status"] for n in canvas_frame(page)["nodes"]}
    # The model loader may come from the cache (other tests load the same tiny model).
    assert set(statuses.values()) <= {"ran", "cached"}, statuses
    assert statuses["KSampler"] == statuses["VAE Decode"] == statuses["Save Image"] == "ran"
    s.shot("ran")
    s.assert_clean()


def saved_png(s: Session, color: int) -> bytes:
    """A PNG that rxgen saved for a light job, fetched the way a user downloads it."""
    client = s.server.login()
    prompt = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 16, "height": 16, "batch_size": 1, "color": color},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "drop"}},
    }
    job = client.post("/api/jobs", json={"workflow": prompt, "priority": 0})
    job.raise_for_status()
    job_id = job.json()["id"]
    deadline = time.monotonic() + 60
    while (state := client.get(f"/api/jobs/{job_id}").json())["status"] != "finished":
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {state}"
        time.sleep(0.2)
    image = state["outputs"]["3"]["images"][0]
    answer = client.get("/view", params=image)
    answer.raise_for_status()
    return answer.content


def drop_file(page: Page, name: str, mime: str, content: bytes) -> None:
    transfer = page.evaluate_handle(
        """([name, mime, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: mime}));
            return transfer;
        }""",
        [name, mime, base64.b64encode(content).decode()],
    )
    page.dispatch_event(CANVAS, "dragover", {"dataTransfer": transfer})
    expect(page.locator(".editor-screen")).to_have_class(re.compile(r"\bdropping\b"))
    page.dispatch_event(CANVAS, "drop", {"dataTransfer": transfer})
    expect(page.locator(".editor-screen")).not_to_have_class(re.compile(r"\bdropping\b"))


def test_drop_a_saved_png_and_open_a_gallery_workflow(session: Session) -> None:
    s = session
    page = open_editor(s)
    png = saved_png(s, color=0x123456)
    drop_file(page, "rxgen_output.png", "image/png", png)
    expect(page.locator(".rx-ed-info")).to_contain_text("Opened rxgen_output.png")
    expect_counts(page, 3, 2)
    wait_catalog(page)
    page.get_by_role("button", name="Select EmptyImage #1", exact=True).click()
    expect(page.locator("#rx-ed-o-1-color-value")).to_have_value(str(0x123456))
    s.shot("dropped-png")

    # A file that is no workflow is refused with the reason, and the graph stays.
    drop_file(page, "notes.txt", "text/plain", b"just some notes")
    expect(page.get_by_role("alert")).to_contain_text("Could not import notes.txt")
    expect_counts(page, 3, 2)

    s.nav("Gallery")
    page.locator("button.open-item").first.click()
    page.get_by_role("button", name="Open the workflow in the editor").click()
    page.wait_for_url("**/app/editor")
    expect(page.locator(".rx-ed-info")).to_contain_text("Opened the workflow of job")
    expect_counts(page, 3, 2)
    s.shot("from-gallery")
    s.assert_clean()


def test_admin_lists_users_and_tokens(session: Session) -> None:
    s, page = session, session.page
    client = s.server.login()
    made = client.post("/api/tokens", json={"name": "e2e-listed", "scopes": ["read"]})
    made.raise_for_status()
    s.login()
    s.nav("Admin")
    users = page.get_by_role("table").first
    expect(users.get_by_role("rowheader", name="admin", exact=True)).to_be_visible()
    tokens = page.locator("table.admin-table").nth(1)
    row = tokens.get_by_role("row").filter(has_text="e2e-listed")
    expect(row).to_contain_text("read")
    assert made.json()["token"] not in page.content()  # the list never carries secrets
    row.get_by_role("button", name="Revoke token e2e-listed").click()
    expect(tokens.get_by_role("row").filter(has_text="e2e-listed")).to_have_count(0)
    revoked = httpx.get(
        f"{s.server.url}/api/jobs", headers={"Authorization": f"Bearer {made.json()['token']}"}
    )
    assert revoked.status_code == 401
    s.axe("admin page with the lists")
    s.shot("lists")
    s.assert_clean()


def saved_workflow(client: httpx.Client, name: str) -> dict[str, Any]:
    listed = client.get("/api/workflows")
    listed.raise_for_status()
    item = next(w for w in listed.json()["items"] if w["name"] == name)
    got = client.get(f"/api/workflows/{item['id']}")
    got.raise_for_status()
    workflow: dict[str, Any] = got.json()
    return workflow


def put_workflow(client: httpx.Client, workflow: dict[str, Any]) -> dict[str, Any]:
    body = {k: workflow[k] for k in ("name", "document", "revision")}
    answer = client.put(f"/api/workflows/{workflow['id']}", json=body)
    answer.raise_for_status()
    saved: dict[str, Any] = answer.json()
    return saved


def test_save_to_the_server_follow_changes_and_resolve_a_stale_save(session: Session) -> None:
    s = session
    page = open_editor(s)
    wait_catalog(page)
    page.locator("#rx-ed-add-type").select_option("EmptyImage")
    page.locator(".rx-ed-add-button").click()
    expect_counts(page, 1, 0)
    header = page.locator(".rx-ed-file-name")
    expect(header).to_have_text(re.compile(r"Untitled workflow.*unsaved changes"))

    # The first save asks for a name, in a dialog that takes the focus.
    page.get_by_role("button", name="Save to the server").click()
    dialog = page.get_by_role("dialog", name="Save the workflow as")
    expect(dialog.get_by_label("Workflow name")).to_be_focused()
    s.axe("editor with the save dialog open")
    page.keyboard.type("e2e saved")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator(".rx-ed-info")).to_have_text("Saved “e2e saved” (revision 1).")
    expect(header).to_have_text("Workflow: e2e saved")

    # Someone else saves a newer revision (here: the REST API): the page offers to reload it.
    client = s.server.login()
    theirs = saved_workflow(client, "e2e saved")
    assert theirs["revision"] == 1
    assert theirs["document"]["format"] == "rxgen.workflow"
    theirs["document"]["graph"]["2"] = {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}}
    theirs = put_workflow(client, theirs)
    notice = page.locator(".rx-ed-notice")
    expect(notice).to_contain_text("“e2e saved” was saved elsewhere (revision 2).")
    s.axe("editor with the newer-revision notice")
    notice.get_by_role("button", name="Reload").click()
    expect(page.locator(".rx-ed-info")).to_have_text("Opened “e2e saved” (revision 2).")
    expect_counts(page, 2, 1)
    expect(notice).to_be_empty()

    # Local edits, then another save elsewhere: saving here is refused and nothing is lost.
    page.locator("#rx-ed-add-type").select_option("SaveImage")
    page.locator(".rx-ed-add-button").click()
    expect_counts(page, 3, 1)
    put_workflow(client, theirs)
    expect(notice).to_contain_text("(revision 3)")
    page.get_by_role("button", name="Save “e2e saved”").click()
    conflict = page.get_by_role("alertdialog", name="Saved elsewhere in the meantime")
    expect(conflict).to_contain_text("the server has revision 3")
    expect(conflict.get_by_role("button", name="Overwrite with mine")).to_be_focused()
    expect_counts(page, 3, 1)
    s.axe("editor with the conflict dialog open")
    s.shot("conflict")
    # The 409 is the answer this step is about, not a failure.
    s.problems = [p for p in s.problems if not p.startswith("HTTP 409 from PUT /api/workflows/")]
    conflict.get_by_role("button", name="Overwrite with mine").click()
    expect(page.locator(".rx-ed-info")).to_have_text("Saved “e2e saved” (revision 4).")
    stored = saved_workflow(client, "e2e saved")
    assert stored["revision"] == 4
    assert sorted(n["class_type"] for n in stored["document"]["graph"].values()) == [
        "EmptyImage",
        "ImageInvert",
        "SaveImage",
    ]
    expect(notice).to_be_empty()

    # The list of saved workflows, by keyboard; deleted elsewhere, the editor says so.
    page.get_by_role("button", name="Open… a saved workflow").focus()
    page.keyboard.press("Enter")
    opener = page.get_by_role("dialog", name="Open a saved workflow")
    expect(opener.get_by_role("button", name="Open e2e saved")).to_be_visible()
    expect(opener.get_by_role("button", name="Delete workflow e2e saved")).to_be_visible()
    s.axe("editor with the open dialog")
    page.keyboard.press("Escape")
    expect(opener).to_be_hidden()
    expect(page.get_by_role("button", name="Open… a saved workflow")).to_be_focused()
    client.delete(f"/api/workflows/{stored['id']}").raise_for_status()
    expect(notice).to_contain_text("“e2e saved” was deleted elsewhere")
    s.assert_clean()
