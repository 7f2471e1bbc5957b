"""The job queue: each rule on its own, then properties over random workloads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

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
from components.queue_views import position, positions, snapshot, user_entries
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
