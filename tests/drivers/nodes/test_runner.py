"""The node runner, end to end through rxcore.run: real light ops on real tensors."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import reactivex
import torch
from PIL import Image
from reactivex import Observable
from reactivex import operators as ops
from reactivex.subject import Subject

from components.nodes import default_catalog
from components.workflow.component import executor
from components.workflow.protocol import (
    Evicted,
    InputsMissing,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobRejected,
    NodeDone,
    NodeProgress,
    OutputRef,
    ReleaseJob,
    RunNode,
    SubmitJob,
)
from drivers.entropy import entropy_driver
from drivers.nodes.context import NodeContext, NodeResult, accepts_context
from drivers.nodes.light_ops import LIGHT_OPS
from drivers.nodes.registry import registry
from drivers.nodes.runner import NodeRunner
from drivers.nodes.store import OutputStore
from rxcore import Cancel, Cancelled, Failed, Source, run

IMAGE_BYTES = 4 * 3 * 12  # a 4x3 RGB float32 image

Respond = Callable[[Observable[Any]], Observable[Any]]


def exchange(
    runner: NodeRunner,
    first: list[Any],
    respond: Respond | None = None,
    *,
    until: Callable[[list[Any]], bool],
    timeout: float = 5.0,
) -> list[Any]:
    """Run a tiny main that sends ``first``, then what ``respond`` derives from the events."""

    async def scenario() -> list[Any]:
        seen: list[Any] = []
        enough = asyncio.Event()

        def note(event: Any) -> None:
            seen.append(event)
            if until(seen):
                enough.set()

        def main(sources: dict[str, Any]) -> dict[str, Observable[Any]]:
            events = sources["nodes"].events()
            events.subscribe(note)
            later = respond(events) if respond is not None else reactivex.never()
            return {"nodes": reactivex.merge(reactivex.from_iterable(first), later)}

        runtime = run(main, {"nodes": runner})
        try:
            await asyncio.wait_for(enough.wait(), timeout)
        finally:
            runtime.dispose()
        assert not runtime.faults
        return seen

    return asyncio.run(scenario())


def count(n: int) -> Callable[[list[Any]], bool]:
    return lambda seen: len(seen) >= n


def on(kind: type, request_id: str | None, *answer: Any) -> Respond:
    """Answer the first ``kind`` event (for ``request_id``, if given) with ``answer``."""

    def respond(events: Observable[Any]) -> Observable[Any]:
        return events.pipe(
            ops.filter(
                lambda e: (
                    isinstance(e, kind)
                    and (request_id is None or getattr(e, "request_id", None) == request_id)
                )
            ),
            ops.take(1),
            ops.flat_map(lambda _: reactivex.from_iterable(answer)),
        )

    return respond


def both(*responders: Respond) -> Respond:
    return lambda events: reactivex.merge(*(r(events) for r in responders))


def node(rid: str, node_type: str, key: str, job: str = "job", **inputs: Any) -> RunNode:
    return RunNode(
        request_id=rid, job_id=job, node_id=rid, node_type=node_type, key=key, inputs=inputs
    )


def empty(rid: str, key: str, job: str = "job", color: int = 0xFF0000) -> RunNode:
    return node(rid, "EmptyImage", key, job, width=4, height=3, color=color)


def test_runs_a_chain_of_real_nodes_linked_by_output_refs() -> None:
    store = OutputStore(max_bytes=1 << 20)
    runner = NodeRunner(LIGHT_OPS, store)
    invert = node("2", "ImageInvert", "k-invert", image=OutputRef(key="k-empty", index=0))
    seen = exchange(
        runner,
        [empty("1", "k-empty")],
        on(NodeDone, "1", invert),
        until=count(2),
    )
    assert seen == [
        NodeDone(request_id="1", job_id="job", node_id="1", key="k-empty", outputs=1),
        NodeDone(request_id="2", job_id="job", node_id="2", key="k-invert", outputs=1),
    ]
    (inverted,) = store.get("k-invert") or ()
    assert inverted.shape == (1, 3, 4, 3)
    assert torch.equal(inverted[0, 0, 0], torch.tensor([0.0, 1.0, 1.0]))
    assert store.is_pinned("k-empty") and store.is_pinned("k-invert")


def test_release_job_unpins_and_reports_what_it_evicted() -> None:
    store = OutputStore(max_bytes=IMAGE_BYTES)
    runner = NodeRunner(LIGHT_OPS, store)
    seen = exchange(
        runner,
        [empty("a", "k-a", job="A"), empty("b", "k-b", job="B")],
        on(NodeDone, "b", ReleaseJob(job_id="A")),
        until=count(3),
    )
    assert [type(e) for e in seen] == [NodeDone, NodeDone, Evicted]
    assert seen[2] == Evicted(keys=("k-a",))
    assert store.keys() == ["k-b"] and store.bytes_used == IMAGE_BYTES > 0


def test_storing_evicts_after_answering_and_an_evicted_input_is_reported_missing() -> None:
    store = OutputStore(max_bytes=IMAGE_BYTES)
    runner = NodeRunner(LIGHT_OPS, store)
    invert = node("i", "ImageInvert", "k-i", job="B", image=OutputRef(key="k-a", index=0))
    seen = exchange(
        runner,
        [empty("a", "k-a", job="A")],
        both(
            on(NodeDone, "a", ReleaseJob(job_id="A"), empty("b", "k-b", job="B")),
            on(Evicted, None, invert),
        ),
        until=count(4),
    )
    assert [type(e) for e in seen] == [NodeDone, NodeDone, Evicted, InputsMissing]
    assert seen[1].key == "k-b" and seen[2] == Evicted(keys=("k-a",))
    assert seen[3] == InputsMissing(request_id="i", job_id="B", node_id="i", keys=("k-a",))
    assert "k-i" not in store


def test_unknown_node_type_fails_naming_it_and_close_matches() -> None:
    runner = NodeRunner(LIGHT_OPS, OutputStore(max_bytes=1000))
    (failed,) = exchange(runner, [node("5", "ImageInvrt", "k")], until=count(1))
    assert isinstance(failed, Failed) and failed.error == "UnknownNodeType"
    assert "'ImageInvrt'" in failed.message and "no implementation is registered" in failed.message
    assert "ImageInvert" in failed.message and "node 5" in failed.message


def test_a_raising_implementation_fails_with_the_node_type_and_reason() -> None:
    def boom(inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        raise ValueError("the knob is at 11; turn it down")

    store = OutputStore(max_bytes=1000)
    runner = NodeRunner({**LIGHT_OPS, "Boom": boom}, store)
    seen = exchange(
        runner,
        [node("7", "Boom", "k7"), node("8", "ImageInvert", "k8", image=3)],
        until=count(2),
    )
    failed = {e.request_id: e for e in seen}
    assert failed["7"] == Failed(
        request_id="7",
        error="ValueError",
        message="Boom (node 7) failed: the knob is at 11; turn it down",
    )
    # Light ops name themselves already; the runner does not repeat it.
    assert failed["8"].error == "NodeInputError"
    assert failed["8"].message.startswith("ImageInvert (node 8) failed: input 'image' must be")
    assert "k7" not in store and "k8" not in store


def test_a_link_to_a_missing_output_index_fails_clearly() -> None:
    store = OutputStore(max_bytes=1 << 20)
    store.put("k-empty", (torch.zeros(1, 2, 2, 3),))
    runner = NodeRunner(LIGHT_OPS, store)
    (failed,) = exchange(
        runner,
        [node("2", "ImageInvert", "k2", image=OutputRef(key="k-empty", index=1))],
        until=count(1),
    )
    assert isinstance(failed, Failed)
    assert "input 'image' links output 1" in failed.message and "has 1 output(s)" in failed.message


def test_progress_arrives_in_order_before_the_answer() -> None:
    def steps(inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
        for step in range(1, 4):
            ctx.progress(step, 3)
        return (inputs["value"] * 2,)

    store = OutputStore(max_bytes=1000)
    runner = NodeRunner({"Steps": steps}, store)
    seen = exchange(runner, [node("s", "Steps", "ks", job="J", value=21)], until=count(4))
    assert seen[:3] == [
        NodeProgress(request_id="s", job_id="J", node_id="s", value=v, max=3) for v in (1, 2, 3)
    ]
    assert isinstance(seen[3], NodeDone) and store.get("ks") == (42,)


def test_cancel_reaches_a_running_implementation() -> None:
    saw_cancel = threading.Event()

    def forever(inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
        ctx.progress(0, 1)
        while not ctx.cancelled:
            time.sleep(0.001)
        saw_cancel.set()
        ctx.raise_if_cancelled()
        return ()

    def interrupted(inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
        ctx.progress(0, 1)
        while not ctx.cancelled:
            time.sleep(0.001)
        raise RuntimeError("interrupted half way")  # what torch code often does

    store = OutputStore(max_bytes=1000)
    runner = NodeRunner({"Forever": forever, "Interrupted": interrupted}, store, max_workers=2)
    seen = exchange(
        runner,
        [node("f", "Forever", "kf"), node("g", "Interrupted", "kg")],
        both(
            on(NodeProgress, "f", Cancel(request_id="f")),
            on(NodeProgress, "g", Cancel(request_id="g")),
        ),
        until=count(4),
    )
    assert saw_cancel.is_set()
    assert {e for e in seen if isinstance(e, Cancelled)} == {
        Cancelled(request_id="f"),
        Cancelled(request_id="g"),
    }
    assert len(store) == 0


def test_output_of_a_job_released_while_its_node_ran_is_not_left_pinned() -> None:
    released = threading.Event()

    class WatchedStore(OutputStore):
        def release(self, job_id: str) -> list[str]:
            evicted = super().release(job_id)
            released.set()
            return evicted

    def slow(inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
        ctx.progress(0, 1)
        assert released.wait(5)
        return (torch.zeros(4),)

    store = WatchedStore(max_bytes=0)
    runner = NodeRunner({"Slow": slow}, store)
    seen = exchange(
        runner,
        [node("s", "Slow", "ks", job="J")],
        on(NodeProgress, "s", ReleaseJob(job_id="J")),
        until=count(3),
    )
    assert [type(e) for e in seen] == [NodeProgress, NodeDone, Evicted]
    assert seen[2] == Evicted(keys=("ks",))
    assert not store.is_pinned("ks") and len(store) == 0


def test_results_with_ui_in_rxgen_and_comfyui_forms() -> None:
    def shows(inputs: Mapping[str, Any], ctx: NodeContext) -> NodeResult:
        return NodeResult(outputs=("x",), ui={"text": [ctx.node_type, ctx.node_id]})

    def comfy(inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"ui": {"text": ["hi"]}, "result": (1, 2)}

    def bad_ui(inputs: Mapping[str, Any]) -> NodeResult:
        return NodeResult(outputs=(), ui={"tensor": torch.zeros(1)})

    def bad_return(inputs: Mapping[str, Any]) -> list[int]:
        return [1]

    impls: dict[str, Any] = {
        "Shows": shows,
        "Comfy": comfy,
        "BadUi": bad_ui,
        "BadReturn": bad_return,
    }
    runner = NodeRunner(impls, OutputStore(max_bytes=1000))
    seen = exchange(
        runner,
        [node(n, n, f"k-{n}") for n in ("Shows", "Comfy", "BadUi", "BadReturn")],
        until=count(4),
    )
    by_id = {e.request_id: e for e in seen}
    assert by_id["Shows"].ui == {"text": ["Shows", "Shows"]} and by_id["Shows"].outputs == 1
    assert by_id["Comfy"].ui == {"text": ["hi"]} and by_id["Comfy"].outputs == 2
    assert isinstance(by_id["BadUi"], Failed) and "ui cannot be recorded" in by_id["BadUi"].message
    assert isinstance(by_id["BadReturn"], Failed)
    assert "returned list; it must return a tuple" in by_id["BadReturn"].message


def test_context_is_detected_from_the_signature() -> None:
    class Callable2:
        def __call__(self, inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
            return ()

    def two(inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
        return ()

    def defaulted(inputs: Mapping[str, Any], ctx: NodeContext | None = None) -> tuple[Any, ...]:
        return ()

    def keyword_only(inputs: Mapping[str, Any], *, ctx: Any = None) -> tuple[Any, ...]:
        return ()

    assert accepts_context(two) and accepts_context(Callable2()) and accepts_context(defaulted)
    assert accepts_context(functools.partial(lambda extra, inputs, ctx: (), 1))
    assert not accepts_context(LIGHT_OPS["ImageInvert"]) and not accepts_context(keyword_only)
    assert not accepts_context(len)


def test_save_image_through_the_runner_embeds_the_prompt(tmp_path: Path) -> None:
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 3}}}
    store = OutputStore(max_bytes=1 << 20)
    runner = NodeRunner(
        registry(), store, output_dir=tmp_path / "output", prompts=lambda job: prompt
    )
    save = node(
        "2", "SaveImage", "k-save", images=OutputRef(key="k-empty", index=0), filename_prefix="t"
    )
    seen = exchange(runner, [empty("1", "k-empty")], on(NodeDone, "1", save), until=count(2))
    assert seen[1].ui == {
        "images": [{"filename": "t_00001_.png", "subfolder": "", "type": "output"}]
    }
    with Image.open(tmp_path / "output" / "t_00001_.png") as png:
        assert png.size == (4, 3) and png.getpixel((0, 0)) == (255, 0, 0)
        assert "prompt" in png.info


def test_the_real_executor_runs_a_workflow_on_the_runner(tmp_path: Path) -> None:
    prompt = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 4, "height": 3, "batch_size": 1, "color": 0xFF},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "e/x"}},
    }
    store = OutputStore(max_bytes=1 << 20)
    runner = NodeRunner(registry(), store, output_dir=tmp_path)
    job_events: Subject[Any] = Subject()

    class Events:
        def __call__(self, sink: Observable[Any]) -> Source:
            sink.subscribe(job_events.on_next)
            return Source(reactivex.never())

        def dispose(self) -> None:
            pass

    async def scenario() -> list[Any]:
        seen: list[Any] = []
        finished = asyncio.Event()

        def note(event: Any) -> None:
            seen.append(event)
            if isinstance(event, JobFinished | JobFailed | JobRejected | JobCancelled):
                finished.set()

        job_events.subscribe(note)
        drivers = {
            "jobs": lambda sink: Source(reactivex.of(SubmitJob(job_id="j", prompt=prompt))),
            "nodes": runner,
            "entropy": entropy_driver(),
            "events": Events(),
        }
        runtime = run(executor(default_catalog(), state="@state"), drivers)
        try:
            await asyncio.wait_for(finished.wait(), 5)
        finally:
            runtime.dispose()
        assert not runtime.faults
        return seen

    seen = asyncio.run(scenario())
    assert all(isinstance(e, JobEvent) for e in seen)
    done = seen[-1]
    assert isinstance(done, JobFinished)
    assert done.outputs == {
        "3": {"images": [{"filename": "x_00001_.png", "subfolder": "e", "type": "output"}]}
    }
    with Image.open(tmp_path / "e" / "x_00001_.png") as png:
        assert png.getpixel((0, 0)) == (255, 255, 0)
    # The job was released at its end: nothing stays pinned.
    assert not any(store.is_pinned(key) for key in store)
