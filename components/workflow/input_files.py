"""Which inputs of a workflow name a file in the server's input folder.

Inputs whose choices are the input folder's images or videos (LoadImage's ``image``, LoadVideo's
``file``) name a file by its path there; the web layer checks the submitter may read each.
"""

from __future__ import annotations

from typing import NamedTuple

from components.nodes.catalog import Catalog, UnknownNodeTypeError
from components.nodes.core import INPUT_IMAGES
from components.nodes.video import INPUT_VIDEOS
from components.workflow.graph import Graph

INPUT_FILE_LISTS = (INPUT_IMAGES, INPUT_VIDEOS)


class InputFile(NamedTuple):
    node_id: str
    class_type: str
    input_name: str
    path: str


def input_files(graph: Graph, catalog: Catalog) -> list[InputFile]:
    found: list[InputFile] = []
    for node in graph.nodes.values():
        try:
            definition = catalog.get(node.type)
        except UnknownNodeTypeError:
            continue  # validation names it
        for spec in (*definition.required, *definition.optional):
            value = node.inputs.get(spec.name)
            if spec.choices_from in INPUT_FILE_LISTS and isinstance(value, str):
                found.append(InputFile(node.id, node.type, spec.name, value))
    return found
