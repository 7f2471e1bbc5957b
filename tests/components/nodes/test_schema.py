import pytest
from pydantic import ValidationError

from components.nodes.core import CHECKPOINT_LOADER_SIMPLE, KSAMPLER, SAVE_IMAGE
from components.nodes.light import IMAGE_COMPOSITE_MASKED
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


def test_combo_needs_a_choice_list() -> None:
    with pytest.raises(ValidationError, match="neither 'choices' nor 'choices_from'"):
        InputSpec(name="mode", type="COMBO")


def test_choices_need_the_combo_type() -> None:
    with pytest.raises(ValidationError, match="set type to 'COMBO'"):
        InputSpec(name="mode", type="STRING", choices=("a", "b"))


def test_min_above_max_is_rejected() -> None:
    with pytest.raises(ValidationError, match="min 5 above max 1"):
        int_input("n", 0, min=5, max=1)


def test_default_must_be_a_choice() -> None:
    with pytest.raises(ValidationError, match="not among its choices"):
        combo("mode", ("a", "b"), default="c")


def test_duplicate_input_names_are_rejected() -> None:
    with pytest.raises(ValidationError, match="declares input 'x' twice"):
        NodeDef(name="Twice", required=(int_input("x"),), optional=(float_input("x"),))


def test_output_name_defaults_to_type_and_display_name_to_name() -> None:
    node = NodeDef(name="Thing", outputs=(output("IMAGE"),))
    assert node.outputs[0].name == "IMAGE"
    assert node.display_name == "Thing"


def test_widget_inputs_keep_order_and_skip_sockets_and_forced_inputs() -> None:
    node = NodeDef(
        name="Mixed",
        required=(
            socket("image", "IMAGE"),
            int_input("width", 8),
            int_input("linked_only", 1, force_input=True),
            string_input("text"),
        ),
        optional=(combo("mode", ("a", "b")),),
    )
    assert [spec.name for spec in node.widget_inputs] == ["width", "text", "mode"]


def test_input_lookup_error_lists_the_inputs() -> None:
    with pytest.raises(KeyError, match="its inputs are: ckpt_name"):
        CHECKPOINT_LOADER_SIMPLE.input("model")


def test_object_info_matches_comfyui_shape_for_ksampler() -> None:
    info = KSAMPLER.to_object_info()
    assert set(info) == {
        "input",
        "input_order",
        "output",
        "output_is_list",
        "output_name",
        "name",
        "display_name",
        "description",
        "python_module",
        "category",
        "output_node",
    }
    required = info["input"]["required"]  # type: ignore[index]
    assert required["model"] == ["MODEL", {"tooltip": KSAMPLER.input("model").tooltip}]
    seed_type, seed_options = required["seed"]
    assert seed_type == "INT"
    assert seed_options["min"] == 0 and seed_options["max"] == 0xFFFFFFFFFFFFFFFF
    assert seed_options["control_after_generate"] is True
    sampler_choices, _ = required["sampler_name"]
    assert "euler" in sampler_choices
    assert info["input_order"] == {
        "required": [
            "model",
            "seed",
            "steps",
            "cfg",
            "sampler_name",
            "scheduler",
            "positive",
            "negative",
            "latent_image",
            "denoise",
        ]
    }
    assert info["output"] == ["LATENT"]
    assert info["output_is_list"] == [False]
    assert info["output_name"] == ["LATENT"]
    assert info["output_node"] is False
    assert info["category"] == "sampling"


def test_object_info_fills_dynamic_choices() -> None:
    info = CHECKPOINT_LOADER_SIMPLE.to_object_info({"checkpoints": ["a.safetensors"]})
    choices, options = info["input"]["required"]["ckpt_name"]  # type: ignore[index]
    assert choices == ["a.safetensors"]
    assert "tooltip" in options
    empty = CHECKPOINT_LOADER_SIMPLE.to_object_info()
    assert empty["input"]["required"]["ckpt_name"][0] == []  # type: ignore[index]


def test_object_info_has_optional_inputs_and_output_node() -> None:
    info = IMAGE_COMPOSITE_MASKED.to_object_info()
    assert info["input"]["optional"] == {"mask": ["MASK"]}  # type: ignore[index]
    assert info["input_order"]["optional"] == ["mask"]  # type: ignore[index]
    assert SAVE_IMAGE.to_object_info()["output_node"] is True
    assert SAVE_IMAGE.to_object_info()["output"] == []


def test_node_def_json_round_trip() -> None:
    for node in (KSAMPLER, CHECKPOINT_LOADER_SIMPLE, IMAGE_COMPOSITE_MASKED):
        assert NodeDef.model_validate_json(node.model_dump_json()) == node
