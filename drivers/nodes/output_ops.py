"""SaveImage and PreviewImage: write IMAGE tensors as PNG files, the way ComfyUI names them.

SaveImage writes ``{prefix}_{counter:05}_.png`` into the output directory; the prefix may name
subfolders, and the counter continues after the highest one already there for that prefix.
PreviewImage writes into the temp directory under a random prefix. Both embed the job's API
prompt as a PNG ``prompt`` text chunk when it is known, and report the files as ComfyUI's
history does: ``{"images": [{"filename", "subfolder", "type"}]}``.

A prefix is resolved (symlinks included) before anything is written, and refused if it would
lead outside its directory.
"""

from __future__ import annotations

import json
import os
import random
import string
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from drivers.nodes.context import NodeContext, NodeImplementation, NodeResult
from drivers.nodes.light_ops import NodeInputError

DEFAULT_PREFIX: Final = "ComfyUI"
SAVE_COMPRESS_LEVEL: Final = 4  # ComfyUI's choices: smaller saved files, faster previews
PREVIEW_COMPRESS_LEVEL: Final = 1
_MODES: Final = {1: "L", 3: "RGB", 4: "RGBA"}


class UnsafePathError(ValueError):
    """A filename prefix that would write outside its directory."""


def save_image(inputs: Mapping[str, Any], ctx: NodeContext) -> NodeResult:
    node = "SaveImage"
    if ctx.output_dir is None:
        raise RuntimeError(
            f"{node}: no output directory is configured; pass output_dir= to the NodeRunner"
        )
    images = _images(inputs, node)
    prefix = str(inputs.get("filename_prefix", DEFAULT_PREFIX))
    saved = save_images(
        images,
        prefix,
        ctx.output_dir,
        "output",
        ctx.prompt,
        SAVE_COMPRESS_LEVEL,
        node,
        extra_pnginfo=ctx.extra_pnginfo,
    )
    return NodeResult(outputs=(), ui={"images": saved})


def preview_image(inputs: Mapping[str, Any], ctx: NodeContext) -> NodeResult:
    node = "PreviewImage"
    directory = ctx.temp_dir
    if directory is None and ctx.output_dir is not None:
        directory = ctx.output_dir.resolve().parent / "temp"
    if directory is None:
        raise RuntimeError(
            f"{node}: no temp directory is configured; pass temp_dir= or output_dir= to the "
            "NodeRunner"
        )
    images = _images(inputs, node)
    # A random part, as ComfyUI does, so previews of concurrent runs never share a prefix.
    suffix = "".join(random.choices(string.ascii_lowercase, k=5))
    prefix = f"{DEFAULT_PREFIX}_temp_{suffix}"
    saved = save_images(images, prefix, directory, "temp", ctx.prompt, PREVIEW_COMPRESS_LEVEL, node)
    return NodeResult(outputs=(), ui={"images": saved})


def save_images(
    images: torch.Tensor,
    prefix: str,
    directory: Path,
    kind: Literal["output", "temp"],
    prompt: Mapping[str, Any] | None = None,
    compress_level: int = SAVE_COMPRESS_LEVEL,
    node: str = "SaveImage",
    *,
    extra_pnginfo: Mapping[str, Any] | None = None,
) -> list[dict[str, str]]:
    """Write ``images`` ([B,H,W,C], 0..1) as PNGs; returns their ``{filename, subfolder, type}``."""
    _, height, width, _ = images.shape
    folder, subfolder, name = resolve_prefix(expand_prefix(prefix, width, height), directory, node)
    folder.mkdir(parents=True, exist_ok=True)
    counter = next_counter(folder, name)
    info = _png_info(prompt, extra_pnginfo)
    pixels = _to_uint8(images)
    results: list[dict[str, str]] = []
    for batch_number in range(pixels.shape[0]):
        picture = _picture(pixels[batch_number])
        stem = name.replace("%batch_num%", str(batch_number))
        filename, counter = _write_new(folder, stem, counter, picture, info, compress_level)
        results.append({"filename": filename, "subfolder": subfolder, "type": kind})
        counter += 1
    return results


def expand_prefix(prefix: str, width: int, height: int) -> str:
    """ComfyUI's ``%width%``, ``%height%`` and date placeholders (local time)."""
    if "%" not in prefix:
        return prefix
    now = time.localtime()
    values = {
        "width": width,
        "height": height,
        "year": now.tm_year,
        "month": f"{now.tm_mon:02}",
        "day": f"{now.tm_mday:02}",
        "hour": f"{now.tm_hour:02}",
        "minute": f"{now.tm_min:02}",
        "second": f"{now.tm_sec:02}",
    }
    for key, value in values.items():
        prefix = prefix.replace(f"%{key}%", str(value))
    return prefix


