import json
from pathlib import Path
from typing import Any

import pytest

from components.workflow.comfy_api import (
    ApiFormatError,
    api_to_graph,
    graph_to_api,
    parse_input_value,
)
from components.workflow.graph import Link

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_txt2img_round_trip() -> None:
    prompt = load("txt2img_api.json")
    graph = api_to_graph(prompt)
    assert graph.ids() == ("3", "4", "5", "6", "7", "8", "9")
    sampler = graph.node("3")
    assert sampler.type == "KSampler"
    assert sampler.title == "KSampler"
    assert sampler.inputs["model"] == Link("4", 0)
    assert sampler.inputs["seed"] == 8566257
    assert graph.node("6").inputs["clip"] == Link("4", 1)
    assert graph_to_api(graph) == prompt
    assert api_to_graph(graph_to_api(graph)) == graph


def test_link_parsing_follows_comfyui() -> None:
    assert parse_input_value(["4", 1]) == Link("4", 1)
    assert parse_input_value([4, 0]) == Link("4", 0)  # some clients send numeric ids
    assert parse_input_value(("4", 2)) == Link("4", 2)
    # Not links: they stay literals so that validation can report them.
    assert parse_input_value(["4", -1]) == ["4", -1]
    assert parse_input_value(["4", 1, 2]) == ["4", 1, 2]
    assert parse_input_value([True, 0]) == [True, 0]
    assert parse_input_value("text") == "text"
    assert parse_input_value(None) is None


def test_title_is_optional() -> None:
    graph = api_to_graph({"1": {"class_type": "PreviewImage", "inputs": {}}})
    assert graph.node("1").title is None
    assert graph_to_api(graph) == {"1": {"inputs": {}, "class_type": "PreviewImage"}}


def test_format_errors_are_all_listed() -> None:
    with pytest.raises(ApiFormatError) as caught:
        api_to_graph(
            {
                "1": {"inputs": {}},
                "2": "KSampler",
                "3": {"class_type": "VAEDecode", "inputs": ["samples"]},
                "4": {"class_type": "PreviewImage", "inputs": {}},
            }
        )
    problems = caught.value.problems
    assert len(problems) == 3
    assert "node '1' is missing the class_type property" in problems[0]
    assert "node '2' is str" in problems[1]
    assert "node '3' has inputs of type list" in problems[2]
    body = caught.value.comfy_response()
    assert body["error"]["type"] == "invalid_prompt"  # type: ignore[index]
    assert body["node_errors"] == {}


def test_non_object_prompt_is_rejected() -> None:
    with pytest.raises(ApiFormatError, match="expected an object of nodes by id"):
        api_to_graph([])  # type: ignore[arg-type]
