"""The edit of a what-if: which recorded event, dropped or replaced by what (see
:mod:`rxcore.what_if`); the replacement is checked and decoded here, before any replay."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import Any, Literal

from . import message
from .log import Kind, LogError, LogReader

Action = Literal["drop", "edit"]
DROPPED: Any = object()  # the replacement of a dropped event


class WhatIfError(LogError):
    """The what-if cannot run as asked: a seq outside the log, a bad payload, no start."""


@dataclass(frozen=True)
class Edit:
    """Drop event ``seq``, or replace it with ``payload`` (its plain form, as the debugger
    shows events: maps with a ``"$t"`` type key). A map without ``"$t"`` is laid over the
    recorded event's fields, so ``{"n": 7}`` changes one field and keeps the rest."""

    seq: int
    action: Action
    payload: Any = None


def edited_event(reader: LogReader, edit: Edit) -> tuple[str, Any]:
    recorded = next(
        (e for e in reader.entries(edit.seq, edit.seq, decode=False) if e.kind == Kind.EVENT),
        None,
    )
    if recorded is None:
        raise WhatIfError(f"the log holds no event #{edit.seq} (retention dropped it?)")
    if edit.action == "drop":
        return recorded.name, DROPPED
    if edit.action != "edit":
        raise WhatIfError(f"action {edit.action!r} is not 'drop' or 'edit'")
    payload = edit.payload
    if payload is None:
        raise WhatIfError("an edit needs a payload: the event's new value (or fields to change)")
    original = recorded.value
    partial = isinstance(payload, dict) and message.TYPE_KEY not in payload
    if partial and isinstance(original, dict) and message.TYPE_KEY in original:
        payload = {**original, **payload}
    _check_types(payload, _types_in(original))
    try:
        return recorded.name, message.from_plain(payload)
    except (message.DecodeError, TypeError, ValueError) as error:
        raise WhatIfError(
            f"the edited payload of event #{edit.seq} is not a valid event: {error}"
        ) from error


def _types_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value[message.TYPE_KEY]} if isinstance(value.get(message.TYPE_KEY), str) else set()
        return found.union(*(_types_in(v) for v in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(_types_in(v) for v in value))
    return set()


def _check_types(payload: Any, recorded: set[str]) -> None:
    # Decoding builds every type a payload names, with its fields as arguments: a type the
    # recorded event did not have must be a message type (a dataclass or a pydantic model) of
    # a module already loaded, so an edit can neither import code nor call arbitrary classes.
    for path in _types_in(payload) - recorded:
        module = path.partition(":")[0]
        if module not in sys.modules:
            raise WhatIfError(
                f"the edited payload names type {path!r}, which is neither in the recorded "
                "event nor already loaded; keep the event's types, edit their fields"
            )
        try:
            cls = message.resolve_type(path)
        except message.DecodeError as error:
            raise WhatIfError(f"the edited payload names type {path!r}: {error}") from error
        if not (dataclasses.is_dataclass(cls) or hasattr(cls, "model_validate")):
            raise WhatIfError(
                f"the edited payload names type {path!r}, which is not a message type "
                "(a dataclass or a pydantic model)"
            )
