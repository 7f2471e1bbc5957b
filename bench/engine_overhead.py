"""Scheduling overhead of the workflow engine per node, and what a single edit re-runs.

    python bench/engine_overhead.py [--nodes N] [--repeat R]

A graph of N trivial nodes (IntMath adds, each reading its predecessor and one node further
back, so the graph is a DAG with depth N, not a star) runs through the same wiring as
`rxgen run`: the app's main under rxcore.run, the real node runner on its worker thread, the
output store. The time spent inside node implementations is measured on the worker and taken
out; what is left, divided by N, is the engine's overhead per node: validation, cache keys,
planning, dispatch, the thread hop and the answer's way back. Then one literal input three
quarters down the chain is edited and the job resubmitted: only that node and what follows it
should run. Best of R runs, with the log off and on, and with the scalar nodes sent to the
worker thread like the rest instead of run on the loop. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import reactivex
from reactivex import Observable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.app import main
from components.workflow.protocol import (
    JobCancelled,
    JobFailed,
    JobFinished,
    JobRejected,
    JobStarted,
    SubmitJob,
)
from drivers.entropy import entropy_driver
from drivers.nodes.registry import registry
from drivers.nodes.runner import NodeRunner
from drivers.nodes.store import OutputStore
from rxcore import Source, run

TERMINAL = (JobFinished, JobFailed, JobCancelled, JobRejected)


def graph(nodes: int, edited: int | None = None) -> dict[str, Any]:
    prompt: dict[str, Any] = {
        "0": {"class_type": "PrimitiveInt", "inputs": {"value": 1}},
    }
    for i in range(1, nodes):
        back = max(0, i - 7)
        prompt[str(i)] = {
            "class_type": "IntMath",
            "inputs": {"a": [str(i - 1), 0], "b": [str(back), 0], "operation": "max"},
        }
    if edited is not None:
        # Literal b instead of a link: a real change to that node's cache key only.
        prompt[str(edited)]["inputs"]["b"] = 123
    return prompt


class Timed:
    """Wraps implementations to add up the seconds spent inside them (on the worker)."""

    def __init__(self, implementations: Mapping[str, Callable[..., Any]]) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._lock = threading.Lock()
        self.implementations = {name: self._wrap(fn) for name, fn in implementations.items()}

    def _wrap(self, fn: Callable[..., Any]) -> Callable[[Mapping[str, Any]], Any]:
        def timed(inputs: Mapping[str, Any]) -> Any:
            start = time.perf_counter()
            try:
                return fn(inputs)
            finally:
                elapsed = time.perf_counter() - start
                with self._lock:
                    self.seconds += elapsed
                    self.calls += 1

        return timed


class Outcomes:
    def __init__(self) -> None:
        self.started: dict[str, JobStarted] = {}
        self.waiting: dict[str, asyncio.Future[Any]] = {}

    def __call__(self, sink: Observable[Any]) -> Source:
        sink.subscribe(self._note)
        return Source(reactivex.never())

    def _note(self, event: Any) -> None:
        if isinstance(event, JobStarted):
            self.started[event.job_id] = event
        if isinstance(event, TERMINAL) and event.job_id in self.waiting:
            self.waiting[event.job_id].set_result(event)

    def expect(self, job_id: str) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting[job_id] = future
        return future

    def dispose(self) -> None:
        pass


class Jobs:
    def __init__(self) -> None:
        self.subject: reactivex.subject.Subject[Any] = reactivex.subject.Subject()

    def __call__(self, sink: Observable[Any]) -> Source:
        return Source(self.subject)

    def dispose(self) -> None:
        self.subject.on_completed()


def measure(nodes: int, log: Path | None, inline: bool = True) -> dict[str, float]:
    async def go() -> dict[str, float]:
        timed = Timed(registry())
        jobs, outcomes = Jobs(), Outcomes()
        runner = NodeRunner(
            timed.implementations, OutputStore(max_bytes=1 << 30), inline=None if inline else ()
        )
        drivers = {
            "jobs": jobs,
            "nodes": runner,
            "entropy": entropy_driver(),
            "events": outcomes,
        }
        runtime = run(main, drivers, log=log)
        last = str(nodes - 1)
        try:
            done = outcomes.expect("full")
            start = time.perf_counter()
            jobs.subject.on_next(SubmitJob(job_id="full", prompt=graph(nodes), outputs=(last,)))
            result = await done
            full = time.perf_counter() - start
            assert isinstance(result, JobFinished), result
            inside_full, calls_full = timed.seconds, timed.calls

            edited = nodes * 3 // 4
            done = outcomes.expect("edit")
            start = time.perf_counter()
            edit = SubmitJob(job_id="edit", prompt=graph(nodes, edited), outputs=(last,))
            jobs.subject.on_next(edit)
            result = await done
            rerun = time.perf_counter() - start
            assert isinstance(result, JobFinished), result
            executed = timed.calls - calls_full
            assert executed == len(outcomes.started["edit"].to_run)
        finally:
            runtime.dispose()
        assert not runtime.faults, runtime.faults
        return {
            "full_run_s": full,
            "inside_nodes_s": inside_full,
            "overhead_ms_per_node": (full - inside_full) / calls_full * 1000,
            "rerun_s": rerun,
            "rerun_executed_nodes": executed,
            "rerun_expected_nodes": nodes - edited,
        }

    return asyncio.run(go())


def best(nodes: int, repeat: int, with_log: bool, inline: bool = True) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(measure(nodes, Path(tmp) / "log" if with_log else None, inline))
    return min(runs, key=lambda r: r["overhead_ms_per_node"])


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    measure(20, None)  # warm-up: imports, thread pool, first-call costs

    off = best(args.nodes, args.repeat, with_log=False)
    on = best(args.nodes, args.repeat, with_log=True)
    threaded = best(args.nodes, args.repeat, with_log=False, inline=False)
    for label, figures in (
        ("log off", off),
        ("log on", on),
        ("log off, every node on the worker thread", threaded),
    ):
        print(
            f"{label}: {args.nodes} nodes in {figures['full_run_s'] * 1000:.1f} ms "
            f"({figures['inside_nodes_s'] * 1000:.1f} ms inside nodes), overhead "
            f"{figures['overhead_ms_per_node']:.3f} ms/node; edit re-ran "
            f"{figures['rerun_executed_nodes']} of {args.nodes} nodes in "
            f"{figures['rerun_s'] * 1000:.1f} ms"
        )
    print(
        json.dumps(
            {
                "nodes": args.nodes,
                "overhead_ms_per_node": round(off["overhead_ms_per_node"], 4),
                "overhead_ms_per_node_log_on": round(on["overhead_ms_per_node"], 4),
                "overhead_ms_per_node_threaded": round(threaded["overhead_ms_per_node"], 4),
                "full_run_ms": round(off["full_run_s"] * 1000, 2),
                "rerun_ms": round(off["rerun_s"] * 1000, 2),
                "rerun_executed_nodes": off["rerun_executed_nodes"],
                "rerun_expected_nodes": off["rerun_expected_nodes"],
                "target_ms_per_node": 0.5,
            }
        )
    )


if __name__ == "__main__":
    main_cli()
