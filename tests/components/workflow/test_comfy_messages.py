"""Job events map onto ComfyUI's WebSocket messages in the order its clients expect."""

from __future__ import annotations

from components.workflow.comfy_messages import comfy_messages, status_message
from components.workflow.protocol import (
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobStarted,
    NodeCached,
    NodeExecuted,
    NodeStarted,
)


def kinds(*events: object) -> list[str]:
    return [m["type"] for e in events for m in comfy_messages(e, 1000)]  # type: ignore[arg-type]


def test_a_run_reads_like_comfyui() -> None:
    events = (
        JobStarted(job_id="p", to_run=("3", "9"), cached=("1",)),
        NodeCached(job_id="p", node_ids=("1",)),
        NodeStarted(job_id="p", node_id="3"),
        JobProgress(job_id="p", done=0, total=2, node_id="3", node_value=1, node_max=20),
        JobProgress(job_id="p", done=1, total=2),  # node-level only: no ComfyUI counterpart
        NodeExecuted(job_id="p", node_id="3"),  # no ui: not an output node
        NodeStarted(job_id="p", node_id="9"),
        NodeExecuted(job_id="p", node_id="9", ui={"images": [{"filename": "a.png"}]}),
        JobFinished(job_id="p", outputs={}),
    )
    assert kinds(*events) == [
        "execution_start", "execution_cached", "executing", "progress", "executing",
        "executed", "executing", "execution_success",
    ]  # fmt: skip
    (progress,) = comfy_messages(events[3], 0)
    assert progress["data"] == {"value": 1, "max": 20, "prompt_id": "p", "node": "3"}
    done = comfy_messages(events[-1], 0)[0]
    assert done["data"] == {"node": None, "prompt_id": "p"}


def test_errors_name_the_failing_node_and_interruptions_say_so() -> None:
    failed = JobFailed(
        job_id="p",
        errors={"7": "not run: upstream node 5 failed", "5": "div by zero"},
        outputs={"2": {}},
    )
    (error,) = comfy_messages(failed, 5, {"5": "IntMath"})
    assert error["type"] == "execution_error"
    assert (error["data"]["node_id"], error["data"]["node_type"]) == ("5", "IntMath")
    assert error["data"]["exception_message"] == "div by zero"
    assert kinds(JobCancelled(job_id="p", outputs={})) == ["execution_interrupted"]
    assert status_message(2, "c1") == {
        "type": "status",
        "data": {"status": {"exec_info": {"queue_remaining": 2}}, "sid": "c1"},
    }
