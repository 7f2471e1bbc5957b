"""Definitions of ComfyUI's core model nodes, with ComfyUI's names, inputs, defaults and ranges.

Only the interface lives here: the diffusion and video drivers implement these nodes. Names and
input names match ComfyUI exactly so that its workflows load one-to-one; the sampler and scheduler
lists hold the names rxgen maps onto diffusers schedulers.
"""

from __future__ import annotations

from typing import Final

from components.nodes.schema import (
    InputSpec,
    NodeDef,
    combo,
    float_input,
    int_input,
    output,
    socket,
    string_input,
)
from components.nodes.types import SocketType as T

MAX_RESOLUTION: Final = 16384
MAX_SEED: Final = 0xFFFF_FFFF_FFFF_FFFF

# Dynamic choice lists filled by drivers (file listings); validation reads them by these names.
CHECKPOINTS: Final = "checkpoints"
LORAS: Final = "loras"
VAES: Final = "vae"
INPUT_IMAGES: Final = "input_images"

SAMPLER_NAMES: Final = (
    "euler",
    "euler_ancestral",
    "heun",
    "dpm_2",
    "dpm_2_ancestral",
    "lms",
    "dpmpp_sde",
    "dpmpp_2m",
    "dpmpp_2m_sde",
    "lcm",
    "ddim",
    "uni_pc",
)
SCHEDULER_NAMES: Final = (
    "normal",
    "karras",
    "exponential",
    "sgm_uniform",
    "simple",
    "ddim_uniform",
)
# ComfyUI also offers "bislerp" (spherical interpolation); rxgen has no faithful version yet,
# so a workflow asking for it fails validation instead of silently getting another method.
LATENT_UPSCALE_METHODS: Final = ("nearest-exact", "bilinear", "area", "bicubic")
CROP_METHODS: Final = ("disabled", "center")

_MODULE = "nodes"


def _seed(name: str) -> InputSpec:
    return int_input(
        name,
        0,
        min=0,
        max=MAX_SEED,
        control_after_generate=True,
        tooltip="The random seed used for creating the noise.",
    )


def _sampler_inputs(seed_name: str) -> tuple[InputSpec, ...]:
    return (
        _seed(seed_name),
        int_input(
            "steps",
            20,
            min=1,
            max=10000,
            tooltip="The number of steps used in the denoising process.",
        ),
        float_input(
            "cfg",
            8.0,
            min=0.0,
            max=100.0,
            step=0.1,
            round=0.01,
            tooltip="Classifier-free guidance scale: how closely the image follows the prompt.",
        ),
        combo("sampler_name", SAMPLER_NAMES, tooltip="The sampling algorithm."),
        combo("scheduler", SCHEDULER_NAMES, tooltip="How noise is removed over the steps."),
    )


CHECKPOINT_LOADER_SIMPLE = NodeDef(
    name="CheckpointLoaderSimple",
    display_name="Load Checkpoint",
    category="loaders",
    description="Loads a diffusion model checkpoint with its text encoder and VAE.",
    python_module=_MODULE,
    required=(
        combo(
            "ckpt_name",
            choices_from=CHECKPOINTS,
            tooltip="The name of the checkpoint (model) to load.",
        ),
    ),
    outputs=(
        output(T.MODEL, tooltip="The model used for denoising latents."),
        output(T.CLIP, tooltip="The CLIP model used for encoding text prompts."),
        output(T.VAE, tooltip="The VAE used to encode and decode images to and from latents."),
    ),
)

CLIP_TEXT_ENCODE = NodeDef(
    name="CLIPTextEncode",
    display_name="CLIP Text Encode (Prompt)",
    category="conditioning",
    description="Encodes a text prompt with a CLIP model into conditioning for sampling.",
    python_module=_MODULE,
    required=(
        string_input(
            "text", "", multiline=True, dynamic_prompts=True, tooltip="The text to be encoded."
        ),
        socket("clip", T.CLIP, tooltip="The CLIP model used for encoding the text."),
    ),
    outputs=(output(T.CONDITIONING),),
)

