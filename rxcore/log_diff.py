"""Structural differences between two plain states, and JSON pointers into them.

States in the log are plain maps and lists (dataclasses appear as maps with a ``"$t"`` type
key). :func:`changes` walks two of them together and lists what was added, removed or changed,
each with its JSON pointer (RFC 6901), deepest first-difference only: a changed map is
described by its changed keys, not replaced whole.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["added", "removed", "changed"]
_MISSING: Any = object()
_SCALARS = (str, int, float, bool, type(None))
_ALIGN_MAX = 2000


class PointerError(LookupError):
    pass


@dataclass(frozen=True)
class Change:
    op: Op
    path: str  # JSON pointer; "" is the whole state
    before: Any = None
    after: Any = None


def escape(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def split_pointer(pointer: str) -> list[str]:
    if pointer in ("", "/"):
        return []
    if not pointer.startswith("/"):
        raise PointerError(f"JSON pointer {pointer!r} must start with '/' (e.g. /core/queue)")
    return [unescape(p) for p in pointer.split("/")[1:]]


def resolve(doc: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``doc``; PointerError names the first part not found."""
    node = doc
    walked = ""
    for part in split_pointer(pointer):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            where = walked or "/"
            keys = _keys_hint(node)
            raise PointerError(f"no {part!r} under {where}{keys}")
        walked += "/" + escape(part)
    return node


def _keys_hint(node: Any) -> str:
    if isinstance(node, dict):
        keys = sorted(str(k) for k in node)
        shown = ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")
        return f" (it has: {shown})" if keys else " (it is empty)"
    if isinstance(node, list | tuple):
        return f" (a list of {len(node)})"
    return f" (it is a {type(node).__name__}, not a map or list)"


def changes(before: Any, after: Any, path: str = "") -> list[Change]:
    """What differs between ``before`` and ``after``, in document order."""
    out: list[Change] = []
    _walk(before, after, path, out)
    return out


def _walk(before: Any, after: Any, path: str, out: list[Change]) -> None:
    if before is after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        if before.get("$t") != after.get("$t"):
            out.append(Change("changed", path, before, after))
            return
        for key, old in before.items():
            new = after.get(key, _MISSING)
            where = f"{path}/{escape(key)}"
            if new is _MISSING:
                out.append(Change("removed", where, before=old))
            else:
                _walk(old, new, where, out)
        for key, new in after.items():
            if key not in before:
                out.append(Change("added", f"{path}/{escape(key)}", after=new))
        return
    if isinstance(before, list | tuple) and isinstance(after, list | tuple):
        if _aligned(before, after, path, out):
            return
        common = min(len(before), len(after))
        for i in range(common):
            _walk(before[i], after[i], f"{path}/{i}", out)
        for i in range(common, len(before)):
            out.append(Change("removed", f"{path}/{i}", before=before[i]))
        for i in range(common, len(after)):
            out.append(Change("added", f"{path}/{i}", after=after[i]))
        return
    if type(before) is not type(after) or before != after:
        out.append(Change("changed", path, before, after))


def _aligned(before: Sequence[Any], after: Sequence[Any], path: str, out: list[Change]) -> bool:
    """Lists of plain scalars, matched up (so one item dropped from the front reads as one
    removal, not as every item changing). Paths index ``before`` for removals and ``after``
    for additions. False for lists this does not apply to."""
    if len(before) + len(after) > _ALIGN_MAX or not all(
        isinstance(x, _SCALARS) for x in (*before, *after)
    ):
        return False
    matcher = difflib.SequenceMatcher(None, list(before), list(after), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                out.append(Change("changed", f"{path}/{j1 + k}", before[i1 + k], after[j1 + k]))
            continue
        for i in range(i1, i2):
            out.append(Change("removed", f"{path}/{i}", before=before[i]))
        for j in range(j1, j2):
            out.append(Change("added", f"{path}/{j}", after=after[j]))
    return True
