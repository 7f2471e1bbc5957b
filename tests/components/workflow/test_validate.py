import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from components.nodes import default_catalog
from components.workflow.comfy_api import api_to_graph
from components.workflow.graph import Graph, Link, Node
from components.workflow.problems import Problem, ValidationReport
from components.workflow.validate import validate

FIXTURES = Path(__file__).parent / "fixtures"
# The package exports the function ``validate``, which hides the module of the same name.
validate_module = importlib.import_module("components.workflow.validate")
CATALOG = default_catalog()
CHOICES = {"checkpoints": ["sd15_tiny.safetensors", "sdxl_tiny.safetensors"]}


def txt2img() -> Graph:
    return api_to_graph(json.loads((FIXTURES / "txt2img_api.json").read_text()))


def check(graph: Graph) -> ValidationReport:
    return validate(graph, CATALOG, CHOICES)


def only(report: ValidationReport) -> Problem:
    assert len(report.problems) == 1, report.format_text()
    return report.problems[0]


def test_the_default_workflow_is_valid() -> None:
    report = check(txt2img())
    assert report.ok and report.accepted
    assert report.output_nodes == ("9",) and report.good_outputs == ("9",)
    assert report.comfy_error_response() is None
    assert report.comfy_node_errors() == {}
    assert report.format_text() == "workflow is valid (7 nodes, outputs: 9)"


def test_required_input_missing() -> None:
    problem = only(check(txt2img().with_node(txt2img().node("6").without_input("clip"))))
    assert (problem.type, problem.node_id, problem.class_type, problem.input_name) == (
        "required_input_missing",
        "6",
        "CLIPTextEncode",
        "clip",
    )
    assert problem.to_comfy() == {
        "type": "required_input_missing",
        "message": "Required input is missing",
        "details": "clip",
        "extra_info": {
            "input_name": "clip",
            "input_config": ["CLIP", {"tooltip": problem.extra_info["input_config"][1]["tooltip"]}],
        },  # type: ignore[index]
    }
    assert "connect an output of type CLIP" in problem.describe()


def test_bad_linked_input_to_a_missing_node() -> None:
    problem = only(check(txt2img().with_input("8", "vae", Link("44", 2))))
    assert problem.type == "bad_linked_input"
    assert (problem.node_id, problem.input_name) == ("8", "vae")
    assert problem.details == "vae: node '44' is not in the prompt"
    assert problem.extra_info["received_value"] == ["44", 2]


def test_bad_linked_input_with_an_output_index_out_of_range() -> None:
    problem = only(check(txt2img().with_input("8", "vae", Link("4", 3))))
    assert problem.type == "bad_linked_input"
    assert "has 3 output(s), index 3 was asked" in problem.details
    assert "from 0 to 2" in problem.hint


def test_bad_linked_input_malformed_link() -> None:
    problem = only(check(txt2img().with_input("8", "vae", ["4", 1, 2])))
    assert problem.type == "bad_linked_input"
    assert problem.message == "Bad linked input, must be a length-2 list of [node_id, slot_index]"


def test_return_type_mismatch() -> None:
    problem = only(check(txt2img().with_input("3", "model", Link("4", 1))))
    assert problem.type == "return_type_mismatch"
    assert problem.details == "model, received_type(CLIP) mismatch input_type(MODEL)"
    assert problem.extra_info["received_type"] == "CLIP"
    assert problem.extra_info["linked_node"] == ["4", 1]


def test_value_not_in_list_for_fixed_and_dynamic_choices() -> None:
    problem = only(check(txt2img().with_input("3", "sampler_name", "eulr")))
    assert problem.type == "value_not_in_list"
    assert problem.details.startswith("sampler_name: 'eulr' not in ['euler'")
    assert "did you mean 'euler'" in problem.hint
    problem = only(check(txt2img().with_input("4", "ckpt_name", "missing.safetensors")))
    assert problem.type == "value_not_in_list" and problem.input_name == "ckpt_name"
    # Without the dynamic list the checkpoint name cannot be checked.
    assert validate(txt2img().with_input("4", "ckpt_name", "x"), CATALOG).ok


def test_long_choice_lists_are_not_echoed() -> None:
    many = {"checkpoints": [f"model_{i}.safetensors" for i in range(30)]}
    problem = only(validate(txt2img(), CATALOG, many))
    assert problem.details.endswith("(list of length 30)")
    assert problem.extra_info["input_config"] is None


