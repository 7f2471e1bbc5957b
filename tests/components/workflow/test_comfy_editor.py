import copy
import json
from pathlib import Path
from typing import Any

import pytest

from components.nodes import default_catalog
from components.workflow.comfy_api import graph_to_api
from components.workflow.comfy_editor import apply_modes, editor_to_api, editor_to_graph
from components.workflow.comfy_editor_read import read_editor
from components.workflow.comfy_editor_types import EditorFormatError
from components.workflow.graph import Graph, Link, Node

FIXTURES = Path(__file__).parent / "fixtures"
CATALOG = default_catalog()


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize("name", ["txt2img", "features"])
def test_editor_to_api_matches_the_hand_written_prompt(name: str) -> None:
    assert editor_to_api(load(f"{name}_editor.json"), CATALOG) == load(f"{name}_api.json")


def test_default_workflow_reads_without_warnings() -> None:
    imported = read_editor(load("txt2img_editor.json"), CATALOG)
    assert imported.warnings == ()
    assert imported.nodes["3"].widget_controls == {"seed": "randomize"}
    assert imported.nodes["3"].pos == (870.0, 180.0)
    assert imported.extra == {"ds": {"scale": 1.0, "offset": [0, 0]}}


def test_features_resolve_editor_only_nodes() -> None:
    imported = read_editor(load("features_editor.json"), CATALOG)
    graph = imported.graph
    # Reroute and PrimitiveNode are resolved away, notes are set apart.
    assert "20" not in graph and "21" not in graph and "30" not in graph
    assert graph.node("6").inputs["clip"] == Link("4", 1)
    assert graph.node("3").inputs["seed"] == 1234  # the primitive wins over the stale 999
    assert [note.type for note in imported.notes] == ["Note", "MarkdownNote"]
    assert imported.notes[0].text.startswith("The seed comes")
    # Muted and bypassed nodes are kept with their modes until apply_modes.
    assert imported.modes["10"] == 4 and imported.modes["11"] == 2
    assert graph.node("9").inputs["images"] == Link("10", 0)
    assert imported.nodes["6"].title == "Positive Prompt"
    assert imported.nodes["7"].collapsed
    assert imported.nodes["6"].color == "#232"
    assert graph.node("15").inputs == {"image": "photo.png"}  # the upload value is skipped
    assert len(imported.groups) == 2


def test_bypass_passes_the_matching_input_through() -> None:
    graph = editor_to_graph(load("features_editor.json"), CATALOG)
    assert graph.node("9").inputs["images"] == Link("8", 0)
    assert "10" not in graph and "11" not in graph


def test_bypass_chains_and_drops_inputs_without_match() -> None:
    graph = Graph(
        [
            Node("1", "EmptyImage", {"width": 8, "height": 8, "batch_size": 1, "color": 0}),
            Node("2", "ImageInvert", {"image": Link("1", 0)}),
            Node("3", "ImageFlip", {"image": Link("2", 0), "flip_method": "x-axis: vertically"}),
            Node("4", "PreviewImage", {"images": Link("3", 0)}),
            Node("5", "EmptyLatentImage", {"width": 64, "height": 64, "batch_size": 1}),
            # The bypassed decoder has no IMAGE input: its consumer loses the input.
            Node("6", "VAEDecode", {"samples": Link("5", 0)}),
            Node("7", "PreviewImage", {"images": Link("6", 0)}),
        ]
    )
    resolved = apply_modes(graph, {"2": 4, "3": 4, "6": 4}, CATALOG)
    assert resolved.node("4").inputs["images"] == Link("1", 0)
    assert "images" not in resolved.node("7").inputs
    assert resolved.ids() == ("1", "4", "5", "7")


def test_muted_node_inputs_are_left_out() -> None:
    graph = Graph(
        [
            Node("1", "EmptyImage", {"width": 8, "height": 8}),
            Node("2", "PreviewImage", {"images": Link("1", 0)}),
        ]
    )
    resolved = apply_modes(graph, {"1": 2}, CATALOG)
    assert resolved.ids() == ("2",)
    assert resolved.node("2").inputs == {}
    assert apply_modes(graph, {}, CATALOG) is graph


