"""JSON patches (RFC 6902) between two states, found by walking the state objects themselves.

States are immutable and updated by copying only what changes, so the unchanged parts of the
old and new state are the very same objects. Walking both and skipping what is identical costs
as much as what changed, not as much as the whole state. ``jsonpatch.make_patch`` cannot do
that: it needs both states as plain maps first, and converting the whole state on every change
made recording a 200-node job cost about 20 ms per node. The patch is what ``make_patch`` on the
plain (redacted) forms would accept as correct: applied to ``to_plain(before)`` it gives
``to_plain(after)``; it is not always the shortest such patch.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from rxcore import message

Patch = list[dict[str, Any]]

_PRIMITIVES = (str, int, float, bool, bytes, type(None))
_MISSING = object()


def state_patch(before: Any, after: Any) -> Patch:
    """The operations that turn the plain form of ``before`` into that of ``after``."""
    ops: Patch = []
    _walk(before, after, "", ops)
    return ops


def _walk(before: Any, after: Any, path: str, ops: Patch) -> None:
    if before is after:
        return
    kind = type(before)
    if kind is type(after):
        if kind is dict:
            _dicts(before, after, path, ops)
            return
        if kind is tuple or kind is list:
            _sequences(before, after, path, ops)
            return
        if kind in _PRIMITIVES:
            if before != after:
                ops.append({"op": "replace", "path": path, "value": after})
            return
        if dataclasses.is_dataclass(kind):
            for name in _logged_fields(kind):
                old, new = getattr(before, name), getattr(after, name)
                if old is not new:
                    _walk(old, new, f"{path}/{_escape(name)}", ops)
            return
    # Anything else (a pydantic model, a set, a change of type): compare the logged forms.
    _replace_if_changed(before, after, path, ops)


def _dicts(before: dict[Any, Any], after: dict[Any, Any], path: str, ops: Patch) -> None:
    start = len(ops)
    for key in before:
        if key not in after:
            if type(key) is not str:
                break
            ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
    else:
        for key, value in after.items():
            old = before.get(key, _MISSING)
            if old is value:
                continue
            if type(key) is not str:
                break
            where = f"{path}/{_escape(key)}"
            if old is _MISSING:
                ops.append({"op": "add", "path": where, "value": _plain(value)})
            else:
                _walk(old, value, where, ops)
        else:
            return
    # A JSON pointer names string keys only: a map whose other keys changed is replaced whole.
    del ops[start:]
    _replace_if_changed(before, after, path, ops)


def _sequences(before: Any, after: Any, path: str, ops: Patch) -> None:
    common = min(len(before), len(after))
    for index in range(common):
        old, new = before[index], after[index]
        if old is not new:
            _walk(old, new, f"{path}/{index}", ops)
    for index in range(common, len(after)):
        ops.append({"op": "add", "path": f"{path}/{index}", "value": _plain(after[index])})
    for index in range(len(before) - 1, common - 1, -1):
        ops.append({"op": "remove", "path": f"{path}/{index}"})


def _replace_if_changed(before: Any, after: Any, path: str, ops: Patch) -> None:
    plain = message.to_plain(after)
    if message.to_plain(before) != plain:
        ops.append({"op": "replace", "path": path, "value": plain})


@cache
def _logged_fields(cls: type) -> tuple[str, ...]:
    """Fields whose logged value can change: a sensitive field is always the redaction mark."""
    return tuple(
        f.name for f in dataclasses.fields(cls) if not f.metadata.get(message.SENSITIVE_KEY)
    )


def _plain(value: Any) -> Any:
    return value if type(value) in _PRIMITIVES else message.to_plain(value)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
