"""Requests and events of the generic drivers (clock, entropy, console).

They live here, not beside the drivers, so that components can ask for time and randomness
without importing drivers/ (imports point from drivers to components, never back).
"""

from __future__ import annotations

from dataclasses import dataclass

from .message import Message, Request


@dataclass(frozen=True, kw_only=True)
class Every(Request):
    """Tick every ``seconds``, ``count`` times (forever if None), first after one period."""

    seconds: float
    count: int | None = None


@dataclass(frozen=True, kw_only=True)
class After(Request):
    """Tick once, after ``seconds``."""

    seconds: float


@dataclass(frozen=True, kw_only=True)
class Tick(Message):
    request_id: str
    n: int  # 1 for the first tick of a timer
    time: float  # wall clock, seconds since the epoch
    monotonic: float
    last: bool = False  # no more ticks will follow for this timer


@dataclass(frozen=True, kw_only=True)
class Draw(Request):
    """Draw a uniformly random integer of ``bits`` bits (seeds use 64, like ComfyUI's range)."""

    bits: int = 64


@dataclass(frozen=True, kw_only=True)
class Drawn(Message):
    request_id: str
    value: int


@dataclass(frozen=True, kw_only=True)
class Print(Message):
    """One line of text for the console driver."""

    text: str
