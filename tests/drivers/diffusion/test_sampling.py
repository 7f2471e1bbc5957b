"""The denoising loop: equality with diffusers' pipelines, img2img, masks, KSamplerAdvanced
windows, cancellation, progress, batching and determinism, on a tiny random-weight UNet."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from diffusers import (
    AutoencoderKL,
    DDIMScheduler,
    EulerDiscreteScheduler,
    StableDiffusionImg2ImgPipeline,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)

from drivers.diffusion.conditioning import Conditioning
from drivers.diffusion.samplers import (
    SUPPORTED_SAMPLERS,
    SUPPORTED_SCHEDULERS,
    make_scheduler,
    unsupported,
)
from drivers.diffusion.sampling import SamplingCancelled, predict_x0, sample

# SD1.5's scheduler_config.json, the base every rxgen scheduler is built from.
BASE_CONFIG: dict[str, Any] = {
    "_class_name": "PNDMScheduler",
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "steps_offset": 1,
    "set_alpha_to_one": False,
    "clip_sample": False,
    "skip_prk_steps": True,
    "trained_betas": None,
}
# diffusers' schedulers call numpy on tensors, which numpy 2 flags on every call.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array_wrap__ must accept context:DeprecationWarning"
)

LATENT = 16  # latent side; the tiny VAE downsamples 2x, so images are 32 px
IMAGE = LATENT * 2

COMBOS = [
    (sampler, scheduler)
    for sampler in SUPPORTED_SAMPLERS
    for scheduler in SUPPORTED_SCHEDULERS
    if unsupported(sampler, scheduler) is None
]


def _tiny_unet() -> UNet2DConditionModel:
    torch.manual_seed(0)
    return UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=LATENT,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=4,
        attention_head_dim=4,
    ).eval()


def _tiny_vae() -> AutoencoderKL:
    torch.manual_seed(0)
    return AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=4,
    ).eval()


@pytest.fixture(autouse=True, scope="module")
def _pinned_threads() -> Iterator[None]:
    # Results depend on the thread count in their low bits: pin it for exact comparisons.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def unet() -> UNet2DConditionModel:
    return _tiny_unet()


@pytest.fixture(scope="module")
def vae() -> AutoencoderKL:
    return _tiny_vae()


@pytest.fixture(scope="module")
def conds() -> tuple[Conditioning, Conditioning]:
    g = torch.Generator().manual_seed(1)
    return Conditioning(torch.randn(1, 77, 32, generator=g)), Conditioning(
        torch.randn(1, 77, 32, generator=g)
    )


@pytest.fixture(scope="module")
def image_latents() -> torch.Tensor:
    return torch.randn(1, 4, LATENT, LATENT, generator=torch.Generator().manual_seed(2))


def _pipe(cls: Any, unet: UNet2DConditionModel, vae: AutoencoderKL, scheduler: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = cls(
            vae=vae,
            text_encoder=None,
            tokenizer=None,
            unet=unet,
            scheduler=scheduler,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _zeros(batch: int = 1) -> torch.Tensor:
    return torch.zeros(batch, 4, LATENT, LATENT)


class _CallCounter:
    """Counts UNet forward calls and their batch sizes."""

    def __init__(self, unet: UNet2DConditionModel) -> None:
        self.batches: list[int] = []
        self._handle = unet.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module: Any, args: Any, kwargs: Any) -> None:
        self.batches.append(int(args[0].shape[0]))

    def close(self) -> None:
        self._handle.remove()


# --- equality with diffusers ------------------------------------------------------------------


@pytest.mark.parametrize(("sampler", "scheduler"), COMBOS)
def test_txt2img_equals_stable_diffusion_pipeline(
    unet: UNet2DConditionModel,
    vae: AutoencoderKL,
    conds: tuple[Conditioning, Conditioning],
    sampler: str,
    scheduler: str,
) -> None:
    positive, negative = conds
    sched = make_scheduler(sampler, scheduler, BASE_CONFIG)
    if hasattr(sched, "noise_sampler_seed"):
        # dpmpp_sde draws its Brownian noise from this seed, not the generator; left None, the
        # pipeline would pick a random one. sample() sets it from its seed.
        sched.noise_sampler_seed = 42
    pipe = _pipe(StableDiffusionPipeline, unet, vae, sched)
    expected = pipe(
        prompt_embeds=positive.embeds,
        negative_prompt_embeds=negative.embeds,
        num_inference_steps=4,
        guidance_scale=7.5,
        generator=torch.Generator().manual_seed(42),
        output_type="latent",
        height=IMAGE,
        width=IMAGE,
    ).images
    got = sample(unet, sched, positive, negative, _zeros(), seed=42, steps=4, cfg=7.5)
    assert got.shape == expected.shape
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("sampler", "scheduler"), [("euler", "normal"), ("dpmpp_2m", "karras"), ("heun", "simple")]
)
def test_img2img_equals_img2img_pipeline(
    unet: UNet2DConditionModel,
    vae: AutoencoderKL,
    conds: tuple[Conditioning, Conditioning],
    image_latents: torch.Tensor,
    sampler: str,
    scheduler: str,
) -> None:
    positive, negative = conds
    sched = make_scheduler(sampler, scheduler, BASE_CONFIG)
    pipe = _pipe(StableDiffusionImg2ImgPipeline, unet, vae, sched)
    # A 4-channel tensor is taken as latents by the img2img pipeline (no VAE encode).
    expected = pipe(
        image=image_latents,
        strength=0.5,
        prompt_embeds=positive.embeds,
        negative_prompt_embeds=negative.embeds,
        num_inference_steps=10,
        guidance_scale=6.0,
        generator=torch.Generator().manual_seed(7),
        output_type="latent",
    ).images
    progress: list[tuple[int, int]] = []
    got = sample(
        unet,
        sched,
        positive,
        negative,
        image_latents,
        seed=7,
        steps=10,
        cfg=6.0,
        denoise=0.5,
        on_step=lambda step, total, _x: progress.append((step, total)),
    )
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
    assert progress == [(step, 5) for step in range(1, 6)]


def test_img2img_runs_fewer_model_calls(
    unet: UNet2DConditionModel,
    conds: tuple[Conditioning, Conditioning],
    image_latents: torch.Tensor,
) -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    counter = _CallCounter(unet)
    try:
        sample(unet, sched, *conds, image_latents, seed=1, steps=10, cfg=5.0, denoise=0.3)
    finally:
        counter.close()
    assert counter.batches == [2, 2, 2]  # int(10 * 0.3) steps, uncond + cond in one call


def test_denoise_zero_returns_input(
    unet: UNet2DConditionModel,
    conds: tuple[Conditioning, Conditioning],
    image_latents: torch.Tensor,
) -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    out = sample(unet, sched, *conds, image_latents, seed=1, steps=10, cfg=5.0, denoise=0.0)
    assert torch.equal(out, image_latents)


# --- inpainting with a noise mask -------------------------------------------------------------


@pytest.mark.parametrize("sampler", ["euler", "dpmpp_2m", "ddim", "heun"])
def test_noise_mask_keeps_masked_out_latents(
    unet: UNet2DConditionModel,
    conds: tuple[Conditioning, Conditioning],
    image_latents: torch.Tensor,
    sampler: str,
) -> None:
    sched = make_scheduler(sampler, "simple", BASE_CONFIG)
    mask = torch.zeros(LATENT, LATENT)
    mask[:, LATENT // 2 :] = 1.0  # regenerate the right half only
    out = sample(unet, sched, *conds, image_latents, seed=3, steps=5, cfg=5.0, noise_mask=mask)
    half = LATENT // 2
    assert torch.equal(out[..., :half], image_latents[..., :half])
    assert not torch.allclose(out[..., half:], image_latents[..., half:], atol=1e-2)


def test_noise_mask_at_image_resolution_is_resized(
    unet: UNet2DConditionModel,
    conds: tuple[Conditioning, Conditioning],
    image_latents: torch.Tensor,
) -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    mask = torch.zeros(1, 1, LATENT * 8, LATENT * 8)
    mask[..., : LATENT * 4, :] = 1.0  # top half
    out = sample(
        unet, sched, *conds, image_latents, seed=3, steps=4, cfg=5.0, denoise=0.75, noise_mask=mask
    )
    half = LATENT // 2
    assert torch.equal(out[..., half:, :], image_latents[..., half:, :])
    assert not torch.allclose(out[..., :half, :], image_latents[..., :half, :], atol=1e-2)


# --- KSamplerAdvanced -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sampler", "scheduler", "tol"),
    [("euler", "normal", 0.0), ("heun", "karras", 0.0), ("ddim", "sgm_uniform", 1e-5)],
)
def test_split_run_equals_full_run(
    unet: UNet2DConditionModel,
    conds: tuple[Conditioning, Conditioning],
    sampler: str,
    scheduler: str,
    tol: float,
) -> None:
    """Two KSamplerAdvanced halves (leftover noise handed over) equal one full run.

    DDIM works in the variance-preserving form, so its hand-over goes through the conversion to
    ComfyUI's form and back; single-step samplers must then give the same latents.
    """
    sched = make_scheduler(sampler, scheduler, BASE_CONFIG)
    full = sample(unet, sched, *conds, _zeros(), seed=5, steps=6, cfg=4.0)
    first = sample(unet, sched, *conds, _zeros(), seed=5, steps=6, cfg=4.0, end_step=2)
    second = sample(
        unet, sched, *conds, first, seed=999, steps=6, cfg=4.0, start_step=2, add_noise=False
    )
    torch.testing.assert_close(second, full, rtol=tol, atol=tol)


def test_leftover_noise_is_in_comfy_form_for_vp_schedulers(
    unet: UNet2DConditionModel, conds: tuple[Conditioning, Conditioning]
) -> None:
    # After 1 of 4 DDIM steps the latents sit at sigma ~4: ComfyUI's form has std ~sigma, the
    # variance-preserving form would have std ~1.
    sched = make_scheduler("ddim", "sgm_uniform", BASE_CONFIG)
    out = sample(unet, sched, *conds, _zeros(), seed=5, steps=4, cfg=4.0, end_step=1)
    assert float(out.std()) > 2.5


def test_force_full_denoise_returns_the_last_denoised_estimate(
    unet: UNet2DConditionModel, conds: tuple[Conditioning, Conditioning]
) -> None:
    sched = make_scheduler("euler", "karras", BASE_CONFIG)
    seen: list[torch.Tensor] = []
    leftover = sample(
        unet,
        sched,
        *conds,
        _zeros(),
        seed=8,
        steps=6,
        cfg=4.0,
        end_step=3,
        on_step=lambda _s, _t, x: seen.append(x.clone()),
    )
    forced = sample(
        unet, sched, *conds, _zeros(), seed=8, steps=6, cfg=4.0, end_step=3, force_full_denoise=True
    )
    assert len(seen) == 3
    torch.testing.assert_close(forced, seen[-1], rtol=0, atol=0)
    assert not torch.allclose(forced, leftover)


def test_start_at_or_after_end_returns_input(
    unet: UNet2DConditionModel,
    conds: tuple[Conditioning, Conditioning],
    image_latents: torch.Tensor,
) -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    out = sample(unet, sched, *conds, image_latents, seed=1, steps=5, cfg=5.0, start_step=5)
    assert torch.equal(out, image_latents)


def test_add_noise_disabled_draws_no_noise(
    unet: UNet2DConditionModel,
    conds: tuple[Conditioning, Conditioning],
    image_latents: torch.Tensor,
) -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    noisy = image_latents * 10.0
    a = sample(unet, sched, *conds, noisy, seed=1, steps=4, cfg=5.0, add_noise=False)
    b = sample(unet, sched, *conds, noisy, seed=2, steps=4, cfg=5.0, add_noise=False)
    c = sample(unet, sched, *conds, noisy, seed=1, steps=4, cfg=5.0)
    assert torch.equal(a, b)  # the seed matters only for noise, and none was drawn
    assert not torch.allclose(a, c)


@pytest.mark.parametrize(
    ("cls", "prediction_type"),
    [
        (EulerDiscreteScheduler, "epsilon"),
        (EulerDiscreteScheduler, "v_prediction"),
        (DDIMScheduler, "epsilon"),
        (DDIMScheduler, "v_prediction"),
    ],
)
def test_predict_x0_matches_scheduler_pred_original_sample(cls: Any, prediction_type: str) -> None:
    config = {**BASE_CONFIG, "prediction_type": prediction_type, "timestep_spacing": "trailing"}
    sched = cls.from_config(config)
    sched.set_timesteps(5)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4, 8, 8, generator=g) * float(sched.init_noise_sigma)
    eps = torch.randn(1, 4, 8, 8, generator=g)
    index = 1
    if hasattr(sched, "set_begin_index"):
        sched.set_begin_index(index)
    expected = sched.step(eps, sched.timesteps[index], x).pred_original_sample
    torch.testing.assert_close(predict_x0(sched, x, eps, index), expected, rtol=1e-5, atol=1e-5)


# --- progress, cancellation, CFG --------------------------------------------------------------


@pytest.mark.parametrize("sampler", ["euler", "heun", "dpm_2"])
def test_on_step_called_once_per_step_in_order(
    unet: UNet2DConditionModel, conds: tuple[Conditioning, Conditioning], sampler: str
) -> None:
    sched = make_scheduler(sampler, "normal", BASE_CONFIG)
    calls: list[tuple[int, int, tuple[int, ...]]] = []
    sample(
        unet,
        sched,
        *conds,
        _zeros(),
        seed=1,
        steps=5,
        cfg=5.0,
        on_step=lambda step, total, x: calls.append((step, total, tuple(x.shape))),
    )
    assert calls == [(step, 5, (1, 4, LATENT, LATENT)) for step in range(1, 6)]


def test_cancellation_takes_effect_within_one_step(
    unet: UNet2DConditionModel, conds: tuple[Conditioning, Conditioning]
) -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    steps_seen: list[int] = []
    counter = _CallCounter(unet)
    try:
        with pytest.raises(SamplingCancelled) as info:
            sample(
                unet,
                sched,
                *conds,
                _zeros(),
                seed=1,
                steps=10,
                cfg=5.0,
                on_step=lambda step, _t, _x: steps_seen.append(step),
                cancelled=lambda: len(steps_seen) >= 2,
            )
    finally:
        counter.close()
    assert (info.value.step, info.value.total) == (2, 10)
    assert steps_seen == [1, 2]
    assert len(counter.batches) == 2  # no model evaluation after the cancel request


def test_cfg_one_runs_only_the_positive_branch(
    unet: UNet2DConditionModel, conds: tuple[Conditioning, Conditioning]
) -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    counter = _CallCounter(unet)
    try:
        sample(unet, sched, *conds, _zeros(), seed=1, steps=3, cfg=1.0)
    finally:
        counter.close()
    assert counter.batches == [1, 1, 1]


# --- batching and determinism -----------------------------------------------------------------


@pytest.mark.parametrize("sampler", ["euler", "euler_ancestral", "dpmpp_2m_sde"])
def test_batched_items_equal_their_unbatched_runs(
    unet: UNet2DConditionModel, conds: tuple[Conditioning, Conditioning], sampler: str
) -> None:
    positive, negative = conds
    other = Conditioning(torch.randn(1, 77, 32, generator=torch.Generator().manual_seed(9)))
    sched = make_scheduler(sampler, "normal", BASE_CONFIG)
    seeds = [11, 22, 33]
    prompts = [positive, other, positive]
    batched = sample(
        unet,
        sched,
        Conditioning.concat(prompts),
        negative,
        _zeros(3),
        seed=0,
        steps=4,
        cfg=5.0,
        batch_seeds=seeds,
    )
    for i, (seed, prompt) in enumerate(zip(seeds, prompts, strict=True)):
        alone = sample(unet, sched, prompt, negative, _zeros(), seed=seed, steps=4, cfg=5.0)
        torch.testing.assert_close(batched[i : i + 1], alone, rtol=1e-5, atol=1e-4)


def test_same_inputs_give_identical_tensors(
    unet: UNet2DConditionModel, conds: tuple[Conditioning, Conditioning]
) -> None:
    sched = make_scheduler("dpmpp_2m_sde", "karras", BASE_CONFIG)
    a = sample(unet, sched, *conds, _zeros(), seed=123, steps=4, cfg=5.0)
    b = sample(unet, sched, *conds, _zeros(), seed=123, steps=4, cfg=5.0)
    c = sample(unet, sched, *conds, _zeros(), seed=124, steps=4, cfg=5.0)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


# --- argument errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 0}, "steps must be at least 1"),
        ({"denoise": 1.5}, "denoise must be between 0 and 1"),
        ({"batch_seeds": [1, 2]}, "batch_seeds has 2 seeds for 1 latents"),
        ({"cfg": float("nan")}, "cfg must be a finite number"),
    ],
)
def test_bad_arguments_say_what_is_wrong(
    unet: UNet2DConditionModel,
    conds: tuple[Conditioning, Conditioning],
    kwargs: dict[str, Any],
    message: str,
) -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    args: dict[str, Any] = {"seed": 1, "steps": 3, "cfg": 5.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        sample(unet, sched, *conds, _zeros(), **args)


def test_wrong_channel_count_is_rejected(
    unet: UNet2DConditionModel, conds: tuple[Conditioning, Conditioning]
) -> None:
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    with pytest.raises(ValueError, match="latents have 9 channels but the UNet takes 4"):
        sample(unet, sched, *conds, torch.zeros(1, 9, 8, 8), seed=1, steps=2, cfg=5.0)


def test_conditioning_batch_mismatch_is_rejected(
    unet: UNet2DConditionModel, conds: tuple[Conditioning, Conditioning]
) -> None:
    positive, negative = conds
    two = Conditioning.concat([positive, positive])
    sched = make_scheduler("euler", "normal", BASE_CONFIG)
    with pytest.raises(ValueError, match="positive conditioning: cannot use a conditioning"):
        sample(unet, sched, two, negative, _zeros(3), seed=1, steps=2, cfg=5.0)
