import math

import pytest
import torch

from components.nodes import LIGHT_NODES
from drivers.nodes.light_ops import (
    BLEND_MODES,
    LIGHT_OPS,
    RESIZE_METHODS,
    NodeInputError,
    parse_template_values,
    resize_images,
)


def run(name: str, **inputs: object) -> tuple[object, ...]:
    return LIGHT_OPS[name](inputs)


def image(batch: int = 2, height: int = 4, width: int = 6, channels: int = 3) -> torch.Tensor:
    generator = torch.Generator().manual_seed(batch * 1000 + height * 10 + width)
    return torch.rand((batch, height, width, channels), generator=generator)


def test_every_light_node_has_an_implementation() -> None:
    assert {node.name for node in LIGHT_NODES} == set(LIGHT_OPS)


# --- primitives and math ----------------------------------------------------------------------


def test_primitives_pass_their_value_through() -> None:
    assert run("PrimitiveInt", value=5) == (5,)
    assert run("PrimitiveFloat", value=0.25) == (0.25,)
    assert run("PrimitiveString", value="x") == ("x",)
    assert run("PrimitiveStringMultiline", value="a\nb") == ("a\nb",)
    assert run("PrimitiveBoolean", value=True) == (True,)
    assert run("Seed", seed=42, control="randomize") == (42,)


@pytest.mark.parametrize(
    ("operation", "a", "b", "expected"),
    [
        ("add", 7, 3, 10),
        ("sub", 7, 3, 4),
        ("mul", 7, 3, 21),
        ("div", 7, 3, 2),
        ("div", -7, 2, -4),
        ("min", 7, 3, 3),
        ("max", 7, 3, 7),
        ("pow", 2, 10, 1024),
        ("mod", 7, 3, 1),
    ],
)
def test_int_math(operation: str, a: int, b: int, expected: int) -> None:
    assert run("IntMath", a=a, b=b, operation=operation) == (expected,)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("add", 3.5),
        ("sub", -0.5),
        ("mul", 3.0),
        ("div", 0.75),
        ("min", 1.5),
        ("max", 2.0),
        ("pow", 1.5**2),
        ("mod", 1.5),
    ],
)
def test_float_math(operation: str, expected: float) -> None:
    (result,) = run("FloatMath", a=1.5, b=2.0, operation=operation)
    assert math.isclose(result, expected)  # type: ignore[arg-type]


def test_math_errors_say_what_to_do() -> None:
    with pytest.raises(NodeInputError, match="IntMath: div by zero"):
        run("IntMath", a=1, b=0, operation="div")
    with pytest.raises(NodeInputError, match="negative exponent"):
        run("IntMath", a=2, b=-1, operation="pow")
    with pytest.raises(NodeInputError, match="too large"):
        run("IntMath", a=2, b=10**9, operation="pow")
    with pytest.raises(NodeInputError, match="FloatMath: mod by zero"):
        run("FloatMath", a=1.0, b=0.0, operation="mod")
    with pytest.raises(NodeInputError, match="no real result"):
        run("FloatMath", a=-1.0, b=0.5, operation="pow")
    with pytest.raises(NodeInputError, match="unknown operation 'xor'; use one of add"):
        run("IntMath", a=1, b=1, operation="xor")
    with pytest.raises(NodeInputError, match="required input 'b' was not given"):
        run("IntMath", a=1, operation="add")


def test_compare_and_conversions() -> None:
    assert run("IntCompare", a=2, b=3, operation="<") == (True,)
    assert run("IntCompare", a=2, b=3, operation=">=") == (False,)
    assert run("FloatCompare", a=0.5, b=0.5, operation="==") == (True,)
    assert run("IntToFloat", value=3) == (3.0,)
    assert run("FloatToInt", value=2.5, rounding="round") == (3,)
    assert run("FloatToInt", value=-2.5, rounding="round") == (-3,)
    assert run("FloatToInt", value=-2.5, rounding="floor") == (-3,)
    assert run("FloatToInt", value=-2.5, rounding="ceil") == (-2,)
    assert run("FloatToInt", value=-2.7, rounding="truncate") == (-2,)


# --- strings ----------------------------------------------------------------------------------


def test_string_concatenate() -> None:
    assert run("StringConcatenate", string_a="a", string_b="b", delimiter=", ") == ("a, b",)
    assert run("StringConcatenate", string_a="a", string_b="b") == ("ab",)


def test_prompt_template_fills_names_and_slots() -> None:
    (text,) = run(
        "PromptTemplate",
        template="{subject} in {style} style, {{literal}}, {a}",
        values="subject = a red fox\n# a comment\n\nstyle=ukiyo-e\na=ignored",
        a="linked wins",
    )
    assert text == "a red fox in ukiyo-e style, {literal}, linked wins"


