"""Validation's table of unsupported sampler/scheduler pairs agrees with the driver's own check,
and a workflow using one is rejected before anything runs, naming the node and the input."""

from __future__ import annotations

import pytest

from components.nodes import SAMPLER_NAMES, SCHEDULER_NAMES, default_catalog
from components.nodes.sampler_support import UNSUPPORTED_PAIRS
from components.workflow.comfy_api import api_to_graph
from components.workflow.problems import UNSUPPORTED_COMBINATION
from components.workflow.validate import validate
from drivers.diffusion.samplers import unsupported


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_the_table_says_what_the_driver_says(sampler: str) -> None:
    for scheduler in SCHEDULER_NAMES:
        refused = unsupported(sampler, scheduler)
        assert ((sampler, scheduler) in UNSUPPORTED_PAIRS) == (refused is not None), (
            f"{sampler} + {scheduler}: the driver says {refused!r}; update sampler_support.py"
        )


def test_a_workflow_with_an_unsupported_pair_is_rejected_naming_it() -> None:
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["1", 1]}},
        "3": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1},
        },
        "4": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0], "positive": ["2", 0], "negative": ["2", 0],
                "latent_image": ["3", 0], "seed": 1, "steps": 2, "cfg": 5.0,
                "sampler_name": "euler_ancestral", "scheduler": "karras", "denoise": 1.0,
            },
        },
        "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["1", 2]}},
        "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "x"}},
    }  # fmt: skip
    report = validate(api_to_graph(prompt), default_catalog())
    assert not report.ok
    (problem,) = report.problems
    assert (problem.type, problem.node_id, problem.input_name) == (
        UNSUPPORTED_COMBINATION, "4", "scheduler",
    )  # fmt: skip
    assert "euler_ancestral" in problem.message and "'karras'" in problem.message
    prompt["4"]["inputs"]["scheduler"] = "normal"
    assert validate(api_to_graph(prompt), default_catalog()).ok
