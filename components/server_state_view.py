"""What a user who is not an admin may see of a recorded server state.

The log's own scrubbing (``rxcore.log_view``) removes other users' jobs wherever a job id
marks them; these parts of the server's state name no job id but still describe other users:
the queue's per-user lanes and turns, and the executor's output cache (shared by content hash,
so it holds other users' file names).
"""

from __future__ import annotations

from typing import Any


def private_state(state: Any) -> Any:
    """What a non-admin may see of the server's state besides their own jobs: the queue
    without other users' lanes and turns, the executor without its shared output cache."""
    if not isinstance(state, dict):
        return state
    if isinstance(state.get("core"), dict):  # the server's main keeps its state under "core"
        return {**state, "core": private_state(state["core"])}
    out = dict(state)
    executor = out.get("executor")
    if isinstance(executor, dict):
        out["executor"] = {k: v for k, v in executor.items() if k != "cache"}
    queue = out.get("queue")
    if isinstance(queue, dict):
        out["queue"] = {k: v for k, v in queue.items() if k not in ("served", "heads")}
        lanes = queue.get("lanes")
        if isinstance(lanes, dict):
            out["queue"]["lanes"] = {user: jobs for user, jobs in lanes.items() if jobs}
    return out
