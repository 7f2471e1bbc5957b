"""The model manager: sharing, LRU eviction under a budget, leases, identity, devices, OOM."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from drivers.diffusion.component_cache import ComponentCache
from drivers.diffusion.devices import (
    choose_device,
    choose_dtype,
    default_budget,
    is_oom_error,
    module_bytes,
    system_memory_bytes,
)
from drivers.diffusion.manager import ModelLoadError, ModelManager
from drivers.diffusion.models import ModelStore, RefusedModel, UnknownModel
from drivers.diffusion.tiny import create_tiny_sd, save_single_file

MODULES = ("unet", "vae", "text_encoder")


@pytest.fixture
def store(tmp_path: Path, tiny_sd_dir: Path) -> ModelStore:
    store = ModelStore(tmp_path / "models")
    store.add(str(tiny_sd_dir), "a", link=True)  # links: no copying, same weights
    store.add(str(tiny_sd_dir), "b", link=True)
    return store


def model_bytes(manager: ModelManager, name: str) -> int:
    model = manager.load(name)
    return sum(module_bytes(model.component(c)) for c in MODULES)


# --- device and dtype choice -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda:0"), (True, False, "cuda:0"), (False, True, "mps"), (False, False, "cpu")],
)
def test_device_preference_is_cuda_then_mps_then_cpu(cuda: bool, mps: bool, expected: str) -> None:
    assert str(choose_device(None, cuda_available=cuda, mps_available=mps)) == expected


def test_requested_device_wins_and_must_exist() -> None:
    assert str(choose_device("cpu", cuda_available=True, mps_available=True)) == "cpu"
    assert str(choose_device("cuda:1", cuda_available=True, mps_available=False)) == "cuda:1"
    assert str(choose_device("cuda", cuda_available=True, mps_available=False)) == "cuda:0"
    with pytest.raises(ValueError, match="CUDA is not available"):
        choose_device("cuda", cuda_available=False, mps_available=False)
    with pytest.raises(ValueError, match="MPS is not available"):
        choose_device("mps", cuda_available=False, mps_available=False)


def test_dtype_defaults_and_requests() -> None:
    cuda, cpu, mps = torch.device("cuda", 0), torch.device("cpu"), torch.device("mps")
    assert choose_dtype(cuda) == torch.float16
    assert choose_dtype(cuda, "bf16") == torch.bfloat16
    assert choose_dtype(cpu) == choose_dtype(mps) == torch.float32
    assert choose_dtype(cpu, torch.bfloat16) == torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype 'fp8'"):
        choose_dtype(cpu, "fp8")


def test_default_budget_on_cpu_is_half_the_ram() -> None:
    assert system_memory_bytes() > 0
    assert default_budget(torch.device("cpu")) == int(system_memory_bytes() * 0.5)


def test_manager_on_this_machine_uses_cpu_fp32(store: ModelStore) -> None:
    manager = ModelManager(store, device="cpu")
    assert (manager.device, manager.dtype) == (torch.device("cpu"), torch.float32)


# --- loading and sharing -----------------------------------------------------------------------


def test_loads_once_and_shares(store: ModelStore) -> None:
    manager = ModelManager(store, device="cpu")
    first = manager.load("a")
    second = manager.load("a")
    assert manager.loads == 1
    for component in (*MODULES, "tokenizer"):
        assert first.component(component) is second.component(component)
    assert first.model_id.startswith("a@dir:") and first.device == torch.device("cpu")
    assert first.scheduler_config["_class_name"] == "PNDMScheduler"
    assert not any(p.requires_grad for p in first.unet.parameters())


def test_a_partly_evicted_model_reloads_only_what_is_missing(store: ModelStore) -> None:
    manager = ModelManager(store, device="cpu")
    first = manager.load("a")
    unet_key = next(k for k in manager._cache.order() if k[1] == "unet")
    manager._cache.drop([unet_key])  # as the LRU would under pressure
    second = manager.load("a")
    assert manager.loads == 2
    assert second.vae is first.vae and second.text_encoder is first.text_encoder
    assert second.unet is not first.unet
    assert torch.equal(second.unet.conv_in.weight, first.unet.conv_in.weight)


def test_concurrent_loads_read_the_model_once(store: ModelStore) -> None:
    manager = ModelManager(store, device="cpu")
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(manager.load("a"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert manager.loads == 1
    assert len({id(model.unet) for model in results}) == 1


def test_loaded_model_makes_a_pipeline_that_generates(store: ModelStore) -> None:
    manager = ModelManager(store, device="cpu")
    with manager.lease("a") as model:
        pipe = model.pipeline()
        assert pipe.unet is model.unet
        image = pipe("a cat", num_inference_steps=2, height=64, width=64, output_type="np").images
    assert image.shape == (1, 64, 64, 3)


def test_single_file_loads_with_its_recorded_config(
    store: ModelStore, tiny_sd_file: Path, tiny_sd_dir: Path
) -> None:
    store.add(str(tiny_sd_file), "tiny.safetensors", config="a")
    manager = ModelManager(store, device="cpu")
    single = manager.load("tiny.safetensors")
    assert single.model_id.startswith("tiny.safetensors@sha256:")
    directory = manager.load("a")
    for component in MODULES:
        a = single.component(component).state_dict()
        b = directory.component(component).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in b if not k.endswith("position_ids"))


def test_single_file_without_config_fails_clearly_offline(
    store: ModelStore, tiny_sd_file: Path
) -> None:
    store.add(str(tiny_sd_file), "bare.safetensors")
    started = time.perf_counter()
    with pytest.raises(ModelLoadError, match=r"'bare.safetensors'.*--config DIR"):
        ModelManager(store, device="cpu").load("bare.safetensors")
    assert time.perf_counter() - started < 10


def test_model_id_changes_when_the_file_changes(
    store: ModelStore, tiny_sd_dir: Path, tmp_path: Path
) -> None:
    checkpoint = store.root / "checkpoints" / "m.safetensors"
    save_single_file(tiny_sd_dir, checkpoint)
    store.set_config("m.safetensors", "a")
    manager = ModelManager(store, device="cpu")
    before = manager.load("m.safetensors")
    other = create_tiny_sd(tmp_path / "seed1", seed=1)
    save_single_file(other, checkpoint)  # replaced in place, same name
    after = manager.load("m.safetensors")
    assert after.model_id != before.model_id and manager.loads == 2
    assert not torch.equal(after.unet.conv_in.weight, before.unet.conv_in.weight)
    # The old contents are dropped at once, not left to the LRU.
    assert {c["model_id"] for c in manager.stats()["components"]} == {after.model_id}


def test_refused_and_unknown_models_are_not_loaded(store: ModelStore) -> None:
    (store.root / "checkpoints").mkdir()
    (store.root / "checkpoints" / "evil.ckpt").write_bytes(b"\x80\x04")
    manager = ModelManager(store, device="cpu", allow_hub=False)
    with pytest.raises(RefusedModel, match="pickle"):
        manager.load("evil.ckpt")
    with pytest.raises(UnknownModel, match=r"available: a, b, evil\.ckpt"):
        manager.load("org/not-here")


def test_hub_id_not_in_store_fails_fast_offline(store: ModelStore) -> None:
    started = time.perf_counter()
    with pytest.raises(ModelLoadError, match=r"'org/not-here'.*local Hugging Face cache"):
        ModelManager(store, device="cpu").load("org/not-here")
    assert time.perf_counter() - started < 5


def test_other_pipeline_classes_are_refused(store: ModelStore, tiny_sd_dir: Path) -> None:
    copy = store.root / "xl"
    shutil.copytree(tiny_sd_dir, copy)
    index = json.loads((copy / "model_index.json").read_text())
    (copy / "model_index.json").write_text(
        json.dumps({**index, "_class_name": "StableDiffusionXLPipeline"})
    )
    with pytest.raises(ModelLoadError, match="is a StableDiffusionXLPipeline"):
        ModelManager(store, device="cpu").load("xl")


# --- budget, eviction, leases ------------------------------------------------------------------


def test_lru_eviction_under_a_budget_of_one_model(store: ModelStore) -> None:
    size = model_bytes(ModelManager(store, device="cpu"), "a")
    manager = ModelManager(store, device="cpu", budget_bytes=int(size * 1.5))
    manager.load("a")
    manager.load("b")  # a is least recently used and unleased: dropped
    assert not manager.cached("a", "unet") and manager.cached("b", "unet")
    manager.load("a")
    assert manager.loads == 3
    assert manager.stats()["resident_bytes"] <= manager.budget_bytes


def test_leased_components_are_never_evicted(store: ModelStore) -> None:
    manager = ModelManager(store, device="cpu", budget_bytes=1)  # nothing fits
    with manager.lease("a") as a:
        manager.load("b")  # over budget, but b's load cannot evict the leased a
        assert all(manager.cached("a", c) for c in MODULES)
        assert manager.load("a").unet is a.unet and manager.loads == 2
    # The lease ended: the cache goes back within its budget (here: empty).
    assert not manager.cached("a", "unet") and not manager.cached("b", "unet")


def test_free_after_oom_drops_unleased_and_keeps_leased(store: ModelStore) -> None:
    manager = ModelManager(store, device="cpu")
    manager.load("b")
    with manager.lease("a"):
        freed = manager.free_after_oom()
        assert freed > 0
        assert manager.cached("a", "unet") and not manager.cached("b", "unet")


def test_unload_one_model(store: ModelStore) -> None:
    manager = ModelManager(store, device="cpu")
    manager.load("a")
    manager.load("b")
    assert manager.unload("a") > 0
    assert not manager.cached("a", "vae") and manager.cached("b", "vae")


def test_device_locks_are_per_device_and_process_wide(store: ModelStore) -> None:
    one, two = ModelManager(store, device="cpu"), ModelManager(store, device="cpu")
    assert one.device_lock() is two.device_lock("cpu")
    assert one.device_lock("cuda") is one.device_lock("cuda:0")
    assert one.device_lock("cuda:0") is not one.device_lock("cuda:1")


def test_is_oom_error() -> None:
    assert is_oom_error(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert is_oom_error(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried"))
    assert is_oom_error(MemoryError())
    assert not is_oom_error(RuntimeError("shape mismatch"))


# --- the cache policy, with fake modules (the CUDA offload tier without a GPU) ---------------


class Fake:
    def __init__(self, name: str) -> None:
        self.name = name
        self.where = "gpu"

    def __repr__(self) -> str:
        return f"Fake({self.name}@{self.where})"


def key(name: str) -> tuple[str, str, str, str]:
    return (name, "unet", "cuda:0", "float16")


def gpu_cache(budget: int, offload_budget: int) -> ComponentCache:
    def move(where: str) -> Any:
        def apply(value: Fake) -> None:
            value.where = where

        return apply

    return ComponentCache(
        budget=budget,
        offload=move("cpu"),
        restore=move("gpu"),
        offload_budget=offload_budget,
        release=move("cpu"),
    )


def test_gpu_eviction_offloads_first_then_drops() -> None:
    cache = gpu_cache(budget=20, offload_budget=10)
    values = {n: Fake(n) for n in "abcd"}
    for name in "abc":
        cache.put(key(name), values[name], 10)
        cache.evict_to_budget()
    assert cache.is_offloaded(key("a")) and values["a"].where == "cpu"  # host memory, kept
    assert cache.resident_bytes == 20 and cache.offloaded_bytes == 10
    cache.put(key("d"), values["d"], 10)
    cache.evict_to_budget()  # b is offloaded; the host tier holds one: a is dropped
    assert key("a") not in cache and cache.is_offloaded(key("b"))
    assert [v.where for v in values.values()] == ["cpu", "cpu", "gpu", "gpu"]
    assert cache.get(key("b")) is values["b"] and values["b"].where == "gpu"  # restored...
    assert cache.is_offloaded(key("c"))  # ...making room by offloading the least recent
    assert cache.resident_bytes == 20 and cache.offloaded_bytes == 10
    assert cache.order() == [key("c"), key("d"), key("b")]


def test_restoring_evicts_others_but_never_pinned_ones() -> None:
    cache = gpu_cache(budget=10, offload_budget=100)
    a, b = Fake("a"), Fake("b")
    cache.put(key("a"), a, 10)
    cache.put(key("b"), b, 10)
    cache.evict_to_budget()
    assert cache.is_offloaded(key("a"))
    cache.pin([key("b")])
    cache.get(key("a"))  # over budget now: b is pinned, a is being restored
    assert a.where == b.where == "gpu" and cache.resident_bytes == 20
    cache.unpin([key("b")])
    cache.evict_to_budget()
    assert cache.is_offloaded(key("b")) and not cache.is_offloaded(key("a"))


def test_drop_releases_gpu_memory_and_skips_pinned() -> None:
    cache = gpu_cache(budget=100, offload_budget=100)
    a, b = Fake("a"), Fake("b")
    cache.put(key("a"), a, 10)
    cache.put(key("b"), b, 10)
    cache.pin([key("b")])
    assert cache.drop_unpinned() == 10
    assert a.where == "cpu" and key("a") not in cache  # moved off the GPU as it was dropped
    assert b.where == "gpu" and key("b") in cache


def test_cpu_cache_drops_without_offloading() -> None:
    cache = ComponentCache(budget=10)
    a = Fake("a")
    cache.put(key("a"), a, 10)
    cache.put(key("b"), Fake("b"), 10)
    assert cache.evict_to_budget() == [key("a")]
    assert key("a") not in cache and a.where == "gpu"  # untouched: nothing to move on CPU
