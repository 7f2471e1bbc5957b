"""LoadImage: an image from the input directory as IMAGE and MASK, as ComfyUI loads it.

Frames of an animated file become the batch; EXIF orientation is applied; the MASK is the
inverted alpha channel (1 where the image is transparent: what inpainting should fill), or
zeros when the image has no alpha. Names are resolved inside the input directory only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from drivers.nodes.context import NodeContext
from drivers.nodes.light_ops import NodeInputError

# Decompression bombs: refuse images larger than this many pixels (about 16k x 16k).
MAX_PIXELS: Final = 16384 * 16384


def resolve_input(name: str, input_dir: Path | None, node: str) -> Path:
    """``name`` (optionally ``subfolder/name``) inside ``input_dir``; refuses anything else."""
    if input_dir is None:
        raise RuntimeError(f"{node}: no input directory is configured; pass input_dir=")
    root = input_dir.resolve()
    # ComfyUI clients may send "name [input]" for files in the input folder.
    name = name.removesuffix(" [input]")
    path = (root / name).resolve()
    if not path.is_relative_to(root) or path == root:
        raise NodeInputError(f"{node}: {name!r} is not a file inside the input directory")
    if not path.is_file():
        raise NodeInputError(
            f"{node}: no file {name!r} in the input directory {root}; upload it first"
        )
    return path


def load_image(inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[torch.Tensor, torch.Tensor]:
    node = "LoadImage"
    path = resolve_input(str(inputs["image"]), ctx.input_dir, node)
    try:
        with Image.open(path) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise NodeInputError(
                    f"{node}: {path.name} is {opened.width}x{opened.height}, larger than "
                    f"{MAX_PIXELS} pixels; scale it down first"
                )
            images: list[np.ndarray[Any, Any]] = []
            masks: list[np.ndarray[Any, Any]] = []
            for frame in ImageSequence.Iterator(opened):
                frame = ImageOps.exif_transpose(frame) or frame
                if frame.mode == "I":  # 16-bit greyscale PNGs
                    frame = frame.point(lambda v: v * (1 / 255))
                rgb = np.asarray(frame.convert("RGB"), dtype=np.float32) / 255.0
                if images and rgb.shape != images[0].shape:
                    break  # frames of another size (some GIFs): keep the uniform prefix
                images.append(rgb)
                if "A" in frame.getbands():
                    alpha = np.asarray(frame.getchannel("A"), dtype=np.float32) / 255.0
                    masks.append(1.0 - alpha)
                else:
                    masks.append(np.zeros(rgb.shape[:2], dtype=np.float32))
    except (UnidentifiedImageError, OSError) as error:
        raise NodeInputError(f"{node}: {path.name} is not a readable image ({error})") from None
    return torch.from_numpy(np.stack(images)), torch.from_numpy(np.stack(masks))


INPUT_OPS: Final = {"LoadImage": load_image}