def test_value_smaller_than_min() -> None:
    problem = only(check(txt2img().with_input("3", "steps", 0)))
    assert problem.type == "value_smaller_than_min"
    assert problem.message == "Value 0 smaller than min of 1"
    assert problem.details == "steps"
    assert "between 1 and 10000" in problem.hint


def test_value_bigger_than_max() -> None:
    problem = only(check(txt2img().with_input("3", "denoise", 1.5)))
    assert problem.type == "value_bigger_than_max"
    assert problem.message == "Value 1.5 bigger than max of 1.0"


def test_invalid_input_type() -> None:
    problem = only(check(txt2img().with_input("5", "width", "wide")))
    assert problem.type == "invalid_input_type"
    assert problem.message == "Failed to convert an input value to a INT value"
    assert problem.details.startswith("width, 'wide', invalid literal")
    problem = only(check(txt2img().with_input("5", "width", 512.5)))
    assert "512.5 is not a whole number" in problem.details
    problem = only(check(txt2img().with_input("3", "model", "my-model")))
    assert problem.type == "invalid_input_type"
    assert problem.message == "Input needs a link, not a literal value"


def test_literals_are_converted_as_comfyui_converts_them() -> None:
    graph = txt2img().with_input("3", "steps", "30").with_input("3", "cfg", 7)
    report = check(graph.with_input("9", "filename_prefix", 12))
    assert report.ok
    sampler = report.graph.node("3")
    assert sampler.inputs["steps"] == 30 and sampler.inputs["cfg"] == 7.0
    assert isinstance(sampler.inputs["cfg"], float)
    assert report.graph.node("9").inputs["filename_prefix"] == "12"
    assert check(txt2img()).graph == txt2img()  # nothing to convert: same graph


def test_unknown_node_type() -> None:
    graph = txt2img().with_node(Node("10", "KSamplerr", {"model": Link("4", 0)}))
    report = check(graph)
    problem = only(report)
    assert problem.type == "invalid_prompt"
    assert problem.message == "Cannot execute because node KSamplerr does not exist."
    assert problem.details == "Node ID '#10'"
    assert "did you mean 'KSampler'" in problem.hint
    assert not report.accepted  # ComfyUI refuses the whole prompt
    body = report.comfy_error_response()
    assert body is not None
    assert body["error"] == {
        "type": "invalid_prompt",
        "message": "Cannot execute because node KSamplerr does not exist.",
        "details": "Node ID '#10'",
        "extra_info": {},
    }


def test_cycle_names_the_nodes_on_it() -> None:
    graph = txt2img().with_input("3", "latent_image", Link("3", 0))
    report = check(graph)
    problem = only(report)
    assert problem.type == "dependency_cycle"
    assert problem.details == "nodes on the cycle: 3 -> 3"
    graph = (
        txt2img()
        .with_node(
            Node(
                "20",
                "LatentUpscaleBy",
                {"samples": Link("3", 0), "upscale_method": "bilinear", "scale_by": 1.5},
            )
        )
        .with_input("3", "latent_image", Link("20", 0))
    )
    report = check(graph)
    assert [(p.type, p.node_id) for p in report.problems] == [
        ("dependency_cycle", "3"),
        ("dependency_cycle", "20"),
    ]
    assert report.problems[0].extra_info["cycle"] == ["3", "20"]
    assert report.failed_outputs == ("9",)


def test_prompt_no_outputs() -> None:
    report = check(txt2img().without_nodes(["9"]))
    problem = only(report)
    assert (problem.type, problem.node_id) == ("prompt_no_outputs", None)
    body = report.comfy_error_response()
    assert body == {
        "error": {
            "type": "prompt_no_outputs",
            "message": "Prompt has no outputs",
            "details": "",
            "extra_info": {},
        },
        "node_errors": {},
    }


def test_exception_during_validation_is_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    original = validate_module._NodeCheck._check_literal

    def explode(self: Any, spec: Any, value: Any) -> None:
        if self.node.id == "5":
            raise RuntimeError("boom")
        original(self, spec, value)

    monkeypatch.setattr(validate_module._NodeCheck, "_check_literal", explode)
    report = check(txt2img().with_input("3", "steps", 0))
    assert [(p.type, p.node_id) for p in report.problems] == [
        ("value_smaller_than_min", "3"),
        ("exception_during_validation", "5"),
    ]
    assert report.problems[1].details == "boom"


