"""Opaque keyset cursors: a listing's sort key at the end of a page, tamper-checked on return.

A cursor encodes the listing's name and the last row's key, base64url JSON. Keyset pagination
(``WHERE key < :last ORDER BY key DESC``) does not skip or repeat rows when new rows arrive
between pages, unlike offsets.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from drivers.store.records import InvalidCursor


def encode_cursor(listing: str, key: list[Any]) -> str:
    raw = json.dumps({"l": listing, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(listing: str, cursor: str) -> list[Any]:
    """The key in ``cursor``; ``InvalidCursor`` unless ``listing`` issued it."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidCursor(f"malformed cursor {cursor!r}") from exc
    if not isinstance(payload, dict) or payload.get("l") != listing:
        raise InvalidCursor(f"cursor {cursor!r} is not from this listing")
    key = payload.get("k")
    if not isinstance(key, list):
        raise InvalidCursor(f"malformed cursor {cursor!r}")
    return key
