"""The model nodes: checkpoint loading, prompt encoding, sampling, VAE decode and encode.

Each node leases what it needs from the :class:`ModelManager` for as long as it runs and holds
the device lock around model work, so jobs share one copy of the weights and take turns on the
device. Sampling reports progress every step, renders a preview every ``preview_every`` steps
into the temp directory (the progress event carries its path), and stops within one step of a
cancel. Running out of memory fails the node with what to change, after the manager has freed
what it could, so the next job finds the device usable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import torch
import torch.nn.functional as F

from drivers.diffusion.batching import SamplerBatcher, SampleRequest, run_alone
from drivers.diffusion.conditioning import Conditioning, encode_prompt
from drivers.diffusion.devices import is_oom_error
from drivers.diffusion.latent_ops import LATENT_OPS
from drivers.diffusion.manager import LoadedModel, ModelManager
from drivers.diffusion.previews import PreviewRenderer
from drivers.diffusion.values import (
    Latent,
    ModelRef,
    expect_ref,
    image_tensor,
    latent_samples,
    mask_tensor,
)
from drivers.nodes.context import NodeContext, NodeImplementation, NodeResult

PREVIEW_DIR: Final = "previews"
# The loader's ui key: ``[{"name", "model_id"}]``, model_id being ``name@content-id``.
MODELS_UI_KEY: Final = "rxgen_models"


class OutOfMemory(RuntimeError):
    """A node ran out of device memory; the message says what to reduce."""


class DiffusionNodes:
    """Implementations of the model nodes over one model manager.

    ``preview_every`` renders a preview every that many steps (0: none); ``previews`` renders
    them (linear latent-to-RGB by default, TAESD when given one). ``batch_window_s`` > 0
    coalesces compatible KSampler calls of concurrent jobs, up to ``max_batch`` items, into one
    sampler call (see :mod:`drivers.diffusion.batching`); ``batcher.stats()`` tells what it did.
    """

    def __init__(
        self,
        manager: ModelManager,
        *,
        preview_every: int = 1,
        previews: PreviewRenderer | None = None,
        batch_window_s: float = 0.0,
        max_batch: int = 8,
    ) -> None:
        self.manager = manager
        self.preview_every = preview_every
        self.previews = previews or PreviewRenderer(every_n=max(1, preview_every))
        # Off by default: the window delays a lone job by up to batch_window_s, which pays off
        # only where several jobs run at once (a server with max_workers > 1).
        self.batcher: SamplerBatcher | None = None
        if batch_window_s > 0:
            self.batcher = SamplerBatcher(self._lease, window_s=batch_window_s, max_batch=max_batch)

    def implementations(self) -> dict[str, NodeImplementation]:
        return {
            "CheckpointLoaderSimple": self.checkpoint_loader_node,
            "CLIPTextEncode": self.clip_text_encode,
            "CLIPSetLastLayer": clip_set_last_layer,
            "KSampler": self.ksampler,
            "KSamplerAdvanced": self.ksampler_advanced,
            "VAEDecode": self.vae_decode,
            "VAEEncode": self.vae_encode,
            "VAEEncodeForInpaint": self.vae_encode_for_inpaint,
            "TextToVideo": self.text_to_video,
            **LATENT_OPS,
        }

    # -- loading and text --------------------------------------------------------------------
    def checkpoint_loader(self, inputs: Mapping[str, Any]) -> tuple[ModelRef, ModelRef, ModelRef]:
        name = str(inputs["ckpt_name"])
        with self._oom_guard("loading", name):
            model = self.manager.load(name)
        if model.is_video:
            raise ValueError(
                f"CheckpointLoaderSimple: {name!r} is a text-to-video model; generate with the "
                "TextToVideo node instead, or pick an image model"
            )
        return (
            ModelRef(name, model.model_id, "unet"),
            ModelRef(name, model.model_id, "clip"),
            ModelRef(name, model.model_id, "vae"),
        )

    def checkpoint_loader_node(self, inputs: Mapping[str, Any]) -> NodeResult:
        """The loader as the node runner calls it: its ``ui`` names the model's identity, so
        the session log records which content made a job's outputs (`rxgen reproduce`)."""
        refs = self.checkpoint_loader(inputs)
        model = {"name": refs[0].name, "model_id": refs[0].model_id}
        return NodeResult(outputs=refs, ui={MODELS_UI_KEY: [model]})

    def clip_text_encode(self, inputs: Mapping[str, Any]) -> tuple[Conditioning]:
        clip = expect_ref(inputs["clip"], "clip", "CLIPTextEncode", "clip")
        with self._lease(clip, "encoding a prompt") as model:
            cond = encode_prompt(
                model.tokenizer,
                model.text_encoder,
                str(inputs["text"]),
                model.device,
                clip_skip=clip.clip_skip,
            )
        return (_to_cpu(cond),)

    # -- sampling ----------------------------------------------------------------------------
    def ksampler(self, inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Latent]:
        return (
            self._sample(
                "KSampler",
                inputs,
                ctx,
                seed=int(inputs["seed"]),
                denoise=float(inputs["denoise"]),
            ),
        )

    def ksampler_advanced(self, inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Latent]:
        return (
            self._sample(
                "KSamplerAdvanced",
                inputs,
                ctx,
                seed=int(inputs["noise_seed"]),
                add_noise=inputs["add_noise"] == "enable",
                start_step=int(inputs["start_at_step"]),
                end_step=int(inputs["end_at_step"]),
                force_full_denoise=inputs["return_with_leftover_noise"] == "disable",
            ),
        )

    def _sample(
        self, node: str, inputs: Mapping[str, Any], ctx: NodeContext, *, seed: int, **options: Any
    ) -> Latent:
        latent = inputs["latent_image"]
        request = SampleRequest(
            unet=expect_ref(inputs["model"], "unet", node, "model"),
            positive=_conditioning(inputs["positive"], node, "positive"),
            negative=_conditioning(inputs["negative"], node, "negative"),
            latents=latent_samples(latent, node, "latent_image"),
            seed=seed,
            steps=int(inputs["steps"]),
            cfg=float(inputs["cfg"]),
            sampler_name=str(inputs["sampler_name"]),
            scheduler_name=str(inputs["scheduler"]),
            options=options,
            noise_mask=latent.get("noise_mask"),
            on_step=self._progress(ctx),
            cancelled=lambda: ctx.cancelled,
        )
        if self.batcher is not None:
            out = self.batcher.submit(request)
        else:
            out = run_alone(request, self._lease)
        return {**latent, "samples": out}

    def _progress(self, ctx: NodeContext) -> Callable[[int, int, torch.Tensor], None]:
        directory = ctx.temp_dir / PREVIEW_DIR if ctx.temp_dir is not None else None

        def on_step(step: int, total: int, denoised: torch.Tensor) -> None:
            preview = None
            if self.preview_every and directory is not None and self.previews.wants(step, total):
                data = self.previews.render(step, total, denoised)
                if data is not None:
                    preview = _write_preview(directory, data, self.previews.format)
            ctx.progress(step, total, preview)

        return on_step

    # -- text to video -----------------------------------------------------------------------
    def text_to_video(self, inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any]:
        from drivers.diffusion.text_to_video import generate_video
        from drivers.video.chunks import ChunkStore, from_frames

        if ctx.temp_dir is None:
            raise RuntimeError("TextToVideo: no temp directory to store the frames in")
        name = str(inputs["model"])
        frames, width, height = int(inputs["frames"]), int(inputs["width"]), int(inputs["height"])
        what = f"generating {frames} frames of {width}x{height}"
        with (
            self._oom_guard(what, name),
            self.manager.lease(name) as model,
            self.manager.device_lock(),
        ):
            video = generate_video(
                model,
                str(inputs["prompt"]),
                str(inputs["negative_prompt"]),
                frames=frames,
                width=width,
                height=height,
                steps=int(inputs["steps"]),
                guidance=float(inputs["guidance"]),
                seed=int(inputs["seed"]),
                on_step=self._progress(ctx),
                cancelled=lambda: ctx.cancelled,
            )
        store = ChunkStore(ctx.temp_dir / "video_chunks")
        meta = {"generator": "TextToVideo", "model": name, "model_id": model.model_id}
        return (from_frames(video, float(inputs["fps"]), store, metadata=meta),)

    # -- the VAE -----------------------------------------------------------------------------
    def vae_decode(self, inputs: Mapping[str, Any]) -> tuple[torch.Tensor]:
        vae_ref = expect_ref(inputs["vae"], "vae", "VAEDecode", "vae")
        latents = latent_samples(inputs["samples"], "VAEDecode")
        with self._lease(vae_ref, f"decoding {_describe(latents)}") as model:
            vae = model.vae
            x = latents.to(device=model.device, dtype=vae.dtype) / vae.config.scaling_factor
            with torch.inference_mode():
                decoded = vae.decode(x, return_dict=False)[0]
            image = (decoded.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1)
        return (image.to("cpu").contiguous(),)

    def vae_encode(self, inputs: Mapping[str, Any]) -> tuple[Latent]:
        pixels = _crop_to_8(image_tensor(inputs["pixels"], "VAEEncode", "pixels"))
        vae_ref = expect_ref(inputs["vae"], "vae", "VAEEncode", "vae")
        return ({"samples": self._encode(vae_ref, pixels)},)

    def vae_encode_for_inpaint(self, inputs: Mapping[str, Any]) -> tuple[Latent]:
        node = "VAEEncodeForInpaint"
        pixels = image_tensor(inputs["pixels"], node, "pixels")
        vae_ref = expect_ref(inputs["vae"], "vae", node, "vae")
        mask = mask_tensor(inputs["mask"], node, "mask").float()
        height, width = pixels.shape[1], pixels.shape[2]
        mask = F.interpolate(mask[:, None], size=(height, width), mode="bilinear")
        pixels, mask = _crop_to_8(pixels), mask[:, :, : height // 8 * 8, : width // 8 * 8]
        grow = int(inputs["grow_mask_by"])
        if grow > 0:
            # Grow the mask so the seam is regenerated too, not just the hole.
            size = grow * 2 + 1
            kernel = torch.ones(1, 1, size, size)
            grown = F.conv2d(mask.round(), kernel, padding=grow).clamp(0, 1)
        else:
            grown = mask.round()
        # The masked area is blanked to mid-grey so the sampler has nothing to keep there.
        keep = (1.0 - mask.round()).permute(0, 2, 3, 1)
        blanked = (pixels - 0.5) * keep + 0.5
        samples = self._encode(vae_ref, blanked)
        return ({"samples": samples, "noise_mask": grown[:, 0]},)

    def _encode(self, vae_ref: ModelRef, pixels: torch.Tensor) -> torch.Tensor:
        with self._lease(vae_ref, f"encoding {tuple(pixels.shape)} pixels") as model:
            vae = model.vae
            x = pixels.permute(0, 3, 1, 2).to(device=model.device, dtype=vae.dtype) * 2 - 1
            with torch.inference_mode():
                # The distribution's mode, not a sample: the same image always gives the same
                # latents, without a seed to carry around.
                posterior = vae.encode(x).latent_dist
                samples: torch.Tensor = posterior.mode() * vae.config.scaling_factor
        return samples.to("cpu", torch.float32)

    # -- leases, the device lock, out of memory ----------------------------------------------
    @contextmanager
    def _lease(self, ref: ModelRef, what: str) -> Iterator[LoadedModel]:
        with self._oom_guard(what, ref.name), self.manager.lease(ref.name) as model:
            if model.model_id != ref.model_id:
                raise RuntimeError(
                    f"model {ref.name!r} changed on disk since it was loaded in this job "
                    f"({ref.model_id[:12]} -> {model.model_id[:12]}); run the workflow again"
                )
            with self.manager.device_lock():
                yield model

    @contextmanager
    def _oom_guard(self, what: str, name: str) -> Iterator[None]:
        """Turns running out of memory into :class:`OutOfMemory`, once the lease inside is
        released, so freeing can drop this model too."""
        failed: BaseException | None = None
        try:
            yield
        except Exception as error:
            if not is_oom_error(error):
                raise
            failed = error
        else:
            return
        # Outside the except block: the traceback would keep the failed tensors alive.
        self.manager.free_after_oom()
        raise OutOfMemory(
            f"out of memory on {self.manager.device} while {what} with {name!r}; lower the "
            "size or batch, or free the device (the models not in use have been unloaded) "
            f"({type(failed).__name__}: {str(failed)[:200]})"
        )


def clip_set_last_layer(inputs: Mapping[str, Any]) -> tuple[ModelRef]:
    clip = expect_ref(inputs["clip"], "clip", "CLIPSetLastLayer", "clip")
    # ComfyUI counts from the end (-1 = last layer); diffusers counts layers skipped.
    skip = -int(inputs["stop_at_clip_layer"]) - 1
    return (clip.with_clip_skip(skip or None),)


def _conditioning(value: Any, node: str, name: str) -> Conditioning:
    if not isinstance(value, Conditioning):
        raise TypeError(
            f"{node}: input {name!r} must be CONDITIONING from CLIPTextEncode, got "
            f"{type(value).__name__}"
        )
    return value


def _to_cpu(cond: Conditioning) -> Conditioning:
    return cond.to("cpu", torch.float32)


def _crop_to_8(pixels: torch.Tensor) -> torch.Tensor:
    height, width = pixels.shape[1] // 8 * 8, pixels.shape[2] // 8 * 8
    if height == 0 or width == 0:
        raise ValueError(f"an image of {pixels.shape[2]}x{pixels.shape[1]} is too small to encode")
    top, left = (pixels.shape[1] - height) // 2, (pixels.shape[2] - width) // 2
    return pixels[:, top : top + height, left : left + width]


def _describe(latents: torch.Tensor) -> str:
    batch, _, height, width = latents.shape
    return f"{batch} image(s) of {width * 8}x{height * 8}"


def _write_preview(directory: Path, data: bytes, format: str) -> str:
    # Named by content: a client may cache it forever, and equal previews share one file.
    name = f"{hashlib.sha256(data).hexdigest()[:20]}.{format.lower()}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return f"{PREVIEW_DIR}/{name}"
