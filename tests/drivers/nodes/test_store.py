"""The output store: byte accounting on real values, LRU eviction, pinning by job."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from drivers.nodes.light_ops import empty_image
from drivers.nodes.store import OutputStore, size_of


def image(width: int = 4, height: int = 3) -> torch.Tensor:
    """A real IMAGE from the EmptyImage node: float32 [1,H,W,3], 12 bytes per pixel."""
    (out,) = empty_image({"width": width, "height": height})
    return out


IMAGE_BYTES = 4 * 3 * 12


def test_size_of_counts_the_bytes_values_reference() -> None:
    tensor = image()
    assert size_of(tensor) == IMAGE_BYTES
    # A view counts the elements it references, not its whole storage.
    assert size_of(tensor[:, :1]) == IMAGE_BYTES // 3
    assert size_of(torch.zeros(10, dtype=torch.float16)) == 20
    assert size_of(np.zeros((5, 5), dtype=np.float64)) == 200
    assert size_of(b"abcd") == 4 and size_of("hello") == 5
    assert size_of(Image.new("RGB", (4, 3))) == 36
    assert size_of(Image.new("RGBA", (4, 3))) == 48
    assert size_of(Image.new("F", (4, 3))) == 48
    latent = {"samples": torch.zeros(1, 4, 8, 8)}
    assert size_of((tensor, [latent])) == IMAGE_BYTES + len("samples") + 4 * 4 * 64
    # The same object twice in one entry is held once.
    assert size_of((tensor, tensor)) == IMAGE_BYTES
    module = torch.nn.Linear(4, 2)
    assert size_of(module) == (4 * 2 + 2) * 4
    assert size_of(3.5) > 0


def test_get_and_put_both_count_as_use_for_lru() -> None:
    store = OutputStore(max_bytes=2 * IMAGE_BYTES)
    assert store.put("a", (image(),)) == []
    assert store.put("b", (image(),)) == []
    assert store.get("a") is not None  # a is now the most recently used
    assert store.put("c", (image(),)) == ["b"]
    assert store.keys() == ["a", "c"] and "b" not in store and store.get("b") is None
    assert store.bytes_used == 2 * IMAGE_BYTES
    store.put("a", (image(),))  # rewriting is use too
    assert store.put("d", (image(),)) == ["c"]
    assert store.keys() == ["a", "d"]


def test_replacing_an_entry_counts_only_the_new_bytes() -> None:
    store = OutputStore(max_bytes=10_000)
    store.put("k", (image(),))
    store.put("k", (image(8, 3),))
    assert store.bytes_used == 2 * IMAGE_BYTES and len(store) == 1


def test_pinned_entries_are_never_evicted_until_their_job_is_released() -> None:
    store = OutputStore(max_bytes=IMAGE_BYTES)
    assert store.put("a", (image(),), "job1") == []
    assert store.put("b", (image(),), "job1") == []
    # Over budget while the job holds both: allowed, and visible.
    assert store.bytes_used == 2 * IMAGE_BYTES > store.max_bytes
    assert store.is_pinned("a") and store.is_pinned("b")
    assert store.release("job1") == ["a"]
    assert store.keys() == ["b"] and store.bytes_used == IMAGE_BYTES
    assert not store.is_pinned("b")
    assert store.release("unknown job") == []


def test_reading_for_a_job_pins_and_every_pinning_job_must_release() -> None:
    store = OutputStore(max_bytes=IMAGE_BYTES)
    store.put("shared", (image(),))
    assert store.get("shared", "job1") is not None
    assert store.get("shared", "job2") is not None
    assert store.put("new", (image(),)) == ["new"]  # unpinned and over budget: itself goes
    assert store.release("job1") == []
    assert "shared" in store and store.is_pinned("shared")
    store.put("other", (image(),), "job3")
    assert store.release("job2") == ["shared"]
    assert store.keys() == ["other"]


def test_tiny_budget_evicts_everything_it_may() -> None:
    store = OutputStore(max_bytes=1)
    assert store.put("a", (image(),)) == ["a"]
    assert store.put("b", (image(),), "job") == []
    assert store.release("job") == ["b"]
    assert len(store) == 0 and store.bytes_used == 0


def test_bad_arguments_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="max_bytes must be >= 0"):
        OutputStore(max_bytes=-1)
    with pytest.raises(TypeError, match="outputs must be a tuple, got list"):
        OutputStore(max_bytes=10).put("k", [1])  # type: ignore[arg-type]


def test_concurrent_use_keeps_the_byte_count_exact() -> None:
    store = OutputStore(max_bytes=6 * IMAGE_BYTES)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(200):
                key = f"k{(n * 7 + i) % 13}"
                store.put(key, (image(),), f"job{n}" if i % 3 == 0 else None)
                store.get(f"k{i % 13}", f"job{n}")
                if i % 10 == 0:
                    store.release(f"job{n}")
            store.release(f"job{n}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    held = [store.get(key) for key in store]
    assert store.bytes_used == sum(size_of(outputs) for outputs in held if outputs is not None)
    assert store.bytes_used <= store.max_bytes


operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 5), st.integers(1, 4), st.sampled_from("xyz-")),
        st.tuples(st.just("get"), st.integers(0, 5), st.just(0), st.sampled_from("xyz-")),
        st.tuples(st.just("release"), st.just(0), st.just(0), st.sampled_from("xyz")),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_store_invariants_hold_for_any_sequence_of_operations(
    ops: list[tuple[str, int, int, str]],
) -> None:
    budget = 3 * IMAGE_BYTES
    store = OutputStore(max_bytes=budget)
    pins: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    for op, key_number, width, job in ops:
        key = f"k{key_number}"
        job_id = None if job == "-" else job
        if op == "put":
            value = (image(width),)
            sizes[key] = size_of(value)
            evicted = store.put(key, value, job_id)
        elif op == "get":
            evicted = []
            if store.get(key, job_id) is None:
                continue
        else:
            evicted = store.release(job)
            for holders in pins.values():
                holders.discard(job)
        if job_id is not None and op != "release":
            pins.setdefault(key, set()).add(job_id)
        for gone in evicted:
            assert not pins.get(gone), f"{gone} was evicted while pinned by {pins[gone]}"
            pins.pop(gone, None)
        held = store.keys()
        assert store.bytes_used == sum(sizes[k] for k in held)
        assert set(held) >= {k for k, holders in pins.items() if holders}
        # Within budget, or over it only because of what jobs pin.
        assert store.bytes_used <= budget or all(pins.get(k) for k in held)
