"""Who and when a log record is about: the jobs and users it belongs to, and its time.

The log format has no per-record owner or timestamp, so both are read from the values
themselves, by field name (:class:`Fields`): a map with a ``job_id`` names a job, one with a
``job_id`` and a ``user_id`` also says whose it is, a ``request_id`` of the form
``"<job id>/..."`` belongs to that job, and time fields (``submitted_at``, a clock tick's
``time``) move the log's clock forward. A record's time is therefore the latest time known at
or before it (the header's creation time at first): a lower bound, exact at the anchors.

A sink belongs to the jobs it names, or else to those of the event that caused it (same seq); a
state change to its cause's jobs and to those its patch paths name (``/jobs/<id>/...``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .log import Entry, Kind

_MAX_DEPTH = 64


@dataclass(frozen=True)
class Fields:
    """The field names attribution looks for."""

    job: str = "job_id"
    users: tuple[str, ...] = ("user_id", "by_user")
    owner: str = "user_id"  # with ``job`` in the same map: the job's owner
    request: str = "request_id"
    times: tuple[str, ...] = ("submitted_at", "time")


DEFAULT_FIELDS = Fields()


@dataclass
class Found:
    """What one value mentions."""

    jobs: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    owners: dict[str, str] = field(default_factory=dict)
    time: float | None = None


def scan_value(value: Any, fields: Fields = DEFAULT_FIELDS) -> Found:
    """The jobs, users, job owners and latest time mentioned anywhere in a plain value."""
    found = Found()
    _walk(value, fields, found, 0)
    return found


def _walk(value: Any, fields: Fields, found: Found, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        job = value.get(fields.job)
        if isinstance(job, str) and job:
            found.jobs.add(job)
            owner = value.get(fields.owner)
            if isinstance(owner, str | int) and not isinstance(owner, bool):
                found.owners[job] = str(owner)
        for name in fields.users:
            user = value.get(name)
            if isinstance(user, str | int) and not isinstance(user, bool):
                found.users.add(str(user))
        request = value.get(fields.request)
        if isinstance(request, str) and "/" in request:
            found.jobs.add(request.partition("/")[0])
        for name in fields.times:
            t = value.get(name)
            if isinstance(t, int | float) and not isinstance(t, bool) and t > 0:
                found.time = t if found.time is None else max(found.time, t)
        for item in value.values():
            if isinstance(item, dict | list | tuple):
                _walk(item, fields, found, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, dict | list | tuple):
                _walk(item, fields, found, depth + 1)


def patch_jobs(ops: Iterable[Mapping[str, Any]], known: Mapping[str, Any]) -> set[str]:
    """Known job ids that appear as keys in a JSON patch's paths (or in its values)."""
    jobs: set[str] = set()
    for op in ops:
        for part in str(op.get("path", "")).split("/"):
            if part in known:
                jobs.add(part)
    return jobs


@dataclass
class LogIndex:
    """Job owners and time anchors of a whole log, built incrementally (the log may grow)."""

    owners: dict[str, str] = field(default_factory=dict)
    first_seen: dict[str, int] = field(default_factory=dict)
    anchor_seqs: list[int] = field(default_factory=list)
    anchor_times: list[float] = field(default_factory=list)
    upto: int = -1  # every record with seq <= upto has been read

    def add_time(self, seq: int, t: float) -> None:
        if self.anchor_times and t <= self.anchor_times[-1]:
            return  # keep times non-decreasing: a late-arriving older stamp says nothing new
        self.anchor_seqs.append(seq)
        self.anchor_times.append(t)

    def time_at(self, seq: int) -> float | None:
        i = bisect.bisect_right(self.anchor_seqs, seq) - 1
        return self.anchor_times[i] if i >= 0 else None

    def first_seq_at_or_after(self, t: float) -> int | None:
        """The seq of the first anchor whose time is >= ``t``."""
        i = bisect.bisect_left(self.anchor_times, t)
        return self.anchor_seqs[i] if i < len(self.anchor_seqs) else None


@dataclass(frozen=True)
class Row:
    """A log entry with what attribution found out about it."""

    entry: Entry
    jobs: frozenset[str]
    users: frozenset[str]
    time: float | None


class Attributor:
    """Attributes entries read in log order; seed it with an index to start mid-log."""

    def __init__(
        self, index: LogIndex | None = None, fields: Fields = DEFAULT_FIELDS, start: int = 0
    ) -> None:
        self.fields = fields
        self._owners: dict[str, str] = dict(index.owners) if index is not None else {}
        self._time = index.time_at(start) if index is not None else None
        self._cause = -1
        self._cause_jobs: frozenset[str] = frozenset()

    def row(self, entry: Entry) -> Row:
        if entry.seq != self._cause:
            self._cause, self._cause_jobs = entry.seq, frozenset()
        users: set[str] = set()
        if entry.kind == Kind.HEADER:
            created = entry.value.get("created") if isinstance(entry.value, dict) else None
            if isinstance(created, int | float) and self._time is None:
                self._time = float(created)
            jobs: set[str] = set()
        elif entry.kind in (Kind.EVENT, Kind.SINK):
            found = scan_value(entry.value, self.fields)
            self._owners.update(found.owners)
            if found.time is not None and (self._time is None or found.time > self._time):
                self._time = found.time
            jobs, users = found.jobs, found.users
            if entry.kind == Kind.EVENT:
                self._cause_jobs = frozenset(jobs)
            elif not jobs:
                # Only sinks that name no job inherit the cause's: the event that finishes one
                # job also starts the next, and that start belongs to the next job's owner.
                jobs = set(self._cause_jobs)
        elif entry.kind == Kind.STATE:
            jobs = set(self._cause_jobs) | patch_jobs(entry.value, self._owners)
        else:
            jobs = set()
        users.update(self._owners[j] for j in jobs if j in self._owners)
        return Row(entry, frozenset(jobs), frozenset(users), self._time)
