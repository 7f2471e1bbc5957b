"""The denoising loop behind KSampler and KSamplerAdvanced, on diffusers schedulers and UNets.

One loop serves txt2img, img2img (``denoise`` < 1), KSamplerAdvanced's partial runs and
inpainting with a noise mask. For plain txt2img it performs the very same operations, in the same
order, as diffusers' ``StableDiffusionPipeline.__call__`` (noise from ``randn_tensor`` scaled by
``init_noise_sigma``, one UNet call on ``[uncond, cond]``, ``scale_model_input``, the guidance
formula, ``scheduler.step`` with the pipeline's extra kwargs), so its result equals the
pipeline's; for img2img it follows ``StableDiffusionImg2ImgPipeline`` (timesteps cut by strength,
``add_noise`` at the first kept timestep). Tests check both equalities.

Latents that cross this function's boundary carry ComfyUI's convention: a latent with leftover
noise is ``clean + sigma * noise`` (k-diffusion's variance-exploding form), whatever scheduler
made it. Euler-family schedulers work in that form already; DDIM, DPM-Solver, UniPC and LCM work
in the variance-preserving form ``(clean + sigma * noise) / sqrt(1 + sigma**2)``, so partial
results are converted on the way in and out. That is what lets KSamplerAdvanced chains hand
latents from one sampler to another, as in ComfyUI.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from diffusers.utils.torch_utils import randn_tensor

from drivers.diffusion.conditioning import Conditioning

__all__ = ["SamplingCancelled", "StepCallback", "predict_x0", "sample"]

StepCallback = Callable[[int, int, torch.Tensor], None]
"""``on_step(step, total, denoised)``: ``step`` counts completed steps from 1 to ``total``."""


class SamplingCancelled(Exception):
    """Raised by :func:`sample` when ``cancelled()`` answered True before a model evaluation."""

    def __init__(self, step: int, total: int) -> None:
        super().__init__(f"sampling cancelled after {step} of {total} steps")
        self.step = step
        self.total = total


def sample(
    unet: Any,
    scheduler: SchedulerMixin,
    positive: Conditioning,
    negative: Conditioning,
    latents: torch.Tensor,
    *,
    seed: int,
    steps: int,
    cfg: float,
    denoise: float = 1.0,
    start_step: int = 0,
    end_step: int | None = None,
    add_noise: bool = True,
    force_full_denoise: bool = False,
    noise_mask: torch.Tensor | None = None,
    generator_device: str | torch.device = "cpu",
    on_step: StepCallback | None = None,
    cancelled: Callable[[], bool] | None = None,
    batch_seeds: Sequence[int] | None = None,
) -> torch.Tensor:
    """Denoise ``latents`` with ``unet`` guided by ``positive``/``negative``; return the latents.

    Args:
        unet: a diffusers ``UNet2DConditionModel`` (4 input channels); it decides device and dtype.
        scheduler: a configured scheduler (see ``samplers.make_scheduler``). It serves as a
            template: a fresh copy runs, so one scheduler may be shared by concurrent jobs.
        positive, negative: text conditioning, batch 1 (shared) or one item per latent.
        latents: ``(B, 4, H, W)``. All zeros (EmptyLatentImage) with ``denoise`` 1 and
            ``start_step`` 0 means txt2img: the result then equals StableDiffusionPipeline's.
            Otherwise they are the clean (or, with ``add_noise`` False, already noisy) input.
        seed: seeds the generator for the initial noise and for stochastic schedulers.
        steps: length of the full schedule.
        cfg: classifier-free guidance scale. At 1 only the positive branch runs (the result is the
            same). Below 1 the guidance formula is still applied, as ComfyUI does; diffusers'
            pipeline would drop guidance there.
        denoise: img2img strength, diffusers' way: ``int(steps * denoise)`` steps run, the last
            ones of the ``steps``-step schedule, starting from the input noised to that level.
            (ComfyUI instead runs ``steps`` steps of a ``steps / denoise`` schedule.)
        start_step, end_step: KSamplerAdvanced's ``start_at_step``/``end_at_step`` on the
            ``steps``-step schedule; end defaults to the end.
        add_noise: KSamplerAdvanced's ``add_noise``. False takes the latents as they are, already
            at the noise level of ``start_step`` (e.g. the leftover-noise output of another run).
        force_full_denoise: KSamplerAdvanced's ``return_with_leftover_noise`` = disable: when the
            run stops before the end of the schedule, its last step goes to noise level 0, i.e.
            the result is that step's denoised estimate (exact for first-order final steps, which
            is every sampler here but lms and uni_pc). Otherwise a stopped run returns its latents
            with the leftover noise, in ComfyUI's form (see the module docstring).
        noise_mask: SetLatentNoiseMask's mask, 1 = regenerate, 0 = keep. ``(H, W)``, ``(B, H,
            W)`` or ``(B, 1|4, H, W)`` at latent or image resolution (resized bilinearly). After
            every step the kept region is reset to the input latents noised to the next timestep
            (the input itself after the last), so the result equals the input where mask is 0.
        generator_device: device of the ``torch.Generator``: "cpu" gives the same noise on every
            machine, as diffusers recommends for reproducibility.
        on_step: called after every step with ``(step, total, denoised)``, ``denoised`` being the
            model's current estimate of the clean latents (what previews should show; the noisy
            latents themselves look like noise until the last steps).
        cancelled: polled before every model evaluation; when it returns True the run stops by
            raising :class:`SamplingCancelled`, so cancellation lands within one step.
        batch_seeds: one seed per batch item; item ``i`` then draws all its noise from its own
            generator seeded ``batch_seeds[i]`` and equals a batch-1 run with that seed. Without
            it, one generator seeded ``seed`` serves the whole batch (as in the pipeline).

    Raises:
        ValueError: an argument is out of range or shapes disagree (the message says which).
        SamplingCancelled: ``cancelled()`` returned True.
    """
    batch = _check_latents(unet, latents)
    _check_numbers(steps, cfg, denoise, start_step, end_step)
    device = unet.device
    dtype = unet.dtype
    latents = latents.to(device=device, dtype=dtype)
    if batch_seeds is not None and len(batch_seeds) != batch:
        raise ValueError(
            f"batch_seeds has {len(batch_seeds)} seeds for {batch} latents; give one per item"
        )
    positive = _for_batch(positive, batch, "positive").to(device, dtype)
    negative = _for_batch(negative, batch, "negative").to(device, dtype)

    sched = _fresh(scheduler, seed)
    sched.set_timesteps(steps, device=device)
    timesteps: torch.Tensor = sched.timesteps
    order = int(getattr(sched, "order", 1))

    # Which of the `steps` steps run: diffusers' img2img cut, then KSamplerAdvanced's window.
    first = steps - min(int(steps * denoise), steps)
    first = max(first, start_step)
    last = steps if end_step is None else min(end_step, steps)
    if first >= last:
        return latents.clone()
    total = last - first
    begin = first * order
    to_zero = force_full_denoise and last < steps
    # Index just past the last model evaluation. Higher-order schedulers evaluate `order` times
    # per step except on the final step; a forced full denoise needs only the first evaluation
    # of its last step (its denoised estimate is the result).
    stop = (last - 1) * order + 1 if to_zero else min(last * order, len(timesteps))

    with torch.inference_mode():
        generator: torch.Generator | list[torch.Generator]
        if batch_seeds is not None:
            generator = [torch.Generator(generator_device).manual_seed(s) for s in batch_seeds]
        else:
            generator = torch.Generator(generator_device).manual_seed(seed)

        if add_noise:
            noise = randn_tensor(
                tuple(latents.shape), generator=generator, device=device, dtype=dtype
            )
        else:
            noise = torch.zeros_like(latents)
        if hasattr(sched, "set_begin_index"):
            sched.set_begin_index(begin)

        if add_noise and begin == 0 and not bool(latents.any()):
            # txt2img, exactly StableDiffusionPipeline.prepare_latents.
            x = noise * sched.init_noise_sigma
        elif add_noise:
            # img2img, exactly StableDiffusionImg2ImgPipeline.prepare_latents.
            x = sched.add_noise(latents, noise, timesteps[begin : begin + 1].repeat(batch))
        else:
            x = _from_comfy_space(sched, latents, begin)

        mask = None if noise_mask is None else _prepare_mask(noise_mask, latents)
        do_cfg = not math.isclose(cfg, 1.0)
        embeds = torch.cat([negative.embeds, positive.embeds]) if do_cfg else positive.embeds
        extra = _extra_step_kwargs(sched, generator)

        done = 0
        denoised: torch.Tensor | None = None
        for i in range(begin, stop):
            if cancelled is not None and cancelled():
                raise SamplingCancelled(done, total)
            t = timesteps[i]
            model_input = torch.cat([x] * 2) if do_cfg else x
            model_input = sched.scale_model_input(model_input, t)
            model_output = unet(
                model_input,
                t,
                encoder_hidden_states=embeds,
                timestep_cond=None,
                cross_attention_kwargs=None,
                added_cond_kwargs=None,
                return_dict=False,
            )[0]
            if do_cfg:
                uncond, cond = model_output.chunk(2)
                model_output = uncond + cfg * (cond - uncond)

            first_eval_of_step = (i - begin) % order == 0
            final_forced = to_zero and i == stop - 1
            if final_forced or (on_step is not None and first_eval_of_step):
                denoised = predict_x0(sched, x, model_output, i)
                if mask is not None:
                    denoised = mask * denoised + (1 - mask) * latents
            if final_forced:
                assert denoised is not None
                x = denoised
            else:
                x = sched.step(model_output, t, x, **extra, return_dict=False)[0]
                if mask is not None:
                    if i + 1 < len(timesteps):
                        kept = sched.add_noise(latents, noise, timesteps[i + 1 : i + 2])
                    else:
                        kept = latents
                    x = mask * x + (1 - mask) * kept

            if i == stop - 1 or (i + 1) % order == 0:
                done += 1
                if on_step is not None:
                    assert denoised is not None
                    on_step(done, total, denoised)

        if not to_zero and stop < len(timesteps):
            x = _to_comfy_space(sched, x, stop)
    result: torch.Tensor = x
    return result


def predict_x0(
    scheduler: SchedulerMixin, sample: torch.Tensor, model_output: torch.Tensor, index: int
) -> torch.Tensor:
    """The clean latents implied by ``model_output`` for ``sample`` at timestep ``index``.

    ``index`` indexes ``scheduler.timesteps``; for second-order schedulers it must be the first
    evaluation of a step (where ``sample`` really is at ``sigmas[index]``). Handles epsilon,
    v-prediction and sample prediction, in either latent parametrisation.
    """
    sched: Any = scheduler
    s = _sigma_at(sched, index)
    alpha = 1.0 / math.sqrt(1.0 + s * s)
    sigma_vp = s * alpha
    x_vp = sample * alpha if _sigma_space(sched) else sample
    prediction = sched.config.prediction_type
    if prediction == "epsilon":
        return (x_vp - sigma_vp * model_output) / alpha
    if prediction == "v_prediction":
        return alpha * x_vp - sigma_vp * model_output
    if prediction == "sample":
        return model_output
    raise ValueError(
        f"scheduler prediction_type {prediction!r} is not supported; expected 'epsilon', "
        "'v_prediction' or 'sample' (check the model's scheduler_config.json)"
    )


def _sigma_space(sched: Any) -> bool:
    # Euler-family schedulers keep latents as clean + sigma * noise and start them at a noise
    # standard deviation well above 1; variance-preserving ones start at exactly 1.
    return float(sched.init_noise_sigma) > 1.0 + 1e-6


def _sigma_at(sched: Any, index: int) -> float:
    """k-diffusion sigma of the sample at ``timesteps[index]`` (``index`` may be one past)."""
    sigmas = getattr(sched, "sigmas", None)
    if isinstance(sigmas, torch.Tensor) and index < sigmas.shape[0]:
        return float(sigmas[index])
    timesteps = sched.timesteps
    if index >= len(timesteps):
        return 0.0
    alpha_bar = float(sched.alphas_cumprod[int(timesteps[index])])
    return math.sqrt((1.0 - alpha_bar) / alpha_bar)


def _to_comfy_space(sched: Any, x: torch.Tensor, index: int) -> torch.Tensor:
    if _sigma_space(sched):
        return x
    s = _sigma_at(sched, index)
    return x * math.sqrt(1.0 + s * s)


def _from_comfy_space(sched: Any, x: torch.Tensor, index: int) -> torch.Tensor:
    if _sigma_space(sched):
        return x
    s = _sigma_at(sched, index)
    return x / math.sqrt(1.0 + s * s)


def _fresh(scheduler: SchedulerMixin, seed: int) -> Any:
    # A copy rather than from_config: some schedulers (KDPM2) spend ~0.1 s in __init__, and
    # set_timesteps resets all per-run state anyway (the pipelines rely on that too).
    fresh: Any = copy.deepcopy(scheduler)
    if hasattr(fresh, "noise_sampler_seed"):
        # DPMSolverSDEScheduler draws Brownian-tree noise from its own seed, not a generator.
        fresh.noise_sampler_seed = seed
        fresh.noise_sampler = None
    return fresh


def _extra_step_kwargs(
    sched: Any, generator: torch.Generator | list[torch.Generator]
) -> dict[str, Any]:
    # StableDiffusionPipeline.prepare_extra_step_kwargs: eta 0 for DDIM, the generator for
    # schedulers that draw noise while stepping (ancestral, SDE, LCM).
    params = inspect.signature(sched.step).parameters
    extra: dict[str, Any] = {}
    if "eta" in params:
        extra["eta"] = 0.0
    if "generator" in params:
        extra["generator"] = generator
    return extra


def _check_latents(unet: Any, latents: torch.Tensor) -> int:
    if latents.ndim != 4:
        raise ValueError(
            f"latents must be (batch, channels, height, width), got shape {tuple(latents.shape)}"
        )
    channels = int(unet.config.in_channels)
    if latents.shape[1] != channels:
        raise ValueError(
            f"latents have {latents.shape[1]} channels but the UNet takes {channels}; "
            "inpainting UNets (9 channels) are not supported by this sampler, use a regular "
            "model with a noise mask"
        )
    if latents.shape[0] < 1:
        raise ValueError("latents have an empty batch")
    return int(latents.shape[0])


def _check_numbers(
    steps: int, cfg: float, denoise: float, start_step: int, end_step: int | None
) -> None:
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if not 0.0 <= denoise <= 1.0:
        raise ValueError(f"denoise must be between 0 and 1, got {denoise}")
    if start_step < 0:
        raise ValueError(f"start_step must be >= 0, got {start_step}")
    if end_step is not None and end_step < 0:
        raise ValueError(f"end_step must be >= 0, got {end_step}")
    if not math.isfinite(cfg) or cfg < 0:
        raise ValueError(f"cfg must be a finite number >= 0, got {cfg}")


def _for_batch(cond: Conditioning, batch: int, name: str) -> Conditioning:
    try:
        return cond.expand_to(batch)
    except ValueError as exc:
        raise ValueError(f"{name} conditioning: {exc}") from None


def _prepare_mask(mask: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
    batch, channels, height, width = latents.shape
    m = mask.to(device=latents.device, dtype=latents.dtype)
    if m.ndim == 2:
        m = m[None, None]
    elif m.ndim == 3:
        m = m[:, None]
    elif m.ndim != 4:
        raise ValueError(
            f"noise_mask must be (H, W), (B, H, W) or (B, C, H, W), got shape {tuple(mask.shape)}"
        )
    if m.shape[1] not in (1, channels):
        raise ValueError(f"noise_mask has {m.shape[1]} channels; use 1 or {channels}")
    if m.shape[0] not in (1, batch):
        raise ValueError(f"noise_mask has batch {m.shape[0]} for {batch} latents; use 1 or {batch}")
    if tuple(m.shape[-2:]) != (height, width):
        m = F.interpolate(m, size=(height, width), mode="bilinear", align_corners=False)
    return m.clamp(0.0, 1.0).expand(batch, channels, height, width)
