import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from components.nodes import default_catalog
from components.workflow.comfy_api import api_to_graph
from components.workflow.comfy_editor import editor_to_api
from components.workflow.document import Document, NodeLayout
from components.workflow.graph import Graph, Link, Node

FIXTURES = Path(__file__).parent / "fixtures"
CATALOG = default_catalog()


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def editor_nodes(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What must survive a round trip, per node: type, layout, mode and widget values."""
    keep = ("type", "pos", "size", "mode", "title", "color", "bgcolor", "widgets_values")
    nodes = {}
    for node in workflow["nodes"]:
        if node["type"] in ("Reroute", "PrimitiveNode"):
            continue
        entry = {key: node.get(key) for key in keep}
        entry["pos"] = [float(v) for v in node["pos"]]
        entry["size"] = [float(v) for v in node["size"]]
        entry["collapsed"] = bool(node.get("flags", {}).get("collapsed", False))
        nodes[str(node["id"])] = entry
    return nodes


def editor_links(workflow: dict[str, Any]) -> set[tuple[str, int, str, str]]:
    """Links as (source, output, target, target input name), seen through reroutes."""
    inputs = {
        str(node["id"]): [
            entry.get("widget", {}).get("name", entry["name"]) for entry in node.get("inputs") or []
        ]
        for node in workflow["nodes"]
    }
    return {
        (str(src), slot, str(dst), inputs[str(dst)][dst_slot])
        for _, src, slot, dst, dst_slot, _ in workflow["links"]
    }


def test_txt2img_editor_document_editor_round_trip() -> None:
    workflow = load("txt2img_editor.json")
    document = Document.from_editor(workflow, CATALOG)
    again = document.to_editor(CATALOG)
    assert editor_nodes(again) == editor_nodes(workflow)
    assert editor_links(again) == editor_links(workflow)
    assert again["extra"] == workflow["extra"]
    assert again["last_node_id"] == 9 and again["version"] == 0.4
    assert editor_to_api(again, CATALOG) == editor_to_api(workflow, CATALOG)


def test_features_round_trip_keeps_layout_modes_notes_and_groups() -> None:
    workflow = load("features_editor.json")
    document = Document.from_editor(workflow, CATALOG)
    assert document.layout["10"].mode == 4 and document.layout["11"].mode == 2
    assert document.layout["6"].title == "Positive Prompt"
    assert [group.title for group in document.groups] == ["Prompts", "Upscale"]
    assert [note.id for note in document.notes] == ["30", "31"]

    again = document.to_editor(CATALOG)
    before, after = editor_nodes(workflow), editor_nodes(again)
    assert set(after) == set(before)
    for node_id, node in before.items():
        if node_id == "3":  # the seed now is a literal instead of a primitive's link
            assert after[node_id]["widgets_values"] == [
                1234,
                "fixed",
                25,
                7.5,
                "dpmpp_2m",
                "karras",
                1,
            ]
            continue
        assert after[node_id] == node, node_id
    assert again["groups"] == workflow["groups"]
    # Reroutes are gone, their links now run straight from the source.
    assert ("4", 1, "6", "clip") in editor_links(again)
    assert editor_to_api(again, CATALOG) == load("features_api.json")
    # And a second pass changes nothing.
    assert Document.from_editor(again, CATALOG).to_editor(CATALOG) == again


def test_document_keeps_muted_and_bypassed_nodes_but_does_not_run_them() -> None:
    document = Document.from_editor(load("features_editor.json"), CATALOG)
    assert {"10", "11"} <= set(document.to_graph().ids())
    assert document.to_api(CATALOG) == load("features_api.json")


def test_document_api_round_trip() -> None:
    prompt = load("txt2img_api.json")
    document = Document.from_api(prompt)
    assert document.layout == {}
    assert document.api_prompt() == prompt
    assert document.to_api(CATALOG) == prompt
    assert document.to_graph() == api_to_graph(prompt)


def test_document_json_round_trip() -> None:
    document = Document.from_editor(load("features_editor.json"), CATALOG)
    text = document.model_dump_json(by_alias=True)
    data = json.loads(text)
    assert data["format"] == "rxgen.workflow" and data["format_version"] == 1
    assert data["graph"]["6"]["_meta"] == {"title": "Positive Prompt"}
    assert Document.model_validate_json(text) == document


def test_api_graph_without_layout_opens_in_the_editor() -> None:
    workflow = Document.from_api(load("txt2img_api.json")).to_editor(CATALOG)
    positions = {str(node["id"]): tuple(node["pos"]) for node in workflow["nodes"]}
    assert len(set(positions.values())) == len(positions)  # laid out, not stacked
    assert positions["4"][0] < positions["3"][0] < positions["8"][0] < positions["9"][0]
    assert editor_to_api(workflow, CATALOG) == load("txt2img_api.json")


def test_layout_must_name_graph_nodes() -> None:
    with pytest.raises(ValidationError, match="layout names node\\(s\\) 12"):
        Document(graph={}, layout={"12": NodeLayout()})


def test_wrong_format_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Document.model_validate({"format": "comfy", "format_version": 1})
    with pytest.raises(ValidationError):
        Document.model_validate({"format": "rxgen.workflow", "format_version": 2})


@st.composite
def light_graphs(draw: st.DrawFn) -> Graph:
    """Random DAGs of INT nodes: primitives, math and compares, with literals and links."""
    nodes: list[Node] = []
    ints: list[str] = []  # ids of nodes with an INT output
    for index in range(draw(st.integers(1, 12))):
        node_id = str(index + 1)
        small = st.integers(-1000, 1000)
        if not ints or draw(st.booleans()):
            nodes.append(Node(node_id, "PrimitiveInt", {"value": draw(small)}))
            ints.append(node_id)
            continue
        operand = st.one_of(small, st.sampled_from(ints).map(lambda i: Link(i, 0)))
        kind = draw(st.sampled_from(["IntMath", "IntCompare"]))
        operations = ("add", "mul", "max") if kind == "IntMath" else ("<", "==")
        inputs = {
            "a": draw(operand),
            "b": draw(operand),
            "operation": draw(st.sampled_from(operations)),
        }
        nodes.append(Node(node_id, kind, inputs))
        if kind == "IntMath":
            ints.append(node_id)
    return Graph(nodes)


@given(light_graphs())
def test_random_graphs_survive_document_and_editor_round_trips(graph: Graph) -> None:
    document = Document.from_graph(graph)
    assert document.to_graph() == graph
    again = Document.from_editor(document.to_editor(CATALOG), CATALOG).to_graph()
    assert again.ids() == graph.ids()
    for node in graph:
        assert dict(again.node(node.id).inputs) == dict(node.inputs)
        assert again.node(node.id).type == node.type
