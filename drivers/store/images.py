"""Image bytes from untrusted sources, decoded and re-encoded so no attacker bytes survive.

``reencode_upload`` accepts only what Pillow decodes as a raster image of a known format (PNG,
JPEG, WebP, GIF, BMP, TIFF); SVG, HTML, scripts and anything else fail to decode and are
refused. Sizes are checked from the header before any pixel is decoded (decompression bombs).
The pixels are then copied into a fresh image with no metadata (no EXIF, text chunks, ICC
profile or trailing data; the EXIF orientation is applied and a colour profile converted to
sRGB first) and encoded again: JPEG and WebP stay JPEG and WebP, everything else becomes PNG.
Animated images keep their first frame. Encoding is deterministic, so the same upload gives the
same bytes and the same artifact.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS: Final = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
MAX_UPLOAD_BYTES: Final = 64 * 1024 * 1024
MAX_PIXELS: Final = 64 * 1024 * 1024
MAX_SIDE: Final = 16384
THUMBNAIL_SIDE: Final = 256
JPEG_QUALITY: Final = 95
WEBP_QUALITY: Final = 95
THUMBNAIL_QUALITY: Final = 80
_PLAIN_MODES: Final = ("1", "L", "LA", "RGB", "RGBA", "I;16")
_REFUSED_SUFFIXES: Final = (".svg", ".svgz", ".html", ".htm", ".xhtml", ".xml", ".js", ".mjs")


class RejectedUpload(ValueError):
    """Bytes that are not an acceptable raster image."""


@dataclass(frozen=True, slots=True)
class Encoded:
    data: bytes
    ext: str
    width: int
    height: int


def reencode_upload(
    data: bytes,
    filename: str = "",
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
) -> Encoded:
    """``data`` decoded as a raster image and encoded afresh; ``RejectedUpload`` otherwise."""
    if filename.lower().endswith(_REFUSED_SUFFIXES):
        raise RejectedUpload(f"{filename!r}: only raster images are accepted (no SVG or HTML)")
    if not data:
        raise RejectedUpload("empty upload")
    if len(data) > max_bytes:
        raise RejectedUpload(f"upload of {len(data)} bytes is over the limit of {max_bytes}")
    image = _open(data, max_pixels=max_pixels, max_side=max_side)
    kind = image.format
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
        image = _to_srgb(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise RejectedUpload(f"the image does not decode: {exc}") from exc
    if kind == "JPEG":
        clean = _pixels_only(image, "RGB" if image.mode != "L" else "L")
        return _encoded(clean, "jpg", "JPEG", quality=JPEG_QUALITY)
    if kind == "WEBP":
        clean = _pixels_only(image, "RGBA" if _has_alpha(image) else "RGB")
        return _encoded(clean, "webp", "WEBP", quality=WEBP_QUALITY, method=4)
    mode = image.mode if image.mode in _PLAIN_MODES else ("RGBA" if _has_alpha(image) else "RGB")
    return _encoded(_pixels_only(image, mode), "png", "PNG", compress_level=6)


def make_thumbnail(source: Path | bytes, max_side: int = THUMBNAIL_SIDE) -> Encoded:
    """A WebP at most ``max_side`` pixels on its longer side (no upscaling)."""
    data = source.read_bytes() if isinstance(source, Path) else source
    image = _open(data, max_pixels=MAX_PIXELS, max_side=MAX_SIDE)
    image.load()
    image = ImageOps.exif_transpose(image)
    image = _convert(image, "RGBA" if _has_alpha(image) else "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return _encoded(image, "webp", "WEBP", quality=THUMBNAIL_QUALITY, method=4)


def _open(data: bytes, *, max_pixels: int, max_side: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except Image.DecompressionBombError as exc:
        raise RejectedUpload(f"decompression bomb refused: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise RejectedUpload("not a raster image (PNG, JPEG, WebP, GIF, BMP or TIFF)") from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise RejectedUpload(f"empty image {width}x{height}")
    if width > max_side or height > max_side or width * height > max_pixels:
        raise RejectedUpload(
            f"image of {width}x{height} pixels is over the limit "
            f"({max_side} per side, {max_pixels} in all)"
        )
    return image


def _has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def _to_srgb(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        converted = ImageCms.profileToProfile(
            image,
            ImageCms.ImageCmsProfile(io.BytesIO(profile)),
            ImageCms.createProfile("sRGB"),
            outputMode=image.mode,
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are
    return converted if converted is not None else image


def _pixels_only(image: Image.Image, mode: str) -> Image.Image:
    """A new image holding only ``image``'s pixels in ``mode``: no info, no metadata."""
    image = _convert(image, mode)
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _convert(image: Image.Image, mode: str) -> Image.Image:
    if image.mode == mode:
        return image
    try:
        return image.convert(mode)
    except ValueError:  # no direct conversion (e.g. from 32-bit I or F): via 8-bit luminance
        return image.convert("L").convert(mode)


def _encoded(image: Image.Image, ext: str, fmt: str, **params: int) -> Encoded:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    width, height = image.size
    return Encoded(buffer.getvalue(), ext, width, height)
