"""Loading Stable Diffusion models once and sharing their components between jobs.

:class:`ModelManager` turns a model name from the :class:`~drivers.diffusion.models.ModelStore`
(or a hub id) into a :class:`LoadedModel`: UNet, VAE, text encoder, tokenizer and scheduler
config, on one device in one dtype. Components are cached in an LRU keyed by
``(model_id, component, device, dtype)`` under a byte budget; ``model_id`` includes a content
hash, so replacing a model's files on disk loads the new weights instead of serving stale ones.

How callers use it (the sampler driver)::

    with manager.lease("tiny-sd") as model:          # pins the components: never evicted
        with manager.device_lock(model.device):       # one GPU job at a time per device
            images = run_pipeline(model)

Out of memory (see :func:`.devices.is_oom_error`): leave the ``except`` block first, because the
traceback keeps the failed step's tensors alive, then call :meth:`ModelManager.free_after_oom`
and fail the job with a clear message; the server keeps running::

    failure = None
    try:
        images = run_pipeline(model)
    except Exception as exc:
        if not is_oom_error(exc):
            raise
        failure = f"out of memory on {model.device} at {width}x{height}, batch {n}: {exc}"
    if failure is not None:             # the traceback and its tensors are gone by now
        manager.free_after_oom()        # the job's own (leased) model stays loaded
        return JobFailed(failure + "; try a smaller size or batch")

Locks: the manager's own lock only guards its tables and is never held while a model loads
from disk. The manager never takes a device lock itself, so callers may call ``load`` and
``lease`` while holding one. Tokenizers are shared too: Hugging Face fast tokenizers raise
"Already borrowed" when two threads call the same one at once, so tokenize under the device lock
(text encoding runs there anyway).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import torch

from .component_cache import CacheKey, ComponentCache
from .devices import (
    choose_device,
    choose_dtype,
    default_budget,
    device_key,
    device_lock,
    module_bytes,
    system_memory_bytes,
    to_cpu,
)
from .hub import hub_offline, parse_hub_source
from .loading import Component, ModelLoadError, is_video_model, load_components
from .models import ModelInfo, ModelStore
from .store_errors import UnknownModel

__all__ = ["COMPONENTS", "LoadedModel", "ModelLoadError", "ModelManager"]

log = logging.getLogger(__name__)

COMPONENTS: Final[tuple[Component, ...]] = (
    "unet",
    "vae",
    "text_encoder",
    "tokenizer",
    "scheduler_config",
)
# --- loaded models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedModel:
    """A model's components on one device in one dtype. Shared: do not modify them in place
    (no ``.to()``, no fusing LoRAs); copy ``scheduler_config`` before changing it."""

    name: str
    model_id: str
    unet: Any
    vae: Any
    text_encoder: Any
    tokenizer: Any
    scheduler_config: dict[str, Any]
    device: torch.device
    dtype: torch.dtype
    info: ModelInfo

    def component(self, name: Component) -> Any:
        return getattr(self, name)

    @property
    def is_video(self) -> bool:
        """A text-to-video model (3-D UNet): only the text-to-video node can run it."""
        return is_video_model(self.info)

    def pipeline(self, scheduler: Any | None = None) -> Any:
        """The model's diffusers pipeline over these components (cheap: nothing is copied):
        ``StableDiffusionPipeline``, or ``TextToVideoSDPipeline`` for a video model.

        ``scheduler`` defaults to one built from ``scheduler_config``. Build one pipeline per
        job: schedulers keep per-run state, so they must not be shared between jobs.
        """
        from diffusers.schedulers.scheduling_utils import SchedulerMixin

        if scheduler is None:
            import diffusers

            config = dict(self.scheduler_config)
            scheduler_class = getattr(diffusers, str(config.get("_class_name", "PNDMScheduler")))
            assert issubclass(scheduler_class, SchedulerMixin)
            scheduler = scheduler_class.from_config(config)
        parts = {
            "vae": self.vae,
            "text_encoder": self.text_encoder,
            "tokenizer": self.tokenizer,
            "unet": self.unet,
            "scheduler": scheduler,
        }
        pipe: Any
        if self.is_video:
            from diffusers import TextToVideoSDPipeline

            pipe = TextToVideoSDPipeline(**parts)  # type: ignore[no-untyped-call]
        else:
            from diffusers import StableDiffusionPipeline

            pipe = StableDiffusionPipeline(  # type: ignore[no-untyped-call]
                **parts,
                safety_checker=None,
                feature_extractor=None,
                requires_safety_checker=False,
            )
        pipe.set_progress_bar_config(disable=True)
        return pipe


class ModelManager:
    """Loads models from a store and shares their components; thread-safe.

    ``device``/``dtype`` default to :func:`.devices.choose_device`/:func:`.devices.choose_dtype`;
    ``budget_bytes`` to :func:`.devices.default_budget`. On CUDA, evicted components are
    offloaded to host memory (up to ``offload_budget_bytes``, default 50% of RAM) before being
    dropped.
    ``allow_hub`` lets names that are not in the store but look like ``org/name`` load from the
    Hugging Face hub (downloaded to its cache; offline, only what the cache holds).
    """

    def __init__(
        self,
        store: ModelStore,
        *,
        device: str | torch.device | None = None,
        dtype: torch.dtype | str | None = None,
        budget_bytes: int | None = None,
        offload_budget_bytes: int | None = None,
        allow_hub: bool = True,
    ) -> None:
        self.store = store
        self.device = choose_device(device)
        self.dtype = choose_dtype(self.device, dtype)
        self.allow_hub = allow_hub
        budget = default_budget(self.device) if budget_bytes is None else budget_bytes
        on_gpu = self.device.type == "cuda"
        if offload_budget_bytes is None:
            offload_budget_bytes = int(system_memory_bytes() * 0.5)
        self._cache = ComponentCache(
            budget=budget,
            offload=to_cpu if on_gpu else None,
            restore=self._to_device if on_gpu else None,
            offload_budget=offload_budget_bytes if on_gpu else 0,
            release=to_cpu if on_gpu else None,
        )
        self._lock = threading.RLock()
        self._loading: dict[str, threading.Lock] = {}
        self._loads = 0

    def __repr__(self) -> str:
        return (
            f"ModelManager({self.store!r}, device={str(self.device)!r}, dtype={self.dtype}, "
            f"budget_bytes={self._cache.budget})"
        )

    @property
    def budget_bytes(self) -> int:
        return self._cache.budget

    @property
    def loads(self) -> int:
        """How many times a model was read from disk (tests and stats: cache misses)."""
        return self._loads

    # --- public API ---------------------------------------------------------------------------

    def load(self, name: str) -> LoadedModel:
        """The model's components, loaded once and shared. Hold a :meth:`lease` while using them:
        an unleased model's components may be offloaded or dropped by the next load."""
        info, model_id = self._identify(name)
        return self._acquire(info, model_id, pin=False)

    @contextmanager
    def lease(self, name: str) -> Iterator[LoadedModel]:
        """``with manager.lease(name) as model:`` keeps the model's components from eviction."""
        info, model_id = self._identify(name)
        model = self._acquire(info, model_id, pin=True)
        try:
            yield model
        finally:
            with self._lock:
                self._cache.unpin(self._keys(model_id).values())
                # Loads made while this lease held the cache over budget could not evict it.
                self._cache.evict_to_budget()

    def device_lock(self, device: str | torch.device | None = None) -> threading.Lock:
        """The process-wide lock serializing work on ``device`` (default: this manager's).

        Process-wide, not per manager, so two managers on one GPU still take turns.
        """
        return device_lock(torch.device(device) if device is not None else self.device)

    def free_after_oom(self) -> int:
        """Drop every unleased component, collect garbage and empty the allocator caches.

        Returns the bytes of components dropped. Call it after an out-of-memory error, outside
        the ``except`` block (see the module docstring).
        """
        with self._lock:
            freed = self._cache.drop_unpinned()
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        elif self.device.type == "mps":
            torch.mps.empty_cache()
        log.warning("freed %d bytes of model components after running out of memory", freed)
        return freed

    def unload(self, name: str | None = None) -> int:
        """Drop the unleased components of one model (every model with ``None``); bytes freed."""
        with self._lock:
            if name is None:
                freed = self._cache.drop_unpinned()
            else:
                stale = [k for k in self._cache.order() if _name_of(k[0]) == name]
                freed = self._cache.drop(stale)
        gc.collect()
        return freed

    def stats(self) -> dict[str, Any]:
        """Budget and occupancy, for a status page."""
        with self._lock:
            keys = self._cache.order()
            return {
                "device": str(self.device),
                "dtype": str(self.dtype).removeprefix("torch."),
                "budget_bytes": self._cache.budget,
                "resident_bytes": self._cache.resident_bytes,
                "offloaded_bytes": self._cache.offloaded_bytes,
                "loads": self._loads,
                "components": [
                    {
                        "model_id": k[0],
                        "component": k[1],
                        "pinned": self._cache.pins(k) > 0,
                        "offloaded": self._cache.is_offloaded(k),
                    }
                    for k in keys
                ],
            }

    def cached(self, name: str, component: Component) -> bool:
        """Whether ``component`` of model ``name`` is in the cache (resident or offloaded)."""
        with self._lock:
            keys = self._cache.order()
        return any(_name_of(k[0]) == name and k[1] == component for k in keys)

    # --- internals ------------------------------------------------------------------------------

    def _identify(self, name: str) -> tuple[ModelInfo, str]:
        try:
            info = self.store.resolve(name)
        except UnknownModel:
            hub = parse_hub_source(name)
            if not self.allow_hub or hub is None or hub.filename is not None:
                raise
            info = self._from_hub(name)
        return info, f"{info.name}@{self.store.content_id(info)}"

    def _from_hub(self, name: str) -> ModelInfo:
        from diffusers import StableDiffusionPipeline

        hub = parse_hub_source(name)
        assert hub is not None
        try:
            folder = StableDiffusionPipeline.download(
                hub.repo_id,
                revision=hub.revision,
                use_safetensors=None if self.store.allow_pickle else True,
                safety_checker=None,
                feature_extractor=None,
            )
        except Exception as exc:
            where = "the local Hugging Face cache" if hub_offline() else "the Hugging Face hub"
            raise ModelLoadError(
                f"{name!r} is not in {self.store.root} and could not be fetched from {where}: "
                f"{type(exc).__name__}: {exc}. Add a local copy with `rxgen models add`"
            ) from exc
        path = Path(folder)
        files = tuple(
            p.relative_to(path).as_posix() for p in sorted(path.rglob("*")) if p.is_file()
        )
        return ModelInfo(
            name=name,
            kind="diffusers",
            path=path,
            size=sum((path / f).stat().st_size for f in files),
            files=files,
        )

    def _keys(self, model_id: str) -> dict[Component, CacheKey]:
        device = device_key(self.device)
        dtype = str(self.dtype).removeprefix("torch.")
        return {c: (model_id, c, device, dtype) for c in COMPONENTS}

    def _take(self, keys: Mapping[Component, CacheKey]) -> dict[Component, Any]:
        """Whatever components are cached, restored to the device and pinned (caller unpins)."""
        found: dict[Component, Any] = {}
        for component, key in keys.items():
            if key in self._cache:
                # Pin before get(): restoring one offloaded component may evict for room, and it
                # must not evict a sibling we are about to hand out.
                self._cache.pin([key])
                found[component] = self._cache.get(key)
        return found

    def _acquire(self, info: ModelInfo, model_id: str, *, pin: bool) -> LoadedModel:
        keys = self._keys(model_id)
        with self._lock:
            found = self._take(keys)
            if len(found) == len(keys):
                if not pin:
                    self._cache.unpin(keys.values())
                return self._assemble(info, model_id, found)
            self._cache.unpin(keys[c] for c in found)
            loading = self._loading.setdefault(model_id, threading.Lock())
        with loading:  # one thread reads a given model from disk; the others wait and share it
            with self._lock:
                have = self._take(keys)  # pinned: kept while the rest loads
                if len(have) == len(keys):
                    if not pin:
                        self._cache.unpin(keys.values())
                    return self._assemble(info, model_id, have)
            try:
                loaded = self._load_components(info, have)
            except BaseException:
                with self._lock:
                    self._cache.unpin(keys[c] for c in have)
                raise
            with self._lock:
                self._loads += 1
                # Older contents of the same model (its file was replaced) will not be asked for
                # again under their old id: free them now rather than when the LRU gets to them.
                stale = [
                    k
                    for k in self._cache.order()
                    if _name_of(k[0]) == info.name and k[0] != model_id
                ]
                self._cache.drop(stale)
                for component, value in loaded.items():
                    if component not in have:
                        self._cache.put(keys[component], value, module_bytes(value))
                        self._cache.pin([keys[component]])
                # Evict while everything of this model is pinned: a model is never evicted by
                # its own load (it may stay over budget until the next load instead).
                self._cache.evict_to_budget()
                if not pin:
                    self._cache.unpin(keys.values())
                self._loading.pop(model_id, None)
            return self._assemble(info, model_id, loaded)

    def _assemble(
        self, info: ModelInfo, model_id: str, parts: Mapping[Component, Any]
    ) -> LoadedModel:
        return LoadedModel(
            name=info.name,
            model_id=model_id,
            unet=parts["unet"],
            vae=parts["vae"],
            text_encoder=parts["text_encoder"],
            tokenizer=parts["tokenizer"],
            scheduler_config=dict(parts["scheduler_config"]),
            device=self.device,
            dtype=self.dtype,
            info=info,
        )

    def _load_components(
        self, info: ModelInfo, have: Mapping[Component, Any]
    ) -> dict[Component, Any]:
        parts = load_components(info, have, dtype=self.dtype, allow_pickle=self.store.allow_pickle)
        for component in ("unet", "vae", "text_encoder"):
            module = parts[component]
            if component not in have:
                module.requires_grad_(False)  # inference only: no autograd bookkeeping
                module.eval()
                self._to_device(module)
        return parts

    def _to_device(self, value: Any) -> None:
        if isinstance(value, torch.nn.Module):
            value.to(self.device)


def _name_of(model_id: str) -> str:
    return model_id.rpartition("@")[0]
