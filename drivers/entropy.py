"""Randomness as a source: main asks for random numbers (seeds) and gets them as events.

Main never calls a random generator; the values arrive as logged events, so a replay reuses
exactly the seeds the recording drew.
"""

from __future__ import annotations

import secrets

from rxcore.driver import AsyncDriver, Context
from rxcore.effects import Draw, Drawn


async def _draw(request: Draw, ctx: Context[Draw]) -> Drawn:
    if not 1 <= request.bits <= 64:
        raise ValueError(f"Draw {request.request_id!r}: bits must be 1..64, got {request.bits}")
    return Drawn(request_id=request.request_id, value=secrets.randbits(request.bits))


__all__ = ["Draw", "Drawn", "entropy_driver"]


def entropy_driver(*, name: str = "entropy") -> AsyncDriver[Draw]:
    return AsyncDriver(_draw, name=name)
