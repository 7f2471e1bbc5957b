"""The web debugger on a million-event log, in headless chromium: timeline frame rate while
scrolling, scrub latency, select-an-event latency, JS heap.

    .venv/bin/python bench/debugger_perf.py [--events 1000000] [--seconds 5] [--samples 20]

Builds the job-tracker log of bench/log_jump.py (``--events`` source events, each with its
state change and sink emission; the timeline lists events only by default, one row a seq),
runs ``rxgen debug LOG --port 0`` as a real process and opens /app/debugger. Then:
(a) ``timeline_fps``: requestAnimationFrame callbacks per second while one wheel event per
animation frame scrolls the timeline six rows, down for a third of the time and then up, past
the start, from the middle of the log; frames that showed fewer rows than the list holds (pages
not read yet) are counted as ``blank_frames``. (b) ``scrub``: the seq scrubber is set to
``--samples`` random seqs (its value written and an ``input`` event dispatched, which is what
the app listens to), timed until a row within ``NEAR`` seqs of the target is in the list.
(c) ``select``: a row is clicked, timed until the inspector's title names its seq and the state
tree is drawn with nothing left loading. (d) the page's JS heap after all that, from CDP
``Performance.getMetrics`` (after a forced GC, and before it). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from bench.log_jump import record, script  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

NEAR = 20  # a scrub has landed when a row this close to the target seq is listed
ROWS = ".dbg-list [data-seq]"
TIMEOUT_MS = 15_000

# One wheel event per animation frame on the list (six rows a turn: 6 * ROW_PX), down for the
# first third of `ms`, then up for the rest, past where it started (so pages are read both
# ahead and behind); counts the frames and the frames with a part-empty list.
SCROLL = """
async ({ms, rows}) => {
  const list = document.querySelector('.dbg-list');
  const box = list.getBoundingClientRect();
  const seqs = () => [...list.querySelectorAll('[data-seq]')].map((r) => Number(r.dataset.seq));
  const startSeq = seqs()[0];
  let frames = 0, blank = 0, minSeq = Infinity, maxSeq = 0;
  const intervals = [];
  const start = performance.now();
  let last = start;
  await new Promise((resolve) => {
    const frame = (now) => {
      frames += 1; intervals.push(now - last); last = now;
      const shown = seqs();
      if (shown.length < rows) blank += 1;
      if (shown.length > 0) {
        minSeq = Math.min(minSeq, shown[0]); maxSeq = Math.max(maxSeq, shown[0]);
      }
      if (now - start >= ms) { resolve(); return; }
      const down = now - start < ms / 3;
      list.dispatchEvent(new WheelEvent('wheel', {deltaY: down ? 168 : -168, deltaMode: 0,
        clientX: box.left + 20, clientY: box.top + 20, bubbles: true, cancelable: true}));
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  const elapsed = performance.now() - start;
  intervals.shift();
  intervals.sort((a, b) => a - b);
  return {fps: frames / (elapsed / 1000), frames, blank, elapsed_ms: elapsed,
          frame_p95_ms: intervals[Math.floor(intervals.length * 0.95)],
          frame_max_ms: intervals[intervals.length - 1],
          start_seq: startSeq, min_seq: minSeq, max_seq: maxSeq, end_seq: seqs()[0]};
}
"""

# Resolves with the ms from `start` until `done()` holds, checked on every DOM change and every
# animation frame; -1 after `timeout` ms.
WAIT = """
const waitFor = (done, start, timeout) => new Promise((resolve) => {
  let over = false;
  const finish = (value) => { if (!over) { over = true; obs.disconnect(); resolve(value); } };
  const check = () => { if (done()) finish(performance.now() - start); };
  const obs = new MutationObserver(check);
  obs.observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
  const tick = () => { if (over) return; check();
    if (performance.now() - start > timeout) finish(-1); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
});
"""

SCRUB = (
    "async ({seq, near, timeout}) => {"
    + WAIT
    + """
  const scrubber = document.querySelector('#dbg-scrubber');
  const landed = () => [...document.querySelectorAll('.dbg-list [data-seq]')]
    .some((r) => Math.abs(Number(r.dataset.seq) - seq) <= near);
  const start = performance.now();
  scrubber.value = String(seq);
  scrubber.dispatchEvent(new Event('input', {bubbles: true}));
  scrubber.dispatchEvent(new Event('change', {bubbles: true}));
  return await waitFor(landed, start, timeout);
}
"""
)

SELECT = (
    "async ({index, timeout}) => {"
    + WAIT
    + """
  const row = document.querySelectorAll('.dbg-list [data-seq]')[index];
  const seq = Number(row.dataset.seq);
  const title = () => document.querySelector('#dbg-inspector-title')?.textContent ?? '';
  const shown = () => {
    const inspector = document.querySelector('.dbg-inspector');
    if (!inspector || title() !== `Event #${seq}`) return false;
    const loading = [...inspector.querySelectorAll('.placeholder')]
      .some((p) => p.textContent.startsWith('Loading'));
    return !loading && inspector.querySelector('.dbg-tree .dbg-node') !== null;
  };
  const start = performance.now();
  row.click();
  return {seq, ms: await waitFor(shown, start, timeout)};
}
"""
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


def start_debugger(log: Path, errors: Path) -> tuple[subprocess.Popen[str], str, int]:
    """`rxgen debug LOG --port 0` as a real process; its URL and last seq from what it prints."""
    command = [sys.executable, "-m", "webapp.cli", "debug", str(log), "--port", "0"]
    with errors.open("w") as err:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"\((\d+) events, .* at (http://\S+?)/", line)
    if match is None:
        proc.kill()
        raise RuntimeError(
            f"rxgen debug printed no URL (got {line!r}); its stderr: {errors.read_text()}"
        )
    return proc, match.group(2), int(match.group(1))


def scroll(page: Page, seconds: float) -> dict[str, Any]:
    rows = int(page.evaluate("document.querySelectorAll('.dbg-list [data-seq]').length"))
    result: dict[str, Any] = page.evaluate(SCROLL, {"ms": seconds * 1000, "rows": rows})
    result["rows"] = rows
    return result


def scrubs(page: Page, last: int, samples: int, rng: random.Random) -> list[float]:
    times = []
    for seq in [rng.randint(1, last) for _ in range(samples)]:
        ms = float(page.evaluate(SCRUB, {"seq": seq, "near": NEAR, "timeout": TIMEOUT_MS}))
        if ms < 0:
            raise RuntimeError(f"scrubbing to seq {seq}: no row near it after {TIMEOUT_MS} ms")
        times.append(ms)
        page.wait_for_timeout(100)
    return times


def selects(page: Page, last: int, samples: int, rng: random.Random) -> list[float]:
    """Half the clicks on the rows in view, half after a scrub to a random place first."""
    times = []
    for i in range(samples):
        if i % 2 == 1:
            page.evaluate(SCRUB, {"seq": rng.randint(1, last), "near": NEAR, "timeout": TIMEOUT_MS})
            page.wait_for_timeout(100)
        got = page.evaluate(SELECT, {"index": 2 + (i * 5) % 14, "timeout": TIMEOUT_MS})
        if got["ms"] < 0:
            raise RuntimeError(f"selecting seq {got['seq']}: not shown after {TIMEOUT_MS} ms")
        times.append(float(got["ms"]))
        page.wait_for_timeout(100)
    return times


def heap(page: Page) -> dict[str, float]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def metrics() -> dict[str, float]:
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}

    before = metrics()
    cdp.send("HeapProfiler.collectGarbage")
    after = metrics()
    return {
        "heap_mb": round(after["JSHeapUsedSize"] / 2**20, 1),
        "heap_mb_before_gc": round(before["JSHeapUsedSize"] / 2**20, 1),
        "heap_total_mb": round(after["JSHeapTotalSize"] / 2**20, 1),
        "dom_nodes": int(after["Nodes"]),
    }


def browse(url: str, args: argparse.Namespace, last: int) -> dict[str, Any]:
    rng = random.Random(13)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        start = time.perf_counter()
        page.goto(url + "/app/debugger")
        page.locator(ROWS).first.wait_for(timeout=60_000)
        out: dict[str, Any] = {"open_ms": round((time.perf_counter() - start) * 1000)}
        page.wait_for_timeout(500)
        page.evaluate(SCRUB, {"seq": last // 2, "near": NEAR, "timeout": TIMEOUT_MS})
        page.wait_for_timeout(500)
        out["scroll"] = scroll(page, args.seconds)
        out["scrub"] = scrubs(page, last, args.samples, rng)
        out["select"] = selects(page, last, args.samples, rng)
        out.update(heap(page))
        page.screenshot(path=str(ROOT / "tests" / "e2e" / "screenshots" / "bench-debugger.png"))
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to scroll")
    parser.add_argument("--samples", type=int, default=20, help="scrubs, and clicks on rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rxgen-debugger-perf-") as tmp:
        log = Path(tmp) / "bench-log"
        start = time.perf_counter()
        asyncio.run(record(log, script(args.events)))
        built = round(time.perf_counter() - start, 1)
        print(f"built a log of {args.events} events in {built} s", flush=True)
        proc, url, last = start_debugger(log, Path(tmp) / "debug.err")
        try:
            got = browse(url, args, last)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    s, scrub, select = got["scroll"], got["scrub"], got["select"]
    print(f"opened the debugger, first rows in {got['open_ms']} ms")
    print(
        f"scroll: {s['frames']} frames in {s['elapsed_ms'] / 1000:.1f} s ({s['fps']:.1f} fps,"
        f" p95 interval {s['frame_p95_ms']:.1f} ms, max {s['frame_max_ms']:.1f} ms),"
        f" {s['blank']} frames with fewer than {s['rows']} rows; top seq {s['start_seq']}"
        f" -> {s['min_seq']}..{s['max_seq']} -> {s['end_seq']}"
    )
    print(
        f"scrub: {len(scrub)} jumps, p50 {statistics.median(scrub):.1f} ms,"
        f" p95 {pct(scrub, 0.95)} ms, max {max(scrub):.1f} ms"
    )
    print(
        f"select: {len(select)} clicks, p50 {statistics.median(select):.1f} ms,"
        f" p95 {pct(select, 0.95)} ms, max {max(select):.1f} ms"
    )
    print(
        f"heap: {got['heap_mb']} MB used after GC ({got['heap_mb_before_gc']} MB before),"
        f" {got['heap_total_mb']} MB allocated, {got['dom_nodes']} DOM nodes"
    )
    print(
        json.dumps(
            {
                "events": args.events,
                "build_s": built,
                "open_ms": got["open_ms"],
                "timeline_fps": round(s["fps"], 1),
                "frame_p95_ms": round(s["frame_p95_ms"], 1),
                "blank_frames": s["blank"],
                "scrub_p50_ms": round(statistics.median(scrub), 1),
                "scrub_p95_ms": pct(scrub, 0.95),
                "select_p50_ms": round(statistics.median(select), 1),
                "select_p95_ms": pct(select, 0.95),
                "heap_mb": got["heap_mb"],
                "heap_mb_before_gc": got["heap_mb_before_gc"],
            }
        )
    )


if __name__ == "__main__":
    main()
