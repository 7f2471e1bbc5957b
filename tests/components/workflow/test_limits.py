"""Per-role bounds: every literal input over its bound is named; links and admins pass."""

from __future__ import annotations

from components.workflow.comfy_api import api_to_graph
from components.workflow.limits import DEFAULT_USER_LIMITS, comfy_limits_error, over_limits


def test_inputs_over_the_bounds_are_listed_with_node_input_and_bound() -> None:
    graph = api_to_graph(
        {
            "1": {"class_type": "EmptyLatentImage",
                  "inputs": {"width": 4096, "height": 512, "batch_size": 64}},
            "2": {"class_type": "KSampler", "inputs": {"steps": 151, "latent_image": ["1", 0]}},
            "3": {"class_type": "EmptyImage", "inputs": {"width": ["9", 0], "height": 2048}},
        }
    )  # fmt: skip
    found = {(p.node_id, p.input_name, p.limit) for p in over_limits(graph, DEFAULT_USER_LIMITS)}
    assert found == {("1", "width", 2048), ("1", "batch_size", 16), ("2", "steps", 150)}
    body = comfy_limits_error(over_limits(graph, DEFAULT_USER_LIMITS))
    assert body["error"]["type"] == "limits_exceeded"
    assert [e["type"] for e in body["node_errors"]["1"]["errors"]] == ["value_bigger_than_max"] * 2
    assert over_limits(graph, None) == []
