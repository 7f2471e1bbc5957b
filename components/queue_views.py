"""Read-only views of the job queue: ComfyUI's ``GET /queue`` lists and positions."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from components.queue import QueuedJob, QueueState, job_order, user_rank


@dataclass(frozen=True, kw_only=True)
class QueueEntry:
    """One line of ``GET /queue``: ``position`` counts from 0 within its list."""

    position: int
    job_id: str
    user_id: str
    number: int
    priority: int
    front: bool
    status: str  # "pending", or the running job's status
    submitted_at: float
    attempts: int
    interruptions: int


@dataclass(frozen=True, kw_only=True)
class QueueSnapshot:
    """ComfyUI's ``queue_running`` and ``queue_pending``: pending in the order they will start
    if nothing else arrives."""

    running: tuple[QueueEntry, ...]
    pending: tuple[QueueEntry, ...]

    @property
    def remaining(self) -> int:
        """ComfyUI's ``exec_info.queue_remaining``: running plus pending."""
        return len(self.running) + len(self.pending)


def pending_order(state: QueueState) -> tuple[str, ...]:
    """The waiting jobs' ids in the order the queue would start them, if nothing else arrived.

    Simulates :func:`_fill`'s choices: a user's rank changes only when that user is picked, so a
    heap of users gives the order in O(n log n).
    """
    lanes = {user: sorted(lane.values(), key=job_order) for user, lane in state.lanes.items()}
    served = dict(state.served)
    heads = dict.fromkeys(lanes, 0)
    turn = state.turn
    heap = [user_rank(lane[0], served) for lane in lanes.values()]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        user = heapq.heappop(heap)[-1]
        order.append(lanes[user][heads[user]].job_id)
        heads[user] += 1
        served[user] = turn
        turn += 1
        if heads[user] < len(lanes[user]):
            heapq.heappush(heap, user_rank(lanes[user][heads[user]], served))
    return tuple(order)


def _entry(job: QueuedJob, position: int, status: str) -> QueueEntry:
    return QueueEntry(
        position=position,
        job_id=job.job_id,
        user_id=job.user_id,
        number=job.number,
        priority=job.priority,
        front=job.front,
        status=status,
        submitted_at=job.submitted_at,
        attempts=job.attempts,
        interruptions=job.interruptions,
    )


def snapshot(state: QueueState) -> QueueSnapshot:
    """The running jobs (in start order) and the pending ones (in the order they will start)."""
    runs = sorted(state.running.values(), key=lambda run: run.turn)
    waiting = {job_id: job for lane in state.lanes.values() for job_id, job in lane.items()}
    return QueueSnapshot(
        running=tuple(_entry(run.job, i, run.status) for i, run in enumerate(runs)),
        pending=tuple(
            _entry(waiting[job_id], i, "pending") for i, job_id in enumerate(pending_order(state))
        ),
    )


def positions(state: QueueState) -> dict[str, int]:
    """Each waiting job's position (0: the next to start)."""
    return {job_id: i for i, job_id in enumerate(pending_order(state))}


def position(state: QueueState, job_id: str) -> int | None:
    """The job's position among the waiting jobs, or None if it is running or unknown."""
    if not any(job_id in lane for lane in state.lanes.values()):
        return None
    return positions(state)[job_id]


def user_entries(state: QueueState, user_id: str) -> QueueSnapshot:
    """The snapshot narrowed to one user's jobs; positions stay those of the whole queue."""
    whole = snapshot(state)
    return QueueSnapshot(
        running=tuple(e for e in whole.running if e.user_id == user_id),
        pending=tuple(e for e in whole.pending if e.user_id == user_id),
    )
