"""SaveImage and PreviewImage: real PNG files, ComfyUI's naming, refusal to leave the folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from PIL import Image

from drivers.nodes.context import NodeContext, NodeResult
from drivers.nodes.light_ops import LIGHT_OPS
from drivers.nodes.output_ops import (
    OUTPUT_OPS,
    UnsafePathError,
    expand_prefix,
    preview_image,
    save_image,
)
from drivers.nodes.registry import registry

PROMPT = {"1": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 3}}}


def images(batch: int = 1, channels: int = 3) -> torch.Tensor:
    out = torch.zeros(batch, 3, 4, channels)
    out[..., 0] = 1.0  # red
    out[:, 0, 0, :] = 0.5
    return out


def ctx(output_dir: Path | None, **extra: object) -> NodeContext:
    return NodeContext(job_id="j", node_id="9", output_dir=output_dir, **extra)  # type: ignore[arg-type]


def save(directory: Path, prefix: str = "ComfyUI", batch: int = 1, **extra: object) -> NodeResult:
    return save_image({"images": images(batch), "filename_prefix": prefix}, ctx(directory, **extra))


def test_save_writes_pngs_named_like_comfyui_and_reports_them(tmp_path: Path) -> None:
    result = save(tmp_path, batch=2)
    assert result.outputs == ()
    assert result.ui == {
        "images": [
            {"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"},
            {"filename": "ComfyUI_00002_.png", "subfolder": "", "type": "output"},
        ]
    }
    with Image.open(tmp_path / "ComfyUI_00002_.png") as png:
        assert png.mode == "RGB" and png.size == (4, 3)
        # 0.5 * 255 = 127.5 is truncated, as ComfyUI does.
        assert png.getpixel((0, 0)) == (127, 127, 127) and png.getpixel((1, 1)) == (255, 0, 0)


def test_counter_continues_after_the_highest_file_of_that_prefix(tmp_path: Path) -> None:
    (tmp_path / "shot_00007_.png").touch()
    (tmp_path / "shot_notes.txt").touch()
    (tmp_path / "shots_00099_.png").touch()  # another prefix
    (tmp_path / "ComfyUI_00050_.png").touch()
    assert save(tmp_path, "shot").ui["images"][0]["filename"] == "shot_00008_.png"
    assert save(tmp_path, "shot").ui["images"][0]["filename"] == "shot_00009_.png"
    assert save(tmp_path, "fresh").ui["images"][0]["filename"] == "fresh_00001_.png"


def test_prefix_subfolders_are_created_and_reported(tmp_path: Path) -> None:
    (entry,) = save(tmp_path, "portraits/day1/face").ui["images"]
    assert entry == {"filename": "face_00001_.png", "subfolder": "portraits/day1", "type": "output"}
    assert (tmp_path / "portraits" / "day1" / "face_00001_.png").is_file()
    # '..' that stays inside is normalized, as ComfyUI does.
    (inner,) = save(tmp_path, "portraits/../other/face").ui["images"]
    assert inner["subfolder"] == "other"


@pytest.mark.parametrize("prefix", ["../escape", "a/../../escape", "/etc/escape", "link/x"])
def test_prefixes_leading_outside_the_output_directory_are_refused(
    tmp_path: Path, prefix: str
) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    os.symlink(outside, out / "link")
    with pytest.raises(UnsafePathError, match=r"SaveImage: filename_prefix .* (absolute|outside)"):
        save(out, prefix)
    assert list(outside.iterdir()) == [] and not (tmp_path / "escape_00001_.png").exists()


def test_an_existing_symlink_is_never_written_through(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    # The counter scan sees _00001_ and moves on; a symlink named like the next file is skipped.
    (out / "ComfyUI_00001_.png").touch()
    os.symlink(target, out / "ComfyUI_00002_.png")
    (entry,) = save(out).ui["images"]
    assert entry["filename"] == "ComfyUI_00003_.png" and target.read_text() == "keep me"


def test_prompt_is_embedded_as_a_png_text_chunk(tmp_path: Path) -> None:
    save(tmp_path, "meta", prompt=PROMPT)
    save(tmp_path, "plain")
    with Image.open(tmp_path / "meta_00001_.png") as png:
        assert isinstance(png, Image.Image)
        assert json.loads(png.info["prompt"]) == PROMPT
        assert json.loads(png.text["prompt"]) == PROMPT  # type: ignore[attr-defined]
    with Image.open(tmp_path / "plain_00001_.png") as png:
        assert "prompt" not in png.info


def test_preview_goes_to_the_temp_directory_with_type_temp(tmp_path: Path) -> None:
    out = tmp_path / "output"
    result = preview_image({"images": images()}, ctx(out, prompt=PROMPT))
    (entry,) = result.ui["images"]
    assert entry["type"] == "temp" and entry["subfolder"] == ""
    assert entry["filename"].startswith("ComfyUI_temp_") and entry["filename"].endswith(
        "_00001_.png"
    )
    with Image.open(tmp_path / "temp" / entry["filename"]) as png:
        assert "prompt" in png.info
    assert not out.exists()
    elsewhere = tmp_path / "previews"
    (entry,) = preview_image({"images": images()}, ctx(None, temp_dir=elsewhere)).ui["images"]
    assert (elsewhere / entry["filename"]).is_file()


def test_channels_and_bad_inputs(tmp_path: Path) -> None:
    gray = save_image({"images": images(channels=1), "filename_prefix": "g"}, ctx(tmp_path))
    rgba = save_image({"images": images(channels=4), "filename_prefix": "a"}, ctx(tmp_path))
    with Image.open(tmp_path / gray.ui["images"][0]["filename"]) as png:
        assert png.mode == "L"
    with Image.open(tmp_path / rgba.ui["images"][0]["filename"]) as png:
        assert png.mode == "RGBA"
    with pytest.raises(ValueError, match=r"'images' must be an IMAGE \[B,H,W,C\], got \(3, 4\)"):
        save_image({"images": torch.zeros(3, 4)}, ctx(tmp_path))
    with pytest.raises(ValueError, match="has 2 channels; PNG needs 1, 3 or 4"):
        save_image({"images": torch.zeros(1, 3, 4, 2)}, ctx(tmp_path))
    with pytest.raises(ValueError, match="has no file name part"):
        save(tmp_path, "")
    with pytest.raises(RuntimeError, match="no output directory is configured"):
        save_image({"images": images()}, ctx(None))


def test_prefix_placeholders() -> None:
    assert expand_prefix("img_%width%x%height%", 640, 480) == "img_640x480"
    assert expand_prefix("plain", 1, 1) == "plain"
    year = expand_prefix("%year%", 1, 1)
    assert year.isdigit() and len(year) == 4


def test_registry_has_every_builtin_and_refuses_replacing_one() -> None:
    found = registry()
    from drivers.nodes.input_ops import INPUT_OPS
    from drivers.video.nodes import VIDEO_OPS

    assert set(found) == set(LIGHT_OPS) | set(INPUT_OPS) | set(OUTPUT_OPS) | set(VIDEO_OPS)
    extra = registry({"MyNode": lambda inputs: (1,), "SaveImage": OUTPUT_OPS["SaveImage"]})
    assert "MyNode" in extra
    with pytest.raises(ValueError, match="replace built-in node type"):
        registry({"ImageInvert": lambda inputs: (1,)})
