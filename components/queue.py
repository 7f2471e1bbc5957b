"""The job queue's decisions, as one pure transition: ``update(state, event) -> (state, effects)``.

Which waiting job starts next, when a device slot is free:

1. **Priority dominates.** A higher ``priority`` always starts before a lower one.
2. **``front`` jumps within its priority**, as ComfyUI's "queue front" does: a front job starts
   before every non-front job of its priority; among one user's front jobs the newest goes first
   (ComfyUI gives them the number ``-number``). Front jobs of several users take turns too
   (rule 3), and ``max_queued_per_user`` bounds what one user can put ahead of others.
3. **Fairness across users.** Among the users whose best waiting job is in that best class, the
   one served least recently goes next (a user never served goes before every user served,
   ties by the job's number), so users take turns: one user's 100 jobs do not starve another
   user's one, which starts after at most one more of theirs.
4. **FIFO within a user**, by the job's ``number`` (ComfyUI's monotonically increasing number).

At most ``max_running`` jobs run at once. Cancelling a waiting job removes it; cancelling a
running one asks the executor to stop it (:class:`CancelRunning`) and keeps its slot until the
executor reports :class:`Finished`. Only the job's owner or an admin may cancel it.

Persistence: every change the store must make is an effect (:class:`Queued`, :class:`StartJob`,
:class:`Requeued`, :class:`Removed`), so the store driver can keep the queued and running jobs
and each user's last turn in the database. After a crash, :class:`Restore` rebuilds the queue
from them: waiting jobs wait again in their places, and jobs that were running when the process
died are re-queued at the front of their priority (policy ``"requeue"``, up to
``max_restarts`` times per job) or dropped (policy ``"fail"``); either way they are marked.

The state holds plain values only (frozen dataclasses and dicts with string keys), is sharded
by user and copied only where it changes, so an event costs (and the log's diff records) one
user's part, not the whole queue; it contains no time: ``submitted_at`` is event data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from rxcore.message import Message

RestartPolicy = Literal["requeue", "fail"]
JobStatus = Literal["starting", "running", "cancelling"]

# Reasons of Rejected and Removed.
DUPLICATE: Final = "duplicate"
QUEUE_FULL: Final = "queue_full"
NOT_FOUND: Final = "not_found"
FORBIDDEN: Final = "forbidden"
FINISHED: Final = "finished"
CANCELLED: Final = "cancelled"
INTERRUPTED: Final = "interrupted"


# -- configuration and state -----------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class QueueConfig:
    max_running: int = 1  # jobs running at once (one per device by default)
    max_queued_per_user: int | None = None  # waiting jobs per user; None: no limit
    max_restarts: int = 2  # times a job interrupted by a crash is re-queued before it is dropped

    def __post_init__(self) -> None:
        if self.max_running < 1:
            raise ValueError(f"max_running must be at least 1, not {self.max_running}")
        if self.max_queued_per_user is not None and self.max_queued_per_user < 0:
            raise ValueError("max_queued_per_user must be None or at least 0")
        if self.max_restarts < 0:
            raise ValueError("max_restarts must be at least 0")


@dataclass(frozen=True, kw_only=True)
class QueuedJob:
    """A job the queue holds, as the store persists it."""

    job_id: str
    user_id: str
    priority: int = 0  # higher starts first
    number: int = 0  # ComfyUI's monotonically increasing job number
    front: bool = False
    submitted_at: float = 0.0
    attempts: int = 0  # times it was started
    interruptions: int = 0  # times a restart found it running (the process died under it)


@dataclass(frozen=True, kw_only=True)
class RunningJob:
    job: QueuedJob
    turn: int  # when it started (running jobs are listed in this order)
    status: JobStatus = "starting"


@dataclass(frozen=True, kw_only=True)
class QueueState:
    """The queue, sharded by user so that an event copies and changes one user's part only.

    No order is kept in a dict's insertion order (a state rebuilt from the log's patches may
    not keep it): a lane's order is :func:`job_order` of its jobs, and ``heads`` names the first.
    """

    config: QueueConfig = field(default_factory=QueueConfig)
    lanes: dict[str, dict[str, QueuedJob]] = field(default_factory=dict)  # user -> id -> job
    heads: dict[str, str] = field(default_factory=dict)  # user -> id of their next job
    running: dict[str, RunningJob] = field(default_factory=dict)  # job id -> job
    served: dict[str, int] = field(default_factory=dict)  # user -> turn of their latest start
    turn: int = 0  # starts so far (the next start's turn)


def find(state: QueueState, job_id: str) -> QueuedJob | None:
    """The waiting or running job ``job_id`` (one lookup per user with waiting jobs)."""
    running = state.running.get(job_id)
    if running is not None:
        return running.job
    for lane in state.lanes.values():
        job = lane.get(job_id)
        if job is not None:
            return job
    return None


def all_jobs(state: QueueState) -> dict[str, QueuedJob]:
    """Every waiting and running job by id (a view: builds a new dict)."""
    found = {job_id: run.job for job_id, run in state.running.items()}
    for lane in state.lanes.values():
        found.update(lane)
    return found


# -- events in -------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Enqueue(Message):
    job_id: str
    user_id: str
    priority: int = 0
    number: int
    front: bool = False
    submitted_at: float


@dataclass(frozen=True, kw_only=True)
class Cancel(Message):
    """Cancel a waiting or running job; ``by_user`` must own it unless ``is_admin``."""

    job_id: str
    by_user: str
    is_admin: bool = False


@dataclass(frozen=True, kw_only=True)
class Clear(Message):
    """Cancel every waiting job ``by_user`` may cancel (all of them for an admin); running jobs
    are left alone, as ComfyUI's ``POST /queue {"clear": true}`` does."""

    by_user: str
    is_admin: bool = False


