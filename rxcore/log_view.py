"""The debugger's view of one recorded session: pages of records, states, diffs; per viewer.

This is the function API the web debugger's routes call (and the CLI uses): everything it
returns is plain data (maps, lists, strings, numbers) ready for JSON, via :func:`row_json`.

A viewer who is not an admin sees only the records attributed to their own jobs (see
:mod:`rxcore.log_attribution`), and states with other users' jobs taken out: map entries
keyed by another user's job id, maps naming another user's job, strings that are another
user's job id, and patch operations whose path goes through another user's job. Parts of a
state that name no job at all (a node-output cache keyed by content hash, for instance) are
left as they are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .log import Entry, Kind, LogError, LogReader
from .log_attribution import DEFAULT_FIELDS, Fields, LogIndex, Row
from .log_diff import Change, changes, resolve
from .log_query import KIND_NAMES, Cursor, Page, Query, page, update_index
from .log_sessions import SessionInfo, list_sessions

__all__ = [
    "Change",
    "Cursor",
    "LogView",
    "Page",
    "Query",
    "SessionInfo",
    "Viewer",
    "list_sessions",
    "row_json",
]

_DROP: Any = object()


@dataclass(frozen=True)
class Viewer:
    user_id: str
    is_admin: bool = False


class LogView:
    """One log, opened for reading (it may still be growing)."""

    def __init__(self, path: str | os.PathLike[str], fields: Fields = DEFAULT_FIELDS) -> None:
        self.path = Path(path)
        self.reader = LogReader(self.path)
        self.fields = fields
        self._index = LogIndex()

    def index(self) -> LogIndex:
        """Job owners and time anchors, brought up to date with the log."""
        return update_index(self.reader, self._index, self.fields)

    def page(
        self,
        query: Query | None = None,
        *,
        cursor: Cursor | None = None,
        offset: int = 0,
        limit: int = 100,
        viewer: Viewer | None = None,
    ) -> Page:
        """Matching records after ``cursor``; a non-admin's are limited to their own jobs."""
        query = query or Query()
        private = viewer is not None and not viewer.is_admin
        if private:
            assert viewer is not None
            query = replace(query, users=frozenset({viewer.user_id}))
        index = self.index() if query.needs_index() or private else None
        result = page(
            self.reader, query, cursor=cursor, offset=offset, limit=limit, index=index,
            fields=self.fields,
        )  # fmt: skip
        if not private:
            return result
        assert viewer is not None and index is not None
        rows = [_scrub_row(row, viewer, index.owners, self.fields) for row in result.rows]
        return Page(rows, result.next)

    def state_at(self, seq: int, pointer: str = "", *, viewer: Viewer | None = None) -> Any:
        """The plain state after event ``seq`` (or the part at the JSON ``pointer``)."""
        last = self.reader.last_seq or 0
        if seq < 0 or seq > last:
            raise LogError(f"seq {seq} is outside this log (seq 0..{last})")
        state = self.reader.plain_state_at(seq)
        if viewer is not None and not viewer.is_admin:
            state = scrub(state, viewer, self.index().owners, self.fields)
            state = None if state is _DROP else state
        return resolve(state, pointer)

    def diff(
        self, seq_a: int, seq_b: int, pointer: str = "", *, viewer: Viewer | None = None
    ) -> list[Change]:
        """What changed in the state (or the part at ``pointer``) from ``seq_a`` to ``seq_b``."""
        before = self.state_at(seq_a, pointer, viewer=viewer)
        after = self.state_at(seq_b, pointer, viewer=viewer)
        return changes(before, after, pointer if pointer != "/" else "")

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> LogView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scrub(
    value: Any, viewer: Viewer, owners: dict[str, str], fields: Fields = DEFAULT_FIELDS
) -> Any:
    """``value`` without the parts that belong to other users' jobs (``_DROP`` if all of it)."""
    if isinstance(value, dict):
        job = value.get(fields.job)
        if isinstance(job, str) and owners.get(job, viewer.user_id) != viewer.user_id:
            return _DROP
        owner = value.get(fields.owner)
        if isinstance(job, str) and owner is not None and str(owner) != viewer.user_id:
            return _DROP
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and owners.get(key, viewer.user_id) != viewer.user_id:
                continue
            cleaned = scrub(item, viewer, owners, fields)
            if cleaned is not _DROP:
                out[key] = cleaned
        return out
    if isinstance(value, list | tuple):
        items = [scrub(item, viewer, owners, fields) for item in value]
        return [item for item in items if item is not _DROP]
    if isinstance(value, str) and owners.get(value, viewer.user_id) != viewer.user_id:
        return _DROP  # another user's job id, in a list of ids for instance
    return value


def _scrub_row(row: Row, viewer: Viewer, owners: dict[str, str], fields: Fields) -> Row:
    entry = row.entry
    if entry.kind == Kind.STATE:
        ops = []
        for op in entry.value:
            parts = str(op.get("path", "")).split("/")
            if any(owners.get(p, viewer.user_id) != viewer.user_id for p in parts):
                continue
            if "value" in op:
                cleaned = scrub(op["value"], viewer, owners, fields)
                if cleaned is _DROP:
                    continue  # the whole value was another user's: so is the operation
                op = {**op, "value": cleaned}
            ops.append(op)
        value: Any = ops
    else:
        value = scrub(entry.value, viewer, owners, fields)
        value = None if value is _DROP else value
    jobs = frozenset(j for j in row.jobs if owners.get(j) == viewer.user_id)
    return Row(replace(entry, value=value), jobs, frozenset({viewer.user_id}), row.time)


def row_json(row: Row) -> dict[str, Any]:
    """A row as JSON-ready data (bytes become ``{"bytes": length}``)."""
    entry: Entry = row.entry
    out: dict[str, Any] = {
        "kind": KIND_NAMES[entry.kind],
        "seq": entry.seq,
        "name": entry.name,
        "value": plain_json(entry.value),
        "jobs": sorted(row.jobs),
        "users": sorted(row.users),
        "time": row.time,
    }
    if entry.change:
        out["change"] = entry.change
    return out


def change_json(change: Change) -> dict[str, Any]:
    return {
        "op": change.op,
        "path": change.path,
        "before": plain_json(change.before),
        "after": plain_json(change.after),
    }


def plain_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"bytes": len(value)}
    return value
