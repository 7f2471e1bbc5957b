"""The job queue: each rule on its own, then properties over random workloads."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.queue import (
    CANCELLED,
    DUPLICATE,
    FINISHED,
    FORBIDDEN,
    INTERRUPTED,
    NOT_FOUND,
    QUEUE_FULL,
    Cancel,
    CancelRunning,
    Clear,
    Enqueue,
    Finished,
    QueueConfig,
    Queued,
    QueuedJob,
    QueueState,
    Rejected,
    Removed,
    Requeued,
    Restore,
    Started,
    StartJob,
    all_jobs,
    find,
    update,
)
from components.queue_component import queue_component
from components.queue_views import pending_order, position, positions, snapshot, user_entries
from rxcore.message import pack, to_plain, unpack
from rxcore.state import with_state
from rxcore.state_diff import state_patch
from rxcore.testing import drive


class Queue:
    """Feeds events through ``update`` and keeps every effect; numbers jobs like ComfyUI."""

    def __init__(self, config: QueueConfig | None = None, state: QueueState | None = None) -> None:
        self.state = state or QueueState(config=config or QueueConfig())
        self.effects: list[Any] = []
        self.number = 0

    def send(self, event: Any) -> list[Any]:
        self.state, effects = update(self.state, event)
        self.effects.extend(effects)
        return effects

    def enqueue(self, job_id: str, user: str, priority: int = 0, front: bool = False) -> list[Any]:
        self.number += 1
        return self.send(
            Enqueue(
                job_id=job_id,
                user_id=user,
                priority=priority,
                number=self.number,
                front=front,
                submitted_at=1000.0 + self.number,
            )
        )

    def finish(self, job_id: str) -> list[Any]:
        return self.send(Finished(job_id=job_id))

    def started(self) -> list[str]:
        return [e.job_id for e in self.effects if isinstance(e, StartJob)]

    def run_all(self) -> list[str]:
        """Finish running jobs until the queue is empty; the start order of what was waiting."""
        before = len(self.started())
        while self.state.running:
            self.finish(running_ids(self.state)[0])
        return self.started()[before:]


def running_ids(state: QueueState) -> list[str]:
    """The running jobs, oldest first."""
    return [run.job.job_id for run in sorted(state.running.values(), key=lambda run: run.turn)]


def statuses(state: QueueState) -> dict[str, str]:
    return {job_id: run.status for job_id, run in state.running.items()}


def starts(effects: Iterable[Any]) -> list[str]:
    return [e.job_id for e in effects if isinstance(e, StartJob)]


# -- starting -------------------------------------------------------------------------------------
def test_an_idle_queue_starts_a_job_at_once_and_the_next_when_it_finishes() -> None:
    q = Queue()
    effects = q.enqueue("j1", "alice")
    assert isinstance(effects[0], Queued) and effects[0].job.job_id == "j1"
    assert effects[1] == StartJob(job_id="j1", user_id="alice", attempt=1, turn=0)
    assert starts(q.enqueue("j2", "alice")) == []
    effects = q.finish("j1")
    assert effects == [
        Removed(job_id="j1", user_id="alice", reason=FINISHED),
        StartJob(job_id="j2", user_id="alice", attempt=1, turn=1),
    ]
    assert q.finish("j2") == [Removed(job_id="j2", user_id="alice", reason=FINISHED)]
    assert q.state.lanes == {} and q.state.heads == {} and q.state.running == {}


def test_max_running_jobs_run_at_once() -> None:
    q = Queue(QueueConfig(max_running=2))
    for i in range(4):
        q.enqueue(f"j{i}", "alice")
    assert q.started() == ["j0", "j1"]
    assert running_ids(q.state) == ["j0", "j1"]
    assert starts(q.finish("j1")) == ["j2"]


def test_jobs_of_one_user_run_in_submission_order() -> None:
    q = Queue()
    for i in range(5):
        q.enqueue(f"j{i}", "alice")
    assert q.run_all() == ["j1", "j2", "j3", "j4"]


def test_higher_priority_starts_first() -> None:
    q = Queue()
    q.enqueue("running", "alice")
    q.enqueue("low", "alice", priority=0)
    q.enqueue("high", "bob", priority=5)
    q.enqueue("mid", "alice", priority=2)
    assert q.run_all() == ["high", "mid", "low"]


def test_front_jumps_ahead_within_its_priority_only() -> None:
    q = Queue()
    q.enqueue("running", "alice")
    q.enqueue("a", "alice")
    q.enqueue("b", "alice")
    q.enqueue("urgent", "alice", priority=1)
    q.enqueue("f1", "alice", front=True)
    q.enqueue("f2", "alice", front=True)
    # As in ComfyUI, the newest front job goes first; priority still dominates.
    assert q.run_all() == ["urgent", "f2", "f1", "a", "b"]


def test_front_goes_ahead_of_other_users_normal_jobs() -> None:
    q = Queue()
    q.enqueue("running", "alice")
    q.enqueue("b1", "bob")
    q.enqueue("a-front", "alice", front=True)
    assert q.run_all() == ["a-front", "b1"]


# -- fairness -------------------------------------------------------------------------------------
def test_a_later_user_is_served_after_at_most_one_more_job_of_a_busy_user() -> None:
    q = Queue()
    for i in range(100):
        q.enqueue(f"a{i}", "alice")
    q.enqueue("b0", "bob")
    order = q.run_all()
    assert order[:2] == ["b0", "a1"]
    assert order[1:] == [f"a{i}" for i in range(1, 100)]


def test_users_take_turns() -> None:
    q = Queue()
    q.enqueue("running", "carol")
    for i in range(3):
        q.enqueue(f"a{i}", "alice")
    for i in range(3):
        q.enqueue(f"b{i}", "bob")
    q.enqueue("c0", "carol")
    # carol was served last (her running job), so alice and bob go before her.
    assert q.run_all() == ["a0", "b0", "c0", "a1", "b1", "a2", "b2"]


def test_a_user_who_comes_back_does_not_jump_others_who_waited() -> None:
    q = Queue()
    q.enqueue("a0", "alice")  # alice served at turn 0
    q.enqueue("b0", "bob")
    q.enqueue("b1", "bob")
    q.finish("a0")  # b0 starts (turn 1)
    q.enqueue("a1", "alice")  # alice was served before bob's latest: she goes next
    assert q.run_all() == ["a1", "b1"]


def test_served_turns_are_recorded_per_user() -> None:
    q = Queue()
    q.enqueue("a0", "alice")
    q.enqueue("b0", "bob")
    q.finish("a0")
    assert q.state.served == {"alice": 0, "bob": 1}
    assert q.state.turn == 2


# -- cancelling -----------------------------------------------------------------------------------
def test_cancelling_a_waiting_job_removes_it() -> None:
    q = Queue()
    q.enqueue("j1", "alice")
    q.enqueue("j2", "alice")
    q.enqueue("j3", "alice")
    effects = q.send(Cancel(job_id="j2", by_user="alice"))
    assert effects == [Removed(job_id="j2", user_id="alice", reason=CANCELLED, by_user="alice")]
    assert q.run_all() == ["j3"]


def test_cancelling_a_running_job_asks_the_executor_and_keeps_the_slot_until_it_finishes() -> None:
    q = Queue()
    q.enqueue("j1", "alice")
    q.enqueue("j2", "alice")
    assert q.send(Cancel(job_id="j1", by_user="alice")) == [CancelRunning(job_id="j1")]
    assert statuses(q.state) == {"j1": "cancelling"}
    assert q.send(Cancel(job_id="j1", by_user="alice")) == []  # asking again says nothing new
    assert q.send(Started(job_id="j1")) == [] and statuses(q.state) == {"j1": "cancelling"}
    assert q.finish("j1") == [
        Removed(job_id="j1", user_id="alice", reason=CANCELLED),
        StartJob(job_id="j2", user_id="alice", attempt=1, turn=1),
    ]


def test_only_the_owner_or_an_admin_may_cancel() -> None:
    q = Queue()
    q.enqueue("j1", "alice")
    q.enqueue("j2", "alice")
    [rejected] = q.send(Cancel(job_id="j2", by_user="mallory"))
    assert isinstance(rejected, Rejected)
    assert (rejected.job_id, rejected.action, rejected.reason) == ("j2", "cancel", FORBIDDEN)
    assert find(q.state, "j2") is not None
    [rejected] = q.send(Cancel(job_id="j1", by_user="mallory"))  # running: the same rule
    assert isinstance(rejected, Rejected) and rejected.reason == FORBIDDEN
    assert q.send(Cancel(job_id="j2", by_user="root", is_admin=True)) == [
        Removed(job_id="j2", user_id="alice", reason=CANCELLED, by_user="root")
    ]
    assert q.send(Cancel(job_id="j1", by_user="root", is_admin=True)) == [
        CancelRunning(job_id="j1")
    ]


def test_cancelling_an_unknown_job_is_rejected() -> None:
    q = Queue()
    [rejected] = q.send(Cancel(job_id="nope", by_user="alice"))
    assert isinstance(rejected, Rejected) and rejected.reason == NOT_FOUND


def test_clear_cancels_the_users_waiting_jobs_and_leaves_running_ones() -> None:
    q = Queue()
    q.enqueue("a0", "alice")
    q.enqueue("a1", "alice")
    q.enqueue("b0", "bob")
    q.enqueue("a2", "alice")
    effects = q.send(Clear(by_user="alice"))
    assert [(e.job_id, e.reason) for e in effects] == [("a1", CANCELLED), ("a2", CANCELLED)]
    assert set(all_jobs(q.state)) == {"a0", "b0"}
    assert q.run_all() == ["b0"]


def test_an_admin_clear_cancels_every_waiting_job() -> None:
    q = Queue()
    q.enqueue("a0", "alice")
    q.enqueue("a1", "alice")
    q.enqueue("b0", "bob")
    effects = q.send(Clear(by_user="root", is_admin=True))
    assert [e.job_id for e in effects] == ["a1", "b0"]
    assert q.state.lanes == {} and running_ids(q.state) == ["a0"]


# -- refusing -------------------------------------------------------------------------------------
def test_a_duplicate_job_id_is_rejected() -> None:
    q = Queue()
    q.enqueue("j1", "alice")
    [rejected] = q.enqueue("j1", "bob")
    assert isinstance(rejected, Rejected)
    assert (rejected.action, rejected.reason) == ("enqueue", DUPLICATE)
    assert all_jobs(q.state)["j1"].user_id == "alice"


def test_the_per_user_limit_counts_waiting_jobs() -> None:
    q = Queue(QueueConfig(max_queued_per_user=2))
    q.enqueue("a0", "alice")  # running: not counted
    q.enqueue("a1", "alice")
    q.enqueue("a2", "alice")
    [rejected] = q.enqueue("a3", "alice")
    assert isinstance(rejected, Rejected) and rejected.reason == QUEUE_FULL
    assert "2 jobs waiting" in rejected.message
    assert isinstance(q.enqueue("b0", "bob")[0], Queued)  # other users are not affected
    q.send(Cancel(job_id="a2", by_user="alice"))
    assert isinstance(q.enqueue("a4", "alice")[0], Queued)


def test_a_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="max_running"):
        QueueConfig(max_running=0)
    with pytest.raises(ValueError):
        QueueConfig(max_queued_per_user=-1)
    with pytest.raises(ValueError):
        QueueConfig(max_restarts=-1)


def test_unrelated_events_change_nothing() -> None:
    q = Queue()
    q.enqueue("j1", "alice")
    before = q.state
    for event in (object(), Finished(job_id="ghost"), Started(job_id="ghost"), Clear(by_user="x")):
        assert q.send(event) == []
        assert q.state is before


def test_started_marks_the_job_running() -> None:
    q = Queue()
    q.enqueue("j1", "alice")
    assert statuses(q.state) == {"j1": "starting"}
    q.send(Started(job_id="j1"))
    assert statuses(q.state) == {"j1": "running"}


# -- snapshot -------------------------------------------------------------------------------------
def test_snapshot_lists_running_and_pending_in_start_order() -> None:
    q = Queue()
    q.enqueue("a0", "alice")
    q.send(Started(job_id="a0"))
    q.enqueue("a1", "alice")
    q.enqueue("a2", "alice")
    q.enqueue("b0", "bob", priority=1)
    q.enqueue("c0", "carol")
    view = snapshot(q.state)
    assert [(e.position, e.job_id, e.status) for e in view.running] == [(0, "a0", "running")]
    assert [(e.position, e.job_id) for e in view.pending] == [
        (0, "b0"),
        (1, "c0"),
        (2, "a1"),
        (3, "a2"),
    ]
    assert view.pending[0].priority == 1 and view.pending[1].number == 5
    assert view.remaining == 5
    assert positions(q.state) == {"b0": 0, "c0": 1, "a1": 2, "a2": 3}
    assert position(q.state, "a2") == 3
    assert position(q.state, "a0") is None and position(q.state, "zzz") is None
    mine = user_entries(q.state, "alice")
    assert [e.job_id for e in mine.running] == ["a0"]
    assert [(e.job_id, e.position) for e in mine.pending] == [("a1", 2), ("a2", 3)]
    assert q.run_all() == [e.job_id for e in view.pending]


def test_the_state_is_plain_loggable_data() -> None:
    q = Queue(QueueConfig(max_running=2, max_queued_per_user=10))
    q.enqueue("a0", "alice")
    q.enqueue("a1", "alice", priority=2, front=True)
    q.enqueue("b0", "bob")
    q.send(Cancel(job_id="a0", by_user="alice"))
    assert unpack(pack(q.state)) == q.state
    for effect in q.effects:
        assert unpack(pack(effect)) == effect
    before = q.state
    q.enqueue("c0", "carol")
    patch = state_patch(before, q.state)
    assert patch and all(op["path"].split("/")[1] in {"lanes", "heads"} for op in patch)
    import jsonpatch

    assert jsonpatch.apply_patch(to_plain(before), patch) == to_plain(q.state)


# -- restore --------------------------------------------------------------------------------------
def job(job_id: str, user: str, number: int, **fields: Any) -> QueuedJob:
    return QueuedJob(job_id=job_id, user_id=user, number=number, **fields)


def test_restore_keeps_waiting_jobs_waiting_and_requeues_the_interrupted_one_first() -> None:
    state = QueueState()
    event = Restore(
        queued=(job("b0", "bob", 3), job("a1", "alice", 2)),
        running=(job("a0", "alice", 1, attempts=1),),
        served={"alice": 0},
    )
    state, effects = update(state, event)
    requeued = job("a0", "alice", 1, attempts=1, front=True, interruptions=1)
    assert effects == [
        Requeued(job=requeued),
        StartJob(job_id="a0", user_id="alice", attempt=2, turn=1),
    ]
    q = Queue(state=state)
    assert q.run_all() == ["b0", "a1"]


def test_restore_with_the_fail_policy_drops_interrupted_jobs() -> None:
    event = Restore(
        queued=(job("a1", "alice", 2),), running=(job("a0", "alice", 1, attempts=1),), policy="fail"
    )
    state, effects = update(QueueState(), event)
    assert effects == [
        Removed(job_id="a0", user_id="alice", reason=INTERRUPTED),
        StartJob(job_id="a1", user_id="alice", attempt=1, turn=0),
    ]
    assert find(state, "a0") is None


def test_a_job_that_keeps_crashing_the_process_is_dropped_after_max_restarts() -> None:
    state = QueueState(config=QueueConfig(max_restarts=1))
    crashing = job("a0", "alice", 1, attempts=1)
    state, effects = update(state, Restore(running=(crashing,)))
    assert isinstance(effects[0], Requeued) and effects[0].job.interruptions == 1
    again = all_jobs(state)["a0"]
    state, effects = update(state, Restore(running=(again,)))
    assert effects == [Removed(job_id="a0", user_id="alice", reason=INTERRUPTED)]
    assert all_jobs(state) == {}


def test_restore_replaces_the_contents_and_keeps_the_config() -> None:
    q = Queue(QueueConfig(max_running=3))
    q.enqueue("old", "alice")
    q.send(Restore(queued=(job("new", "bob", 9),)))
    assert set(all_jobs(q.state)) == {"new"} and q.state.config.max_running == 3


# -- the component --------------------------------------------------------------------------------
def test_the_component_emits_effects_and_records_its_state() -> None:
    main = with_state(lambda sources: queue_component(sources, config=QueueConfig()))
    script = [
        ("queue", Enqueue(job_id="j1", user_id="alice", number=1, submitted_at=1.0)),
        ("queue", Enqueue(job_id="j2", user_id="bob", number=2, submitted_at=2.0)),
        ("queue", Cancel(job_id="j2", by_user="mallory")),
        ("queue", Finished(job_id="j1")),
    ]
    out = drive(main, script)
    assert starts(out["queue"]) == ["j1", "j2"]
    assert [type(e).__name__ for e in out["queue"]] == [
        "Queued",
        "StartJob",
        "Queued",
        "Rejected",
        "Removed",
        "StartJob",
    ]
    names = [name for name, _ in out["@state"]]
    assert names == ["queue/Enqueue", "queue/Enqueue", "queue/Finished"]  # the refusal: no change
    assert running_ids(out["@state"][-1][1]) == ["j2"]


# -- properties -----------------------------------------------------------------------------------
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