@dataclass(frozen=True, kw_only=True)
class Started(Message):
    """The executor began running the job."""

    job_id: str


@dataclass(frozen=True, kw_only=True)
class Finished(Message):
    """The executor is done with the job (succeeded, failed, rejected or cancelled)."""

    job_id: str


@dataclass(frozen=True, kw_only=True)
class Restore(Message):
    """At start-up, from the database: the jobs that were waiting, the jobs that were running
    when the process stopped, and each user's last turn (so fairness carries on unchanged)."""

    queued: tuple[QueuedJob, ...] = ()
    running: tuple[QueuedJob, ...] = ()
    policy: RestartPolicy = "requeue"
    served: dict[str, int] = field(default_factory=dict)


QueueEvent = Enqueue | Cancel | Clear | Started | Finished | Restore


# -- effects out -----------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Queued(Message):
    """The job was accepted and waits (the store inserts it)."""

    job: QueuedJob


@dataclass(frozen=True, kw_only=True)
class StartJob(Message):
    """Start this job now; ``turn`` is the user's new last turn (the store keeps it)."""

    job_id: str
    user_id: str
    attempt: int
    turn: int


@dataclass(frozen=True, kw_only=True)
class CancelRunning(Message):
    """Stop this running job; the queue frees its slot when :class:`Finished` arrives."""

    job_id: str


@dataclass(frozen=True, kw_only=True)
class Requeued(Message):
    """On restore: the job was running when the process stopped; it waits again, at the front
    of its priority, marked with one more interruption."""

    job: QueuedJob


@dataclass(frozen=True, kw_only=True)
class Removed(Message):
    """The job left the queue: ``finished``, ``cancelled`` (``by_user`` says who), or
    ``interrupted`` (it was running at a restart and the policy or its restarts dropped it)."""

    job_id: str
    user_id: str
    reason: str
    by_user: str | None = None


@dataclass(frozen=True, kw_only=True)
class Rejected(Message):
    """An ``enqueue`` or ``cancel`` was refused, with a reason code and a sentence."""

    job_id: str
    action: Literal["enqueue", "cancel"]
    reason: str
    message: str


QueueEffect = Queued | StartJob | CancelRunning | Requeued | Removed | Rejected
Effects = list[QueueEffect]


