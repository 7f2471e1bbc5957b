"""The model manager's component cache: an LRU under a byte budget, with pins and offloading."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CacheKey", "ComponentCache"]

log = logging.getLogger(__name__)

CacheKey = tuple[str, str, str, str]  # (model_id, component, device, dtype)


@dataclass
class _Entry:
    value: Any
    nbytes: int
    pins: int = 0
    offloaded: bool = False


@dataclass
class ComponentCache:
    """An LRU of components with byte accounting. Policy only: how to move a value off the
    device and back is given as callbacks, so the policy is testable without a GPU.

    ``budget`` bounds the bytes resident on the device. When ``offload`` is given (CUDA), an
    evicted entry first moves to host memory (a second tier bounded by ``offload_budget``) and is
    restored by ``restore`` on its next use; without it (CPU), eviction drops the entry. Pinned
    entries are never evicted, offloaded or dropped; when only pinned entries are left the cache
    stays over budget rather than failing a job that might still fit.
    """

    budget: int
    offload: Callable[[Any], None] | None = None
    restore: Callable[[Any], None] | None = None
    offload_budget: int = 0
    release: Callable[[Any], None] | None = None
    """Called on a value as it is dropped (CUDA: move to CPU so GPU memory is freed even if a
    stray reference keeps the module alive)."""
    _entries: OrderedDict[CacheKey, _Entry] = field(default_factory=OrderedDict)

    @property
    def resident_bytes(self) -> int:
        return sum(e.nbytes for e in self._entries.values() if not e.offloaded)

    @property
    def offloaded_bytes(self) -> int:
        return sum(e.nbytes for e in self._entries.values() if e.offloaded)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def order(self) -> list[CacheKey]:
        """Keys from least to most recently used."""
        return list(self._entries)

    def is_offloaded(self, key: CacheKey) -> bool:
        return self._entries[key].offloaded

    def pins(self, key: CacheKey) -> int:
        return self._entries[key].pins

    def get(self, key: CacheKey) -> Any | None:
        """The value (restored to the device if it was offloaded), marked most recently used."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        if entry.offloaded:
            assert self.restore is not None
            self.restore(entry.value)
            entry.offloaded = False
            entry.pins += 1  # the entry being restored must not be the one evicted for room
            try:
                self.evict_to_budget()
            finally:
                entry.pins -= 1
        return entry.value

    def put(self, key: CacheKey, value: Any, nbytes: int) -> None:
        old = self._entries.pop(key, None)
        self._entries[key] = _Entry(value, nbytes, pins=old.pins if old else 0)

    def pin(self, keys: Iterable[CacheKey]) -> None:
        for key in keys:
            self._entries[key].pins += 1

    def unpin(self, keys: Iterable[CacheKey]) -> None:
        for key in keys:
            entry = self._entries.get(key)
            if entry is not None and entry.pins > 0:
                entry.pins -= 1

    def evict_to_budget(self) -> list[CacheKey]:
        """Offload or drop least recently used unpinned entries until within budget."""
        evicted: list[CacheKey] = []
        while self.resident_bytes > self.budget:
            victim = next(
                (k for k, e in self._entries.items() if not e.offloaded and e.pins == 0), None
            )
            if victim is None:
                log.warning(
                    "model cache over budget (%d > %d bytes) with every component in use",
                    self.resident_bytes,
                    self.budget,
                )
                break
            entry = self._entries[victim]
            if self.offload is not None and entry.nbytes <= self.offload_budget:
                self.offload(entry.value)
                entry.offloaded = True
                self._trim_offloaded()
            else:
                self._drop(victim)
            evicted.append(victim)
        return evicted

    def drop(self, keys: Iterable[CacheKey]) -> int:
        """Drop the given unpinned entries; returns the bytes dropped."""
        freed = 0
        for key in list(keys):
            entry = self._entries.get(key)
            if entry is not None and entry.pins == 0:
                freed += entry.nbytes
                self._drop(key)
        return freed

    def drop_unpinned(self) -> int:
        """Drop every unpinned entry, offloaded ones included; returns the bytes dropped."""
        return self.drop(self.order())

    def _trim_offloaded(self) -> None:
        while self.offloaded_bytes > self.offload_budget:
            oldest = next(k for k, e in self._entries.items() if e.offloaded)
            self._entries.pop(oldest)  # already off the device: nothing to release

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        if self.release is not None and not entry.offloaded:
            self.release(entry.value)
