"""Coalescing compatible sampler requests from concurrent jobs into one batched sampler call.

Each KSampler runs on its own runner worker thread and calls :meth:`SamplerBatcher.submit`,
which blocks until that request's own latents are ready. Behind it one dispatcher thread takes
the oldest waiting request, keeps gathering for ``window_s`` (and for as long as the device is
busy with something else), then, holding the lease and the device lock, takes every waiting
request with the same compatibility key and runs them as ONE :func:`sample` call: latents and
conditionings concatenated along the batch, ``batch_seeds`` giving each item its own generator.
Item ``i`` of that call equals a batch-1 run with seed ``batch_seeds[i]``, so every job gets
its unbatched result (up to floating-point reordering inside the wider UNet call).

What is coalesced: only requests whose latent, positive and negative all have batch 1, without
a noise mask, on a sampler that draws its noise from the generator. A job with a batch-B latent
gets all B items' noise from ONE generator seeded ``seed`` (one draw of shape ``(B, ...)``, and
stochastic samplers draw ``(B, ...)`` per step from it); that stream cannot be split into
per-item generators, so such a request runs alone, exactly as without batching. So do masked
requests and ``dpmpp_sde``, whose Brownian-tree noise is seeded per call, not per item.

Per job: progress (``on_step`` gets the job's own slice of ``denoised``, for its previews) and
cancellation. A cancelled job stops waiting within ``poll_s`` and raises
:class:`SamplingCancelled`, as the unbatched sampler does; the batch goes on for the others
(a running call cannot shrink, so the cancelled item is still computed, just not reported) and
stops only when all its members are cancelled. A failure inside the batched call (out of
memory included) fails every member with that error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Final

import torch

from drivers.diffusion.conditioning import Conditioning
from drivers.diffusion.manager import LoadedModel
from drivers.diffusion.samplers import make_scheduler
from drivers.diffusion.sampling import SamplingCancelled, StepCallback, sample
from drivers.diffusion.values import ModelRef

__all__ = [
    "DEFAULT_WINDOW_S",
    "BatchStats",
    "Lease",
    "SampleRequest",
    "SamplerBatcher",
    "compatibility_key",
    "run_alone",
]

DEFAULT_WINDOW_S: Final = 0.005
# Samplers whose noise does not come from the per-item generators (see the module docstring).
_OWN_NOISE_SAMPLERS: Final = frozenset({"dpmpp_sde"})

Lease = Callable[[ModelRef, str], AbstractContextManager[LoadedModel]]
"""``lease(unet_ref, what)``: the model, leased and with the device lock held, inside a guard
that turns out-of-memory into a clear error (``DiffusionNodes._lease``)."""


@dataclass(frozen=True, eq=False)
class SampleRequest:
    """One KSampler's sampling call: everything :func:`sample` needs, plus its own callbacks.

    ``options`` holds the remaining :func:`sample` keywords (denoise, start_step, end_step,
    add_noise, force_full_denoise); ``cancelled`` must be safe to call from any thread.
    """

    unet: ModelRef
    positive: Conditioning
    negative: Conditioning
    latents: torch.Tensor
    seed: int
    steps: int
    cfg: float
    sampler_name: str
    scheduler_name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    noise_mask: torch.Tensor | None = None
    on_step: StepCallback | None = None
    cancelled: Callable[[], bool] = lambda: False


def compatibility_key(request: SampleRequest) -> Hashable | None:
    """What must be equal for two requests to share a sampler call; None: never shares."""
    latents = request.latents
    if (
        latents.ndim != 4
        or latents.shape[0] != 1
        or request.positive.batch_size != 1
        or request.negative.batch_size != 1
        or request.noise_mask is not None
        or request.sampler_name in _OWN_NOISE_SAMPLERS
    ):
        return None
    try:
        options = tuple(sorted((name, value) for name, value in request.options.items()))
        hash(options)
    except TypeError:
        return None
    return (
        request.unet.name,
        request.unet.model_id,
        tuple(latents.shape[1:]),
        latents.dtype,
        # sample() takes the txt2img path only when the whole batch is zeros: mixing empty and
        # encoded latents would change how the empty ones are noised.
        bool(latents.any()),
        request.steps,
        request.cfg,
        request.sampler_name,
        request.scheduler_name,
        options,
        _cond_shape(request.positive),
        _cond_shape(request.negative),
    )


def run_alone(request: SampleRequest, lease: Lease) -> torch.Tensor:
    """The unbatched call: what KSampler does without a batcher (the result is on the CPU)."""
    with lease(request.unet, f"sampling {_describe(request.latents)}") as model:
        scheduler = make_scheduler(
            request.sampler_name, request.scheduler_name, model.scheduler_config
        )
        out = sample(
            model.unet,
            scheduler,
            request.positive,
            request.negative,
            request.latents,
            seed=request.seed,
            steps=request.steps,
            cfg=request.cfg,
            noise_mask=request.noise_mask,
            on_step=request.on_step,
            cancelled=request.cancelled,
            **request.options,
        )
    return out.to("cpu", torch.float32)


@dataclass(frozen=True)
class BatchStats:
    """What the batcher did: the batch size of every sampler call it made, in order, and how
    many requests ran alone because they could not be coalesced."""

    batches: tuple[int, ...] = ()
    alone: int = 0

    @property
    def calls(self) -> int:
        return len(self.batches) + self.alone


class _Member:
    """A submitted request while it waits; its outcome is set once, by whoever decides it."""

    def __init__(self, request: SampleRequest, key: Hashable) -> None:
        self.request = request
        self.key = key
        self.arrived = time.monotonic()
        self.done = threading.Event()
        self.result: torch.Tensor | None = None
        self.error: BaseException | None = None
        self.gone = False  # stopped waiting (cancelled) or failed: the batch skips it
        self.step = 0
        self.total = request.steps

    def settle(self, result: torch.Tensor | None, error: BaseException | None) -> None:
        if self.done.is_set():
            return
        self.result, self.error = result, error
        self.done.set()

    def dropped(self) -> bool:
        return self.gone or self.request.cancelled()


class SamplerBatcher:
    """Coalesces compatible :class:`SampleRequest` s submitted from several threads.

    ``lease`` provides the model with the device lock held (see :data:`Lease`); ``window_s``
    is how long the oldest waiting request waits for company when the device is free (0: no
    coalescing, every request runs alone on its caller's thread); ``max_batch`` caps the items
    of one call; ``poll_s`` is how often a waiting caller checks its cancel.
    """

    def __init__(
        self,
        lease: Lease,
        *,
        window_s: float = DEFAULT_WINDOW_S,
        max_batch: int = 8,
        poll_s: float = 0.01,
        idle_exit_s: float = 5.0,
    ) -> None:
        if window_s < 0 or not max_batch >= 1 or poll_s <= 0:
            raise ValueError(
                f"SamplerBatcher needs window_s >= 0, max_batch >= 1 and poll_s > 0; got "
                f"window_s={window_s}, max_batch={max_batch}, poll_s={poll_s}"
            )
        self._lease = lease
        self.window_s = window_s
        self.max_batch = max_batch
        self.poll_s = poll_s
        self.idle_exit_s = idle_exit_s
        self._cond = threading.Condition()
        self._pending: list[_Member] = []
        self._thread: threading.Thread | None = None
        self._batches: list[int] = []
        self._alone = 0

    def stats(self) -> BatchStats:
        with self._cond:
            return BatchStats(tuple(self._batches), self._alone)

    # -- callers (runner worker threads) -----------------------------------------------------
    def submit(self, request: SampleRequest) -> torch.Tensor:
        """Sample ``request``, coalesced with compatible ones; its latents, on the CPU.

        Raises what the unbatched call would: :class:`SamplingCancelled` once the request's
        ``cancelled()`` is True, and the batched call's error if it failed.
        """
        key = compatibility_key(request) if self.window_s > 0 else None
        if key is None:
            with self._cond:
                self._alone += 1
            return run_alone(request, self._lease)
        member = _Member(request, key)
        with self._cond:
            self._pending.append(member)
            if self._thread is None:
                # Started on demand and gone when idle: no thread outlives its use.
                self._thread = threading.Thread(
                    target=self._dispatch, name="sampler-batcher", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
        while not member.done.wait(self.poll_s):
            if request.cancelled():
                with self._cond:
                    member.gone = True
                    if member in self._pending:
                        self._pending.remove(member)
                    self._cond.notify_all()
                if not member.done.is_set():
                    raise SamplingCancelled(member.step, member.total)
        if member.error is not None:
            raise member.error
        assert member.result is not None
        return member.result

    # -- the dispatcher thread ---------------------------------------------------------------
    def _dispatch(self) -> None:
        while True:
            with self._cond:
                head = self._next_head()
                if head is None:
                    self._thread = None
                    return
            self._run(head)

    def _next_head(self) -> _Member | None:
        """The oldest waiting request once its window closed (None after idling); the lock is
        held."""
        while True:
            while not self._pending:
                if not self._cond.wait(self.idle_exit_s) and not self._pending:
                    return None
            head = self._pending[0]
            while head in self._pending and self._waiting(head.key) < self.max_batch:
                left = head.arrived + self.window_s - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if head in self._pending:
                return head

    def _waiting(self, key: Hashable) -> int:
        return sum(1 for m in self._pending if m.key == key)

    def _take(self, key: Hashable) -> list[_Member]:
        with self._cond:
            taken = [m for m in self._pending if m.key == key][: self.max_batch]
            for member in taken:
                self._pending.remove(member)
            taken = [m for m in taken if not m.dropped()]
            if taken:
                self._batches.append(len(taken))
            return taken

    def _run(self, head: _Member) -> None:
        members: list[_Member] = []
        request = head.request
        _, _, height, width = request.latents.shape
        what = f"sampling a coalesced batch of up to {self.max_batch} {width * 8}x{height * 8} jobs"
        try:
            with self._lease(request.unet, what) as model:
                # Taken only now that the device is ours: whatever queued while it was busy
                # joins this call.
                members = self._take(head.key)
                if members:
                    out = self._sample(model, members)
                    for index, member in enumerate(members):
                        member.settle(out[index : index + 1].clone(), None)
        except Exception as error:
            # A failure before the take (leasing, loading) would hit every waiting member too.
            for member in members or self._take(head.key):
                member.settle(None, error)

    def _sample(self, model: LoadedModel, members: list[_Member]) -> torch.Tensor:
        first = members[0].request
        scheduler = make_scheduler(first.sampler_name, first.scheduler_name, model.scheduler_config)
        seeds = [m.request.seed for m in members]

        def on_step(step: int, total: int, denoised: torch.Tensor) -> None:
            for index, member in enumerate(members):
                member.step, member.total = step, total
                if member.dropped() or member.request.on_step is None:
                    continue
                try:
                    member.request.on_step(step, total, denoised[index : index + 1])
                except Exception as error:
                    # Its own progress failing fails that job alone, as it would unbatched.
                    member.gone = True
                    member.settle(None, error)

        out = sample(
            model.unet,
            scheduler,
            Conditioning.concat([m.request.positive for m in members]),
            Conditioning.concat([m.request.negative for m in members]),
            torch.cat([m.request.latents for m in members]),
            seed=first.seed,
            steps=first.steps,
            cfg=first.cfg,
            on_step=on_step,
            cancelled=lambda: all(m.dropped() for m in members),
            # One member alone takes exactly the unbatched call (a single generator).
            batch_seeds=seeds if len(members) > 1 else None,
            **first.options,
        )
        return out.to("cpu", torch.float32)


def _cond_shape(cond: Conditioning) -> Hashable:
    pooled = None if cond.pooled is None else tuple(cond.pooled.shape[1:])
    return (tuple(cond.embeds.shape[1:]), cond.embeds.dtype, pooled)


def _describe(latents: torch.Tensor) -> str:
    batch, _, height, width = latents.shape
    return f"{batch} image(s) of {width * 8}x{height * 8}"