# -- the transition --------------------------------------------------------------------------
def update(state: QueueState, event: Any) -> tuple[QueueState, Effects]:
    """The new state and the effects to perform after ``event``; other events change nothing."""
    effects: Effects = []
    if isinstance(event, Enqueue):
        state = _enqueue(state, event, effects)
    elif isinstance(event, Cancel):
        state = _cancel(state, event, effects)
    elif isinstance(event, Clear):
        state = _clear(state, event, effects)
    elif isinstance(event, Started):
        run = state.running.get(event.job_id)
        if run is not None and run.status == "starting":
            running = {**state.running, event.job_id: dataclasses.replace(run, status="running")}
            state = dataclasses.replace(state, running=running)
    elif isinstance(event, Finished):
        state = _finished(state, event, effects)
    elif isinstance(event, Restore):
        state = _restore(state, event, effects)
    else:
        return state, effects
    return _fill(state, effects), effects


def _enqueue(state: QueueState, event: Enqueue, effects: Effects) -> QueueState:
    if find(state, event.job_id) is not None:
        effects.append(
            Rejected(
                job_id=event.job_id,
                action="enqueue",
                reason=DUPLICATE,
                message=f"job {event.job_id!r} is already queued or running",
            )
        )
        return state
    limit = state.config.max_queued_per_user
    if limit is not None and len(state.lanes.get(event.user_id, ())) >= limit:
        effects.append(
            Rejected(
                job_id=event.job_id,
                action="enqueue",
                reason=QUEUE_FULL,
                message=f"user {event.user_id!r} already has {limit} jobs waiting (the limit)",
            )
        )
        return state
    job = QueuedJob(
        job_id=event.job_id,
        user_id=event.user_id,
        priority=event.priority,
        number=event.number,
        front=event.front,
        submitted_at=event.submitted_at,
    )
    effects.append(Queued(job=job))
    return _wait(state, job)


def _cancel(state: QueueState, event: Cancel, effects: Effects) -> QueueState:
    job = find(state, event.job_id)
    if job is None:
        effects.append(
            Rejected(
                job_id=event.job_id,
                action="cancel",
                reason=NOT_FOUND,
                message=f"job {event.job_id!r} is neither queued nor running",
            )
        )
        return state
    if job.user_id != event.by_user and not event.is_admin:
        effects.append(
            Rejected(
                job_id=event.job_id,
                action="cancel",
                reason=FORBIDDEN,
                message=f"job {event.job_id!r} belongs to another user",
            )
        )
        return state
    run = state.running.get(job.job_id)
    if run is None:
        effects.append(
            Removed(job_id=job.job_id, user_id=job.user_id, reason=CANCELLED, by_user=event.by_user)
        )
        return _drop_waiting(state, job.user_id, {job.job_id})
    if run.status != "cancelling":  # asking twice is harmless and says nothing new
        effects.append(CancelRunning(job_id=job.job_id))
        cancelling = dataclasses.replace(run, status="cancelling")
        state = dataclasses.replace(state, running={**state.running, job.job_id: cancelling})
    return state


def _clear(state: QueueState, event: Clear, effects: Effects) -> QueueState:
    users = sorted(state.lanes) if event.is_admin else [event.by_user]
    gone = [job for user in users for job in state.lanes.get(user, {}).values()]
    gone.sort(key=lambda job: job.number)
    for job in gone:
        effects.append(
            Removed(job_id=job.job_id, user_id=job.user_id, reason=CANCELLED, by_user=event.by_user)
        )
    for user in users:
        if user in state.lanes:
            state = _drop_waiting(state, user, set(state.lanes[user]))
    return state


def _finished(state: QueueState, event: Finished, effects: Effects) -> QueueState:
    run = state.running.get(event.job_id)
    if run is None:
        return state
    reason = CANCELLED if run.status == "cancelling" else FINISHED
    effects.append(Removed(job_id=run.job.job_id, user_id=run.job.user_id, reason=reason))
    running = dict(state.running)
    del running[event.job_id]
    return dataclasses.replace(state, running=running)


