"""Browser client figures: node editor frame rate, click-to-DOM latency, socket-to-preview
latency, bundle size.

Runs headless chromium against a real `rxgen serve` with the tiny model. ``editor_fps_500``:
a 500-node, 700-link document (bench/editor_graph.py) is opened through the editor's file
field inside the app, then panned and zoomed (from the fitted view to past 1:1 and back) with
one pointer or wheel event between every two animation frames, for a few seconds; the figure
is frames the canvas actually drew per second. Last line: one JSON object.

    .venv/bin/python bench/client_perf.py
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import FilePayload, Page, expect, sync_playwright  # noqa: E402

from bench.editor_graph import synthetic_document  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.webapp.server_process import ADMIN_PASSWORD, Server  # noqa: E402

# Stamps every socket message's arrival and every preview <img> change with performance.now().
PROBE = """
(() => {
  window.__rx = {messages: [], previews: []};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        const d = e.data;
        if (typeof d === 'string' && d.includes('JobProgress') && d.includes('previews/'))
          window.__rx.messages.push(
            {t: performance.now(), preview: JSON.parse(d).event.preview});
      });
    }
  };
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.type === 'attributes' ? r.target : null;
      const imgs = el ? [el] : [...document.querySelectorAll('img.preview')];
      for (const img of imgs) if (img.matches && img.matches('img.preview'))
        window.__rx.previews.push({t: performance.now(), src: img.getAttribute('src')});
    }
  }).observe(document,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
})();
"""

CLICK = """
async (selector) => {
  const target = document.querySelector(selector);
  const start = performance.now();
  const done = new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      obs.disconnect();
      resolve(performance.now() - start);
    });
    obs.observe(document.querySelector('#app'),
      {subtree: true, childList: true, characterData: true, attributes: true});
  });
  target.click();
  return await done;
}
"""


# Pans and zooms the editor's canvas for `ms`: 0.75 s panning (middle button held), 0.75 s
# zooming in, 0.75 s panning, 0.75 s zooming out, again. Input is dispatched between frames
# (a timeout after each animation frame), the way the browser's own input arrives; each paint
# of the canvas background is one frame drawn.
EDITOR_FPS = """
async ({ms}) => {
  const canvas = document.querySelector('canvas.rx-editor-canvas');
  const ctx = canvas.getContext('2d');
  const box = canvas.getBoundingClientRect();
  const w = Math.round(box.width), h = Math.round(box.height);
  const cx = box.left + w / 2, cy = box.top + h / 2;
  let draws = 0, tick = 0, panning = false, zMin = Infinity, zMax = 0;
  const fill = ctx.fillRect;
  ctx.fillRect = function (x, y, fw, fh) {
    if (x === 0 && y === 0 && fw === w && fh === h) draws += 1;
    return fill.call(this, x, y, fw, fh);
  };
  const pointer = (type, x, y, buttons) => canvas.dispatchEvent(new PointerEvent(type,
    {clientX: x, clientY: y, button: 1, buttons, pointerId: 1, bubbles: true}));
  const wheel = (dy) => canvas.dispatchEvent(new WheelEvent('wheel',
    {clientX: cx, clientY: cy, deltaY: dy, bubbles: true, cancelable: true}));
  const input = (elapsed) => {
    const phase = Math.floor(elapsed / 750) % 4;
    const zoom = canvas.rxFrame.viewport.zoom;
    zMin = Math.min(zMin, zoom); zMax = Math.max(zMax, zoom);
    if (phase % 2 === 0) {
      if (!panning) { pointer('pointerdown', cx, cy, 4); panning = true; }
      pointer('pointermove', cx + 120 * Math.cos(tick / 10), cy + 80 * Math.sin(tick / 10), 4);
    } else {
      if (panning) { pointer('pointerup', cx, cy, 0); panning = false; }
      wheel(phase === 1 ? -40 : 40);
    }
  };
  const intervals = [];
  const start = performance.now();
  let last = start;
  await new Promise((resolve) => {
    const frame = (now) => {
      intervals.push(now - last); last = now; tick += 1;
      if (now - start < ms) {
        setTimeout(() => input(now - start), 0);
        requestAnimationFrame(frame);
      } else {
        if (panning) pointer('pointerup', cx, cy, 0);
        resolve();
      }
    };
    requestAnimationFrame(frame);
  });
  const elapsed = performance.now() - start;
  ctx.fillRect = fill;
  intervals.shift();
  intervals.sort((a, b) => a - b);
  return {fps: draws / (elapsed / 1000), draws, frames: tick, elapsed_ms: elapsed,
          frame_p95_ms: intervals[Math.floor(intervals.length * 0.95)], zoom: [zMin, zMax]};
}
"""


def p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[18], 2) if len(values) >= 2 else float("nan")


def bundle_kb_gz() -> float:
    static = ROOT / "webapp" / "static"
    files = [*static.glob("assets/*"), static / "index.html"]
    return round(sum(len(gzip.compress(f.read_bytes(), 9)) for f in files) / 1024, 1)


def ui_latency(page: Page) -> list[float]:
    samples = []
    pages = ["Queue", "Gallery", "Video", "Image", "Admin"]
    for i in range(40):
        title = pages[i % len(pages)]
        selector = f"nav a.nav-link[href='/app/{title.lower()}']"
        samples.append(float(page.evaluate(CLICK, selector)))
        page.wait_for_timeout(30)
    return samples


def preview_latency(page: Page) -> list[float]:
    page.fill("#image-prompt", "benchmark")
    page.fill("#image-width", "128")
    page.fill("#image-height", "128")
    page.fill("#image-steps", "60")
    page.click("button.generate")
    try:
        expect(page.locator(".image-job .job-status")).to_have_text("finished", timeout=120_000)
    finally:
        page.screenshot(path=str(ROOT / "tests" / "e2e" / "screenshots" / "bench-preview.png"))
    probe: dict[str, Any] = page.evaluate("window.__rx")
    shown: dict[str, float] = {}
    for p in probe["previews"]:
        shown.setdefault(p["src"], p["t"])
    latencies = []
    for m in probe["messages"]:
        name = m["preview"].rsplit("/", 1)[-1]
        match = [t for src, t in shown.items() if src and name in src]
        if match:
            latencies.append(match[0] - m["t"])
    return latencies


def editor_fps(page: Page, seconds: float = 6.0) -> dict[str, Any]:
    """Open a 500-node, 700-link document in the editor and measure panning and zooming."""
    page.locator("nav a.nav-link[href='/app/editor']").click()
    catalog = page.evaluate("async () => (await fetch('/api/nodes')).json()")
    document, links = synthetic_document(catalog, nodes=500, links=700)
    file = FilePayload(
        name="bench-500.rxgen.json",
        mimeType="application/json",
        buffer=json.dumps(document).encode(),
    )
    page.locator("#editor-file").set_input_files(files=[file])
    expect(page.locator(".rx-ed-info")).to_contain_text(f"500 nodes, {links} links")
    page.wait_for_timeout(500)  # let the first frames of the fitted view settle
    result: dict[str, Any] = page.evaluate(EDITOR_FPS, {"ms": seconds * 1000})
    result["links"] = links
    page.screenshot(path=str(ROOT / "tests" / "e2e" / "screenshots" / "bench-editor-500.png"))
    return result


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from drivers.diffusion.tiny import ensure_tiny_sd

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = root / "models"
        models.mkdir()
        (models / "tiny").symlink_to(ensure_tiny_sd(root / "tiny-sd"), target_is_directory=True)
        server = Server(root / "data", models).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.add_init_script(PROBE)
                page.goto(server.url + "/app/login")
                page.fill("#login-name", "admin")
                page.fill("#login-password", ADMIN_PASSWORD)
                page.click("form.login button[type=submit]")
                page.locator(".connection.open").wait_for()
                editor = editor_fps(page)
                ui = ui_latency(page)
                page.locator("nav a.nav-link[href='/app/image']").click()
                previews = preview_latency(page)
                browser.close()
        finally:
            server.stop()
    print(
        f"editor: {editor['draws']} frames drawn in {editor['elapsed_ms'] / 1000:.1f} s"
        f" ({editor['frames']} animation frames, p95 interval {editor['frame_p95_ms']:.1f} ms),"
        f" zoom {editor['zoom'][0]:.2f}-{editor['zoom'][1]:.2f}, 500 nodes, {editor['links']} links"
    )
    print(f"ui latency: {len(ui)} clicks, median {statistics.median(ui):.1f} ms")
    print(f"preview latency: {len(previews)} previews")
    print(
        json.dumps(
            {
                "editor_fps_500": round(editor["fps"], 1),
                "ui_latency_p95_ms": p95(ui),
                "preview_latency_p95_ms": p95(previews),
                "bundle_kb_gz": bundle_kb_gz(),
            }
        )
    )


if __name__ == "__main__":
    main()
