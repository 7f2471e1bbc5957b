"""Definitions of rxgen's light nodes: every node that ``drivers/nodes/light_ops.py`` runs on CPU.

Primitives, math, strings and image operations. Where ComfyUI has the same node, its name and
inputs are kept (ImageScale, ImageCrop, ImageBlend, PrimitiveInt, ...); rxgen's own nodes have
plain names (Seed, IntMath, PromptTemplate, ...).
"""

from __future__ import annotations

from typing import Final

from components.nodes.core import CROP_METHODS, MAX_RESOLUTION, MAX_SEED
from components.nodes.schema import (
    NodeDef,
    bool_input,
    combo,
    float_input,
    int_input,
    output,
    socket,
    string_input,
)
from components.nodes.types import SocketType as T

MAX_INT: Final = 2**63 - 1
IMAGE_UPSCALE_METHODS: Final = ("nearest-exact", "bilinear", "area", "bicubic", "lanczos")
FLIP_METHODS: Final = ("x-axis: vertically", "y-axis: horizontally")
BLEND_MODES: Final = ("normal", "multiply", "screen", "overlay", "soft_light", "difference")
SEED_CONTROLS: Final = ("fixed", "randomize", "increment", "decrement")
MATH_OPERATIONS: Final = ("add", "sub", "mul", "div", "min", "max", "pow", "mod")
COMPARE_OPERATIONS: Final = ("==", "!=", "<", "<=", ">", ">=")
ROUNDING_MODES: Final = ("round", "floor", "ceil", "truncate")
TEMPLATE_SLOTS: Final = ("a", "b", "c", "d")

_PRIMITIVE = "utils/primitive"
_MATH = "utils/math"
_STRING = "utils/string"
_COMFY_CORE = "nodes"
_COMFY_EXTRAS = "comfy_extras"
_RXGEN = "rxgen.light"

# --- primitives -------------------------------------------------------------------------------

PRIMITIVE_INT = NodeDef(
    name="PrimitiveInt",
    display_name="Int",
    category=_PRIMITIVE,
    python_module=_COMFY_EXTRAS,
    required=(int_input("value", 0, min=-MAX_INT, max=MAX_INT, control_after_generate=True),),
    outputs=(output(T.INT),),
)

PRIMITIVE_FLOAT = NodeDef(
    name="PrimitiveFloat",
    display_name="Float",
    category=_PRIMITIVE,
    python_module=_COMFY_EXTRAS,
    required=(float_input("value", 0.0, min=-float(MAX_INT), max=float(MAX_INT), step=0.1),),
    outputs=(output(T.FLOAT),),
)

PRIMITIVE_STRING = NodeDef(
    name="PrimitiveString",
    display_name="String",
    category=_PRIMITIVE,
    python_module=_COMFY_EXTRAS,
    required=(string_input("value"),),
    outputs=(output(T.STRING),),
)

PRIMITIVE_STRING_MULTILINE = NodeDef(
    name="PrimitiveStringMultiline",
    display_name="String (Multiline)",
    category=_PRIMITIVE,
    python_module=_COMFY_EXTRAS,
    required=(string_input("value", multiline=True),),
    outputs=(output(T.STRING),),
)

PRIMITIVE_BOOLEAN = NodeDef(
    name="PrimitiveBoolean",
    display_name="Boolean",
    category=_PRIMITIVE,
    python_module=_COMFY_EXTRAS,
    required=(bool_input("value"),),
    outputs=(output(T.BOOLEAN),),
)

SEED = NodeDef(
    name="Seed",
    display_name="Seed",
    category=_PRIMITIVE,
    description=(
        "A seed for samplers. 'control' says how the executor changes it between runs: keep it, "
        "draw a new random one, or step it up or down."
    ),
    python_module=_RXGEN,
    required=(
        int_input("seed", 0, min=0, max=MAX_SEED),
        combo("control", SEED_CONTROLS, default="randomize"),
    ),
    outputs=(output(T.INT, "seed"),),
)

# --- math -------------------------------------------------------------------------------------


def _math(name: str, display: str, kind: T) -> NodeDef:
    make = int_input if kind is T.INT else float_input
    return NodeDef(
        name=name,
        display_name=display,
        category=_MATH,
        description=f"Applies an arithmetic operation to two {kind} values: a <operation> b.",
        python_module=_RXGEN,
        required=(make("a"), make("b"), combo("operation", MATH_OPERATIONS)),
        outputs=(output(kind, "result"),),
    )


