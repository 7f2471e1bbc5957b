"""The job queue's properties under random workloads (hypothesis): exactly-once, no
starvation, snapshot order, and the same decisions after a restart."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from components.queue import (
    INTERRUPTED,
    Cancel,
    Clear,
    Enqueue,
    Finished,
    QueueConfig,
    Queued,
    QueuedJob,
    QueueState,
    Removed,
    Requeued,
    Restore,
    Started,
    StartJob,
    all_jobs,
    update,
)
from components.queue_views import pending_order, snapshot
from tests.components.test_queue import Queue, running_ids, starts

USERS = ("alice", "bob", "carol", "dave")

op = st.one_of(
    st.tuples(
        st.just("enqueue"),
        st.sampled_from(USERS),
        st.integers(0, 2),
        st.booleans(),
    ),
    st.tuples(st.just("finish"), st.integers(0, 50)),
    st.tuples(st.just("started"), st.integers(0, 50)),
    st.tuples(st.just("cancel"), st.integers(0, 50), st.sampled_from(("owner", "other", "admin"))),
    st.tuples(st.just("clear"), st.sampled_from(USERS), st.booleans()),
)


class Workload:
    """Turns abstract operations into queue events, against the queue's current contents."""

    def __init__(self) -> None:
        self.number = 0

    def event(self, state: QueueState, operation: Sequence[Any]) -> Any:
        kind = operation[0]
        if kind == "enqueue":
            self.number += 1
            _, user, priority, front = operation
            return Enqueue(
                job_id=f"j{self.number}",
                user_id=user,
                priority=priority,
                number=self.number,
                front=front,
                submitted_at=float(self.number),
            )
        if kind == "clear":
            return Clear(by_user=operation[1], is_admin=operation[2])
        pool = sorted(state.running) if kind in ("finish", "started") else sorted(all_jobs(state))
        if not pool:
            return None
        job_id = pool[operation[1] % len(pool)]
        if kind == "finish":
            return Finished(job_id=job_id)
        if kind == "started":
            return Started(job_id=job_id)
        owner = all_jobs(state)[job_id].user_id
        who = operation[2]
        by = owner if who == "owner" else "root" if who == "admin" else f"not-{owner}"
        return Cancel(job_id=job_id, by_user=by, is_admin=who == "admin")


def lane_order(job: QueuedJob) -> tuple[int, bool, int]:
    """Within a user: priority, then front jobs newest first, then the rest oldest first."""
    return (-job.priority, not job.front, -job.number if job.front else job.number)


def check_invariants(before: QueueState, state: QueueState, effects: list[Any]) -> None:
    cap = state.config.max_running
    assert len(state.running) <= cap
    if state.lanes:  # work-conserving: nothing waits while a slot is free
        assert len(state.running) == cap
    jobs = all_jobs(state)
    waiting = {job_id for lane in state.lanes.values() for job_id in lane}
    assert sum(len(lane) for lane in state.lanes.values()) == len(waiting)  # one lane each
    assert not waiting & set(state.running)
    assert set(state.heads) == set(state.lanes)
    for user, lane in state.lanes.items():
        assert lane and all(job.user_id == user for job in lane.values())
        assert all(job_id == job.job_id for job_id, job in lane.items())
        head = lane[state.heads[user]]
        assert head == min(lane.values(), key=lane_order)
    for job_id, run in state.running.items():
        assert run.job.job_id == job_id and run.turn < state.turn
    # (c) priorities dominate; front dominates within a priority.
    for started in starts(effects):
        best = jobs[started]
        for job_id in waiting:
            other = jobs[job_id]
            assert other.priority <= best.priority
            if other.priority == best.priority and other.front:
                assert best.front


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(op, max_size=60), max_running=st.integers(1, 3))
def test_every_accepted_job_is_started_or_cancelled_exactly_once(
    ops: list[Any], max_running: int
) -> None:
    state = QueueState(config=QueueConfig(max_running=max_running))
    workload = Workload()
    log: list[Any] = []
    for operation in ops:
        event = workload.event(state, operation)
        if event is None:
            continue
        before = state
        state, effects = update(state, event)
        check_invariants(before, state, effects)
        log.extend(effects)
    while state.running:  # drain: everything left either runs or was cancelled
        state, effects = update(state, Finished(job_id=running_ids(state)[0]))
        check_invariants(state, state, effects)
        log.extend(effects)
    assert state == dataclasses.replace(state, lanes={}, heads={}, running={})
    accepted = [e.job.job_id for e in log if isinstance(e, Queued)]
    assert len(accepted) == len(set(accepted))
    started = starts(log)
    withdrawn = [e.job_id for e in log if isinstance(e, Removed) and e.by_user is not None]
    assert len(started) == len(set(started))
    assert len(withdrawn) == len(set(withdrawn))
    assert not set(started) & set(withdrawn)
    assert sorted(started + withdrawn) == sorted(accepted)
    removed = [e.job_id for e in log if isinstance(e, Removed)]
    assert sorted(removed) == sorted(accepted)  # and every one of them left exactly once


