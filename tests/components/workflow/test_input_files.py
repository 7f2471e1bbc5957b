"""The inputs that name input-folder files are found from the catalog, not by node name."""

from __future__ import annotations

from components.nodes import default_catalog
from components.workflow.comfy_api import api_to_graph
from components.workflow.input_files import InputFile, input_files


def test_load_nodes_name_their_files_and_links_or_other_strings_do_not() -> None:
    graph = api_to_graph(
        {
            "img": {"class_type": "LoadImage", "inputs": {"image": "uploads/a.png"}},
            "vid": {"class_type": "LoadVideo", "inputs": {"file": "clip.mp4"}},
            "txt": {"class_type": "CLIPTextEncode", "inputs": {"text": "a.png", "clip": ["x", 1]}},
            "odd": {"class_type": "NoSuchNode", "inputs": {"image": "b.png"}},
        }
    )
    assert sorted(input_files(graph, default_catalog())) == [
        InputFile("img", "LoadImage", "image", "uploads/a.png"),
        InputFile("vid", "LoadVideo", "file", "clip.mp4"),
    ]