def _compare(name: str, display: str, kind: T) -> NodeDef:
    make = int_input if kind is T.INT else float_input
    return NodeDef(
        name=name,
        display_name=display,
        category=_MATH,
        description=f"Compares two {kind} values: a <operation> b.",
        python_module=_RXGEN,
        required=(make("a"), make("b"), combo("operation", COMPARE_OPERATIONS)),
        outputs=(output(T.BOOLEAN, "result"),),
    )


INT_MATH = _math("IntMath", "Int Math", T.INT)
FLOAT_MATH = _math("FloatMath", "Float Math", T.FLOAT)
INT_COMPARE = _compare("IntCompare", "Int Compare", T.INT)
FLOAT_COMPARE = _compare("FloatCompare", "Float Compare", T.FLOAT)

INT_TO_FLOAT = NodeDef(
    name="IntToFloat",
    display_name="Int to Float",
    category=_MATH,
    python_module=_RXGEN,
    required=(int_input("value", force_input=True),),
    outputs=(output(T.FLOAT),),
)

FLOAT_TO_INT = NodeDef(
    name="FloatToInt",
    display_name="Float to Int",
    category=_MATH,
    python_module=_RXGEN,
    required=(float_input("value", force_input=True), combo("rounding", ROUNDING_MODES)),
    outputs=(output(T.INT),),
)

# --- strings ----------------------------------------------------------------------------------

STRING_CONCATENATE = NodeDef(
    name="StringConcatenate",
    display_name="Concatenate",
    category=_STRING,
    python_module=_COMFY_EXTRAS,
    required=(
        string_input("string_a", multiline=True),
        string_input("string_b", multiline=True),
        string_input("delimiter", ""),
    ),
    outputs=(output(T.STRING),),
)

PROMPT_TEMPLATE = NodeDef(
    name="PromptTemplate",
    display_name="Prompt Template",
    category=_STRING,
    description=(
        "Fills {name} placeholders in a template. Values come from the linked inputs a-d and "
        "from 'values', one name=value per line; write {{ and }} for literal braces."
    ),
    python_module=_RXGEN,
    required=(
        string_input("template", "a photo of {subject}", multiline=True),
        string_input("values", "subject=a cat", multiline=True),
    ),
    optional=tuple(string_input(slot, force_input=True) for slot in TEMPLATE_SLOTS),
    outputs=(output(T.STRING),),
)

# --- images -----------------------------------------------------------------------------------

IMAGE_SCALE = NodeDef(
    name="ImageScale",
    display_name="Upscale Image",
    category="image/upscaling",
    description="Resizes images to a width and height; 0 for one side keeps the aspect ratio.",
    python_module=_COMFY_CORE,
    required=(
        socket("image", T.IMAGE),
        combo("upscale_method", IMAGE_UPSCALE_METHODS),
        int_input("width", 512, min=0, max=MAX_RESOLUTION, step=1),
        int_input("height", 512, min=0, max=MAX_RESOLUTION, step=1),
        combo("crop", CROP_METHODS),
    ),
    outputs=(output(T.IMAGE),),
)

IMAGE_SCALE_BY = NodeDef(
    name="ImageScaleBy",
    display_name="Upscale Image By",
    category="image/upscaling",
    python_module=_COMFY_CORE,
    required=(
        socket("image", T.IMAGE),
        combo("upscale_method", IMAGE_UPSCALE_METHODS),
        float_input("scale_by", 1.0, min=0.01, max=8.0, step=0.01),
    ),
    outputs=(output(T.IMAGE),),
)

IMAGE_INVERT = NodeDef(
    name="ImageInvert",
    display_name="Invert Image",
    category="image",
    python_module=_COMFY_CORE,
    required=(socket("image", T.IMAGE),),
    outputs=(output(T.IMAGE),),
)

IMAGE_BATCH = NodeDef(
    name="ImageBatch",
    display_name="Batch Images",
    category="image",
    description="Joins two image batches; image2 is resized to image1's size when they differ.",
    python_module=_COMFY_CORE,
    required=(socket("image1", T.IMAGE), socket("image2", T.IMAGE)),
    outputs=(output(T.IMAGE),),
)

