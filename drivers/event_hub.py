"""The event hub: job events numbered, retained for resuming, and fanned out to subscribers.

A driver whose sink is the executor's job events. Each event gets the hub's next sequence
number and is kept in a bounded window, so a client that reconnects with the last seq it saw
gets everything after it (or is told that it fell out of the window and must reload). Each
subscriber has its own bounded buffer: when a slow client falls behind, progress events for a
job it has not yet received are replaced by the newest one (latest wins) rather than queued;
events that carry results are never dropped, and a client that still falls a whole buffer
behind is closed so it can resume by seq instead of growing memory without bound.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import reactivex
from reactivex import Observable
from reactivex.abc import DisposableBase

from components.workflow.protocol import JobEvent, JobProgress, WorkflowChanged
from rxcore.source import Source

Accept = Callable[[JobEvent | WorkflowChanged], bool]


@dataclass(frozen=True)
class Numbered:
    seq: int
    event: JobEvent | WorkflowChanged
    time: float = 0.0  # wall-clock time of publishing, for clients' delivery delay and logs


class Overflow(Exception):
    """The subscriber fell a whole buffer behind; it should reconnect with its last seq."""


@dataclass
class Subscription:
    """One client's view of the hub: ``await next_batch()`` gives what arrived since the last
    call. ``gap`` is True when events it asked to resume from had already left the window."""

    accept: Accept
    limit: int
    gap: bool = False
    pending: deque[Numbered] = field(default_factory=deque)
    coalesced: int = 0
    closed: bool = False
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _overflow: bool = False

    def offer(self, item: Numbered, *, backlog: bool = False) -> None:
        """Queue ``item`` if accepted; ``backlog`` (a resume's replay, already bounded by the
        hub's window) bypasses the buffer limit."""
        if self.closed or not self.accept(item.event):
            return
        if backlog:
            self.pending.append(item)
            self._ready.set()
            return
        if isinstance(item.event, JobProgress) and len(self.pending) >= self.limit // 2:
            # Behind: a newer progress report makes an unsent older one of the same job moot.
            for index in range(len(self.pending) - 1, -1, -1):
                old = self.pending[index].event
                if isinstance(old, JobProgress) and old.job_id == item.event.job_id:
                    del self.pending[index]
                    self.coalesced += 1
                    break
        if len(self.pending) >= self.limit:
            self._overflow = True
        else:
            self.pending.append(item)
        self._ready.set()

    async def next_batch(self) -> list[Numbered]:
        """Everything pending (waits for at least one); raises Overflow once it fell behind."""
        while not self.pending and not self._overflow and not self.closed:
            self._ready.clear()
            await self._ready.wait()
        if self._overflow:
            raise Overflow(f"the client fell more than {self.limit} events behind")
        batch = list(self.pending)
        self.pending.clear()
        return batch

    def close(self) -> None:
        self.closed = True
        self._ready.set()


class EventHub:
    """Numbers, retains (``retain`` events) and fans out the job events it is given."""

    def __init__(self, *, retain: int = 10_000, client_buffer: int = 1_000) -> None:
        self.retain = retain
        self.client_buffer = client_buffer
        self.seq = 0
        self._window: deque[Numbered] = deque(maxlen=retain)
        self._subscribers: list[Subscription] = []
        self._listeners: list[Callable[[Numbered], None]] = []
        self._subscription: DisposableBase | None = None

    # -- the driver --------------------------------------------------------------------------
    def __call__(self, sink: Observable[Any]) -> Source:
        self._subscription = sink.subscribe(self.publish)
        return Source(reactivex.never())

    def dispose(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()
        for subscriber in self._subscribers:
            subscriber.close()
        self._subscribers.clear()

    # -- on the loop -------------------------------------------------------------------------
    def publish(self, event: Any) -> None:
        if not isinstance(event, JobEvent | WorkflowChanged):
            return
        self.seq += 1
        item = Numbered(self.seq, event, time.time())
        self._window.append(item)
        for listener in self._listeners:
            listener(item)
        for subscriber in self._subscribers:
            subscriber.offer(item)

    def listen(self, listener: Callable[[Numbered], None]) -> Callable[[], None]:
        """Call ``listener`` for every event (history, metrics); returns its remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def subscribe(self, accept: Accept, after: int | None = None) -> Subscription:
        """A subscription to the events ``accept`` takes; with ``after``, the retained events
        after that seq come first."""
        subscription = Subscription(accept=accept, limit=self.client_buffer)
        if after is not None:
            oldest = self._window[0].seq if self._window else self.seq + 1
            subscription.gap = after + 1 < oldest and after < self.seq
            for item in self.since(after):
                subscription.offer(item, backlog=True)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close()
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    def since(self, after: int) -> Iterator[Numbered]:
        """The retained events with seq > ``after``."""
        if not self._window or after >= self.seq:
            return iter(())
        start = max(0, after + 1 - self._window[0].seq)
        return (self._window[i] for i in range(start, len(self._window)))

    @property
    def connections(self) -> int:
        return len(self._subscribers)
