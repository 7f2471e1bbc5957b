"""Browser client figures: bundle size, click-to-DOM latency, socket-to-preview latency.

Runs headless chromium against a real `rxgen serve` with the tiny model. Last line: one JSON
object. ``editor_fps_500`` is null here until the editor exposes a way to load a 500-node graph
(the editor's own benchmark hook); the other figures are measured.

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

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

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
                ui = ui_latency(page)
                page.locator("nav a.nav-link[href='/app/image']").click()
                previews = preview_latency(page)
                browser.close()
        finally:
            server.stop()
    print(f"ui latency: {len(ui)} clicks, median {statistics.median(ui):.1f} ms")
    print(f"preview latency: {len(previews)} previews")
    print(
        json.dumps(
            {
                "editor_fps_500": None,
                "ui_latency_p95_ms": p95(ui),
                "preview_latency_p95_ms": p95(previews),
                "bundle_kb_gz": bundle_kb_gz(),
            }
        )
    )


if __name__ == "__main__":
    main()