CLIP_SET_LAST_LAYER = NodeDef(
    name="CLIPSetLastLayer",
    display_name="CLIP Set Last Layer",
    category="conditioning",
    python_module=_MODULE,
    required=(
        socket("clip", T.CLIP),
        int_input("stop_at_clip_layer", -1, min=-24, max=-1, step=1),
    ),
    outputs=(output(T.CLIP),),
)

CONDITIONING_COMBINE = NodeDef(
    name="ConditioningCombine",
    display_name="Conditioning (Combine)",
    category="conditioning",
    python_module=_MODULE,
    required=(socket("conditioning_1", T.CONDITIONING), socket("conditioning_2", T.CONDITIONING)),
    outputs=(output(T.CONDITIONING),),
)

EMPTY_LATENT_IMAGE = NodeDef(
    name="EmptyLatentImage",
    display_name="Empty Latent Image",
    category="latent",
    description="Creates a batch of empty latent images to be denoised by sampling.",
    python_module=_MODULE,
    required=(
        int_input("width", 512, min=16, max=MAX_RESOLUTION, step=8, tooltip="Width in pixels."),
        int_input("height", 512, min=16, max=MAX_RESOLUTION, step=8, tooltip="Height in pixels."),
        int_input("batch_size", 1, min=1, max=4096, tooltip="Number of latent images."),
    ),
    outputs=(output(T.LATENT),),
)

KSAMPLER = NodeDef(
    name="KSampler",
    display_name="KSampler",
    category="sampling",
    description="Denoises a latent image guided by positive and negative conditioning.",
    python_module=_MODULE,
    required=(
        socket("model", T.MODEL, tooltip="The model used for denoising the input latent."),
        *_sampler_inputs("seed"),
        socket("positive", T.CONDITIONING, tooltip="What the image should contain."),
        socket("negative", T.CONDITIONING, tooltip="What the image should not contain."),
        socket("latent_image", T.LATENT, tooltip="The latent image to denoise."),
        float_input(
            "denoise",
            1.0,
            min=0.0,
            max=1.0,
            step=0.01,
            tooltip="How much to denoise; lower keeps more of the input latent.",
        ),
    ),
    outputs=(output(T.LATENT),),
)

KSAMPLER_ADVANCED = NodeDef(
    name="KSamplerAdvanced",
    display_name="KSampler (Advanced)",
    category="sampling",
    python_module=_MODULE,
    required=(
        socket("model", T.MODEL),
        combo("add_noise", ("enable", "disable")),
        *_sampler_inputs("noise_seed"),
        socket("positive", T.CONDITIONING),
        socket("negative", T.CONDITIONING),
        socket("latent_image", T.LATENT),
        int_input("start_at_step", 0, min=0, max=10000),
        int_input("end_at_step", 10000, min=0, max=10000),
        combo("return_with_leftover_noise", ("disable", "enable")),
    ),
    outputs=(output(T.LATENT),),
)

VAE_DECODE = NodeDef(
    name="VAEDecode",
    display_name="VAE Decode",
    category="latent",
    description="Decodes latent images back into pixel space.",
    python_module=_MODULE,
    required=(
        socket("samples", T.LATENT, tooltip="The latent to be decoded."),
        socket("vae", T.VAE, tooltip="The VAE used for decoding the latent."),
    ),
    outputs=(output(T.IMAGE, tooltip="The decoded image."),),
)

VAE_ENCODE = NodeDef(
    name="VAEEncode",
    display_name="VAE Encode",
    category="latent",
    python_module=_MODULE,
    required=(socket("pixels", T.IMAGE), socket("vae", T.VAE)),
    outputs=(output(T.LATENT),),
)

VAE_LOADER = NodeDef(
    name="VAELoader",
    display_name="Load VAE",
    category="loaders",
    python_module=_MODULE,
    required=(combo("vae_name", choices_from=VAES),),
    outputs=(output(T.VAE),),
)

