"""Text forms of log records, states and diffs for `rxgen log` (plain, or coloured on a tty)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from rxcore.log import Entry, Kind
from rxcore.log_diff import Change
from rxcore.message import TYPE_KEY

_LINE_MAX = 240
_LEAF_MAX = 160
_COLOURS = {"added": "\033[32m", "removed": "\033[31m", "changed": "\033[33m"}
_RESET = "\033[0m"
_SIGNS = {"added": "+", "removed": "-", "changed": "~"}


def type_name(value: dict[str, Any]) -> str:
    return str(value[TYPE_KEY]).rpartition(":")[2].rpartition(".")[2]


def pretty(value: Any) -> str:
    """One-line form: dataclasses as ``Name(field=...)``, bytes as their length."""
    if isinstance(value, dict) and TYPE_KEY in value:
        fields = ", ".join(
            f"{k}={pretty(v)}"
            for k, v in value.items()
            if k not in (TYPE_KEY, "scope") or (k == "scope" and v)
        )
        return f"{type_name(value)}({fields})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {pretty(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(pretty(v) for v in value) + "]"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return repr(value)


def pretty_op(op: dict[str, Any]) -> str:
    path = op.get("path") or "/"
    if op["op"] == "remove":
        return f"remove {path}"
    if op["op"] in ("move", "copy"):
        return f"{op['op']} {op.get('from')} -> {path}"
    return f"{path} = {pretty(op.get('value'))}"


def entry_line(entry: Entry) -> str:
    if entry.kind == Kind.EVENT:
        text = f"#{entry.seq:<8} event     {entry.name:<12} {pretty(entry.value)}"
    elif entry.kind == Kind.SINK:
        text = f" {'<- #' + str(entry.seq):<8} sink      {entry.name:<12} {pretty(entry.value)}"
    elif entry.kind == Kind.STATE:
        ops = ", ".join(pretty_op(op) for op in entry.value)
        text = f" {'<- #' + str(entry.seq):<8} state     {entry.name:<12} {ops}"
    elif entry.kind == Kind.SNAPSHOT:
        text = f" {'@ #' + str(entry.seq):<8} snapshot  change {entry.change}"
    else:
        text = f" {'@ #' + str(entry.seq):<8} header    {pretty(entry.value)}"
    return text if len(text) <= _LINE_MAX else text[: _LINE_MAX - 3] + "..."


def json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"bytes": len(value)}
    raise TypeError(f"{type(value).__name__} is not JSON")


def leaf(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    text = json.dumps(value, default=json_default, ensure_ascii=False)
    return text if len(text) <= _LEAF_MAX else text[: _LEAF_MAX - 3] + "..."


def tree(value: Any, name: str = "", *, depth: int | None = None) -> Iterator[str]:
    """An indented tree of a plain state: one line per map entry or list item."""
    yield _label(name or "/", value)
    yield from _children(value, "", depth)


def _label(name: str, value: Any) -> str:
    if isinstance(value, dict):
        size = len(value) - (TYPE_KEY in value)
        label = f"{name}: {type_name(value)}" if TYPE_KEY in value else name
        return label + ("" if size else " (empty)")
    if isinstance(value, list | tuple):
        return f"{name}: [{len(value)}]"
    return f"{name}: {leaf(value)}"


def _children(value: Any, indent: str, depth: int | None) -> Iterator[str]:
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items() if k != TYPE_KEY]
    elif isinstance(value, list | tuple):
        items = [(f"[{i}]", v) for i, v in enumerate(value)]
    else:
        return
    if depth is not None and depth <= 0:
        if items:
            yield f"{indent}└─ ... ({len(items)} more; raise --depth)"
        return
    for i, (key, item) in enumerate(items):
        last = i == len(items) - 1
        yield f"{indent}{'└─ ' if last else '├─ '}{_label(key, item)}"
        yield from _children(item, indent + ("   " if last else "│  "), _less(depth))


def _less(depth: int | None) -> int | None:
    return None if depth is None else depth - 1


def change_line(change: Change, *, colour: bool) -> str:
    path = change.path or "/"
    if change.op == "added":
        text = f"+ {path} = {leaf(change.after)}"
    elif change.op == "removed":
        text = f"- {path} (was {leaf(change.before)})"
    else:
        text = f"~ {path}: {leaf(change.before)} -> {leaf(change.after)}"
    return f"{_COLOURS[change.op]}{text}{_RESET}" if colour else text


def when(t: float | None) -> str:
    if t is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
