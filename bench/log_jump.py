"""Time travel on a big log: jump to random states, bytes per event, verify, export, import.

    python bench/log_jump.py [--events 1000000] [--jumps 200] [--verify-events N]

Builds a session log of ``--events`` source events through ``rxcore.run`` with the log on: a
job tracker main (jobs submitted by several users, each running six nodes that report three
progress steps and a done; four jobs in flight at a time) whose state holds the running jobs
and the last finished ones, with one state change and one sink emission per event; the
snapshot interval is the writer's default. Then it measures ``state_at`` for ``--jumps``
random seqs on a freshly opened reader (p50/p95), log bytes per event, ``verify`` throughput
(on a log of the first ``--verify-events`` events when that is less than all of them; said so
in the output), and the export and import of the log as one bundle. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import reactivex
from reactivex import Observable
from reactivex import operators as ops

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rxcore import Message, Reducer, run, with_state
from rxcore.log import LogReader, LogWriter
from rxcore.log_bundle import export_bundle, import_bundle
from rxcore.replay import verify
from rxcore.testing import FakeDriver

NODES = 6
STEPS = 3
IN_FLIGHT = 4
RECENT = 20


@dataclass(frozen=True, kw_only=True)
class Submit(Message):
    job_id: str
    user_id: str
    prompt: dict[str, Any]
    submitted_at: float


@dataclass(frozen=True, kw_only=True)
class Progress(Message):
    job_id: str
    node_id: str
    value: int
    max: int


@dataclass(frozen=True, kw_only=True)
class NodeDone(Message):
    job_id: str
    node_id: str
    key: str


@dataclass(frozen=True, kw_only=True)
class Report(Message):
    job_id: str
    what: str
    done: int
    total: int


def _submit(e: Submit) -> Reducer[Any]:
    def submit(state: dict[str, Any]) -> dict[str, Any]:
        job = {"user": e.user_id, "done": 0, "step": 0, "node": None, "prompt": e.prompt}
        return {**state, "jobs": {**state["jobs"], e.job_id: job}}

    return Reducer("submit", submit)


def _progress(e: Progress) -> Reducer[Any]:
    def progress(state: dict[str, Any]) -> dict[str, Any]:
        job = {**state["jobs"][e.job_id], "node": e.node_id, "step": e.value}
        return {**state, "jobs": {**state["jobs"], e.job_id: job}}

    return Reducer("progress", progress)


def _done(e: NodeDone) -> Reducer[Any]:
    def done(state: dict[str, Any]) -> dict[str, Any]:
        job = state["jobs"][e.job_id]
        jobs = dict(state["jobs"])
        if job["done"] + 1 < NODES:
            jobs[e.job_id] = {**job, "done": job["done"] + 1, "step": 0, "node": None}
            return {**state, "jobs": jobs, "cache": {**state["cache"], e.node_id: e.key}}
        del jobs[e.job_id]
        recent = [*state["recent"], e.job_id][-RECENT:]
        return {**state, "jobs": jobs, "finished": state["finished"] + 1, "recent": recent}

    return Reducer("node_done", done)


def _queued(e: Submit) -> Report:
    return Report(job_id=e.job_id, what="queued", done=0, total=NODES)


def _stepped(e: Progress) -> Report:
    return Report(job_id=e.job_id, what=e.node_id, done=e.value, total=e.max)


def _node_done(e: NodeDone) -> Report:
    return Report(job_id=e.job_id, what="node", done=1, total=NODES)


def app(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
    submits = sources["jobs"].select(Submit)
    steps = sources["worker"].select(Progress)
    dones = sources["worker"].select(NodeDone)
    initial = Reducer("init", lambda _: {"jobs": {}, "cache": {}, "finished": 0, "recent": []})
    return {
        "state": reactivex.merge(
            reactivex.of(initial),
            submits.pipe(ops.map(_submit)),
            steps.pipe(ops.map(_progress)),
            dones.pipe(ops.map(_done)),
        ),
        "ui": reactivex.merge(
            submits.pipe(ops.map(_queued)),
            steps.pipe(ops.map(_stepped)),
            dones.pipe(ops.map(_node_done)),
        ),
    }


main = with_state(app)


def script(events: int, seed: int = 7) -> list[tuple[str, Any]]:
    """``events`` source events: jobs interleaved IN_FLIGHT at a time, whole jobs only."""
    rng = random.Random(seed)
    per_job = 1 + NODES * (STEPS + 1)
    out: list[tuple[str, Any]] = []
    job_no = 0
    t = 1_800_000_000.0
    while len(out) < events:
        batch = []
        for _ in range(IN_FLIGHT):
            job_no += 1
            job_id = f"job-{job_no:07d}"
            t += rng.random()
            prompt = {"3": {"class_type": "KSampler", "inputs": {"seed": rng.getrandbits(48)}}}
            user = str(job_no % 5)
            submit = Submit(job_id=job_id, user_id=user, prompt=prompt, submitted_at=t)
            steps: list[tuple[str, Any]] = [("jobs", submit)]
            for n in range(NODES):
                node = str(n + 1)
                for v in range(1, STEPS + 1):
                    steps.append(
                        ("worker", Progress(job_id=job_id, node_id=node, value=v, max=STEPS))
                    )
                key = f"{rng.getrandbits(128):032x}"
                steps.append(("worker", NodeDone(job_id=job_id, node_id=node, key=key)))
            batch.append(steps)
        for i in range(per_job):
            for steps in batch:
                out.append(steps[i])
    return out[:events]  # the last jobs may be cut short: they are still running, then


async def record(path: Path, events: list[tuple[str, Any]]) -> None:
    drivers = {"jobs": FakeDriver(), "worker": FakeDriver(), "ui": FakeDriver()}
    runtime = run(main, drivers, recorder=LogWriter(path), main_ref="bench.log_jump:main")
    for name, event in events:
        drivers[name].emit(event)
    await asyncio.sleep(0)
    runtime.dispose()


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir())


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"events": args.events}
    t0 = time.perf_counter()
    events = script(args.events)
    full = tmp / "full"
    asyncio.run(record(full, events))
    result["build_s"] = round(time.perf_counter() - t0, 1)
    print(f"built {args.events} events in {result['build_s']} s", flush=True)
    log_bytes = _size(full)
    result["log_bytes"] = log_bytes
    result["bytes_per_event"] = round(log_bytes / args.events, 1)

    rng = random.Random(11)
    with LogReader(full) as reader:
        last = reader.last_seq or 0
        times = []
        for seq in [rng.randint(1, last) for _ in range(args.jumps)]:
            start = time.perf_counter()
            reader.plain_state_at(seq)
            times.append((time.perf_counter() - start) * 1000)
    result["jump_p50_ms"] = round(statistics.median(times), 2)
    result["jump_p95_ms"] = round(_pct(times, 0.95), 2)
    result["jump_max_ms"] = round(max(times), 2)
    print(f"state_at: p50 {result['jump_p50_ms']} ms, p95 {result['jump_p95_ms']} ms", flush=True)

    verified = min(args.verify_events or args.events, args.events)
    target = full
    if verified < args.events:
        target = tmp / "prefix"
        asyncio.run(record(target, events[:verified]))
    start = time.perf_counter()
    report = verify(str(target), main)
    elapsed = time.perf_counter() - start
    assert report.ok, str(report)
    result["verify_events"] = verified
    result["verify_s"] = round(elapsed, 1)
    result["verify_events_per_s"] = round(verified / elapsed)
    note = "" if verified == args.events else f" (a log of the first {verified} events)"
    print(f"verify: {result['verify_events_per_s']} events/s{note}", flush=True)

    start = time.perf_counter()
    export_bundle(full, tmp / "session.rxlog", {})
    result["export_s"] = round(time.perf_counter() - start, 2)
    result["bundle_bytes"] = (tmp / "session.rxlog").stat().st_size
    start = time.perf_counter()
    import_bundle(tmp / "session.rxlog", tmp / "imported")
    result["import_s"] = round(time.perf_counter() - start, 2)
    print(f"export {result['export_s']} s, import {result['import_s']} s", flush=True)
    return result


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--jumps", type=int, default=200)
    parser.add_argument("--verify-events", type=int, default=0, help="0: verify the whole log")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rxgen-log-jump-") as tmp:
        result = bench(args, Path(tmp))
    print(json.dumps(result))


if __name__ == "__main__":
    main_cli()