EMPTY_IMAGE = NodeDef(
    name="EmptyImage",
    display_name="EmptyImage",
    category="image",
    python_module=_COMFY_CORE,
    required=(
        int_input("width", 512, min=1, max=MAX_RESOLUTION, step=1),
        int_input("height", 512, min=1, max=MAX_RESOLUTION, step=1),
        int_input("batch_size", 1, min=1, max=4096),
        int_input("color", 0, min=0, max=0xFFFFFF, step=1, display="color"),
    ),
    outputs=(output(T.IMAGE),),
)

IMAGE_PAD_FOR_OUTPAINT = NodeDef(
    name="ImagePadForOutpaint",
    display_name="Pad Image for Outpainting",
    category="image",
    description="Adds grey borders and a mask of them, feathered into the original image.",
    python_module=_COMFY_CORE,
    required=(
        socket("image", T.IMAGE),
        int_input("left", 0, min=0, max=MAX_RESOLUTION, step=8),
        int_input("top", 0, min=0, max=MAX_RESOLUTION, step=8),
        int_input("right", 0, min=0, max=MAX_RESOLUTION, step=8),
        int_input("bottom", 0, min=0, max=MAX_RESOLUTION, step=8),
        int_input("feathering", 40, min=0, max=MAX_RESOLUTION, step=1),
    ),
    outputs=(output(T.IMAGE), output(T.MASK)),
)

IMAGE_CROP = NodeDef(
    name="ImageCrop",
    display_name="Crop Image",
    category="image/transform",
    python_module=_COMFY_EXTRAS,
    required=(
        socket("image", T.IMAGE),
        int_input("width", 512, min=1, max=MAX_RESOLUTION, step=1),
        int_input("height", 512, min=1, max=MAX_RESOLUTION, step=1),
        int_input("x", 0, min=0, max=MAX_RESOLUTION, step=1),
        int_input("y", 0, min=0, max=MAX_RESOLUTION, step=1),
    ),
    outputs=(output(T.IMAGE),),
)

IMAGE_FLIP = NodeDef(
    name="ImageFlip",
    display_name="Flip Image",
    category="image/transform",
    python_module=_COMFY_EXTRAS,
    required=(socket("image", T.IMAGE), combo("flip_method", FLIP_METHODS)),
    outputs=(output(T.IMAGE),),
)

IMAGE_BLEND = NodeDef(
    name="ImageBlend",
    display_name="Image Blend",
    category="image/postprocessing",
    description=(
        "Blends image2 over image1 with a blend mode; blend_factor 0 gives image1, 1 gives the "
        "full blend."
    ),
    python_module=_COMFY_EXTRAS,
    required=(
        socket("image1", T.IMAGE),
        socket("image2", T.IMAGE),
        float_input("blend_factor", 0.5, min=0.0, max=1.0, step=0.01),
        combo("blend_mode", BLEND_MODES),
    ),
    outputs=(output(T.IMAGE),),
)

IMAGE_COMPOSITE_MASKED = NodeDef(
    name="ImageCompositeMasked",
    display_name="Image Composite Masked",
    category="image",
    description="Pastes source into destination at x, y, through an optional mask.",
    python_module=_COMFY_EXTRAS,
    required=(
        socket("destination", T.IMAGE),
        socket("source", T.IMAGE),
        int_input("x", 0, min=0, max=MAX_RESOLUTION, step=1),
        int_input("y", 0, min=0, max=MAX_RESOLUTION, step=1),
        bool_input("resize_source", False),
    ),
    optional=(socket("mask", T.MASK),),
    outputs=(output(T.IMAGE),),
)

LIGHT_NODES: Final[tuple[NodeDef, ...]] = (
    PRIMITIVE_INT,
    PRIMITIVE_FLOAT,
    PRIMITIVE_STRING,
    PRIMITIVE_STRING_MULTILINE,
    PRIMITIVE_BOOLEAN,
    SEED,
    INT_MATH,
    FLOAT_MATH,
    INT_COMPARE,
    FLOAT_COMPARE,
    INT_TO_FLOAT,
    FLOAT_TO_INT,
    STRING_CONCATENATE,
    PROMPT_TEMPLATE,
    IMAGE_SCALE,
    IMAGE_SCALE_BY,
    IMAGE_INVERT,
    IMAGE_BATCH,
    EMPTY_IMAGE,
    IMAGE_PAD_FOR_OUTPAINT,
    IMAGE_CROP,
    IMAGE_FLIP,
    IMAGE_BLEND,
    IMAGE_COMPOSITE_MASKED,
)