@settings(max_examples=100, deadline=None)
@given(
    a_jobs=st.integers(1, 100),
    finished_first=st.integers(0, 100),
    priority=st.integers(-2, 2),
    others=st.lists(st.tuples(st.sampled_from(("carol", "dave")), st.integers(1, 5)), max_size=3),
    bob_before=st.booleans(),
)
def test_no_starvation_a_newcomer_waits_for_at_most_one_job_per_other_busy_user(
    a_jobs: int,
    finished_first: int,
    priority: int,
    others: list[tuple[str, int]],
    bob_before: bool,
) -> None:
    q = Queue()
    if bob_before:  # bob was served once already, long ago
        q.enqueue("b-early", "bob", priority=priority)
    for i in range(a_jobs):
        q.enqueue(f"a{i}", "alice", priority=priority)
    for user, count in others:
        for i in range(count):
            q.enqueue(f"{user}-{q.number}-{i}", user, priority=priority)
    for _ in range(min(finished_first, a_jobs)):
        if q.state.running:
            q.finish(running_ids(q.state)[0])
    busy = set(q.state.lanes)
    mark = len(q.started())
    q.enqueue("b0", "bob", priority=priority)  # eligible from now on
    q.run_all()
    order = q.started()[mark:]
    ahead = order[: order.index("b0")]
    assert len(ahead) <= len(busy)
    assert len([j for j in ahead if j.startswith("a")]) <= 1


@settings(max_examples=100, deadline=None)
@given(ops=st.lists(op, max_size=40))
def test_the_snapshot_order_is_the_start_order(ops: list[Any]) -> None:
    state = QueueState()
    workload = Workload()
    for operation in ops:
        event = workload.event(state, operation)
        if event is not None:
            state, _ = update(state, event)
    predicted = pending_order(state)
    assert [e.job_id for e in snapshot(state).pending] == list(predicted)
    q = Queue(state=state)
    assert q.run_all() == list(predicted)


class Store:
    """What the store driver keeps, built only from the queue's effects."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, QueuedJob]] = {}
        self.served: dict[str, int] = {}

    def apply(self, effects: Iterable[Any]) -> None:
        for effect in effects:
            if isinstance(effect, Queued | Requeued):
                self.rows[effect.job.job_id] = ("queued", effect.job)
            elif isinstance(effect, StartJob):
                _, row = self.rows[effect.job_id]
                self.rows[effect.job_id] = (
                    "running",
                    dataclasses.replace(row, attempts=effect.attempt),
                )
                self.served[effect.user_id] = effect.turn
            elif isinstance(effect, Removed):
                del self.rows[effect.job_id]

    def restore(self, policy: str) -> Restore:
        # A database returns rows in whatever order: give them newest first.
        rows = sorted(self.rows.values(), key=lambda row: -row[1].number)
        return Restore(
            queued=tuple(j for status, j in rows if status == "queued"),
            running=tuple(j for status, j in rows if status == "running"),
            policy=policy,  # type: ignore[arg-type]
            served=dict(self.served),
        )


def _play(ops: list[Any], max_running: int) -> tuple[QueueState, Store, Workload]:
    state = QueueState(config=QueueConfig(max_running=max_running))
    store = Store()
    workload = Workload()
    for operation in ops:
        event = workload.event(state, operation)
        if event is not None:
            state, effects = update(state, event)
            store.apply(effects)
    return state, store, workload


@settings(max_examples=150, deadline=None)
@given(before=st.lists(op, max_size=40), after=st.lists(op, max_size=30), cap=st.integers(1, 2))
def test_after_a_restart_the_queue_makes_the_same_decisions(
    before: list[Any], after: list[Any], cap: int
) -> None:
    """(d) The store's rows are the queue: kill -9, restore with policy "fail", and the queue
    goes on exactly as the live one would have had its running jobs ended."""
    live, store, workload = _play(before, cap)
    restored, effects = update(QueueState(config=live.config), store.restore("fail"))
    assert sorted(e.job_id for e in effects if isinstance(e, Removed)) == sorted(live.running)
    assert all(e.reason == INTERRUPTED for e in effects if isinstance(e, Removed))
    expected = starts(effects)
    live_starts: list[str] = []
    for job_id in running_ids(live):
        live, ended = update(live, Finished(job_id=job_id))
        live_starts += starts(ended)
    assert live_starts == expected
    assert restored == live
    for operation in after:
        event = workload.event(live, operation)
        if event is None:
            continue
        live, live_effects = update(live, event)
        restored, restored_effects = update(restored, event)
        assert restored_effects == live_effects
    assert restored == live


@settings(max_examples=150, deadline=None)
@given(before=st.lists(op, max_size=40), cap=st.integers(1, 2))
def test_a_restart_requeues_interrupted_jobs_and_loses_none(before: list[Any], cap: int) -> None:
    live, store, _ = _play(before, cap)
    restored, effects = update(QueueState(config=live.config), store.restore("requeue"))
    restored_jobs, live_jobs = all_jobs(restored), all_jobs(live)
    assert set(restored_jobs) == set(live_jobs)
    requeued = {e.job.job_id for e in effects if isinstance(e, Requeued)}
    assert requeued == set(live.running)
    for job_id in requeued:
        marked = restored_jobs[job_id]
        assert marked.interruptions == 1 and marked.front
    for job_id, old in live_jobs.items():
        if job_id not in requeued:
            assert restored_jobs[job_id].interruptions == 0
            assert restored_jobs[job_id].priority == old.priority
    # Re-queued at the front of its priority: when the best class of waiting jobs holds only
    # interrupted ones, one of them restarts first.
    best = max(((j.priority, j.front) for j in restored_jobs.values()), default=None)
    in_best = {j.job_id for j in restored_jobs.values() if (j.priority, j.front) == best}
    if in_best and in_best <= requeued:
        assert starts(effects)[0] in requeued
    store.apply(effects)
    assert {row.job_id for _, row in store.rows.values()} == set(restored_jobs)