def test_prompt_template_errors_name_the_placeholder() -> None:
    with pytest.raises(NodeInputError, match=r"placeholder \{mood\} has no value; known names: x"):
        run("PromptTemplate", template="{mood}", values="x=1")
    with pytest.raises(NodeInputError, match="line 2 of 'values' is 'oops'"):
        parse_template_values("x=1\noops")


# --- images -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", RESIZE_METHODS)
def test_resize_to_the_same_size_is_identity(method: str) -> None:
    picture = image()
    (out,) = run(
        "ImageScale", image=picture, upscale_method=method, width=6, height=4, crop="disabled"
    )
    assert torch.equal(out, picture)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", RESIZE_METHODS)
def test_resize_methods_give_the_asked_size_in_range(method: str) -> None:
    (out,) = run(
        "ImageScale", image=image(), upscale_method=method, width=9, height=5, crop="disabled"
    )
    assert isinstance(out, torch.Tensor)
    assert out.shape == (2, 5, 9, 3) and out.dtype == torch.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_resize_of_a_constant_image_stays_constant() -> None:
    flat = torch.full((1, 4, 4, 3), 0.3)
    for method in RESIZE_METHODS:
        out = resize_images(flat, 7, 3, method)
        assert torch.allclose(out, torch.full((1, 3, 7, 3), 0.3), atol=1e-5), method


def test_nearest_upscale_by_two_repeats_pixels() -> None:
    picture = image(1, 2, 2)
    (out,) = run("ImageScaleBy", image=picture, upscale_method="nearest-exact", scale_by=2.0)
    expected = picture.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)
    assert torch.equal(out, expected)  # type: ignore[arg-type]


def test_scale_keeps_aspect_when_one_side_is_zero() -> None:
    (out,) = run(
        "ImageScale",
        image=image(1, 4, 8),
        upscale_method="bilinear",
        width=4,
        height=0,
        crop="disabled",
    )
    assert out.shape == (1, 2, 4, 3)  # type: ignore[attr-defined]
    picture = image()
    assert (
        run("ImageScale", image=picture, upscale_method="area", width=0, height=0, crop="disabled")[
            0
        ]
        is picture
    )


def test_center_crop_cuts_to_the_target_aspect() -> None:
    picture = image(1, 4, 8)
    out = resize_images(picture, 4, 4, "nearest-exact", crop="center")
    assert torch.equal(out, picture[:, :, 2:6, :])


def test_flip_twice_is_identity_and_flips_the_right_axis() -> None:
    picture = image()
    for method in ("x-axis: vertically", "y-axis: horizontally"):
        (once,) = run("ImageFlip", image=picture, flip_method=method)
        (twice,) = run("ImageFlip", image=once, flip_method=method)
        assert torch.equal(twice, picture)
    (vertical,) = run("ImageFlip", image=picture, flip_method="x-axis: vertically")
    assert torch.equal(vertical[:, 0], picture[:, -1])  # type: ignore[index]
    (horizontal,) = run("ImageFlip", image=picture, flip_method="y-axis: horizontally")
    assert torch.equal(horizontal[:, :, 0], picture[:, :, -1])  # type: ignore[index]


def test_invert_twice_is_identity() -> None:
    picture = image()
    (once,) = run("ImageInvert", image=picture)
    (twice,) = run("ImageInvert", image=once)
    assert torch.allclose(twice, picture)  # type: ignore[arg-type]


def test_crop_takes_the_region_and_clips_at_the_border() -> None:
    picture = image(1, 6, 8)
    (out,) = run("ImageCrop", image=picture, width=3, height=2, x=4, y=1)
    assert torch.equal(out, picture[:, 1:3, 4:7, :])  # type: ignore[arg-type]
    (edge,) = run("ImageCrop", image=picture, width=5, height=5, x=20, y=5)
    assert edge.shape == (1, 1, 1, 3)  # type: ignore[attr-defined]


def test_empty_image_color() -> None:
    (out,) = run("EmptyImage", width=3, height=2, batch_size=2, color=0xFF8000)
    assert out.shape == (2, 2, 3, 3)  # type: ignore[attr-defined]
    assert torch.allclose(out[0, 0, 0], torch.tensor([1.0, 128 / 255, 0.0]))  # type: ignore[index]


def test_batch_joins_and_resizes_the_second_image() -> None:
    first, second = image(2, 4, 6), image(1, 8, 12)
    (out,) = run("ImageBatch", image1=first, image2=second)
    assert out.shape == (3, 4, 6, 3)  # type: ignore[attr-defined]
    assert torch.equal(out[:2], first)  # type: ignore[index]