def test_unknown_inputs_are_warnings_only() -> None:
    report = check(txt2img().with_input("3", "stepz", 30))
    assert report.ok
    assert [(w.type, w.input_name) for w in report.warnings] == [("unknown_input", "stepz")]
    assert "check the spelling" in report.warnings[0].hint


def test_every_problem_is_reported_at_once() -> None:
    graph = (
        txt2img()
        .with_node(txt2img().node("6").without_input("clip"))  # required_input_missing
        .with_input("3", "steps", 0)  # value_smaller_than_min
        .with_input("3", "sampler_name", "nope")  # value_not_in_list
        .with_input("3", "negative", Link("5", 0))  # return_type_mismatch
        .with_input("8", "vae", Link("77", 0))  # bad_linked_input
        .with_input("5", "width", "wide")  # invalid_input_type
        .with_node(Node("12", "Mystery"))  # invalid_prompt
        # A second, independent branch that is fine: its output stays good.
        .with_node(Node("13", "EmptyImage", {"width": 8, "height": 8, "batch_size": 1, "color": 0}))
        .with_node(Node("14", "PreviewImage", {"images": Link("13", 0)}))
    )
    report = check(graph)
    kinds = sorted((p.node_id or "", p.type) for p in report.problems)
    assert kinds == [
        ("12", "invalid_prompt"),
        ("3", "return_type_mismatch"),
        ("3", "value_not_in_list"),
        ("3", "value_smaller_than_min"),
        ("5", "invalid_input_type"),
        ("6", "required_input_missing"),
        ("8", "bad_linked_input"),
    ]
    assert report.good_outputs == ("14",)
    assert report.failed_outputs == ("9",)
    assert report.dependent_outputs["6"] == ("9",)
    assert report.dependent_outputs["12"] == ()

    body = report.comfy_error_response()
    assert body is not None
    assert body["error"]["type"] == "invalid_prompt"  # type: ignore[index]
    node_errors = body["node_errors"]
    assert set(node_errors) == {"3", "5", "6", "8", "12"}  # type: ignore[arg-type]
    assert node_errors["3"]["class_type"] == "KSampler"  # type: ignore[index]
    assert node_errors["3"]["dependent_outputs"] == ["9"]  # type: ignore[index]
    assert [e["type"] for e in node_errors["3"]["errors"]] == [  # type: ignore[index]
        "value_smaller_than_min",
        "value_not_in_list",
        "return_type_mismatch",
    ]
    assert all(
        e["extra_info"]["input_name"]
        for e in node_errors["3"]["errors"]  # type: ignore[index]
    )
    assert json.loads(json.dumps(body)) == body  # plain JSON, ready for the HTTP layer
    text = report.format_text()
    assert text.startswith("workflow is invalid: 7 problem(s) in 5 node(s)")
    assert "node 6 (CLIPTextEncode), input 'clip': Required input is missing" in text


def test_partial_failure_is_accepted_like_comfyui() -> None:
    graph = txt2img().with_node(Node("14", "PreviewImage", {"images": Link("8", 0)}))
    graph = graph.with_node(Node("15", "PreviewImage", {}))
    report = check(graph)
    assert report.accepted and not report.ok
    assert report.good_outputs == ("9", "14")
    assert report.comfy_error_response() is None
    assert set(report.comfy_node_errors()) == {"15"}


def test_all_outputs_failing_gives_the_comfyui_400_body() -> None:
    report = check(txt2img().with_input("3", "steps", 0))
    body = report.comfy_error_response()
    assert body is not None
    assert body["error"] == {
        "type": "prompt_outputs_failed_validation",
        "message": "Prompt outputs failed validation",
        "details": "Value 0 smaller than min of 1: steps",
        "extra_info": {},
    }
    assert body["node_errors"]["3"]["dependent_outputs"] == ["9"]  # type: ignore[index]


def test_a_long_cycle_is_reported_without_listing_it_whole() -> None:
    from components.nodes import default_catalog
    from components.workflow.comfy_api import api_to_graph

    size = 1000
    prompt = {
        str(i): {
            "class_type": "ImageFlip",
            "inputs": {"image": [str((i + 1) % size), 0], "flip_method": "x-axis: vertically"},
        }
        for i in range(size)
    }
    report = validate(api_to_graph(prompt), default_catalog())
    cyclic = [p for p in report.problems if p.type == "dependency_cycle"]
    assert len(cyclic) == size
    assert all(p.extra_info["cycle_length"] == size for p in cyclic)
    assert len(str(report.comfy_error_response())) < 2_000 * size  # linear, not quadratic
