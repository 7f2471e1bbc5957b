"""The node runner's output store: node outputs kept by cache key, within a byte budget.

Messages never carry tensors: the executor refers to a node's outputs by the node's cache key,
and the runner keeps the outputs here. The store is least-recently-used: reading an entry
(``get``) and writing it (``put``) both count as use, and the least recently used entries go
first when the store is over its budget.

Entries read or written for a job are pinned to that job until ``release(job_id)``: the
executor plans a job from what the store holds, so evicting an input it is about to use would
only force a recomputation. A pinned entry is never evicted, which means the store can stay over
its budget while jobs hold more than it allows; it shrinks back when they are released.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import torch
from PIL import Image

# Bytes per band of the Pillow modes whose bands are wider than one byte.
_WIDE_MODES: Final = {"I": 4, "F": 4, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}


def size_of(value: Any) -> int:
    """The bytes ``value`` holds, as the store counts them.

    Tensors count ``element_size * numel`` (the elements they reference, not a larger storage a
    view may keep alive), numpy arrays ``nbytes``, bytes and strings their length, Pillow images
    width x height x bands, modules their parameters and buffers; containers are summed
    recursively, and an object reached twice within ``value`` is counted once.
    """
    return _size(value, set())


def _size(value: Any, seen: set[int]) -> int:
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        return int(value.element_size() * value.numel())
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, bytes | bytearray | str):
        return len(value)
    if isinstance(value, memoryview):
        return value.nbytes
    if isinstance(value, Image.Image):
        width, height = value.size
        return width * height * len(value.getbands()) * _WIDE_MODES.get(value.mode, 1)
    if isinstance(value, torch.nn.Module):
        tensors = [*value.parameters(), *value.buffers()]
        return sum(_size(tensor, seen) for tensor in tensors)
    if isinstance(value, tuple | list | set | frozenset):
        return sum(_size(item, seen) for item in value)
    if isinstance(value, dict):
        return sum(_size(k, seen) + _size(v, seen) for k, v in value.items())
    return sys.getsizeof(value)


@dataclass(frozen=True, slots=True)
class _Entry:
    outputs: tuple[Any, ...]
    size: int


class OutputStore:
    """Node outputs by cache key, least recently used first out, within ``max_bytes``.

    Safe to call from any thread (one lock). A pinned entry is never evicted, so the store may
    exceed ``max_bytes`` for as long as running jobs pin more than that; ``release`` then evicts
    back down to the budget.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"OutputStore: max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._pins: dict[str, set[str]] = {}  # key -> jobs pinning it
        self._jobs: dict[str, set[str]] = {}  # job -> keys it pinned
        self.evictions = 0  # entries pushed out since start, for metrics

    def put(self, key: str, outputs: tuple[Any, ...], job_id: str | None = None) -> list[str]:
        """Store ``outputs`` under ``key`` (replacing what was there), pinned to ``job_id``.

        Returns the keys evicted to get back within budget. Without a job the entry is not
        pinned: one larger than the whole budget is evicted at once, and its key is returned.
        """
        if not isinstance(outputs, tuple):
            raise TypeError(
                f"OutputStore.put({key!r}): outputs must be a tuple, got {type(outputs).__name__}"
            )
        size = size_of(outputs)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[key] = _Entry(outputs, size)
            self._bytes += size
            if job_id is not None:
                self._pin(key, job_id)
            return self._evict()

    def get(self, key: str, job_id: str | None = None) -> tuple[Any, ...] | None:
        """The outputs under ``key`` (now the most recently used), pinned to ``job_id`` if given;
        None when the store does not hold it."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            if job_id is not None:
                self._pin(key, job_id)
            return entry.outputs

    def release(self, job_id: str) -> list[str]:
        """Unpin what ``job_id`` pinned, then evict down to budget; returns the evicted keys."""
        with self._lock:
            for key in self._jobs.pop(job_id, ()):
                holders = self._pins.get(key)
                if holders is not None:
                    holders.discard(job_id)
                    if not holders:
                        del self._pins[key]
            return self._evict()

    def is_pinned(self, key: str) -> bool:
        with self._lock:
            return key in self._pins

    @property
    def bytes_used(self) -> int:
        with self._lock:
            return self._bytes

    def keys(self) -> list[str]:
        """The keys held, least recently used first (a snapshot)."""
        with self._lock:
            return list(self._entries)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __repr__(self) -> str:
        with self._lock:
            return (
                f"OutputStore({len(self._entries)} entries, {self._bytes} of {self.max_bytes} "
                f"bytes, {len(self._pins)} pinned)"
            )

    # -- under the lock ----------------------------------------------------------------------
    def _pin(self, key: str, job_id: str) -> None:
        self._pins.setdefault(key, set()).add(job_id)
        self._jobs.setdefault(job_id, set()).add(key)

    def _evict(self) -> list[str]:
        if self._bytes <= self.max_bytes:
            return []
        evicted: list[str] = []
        for key in [k for k in self._entries if k not in self._pins]:
            entry = self._entries.pop(key)
            self._bytes -= entry.size
            evicted.append(key)
            self.evictions += 1
            if self._bytes <= self.max_bytes:
                break
        return evicted
