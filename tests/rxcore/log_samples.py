"""A server-like session log written record by record, for the query, view and bundle tests.

Two users' jobs run interleaved: each job is submitted (``job_id`` + ``user_id`` +
``submitted_at``), runs two nodes (events carry ``request_id = "<job>/<node>"`` only, so
attribution must use the prefix), and finishes; every event changes the state, whose paths go
through the job ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rxcore.log import LogWriter

T0 = 1_900_000_000.0
JOBS = {"j1": "alice", "j2": "bob", "j3": "alice"}


def write_sample(path: Path, *, snapshot_every: int = 4) -> list[tuple[int, str, Any]]:
    """Write the sample log; returns (seq, job, state after) for every event."""
    writer = LogWriter(path, snapshot_every=snapshot_every)
    writer.begin("tests.rxcore.log_samples:nothing", {"intake": object, "nodes": object})
    state: dict[str, Any] = {"jobs": {}, "finished": []}
    writer.state(0, "init", state)
    seq = 0
    history: list[tuple[int, str, Any]] = []

    def event(driver: str, value: dict[str, Any], job: str, new_state: dict[str, Any]) -> None:
        nonlocal seq, state
        seq += 1
        writer.event(seq, driver, value)
        writer.sink(seq, "events", {"job_id": job, "seen": seq})
        state = new_state
        writer.state(seq, f"core/{driver}", state)
        history.append((seq, job, state))

    for i, (job, user) in enumerate(JOBS.items()):
        submitted = {"job_id": job, "user_id": user, "submitted_at": T0 + 10 * i}
        event("intake", {"job": submitted, "prompt": {"1": {"text": f"secret of {user}"}}}, job,
              {**state, "jobs": {**state["jobs"], job: {"user": user, "done": 0}}})  # fmt: skip
    for node in ("1", "2"):
        for job in JOBS:
            jobs = {**state["jobs"], job: {**state["jobs"][job], "done": int(node)}}
            event("nodes", {"request_id": f"{job}/{node}", "outputs": 1}, job,
                  {**state, "jobs": jobs})  # fmt: skip
    for job in JOBS:
        jobs = {k: v for k, v in state["jobs"].items() if k != job}
        event("nodes", {"request_id": f"{job}/done"}, job,
              {**state, "jobs": jobs, "finished": [*state["finished"], job]})  # fmt: skip
    writer.close()
    return history