def _restore(state: QueueState, event: Restore, effects: Effects) -> QueueState:
    """Replace the queue's contents with what the database held."""
    waiting = list(event.queued)
    for job in event.running:
        if event.policy == "requeue" and job.interruptions < state.config.max_restarts:
            job = dataclasses.replace(job, front=True, interruptions=job.interruptions + 1)
            effects.append(Requeued(job=job))
            waiting.append(job)
        else:
            effects.append(Removed(job_id=job.job_id, user_id=job.user_id, reason=INTERRUPTED))
    lanes: dict[str, dict[str, QueuedJob]] = {}
    seen: set[str] = set()
    for job in waiting:
        if job.job_id in seen:  # a store that lists a job twice: keep the first
            continue
        seen.add(job.job_id)
        lanes.setdefault(job.user_id, {})[job.job_id] = job
    heads = {user: lane_head(lane) for user, lane in lanes.items()}
    served = dict(event.served)
    turn = max(served.values(), default=-1) + 1
    return QueueState(config=state.config, lanes=lanes, heads=heads, served=served, turn=turn)


def _fill(state: QueueState, effects: Effects) -> QueueState:
    """Start the next jobs while slots are free (copying each part of the state once)."""
    free = state.config.max_running - len(state.running)
    if free <= 0 or not state.heads:
        return state
    lanes, heads = dict(state.lanes), dict(state.heads)
    running, served, turn = dict(state.running), dict(state.served), state.turn
    while free > 0 and heads:
        user = min(heads, key=lambda u: user_rank(lanes[u][heads[u]], served))
        lane = dict(lanes[user])
        job = lane.pop(heads[user])
        job = dataclasses.replace(job, attempts=job.attempts + 1)
        effects.append(StartJob(job_id=job.job_id, user_id=user, attempt=job.attempts, turn=turn))
        running[job.job_id] = RunningJob(job=job, turn=turn)
        served[user] = turn
        turn += 1
        free -= 1
        if lane:
            lanes[user] = lane
            heads[user] = lane_head(lane)
        else:
            del lanes[user], heads[user]
    return dataclasses.replace(
        state, lanes=lanes, heads=heads, running=running, served=served, turn=turn
    )


# -- ordering --------------------------------------------------------------------------------
def job_order(job: QueuedJob) -> tuple[int, int, int]:
    """A job's place in its user's lane: priority first, then front (newest first), then FIFO."""
    return (-job.priority, 0, -job.number) if job.front else (-job.priority, 1, job.number)


def lane_head(lane: Mapping[str, QueuedJob]) -> str:
    return min(lane.values(), key=job_order).job_id


Rank = tuple[int, int, int, int, str]


def user_rank(job: QueuedJob, served: Mapping[str, int]) -> Rank:
    """Which user goes next (smallest first), given their best waiting ``job``: its class, then
    who was served least recently (never is -1), then the job's place, then the user's name."""
    priority, tier, place = job_order(job)
    return priority, tier, served.get(job.user_id, -1), place, job.user_id


def _wait(state: QueueState, job: QueuedJob) -> QueueState:
    user = job.user_id
    lane = state.lanes.get(user, {})
    head = state.heads.get(user)
    if head is None or job_order(job) < job_order(lane[head]):
        head = job.job_id
    return dataclasses.replace(
        state,
        lanes={**state.lanes, user: {**lane, job.job_id: job}},
        heads={**state.heads, user: head},
    )


def _drop_waiting(state: QueueState, user: str, ids: set[str]) -> QueueState:
    lane = {job_id: job for job_id, job in state.lanes[user].items() if job_id not in ids}
    lanes, heads = dict(state.lanes), dict(state.heads)
    if lane:
        lanes[user] = lane
        if heads[user] in ids:
            heads[user] = lane_head(lane)
    else:
        del lanes[user], heads[user]
    return dataclasses.replace(state, lanes=lanes, heads=heads)