LORA_LOADER = NodeDef(
    name="LoraLoader",
    display_name="Load LoRA",
    category="loaders",
    description="Applies a LoRA to the diffusion model and the CLIP model.",
    python_module=_MODULE,
    required=(
        socket("model", T.MODEL),
        socket("clip", T.CLIP),
        combo("lora_name", choices_from=LORAS),
        float_input("strength_model", 1.0, min=-100.0, max=100.0, step=0.01),
        float_input("strength_clip", 1.0, min=-100.0, max=100.0, step=0.01),
    ),
    outputs=(output(T.MODEL), output(T.CLIP)),
)

LOAD_IMAGE = NodeDef(
    name="LoadImage",
    display_name="Load Image",
    category="image",
    python_module=_MODULE,
    required=(combo("image", choices_from=INPUT_IMAGES, image_upload=True),),
    outputs=(output(T.IMAGE), output(T.MASK)),
)

SAVE_IMAGE = NodeDef(
    name="SaveImage",
    display_name="Save Image",
    category="image",
    description="Saves the input images to the output directory.",
    python_module=_MODULE,
    output_node=True,
    required=(
        socket("images", T.IMAGE, tooltip="The images to save."),
        string_input("filename_prefix", "ComfyUI", tooltip="The prefix for the saved files."),
    ),
)

PREVIEW_IMAGE = NodeDef(
    name="PreviewImage",
    display_name="Preview Image",
    category="image",
    description="Shows the input images without keeping them.",
    python_module=_MODULE,
    output_node=True,
    required=(socket("images", T.IMAGE),),
)

LATENT_UPSCALE = NodeDef(
    name="LatentUpscale",
    display_name="Upscale Latent",
    category="latent",
    python_module=_MODULE,
    required=(
        socket("samples", T.LATENT),
        combo("upscale_method", LATENT_UPSCALE_METHODS),
        int_input("width", 512, min=0, max=MAX_RESOLUTION, step=8),
        int_input("height", 512, min=0, max=MAX_RESOLUTION, step=8),
        combo("crop", CROP_METHODS),
    ),
    outputs=(output(T.LATENT),),
)

LATENT_UPSCALE_BY = NodeDef(
    name="LatentUpscaleBy",
    display_name="Upscale Latent By",
    category="latent",
    python_module=_MODULE,
    required=(
        socket("samples", T.LATENT),
        combo("upscale_method", LATENT_UPSCALE_METHODS),
        float_input("scale_by", 1.5, min=0.01, max=8.0, step=0.01),
    ),
    outputs=(output(T.LATENT),),
)

VAE_ENCODE_FOR_INPAINT = NodeDef(
    name="VAEEncodeForInpaint",
    display_name="VAE Encode (for Inpainting)",
    category="latent/inpaint",
    description=(
        "Encodes the image with the masked area blanked to grey, and sets the (grown) mask as "
        "the latent's noise mask: for regenerating the masked area with a denoise of 1."
    ),
    python_module=_MODULE,
    required=(
        socket("pixels", T.IMAGE),
        socket("vae", T.VAE),
        socket("mask", T.MASK),
        int_input("grow_mask_by", 6, min=0, max=64, step=1),
    ),
    outputs=(output(T.LATENT),),
)

SET_LATENT_NOISE_MASK = NodeDef(
    name="SetLatentNoiseMask",
    display_name="Set Latent Noise Mask",
    category="latent/inpaint",
    python_module=_MODULE,
    required=(socket("samples", T.LATENT), socket("mask", T.MASK)),
    outputs=(output(T.LATENT),),
)

CORE_NODES: Final[tuple[NodeDef, ...]] = (
    CHECKPOINT_LOADER_SIMPLE,
    CLIP_TEXT_ENCODE,
    CLIP_SET_LAST_LAYER,
    CONDITIONING_COMBINE,
    EMPTY_LATENT_IMAGE,
    KSAMPLER,
    KSAMPLER_ADVANCED,
    VAE_DECODE,
    VAE_ENCODE,
    VAE_ENCODE_FOR_INPAINT,
    VAE_LOADER,
    LORA_LOADER,
    LOAD_IMAGE,
    SAVE_IMAGE,
    PREVIEW_IMAGE,
    LATENT_UPSCALE,
    LATENT_UPSCALE_BY,
    SET_LATENT_NOISE_MASK,
)
