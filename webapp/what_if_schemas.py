"""The shapes of the debugger's what-if (``POST /api/logs/{name}/what-if``); kept beside
:mod:`webapp.schemas`, which is near its size limit."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from webapp.schemas import LogChange


class WhatIfBody(BaseModel):
    """Drop or edit (``payload``: the event as records show it, or fields of it) one event."""

    seq: int = Field(ge=1, description="the event to drop or edit")
    action: Literal["drop", "edit"]
    payload: Any = Field(default=None, description="for edit: the new event, or fields of it")
    limit: int = Field(default=20, ge=1, le=200, description="differing seqs to list at most")


class LogSinkDifference(BaseModel):
    op: Literal["added", "removed", "changed"]
    driver: str
    index: int
    recorded: Any
    replayed: Any


class LogSeqDifference(BaseModel):
    seq: int
    sinks: list[LogSinkDifference]
    state: list[LogChange]  # recording -> what-if, after this seq
    state_total: int
    state_changed: bool


class LogWhatIf(BaseModel):
    seq: int
    action: str
    replayed_from: int = Field(description="the snapshot's seq replay started from (0: start)")
    events: int
    compared_through: int
    first_difference: int | None
    differences: list[LogSeqDifference]
    final_state: list[LogChange]
    final_state_total: int
    complete: bool
    stopped: str | None
    fault: str | None = Field(description="main failed on the edited events: where and why")
    elapsed_s: float