def test_pad_for_outpaint_places_image_and_feathers_mask() -> None:
    picture = image(1, 20, 20)
    padded, mask = run(
        "ImagePadForOutpaint", image=picture, left=8, top=0, right=0, bottom=4, feathering=5
    )
    assert isinstance(padded, torch.Tensor) and isinstance(mask, torch.Tensor)
    assert padded.shape == (1, 24, 28, 3) and mask.shape == (1, 24, 28)
    assert torch.equal(padded[:, 0:20, 8:28], picture)
    assert torch.all(padded[:, 20:, :] == 0.5) and torch.all(padded[:, :, :8] == 0.5)
    assert torch.all(mask[:, :, :8] == 1.0) and torch.all(mask[:, 20:, :] == 1.0)
    # Feathered next to the padded left edge, clear far from any padded edge.
    assert math.isclose(float(mask[0, 0, 8]), 1.0)  # distance 0 -> weight 1
    assert math.isclose(float(mask[0, 10, 10]), ((5 - 2) / 5) ** 2, rel_tol=1e-6)
    assert float(mask[0, 5, 20]) == 0.0
    assert float(mask[0, 0, 20]) == 0.0  # the top edge is not padded


def test_pad_without_feathering_gives_a_hard_mask() -> None:
    _, mask = run(
        "ImagePadForOutpaint", image=image(1, 4, 4), left=2, top=2, right=2, bottom=2, feathering=0
    )
    assert isinstance(mask, torch.Tensor)
    assert torch.all(mask[:, 2:6, 2:6] == 0.0) and float(mask.sum()) == 64 - 16


def test_blend_normal_factor_one_is_the_top_image_and_zero_the_base() -> None:
    base, top = image(), image(2, 4, 6, 3).flip(0)
    (full,) = run("ImageBlend", image1=base, image2=top, blend_factor=1.0, blend_mode="normal")
    assert torch.allclose(full, top)  # type: ignore[arg-type]
    for mode in BLEND_MODES:
        (none,) = run("ImageBlend", image1=base, image2=top, blend_factor=0.0, blend_mode=mode)
        assert torch.allclose(none, base), mode  # type: ignore[arg-type]


def test_blend_modes_on_known_values() -> None:
    base = torch.full((1, 1, 1, 3), 0.25)
    top = torch.full((1, 1, 1, 3), 0.5)
    expected = {
        "multiply": 0.125,
        "screen": 1 - 0.75 * 0.5,
        "overlay": 2 * 0.25 * 0.5,
        "difference": 0.25,
        "soft_light": 0.25,  # top 0.5 leaves the base unchanged
    }
    for mode, value in expected.items():
        (out,) = run("ImageBlend", image1=base, image2=top, blend_factor=1.0, blend_mode=mode)
        assert torch.allclose(out, torch.full_like(base, value)), mode  # type: ignore[arg-type]


def test_composite_without_mask_pastes_and_clips() -> None:
    destination = torch.zeros((1, 4, 4, 3))
    source = torch.ones((1, 2, 3, 3))
    (out,) = run(
        "ImageCompositeMasked",
        destination=destination,
        source=source,
        x=2,
        y=1,
        resize_source=False,
    )
    assert isinstance(out, torch.Tensor)
    assert float(out.sum()) == 2 * 2 * 3  # only 2 of the 3 source columns fit
    assert torch.all(out[:, 1:3, 2:4] == 1.0)
    assert torch.all(destination == 0.0)  # the input is not modified


def test_composite_with_mask_and_resize() -> None:
    destination = torch.zeros((2, 4, 4, 3))
    source = torch.ones((1, 2, 2, 3))
    mask = torch.tensor([[[0.0, 1.0], [0.5, 1.0]]])
    (out,) = run(
        "ImageCompositeMasked",
        destination=destination,
        source=source,
        x=0,
        y=0,
        resize_source=False,
        mask=mask,
    )
    assert isinstance(out, torch.Tensor)
    assert torch.allclose(out[:, :2, :2, 0], mask.expand(2, 2, 2))
    (resized,) = run(
        "ImageCompositeMasked", destination=destination, source=source, x=0, y=0, resize_source=True
    )
    assert torch.all(resized == 1.0)  # type: ignore[operator]


def test_image_inputs_are_checked() -> None:
    with pytest.raises(NodeInputError, match=r"ImageInvert: input 'image' must be an IMAGE"):
        run("ImageInvert", image=torch.zeros(4, 4))
    with pytest.raises(NodeInputError, match="unknown method 'cubic'"):
        resize_images(image(), 2, 2, "cubic")