def minimal(nodes: list[dict[str, Any]], links: list[Any] | None = None) -> dict[str, Any]:
    return {
        "last_node_id": 9,
        "last_link_id": 9,
        "nodes": nodes,
        "links": links or [],
        "version": 0.4,
    }


def test_missing_widget_values_take_defaults_with_a_warning() -> None:
    workflow = minimal([{"id": 1, "type": "EmptyLatentImage", "widgets_values": [768]}])
    imported = read_editor(workflow, CATALOG)
    assert imported.graph.node("1").inputs == {"width": 768, "height": 512, "batch_size": 1}
    assert any("no stored value for widget 'height'" in w for w in imported.warnings)


def test_extra_widget_values_are_reported() -> None:
    workflow = minimal([{"id": 1, "type": "ImageInvert", "widgets_values": [1, 2]}])
    assert "2 extra widget value(s) ignored" in read_editor(workflow, CATALOG).warnings[0]


def test_widget_values_by_name_are_accepted() -> None:
    workflow = minimal(
        [{"id": 1, "type": "EmptyLatentImage", "widgets_values": {"width": 64, "height": 32}}]
    )
    assert read_editor(workflow, CATALOG).graph.node("1").inputs == {"width": 64, "height": 32}


def test_seed_without_stored_control_value() -> None:
    ksampler = load("txt2img_editor.json")["nodes"][3]
    assert ksampler["type"] == "KSampler"
    node = copy.deepcopy(ksampler) | {"inputs": []}
    node["widgets_values"] = [5, 20, 8, "euler", "normal", 1]  # older files lack the control
    inputs = read_editor(minimal([node]), CATALOG).graph.node("3").inputs
    assert inputs["seed"] == 5 and inputs["steps"] == 20 and inputs["denoise"] == 1


def test_unknown_node_types_keep_links_and_raw_widgets() -> None:
    workflow = minimal(
        [
            {
                "id": 1,
                "type": "EmptyImage",
                "widgets_values": [8, 8, 1, 0],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
            },
            {
                "id": 2,
                "type": "FancyUpscaler",
                "widgets_values": ["4x", 0.5],
                "inputs": [{"name": "image", "type": "IMAGE", "link": 1}],
            },
        ],
        [[1, 1, 0, 2, 0, "IMAGE"]],
    )
    imported = read_editor(workflow, CATALOG)
    assert imported.graph.node("2").inputs == {"image": Link("1", 0)}
    assert imported.nodes["2"].raw_widgets_values == ["4x", 0.5]


def test_schema_1_link_objects() -> None:
    workflow = {
        "version": 1,
        "state": {},
        "nodes": [
            {"id": 1, "type": "EmptyImage", "widgets_values": [8, 8, 1, 0]},
            {
                "id": 2,
                "type": "PreviewImage",
                "inputs": [{"name": "images", "type": "IMAGE", "link": 7}],
            },
        ],
        "links": [
            {
                "id": 7,
                "origin_id": 1,
                "origin_slot": 0,
                "target_id": 2,
                "target_slot": 0,
                "type": "IMAGE",
            }
        ],
    }
    graph = editor_to_graph(workflow, CATALOG)
    assert graph.node("2").inputs == {"images": Link("1", 0)}
    assert graph_to_api(graph)["2"] == {
        "inputs": {"images": ["1", 0]},
        "class_type": "PreviewImage",
        "_meta": {"title": "Preview Image"},
    }


def test_dangling_links_are_warned_about() -> None:
    workflow = minimal(
        [
            {
                "id": 2,
                "type": "PreviewImage",
                "inputs": [{"name": "images", "type": "IMAGE", "link": 5}],
            }
        ]
    )
    imported = read_editor(workflow, CATALOG)
    assert imported.graph.node("2").inputs == {}
    assert "link 5 is not in the links table" in imported.warnings[0]


def test_structural_errors_are_all_listed() -> None:
    with pytest.raises(EditorFormatError, match="expected an object with a 'nodes' list"):
        read_editor({"nodes": {}}, CATALOG)
    with pytest.raises(EditorFormatError) as caught:
        read_editor(minimal([{"type": "A"}, {"id": 2}], [[1, 2]]), CATALOG)
    assert len(caught.value.problems) == 3