def resolve_prefix(prefix: str, directory: Path, node: str = "SaveImage") -> tuple[Path, str, str]:
    """(folder to write in, subfolder as ComfyUI reports it, file name stem) for ``prefix``.

    Raises UnsafePathError when the prefix is absolute, or leads outside ``directory`` through
    ``..`` or a symlink.
    """
    if "\x00" in prefix:
        raise NodeInputError(f"{node}: filename_prefix contains a NUL character")
    if os.path.isabs(prefix):
        raise UnsafePathError(
            f"{node}: filename_prefix {prefix!r} is an absolute path; give a path relative to "
            f"the output directory, such as 'ComfyUI' or 'portraits/ComfyUI'"
        )
    normalized = os.path.normpath(prefix)
    subfolder, name = os.path.dirname(normalized), os.path.basename(normalized)
    if name in ("", ".", ".."):
        raise NodeInputError(
            f"{node}: filename_prefix {prefix!r} has no file name part; end it with a name, "
            "such as 'ComfyUI'"
        )
    root = directory.resolve()
    folder = (root / subfolder).resolve()
    if folder != root and root not in folder.parents:
        raise UnsafePathError(
            f"{node}: filename_prefix {prefix!r} leads to {folder}, outside the directory "
            f"{root}; use a path inside it (no '..', no symlinks pointing elsewhere)"
        )
    return folder, subfolder, name


def next_counter(folder: Path, name: str) -> int:
    """One past the highest counter of ``{name}_{counter}_...`` files in ``folder``."""
    highest = 0
    lead = name + "_"
    try:
        entries = os.listdir(folder)
    except FileNotFoundError:
        return 1
    for entry in entries:
        if entry.startswith(lead):
            digits = entry[len(lead) :].split("_", 1)[0]
            if digits.isdigit():
                highest = max(highest, int(digits))
    return highest + 1


def _write_new(
    folder: Path, stem: str, counter: int, picture: Image.Image, info: PngInfo | None, level: int
) -> tuple[str, int]:
    while True:
        filename = f"{stem}_{counter:05}_.png"
        path = folder / filename
        try:
            # Exclusive creation: a concurrent writer with the same prefix, or a planted
            # symlink, makes us take the next counter instead of overwriting.
            handle = open(path, "xb")  # noqa: SIM115
        except FileExistsError:
            counter += 1
            continue
        try:
            with handle:
                picture.save(handle, format="PNG", pnginfo=info, compress_level=level)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return filename, counter


def _images(inputs: Mapping[str, Any], node: str) -> torch.Tensor:
    images = inputs.get("images")
    if images is None:
        raise NodeInputError(f"{node}: required input 'images' was not given")
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise NodeInputError(f"{node}: input 'images' must be an IMAGE [B,H,W,C], got {shape}")
    if images.shape[-1] not in _MODES:
        raise NodeInputError(
            f"{node}: input 'images' has {images.shape[-1]} channels; PNG needs 1, 3 or 4"
        )
    return images


def _to_uint8(images: torch.Tensor) -> torch.Tensor:
    # Truncation after clamping, as ComfyUI does, so the same tensor gives the same file.
    scaled = torch.nan_to_num(images.detach().to("cpu", torch.float32)) * 255.0
    return scaled.clamp(0.0, 255.0).to(torch.uint8)


def _picture(pixels: torch.Tensor) -> Image.Image:
    array = pixels.numpy()
    if array.shape[-1] == 1:
        array = array[..., 0]
    return Image.fromarray(array)


def _png_info(
    prompt: Mapping[str, Any] | None, extra: Mapping[str, Any] | None = None
) -> PngInfo | None:
    """Text chunks as ComfyUI's SaveImage writes them: ``prompt`` (API format) and one chunk per
    extra entry (``workflow``: the editor document), each JSON; dropping the PNG on an editor
    restores the workflow."""
    if prompt is None and not extra:
        return None
    info = PngInfo()
    if prompt is not None:
        info.add_text("prompt", json.dumps(prompt))
    for key, value in (extra or {}).items():
        info.add_text(str(key), json.dumps(value))
    return info


OUTPUT_OPS: Final[Mapping[str, NodeImplementation]] = {
    "SaveImage": save_image,
    "PreviewImage": preview_image,
}
