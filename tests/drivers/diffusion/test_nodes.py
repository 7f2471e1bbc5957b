"""The model nodes on the tiny random-weight model, through the whole engine as users run it.

Checks that the node graph gives the bare diffusers pipeline's image, that the same workflow and
seed give the same bytes, that progress, previews and cancel work per step, that img2img and
inpainting keep what they must keep, and that running out of memory fails one job cleanly.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from reactivex.subject import Subject

from components.workflow.protocol import (
    CancelJob,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobRejected,
    SubmitJob,
)
from drivers.diffusion.manager import ModelManager
from drivers.diffusion.models import ModelStore
from drivers.diffusion.nodes import DiffusionNodes
from drivers.diffusion.samplers import make_scheduler
from drivers.nodes.context import NodeContext
from drivers.nodes.runner import NodeRunner
from tests.engine_harness import Recorder, engine

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.usefixtures("one_torch_thread"),  # byte-equal images need it
]

SIZE = 64


@pytest.fixture
def manager(tmp_path: Path, tiny_sd_dir: Path) -> ModelManager:
    store = ModelStore(tmp_path / "models")
    store.add(str(tiny_sd_dir), "tiny", link=True)
    return ModelManager(store, device="cpu", allow_hub=False)


@pytest.fixture
def nodes(manager: ModelManager) -> DiffusionNodes:
    return DiffusionNodes(manager, preview_every=2)


def txt2img(seed: int = 7, steps: int = 4, prefix: str = "gen", **sampler: Any) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red fox", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
        "4": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": SIZE, "height": SIZE, "batch_size": 1},
        },
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "seed": seed,
                "steps": steps,
                "cfg": 7.5,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1.0,
                **sampler,
            },
        },
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": prefix}},
    }


def run_jobs(
    tmp_path: Path, nodes: DiffusionNodes, *prompts: dict[str, Any]
) -> tuple[list[Any], Recorder]:
    results: list[Any] = []
    recorder: list[Recorder] = []

    async def scenario(jobs: Subject[Any], events: Recorder, runner: NodeRunner) -> None:
        recorder.append(events)
        for index, prompt in enumerate(prompts):
            jobs.on_next(SubmitJob(job_id=f"j{index}", prompt=prompt))
            results.append(await events.outcome(f"j{index}"))

    engine(tmp_path, scenario, extra=nodes.implementations())
    return results, recorder[0]


def saved(tmp_path: Path, done: Any, node: str = "7") -> list[np.ndarray[Any, Any]]:
    assert isinstance(done, JobFinished), done
    return [
        np.asarray(Image.open(tmp_path / "output" / image["subfolder"] / image["filename"]))
        for image in done.outputs[node]["images"]
    ]


def test_txt2img_equals_the_bare_diffusers_pipeline(
    tmp_path: Path, nodes: DiffusionNodes, manager: ModelManager
) -> None:
    (done,), _ = run_jobs(tmp_path, nodes, txt2img(seed=7))
    (image,) = saved(tmp_path, done)
    assert image.shape == (SIZE, SIZE, 3)

    model = manager.load("tiny")
    pipe = model.pipeline(make_scheduler("euler", "normal", model.scheduler_config))
    bare = pipe(
        "a red fox",
        negative_prompt="blurry",
        num_inference_steps=4,
        guidance_scale=7.5,
        height=SIZE,
        width=SIZE,
        generator=torch.Generator("cpu").manual_seed(7),
        output_type="np",
    ).images[0]
    expected = (bare * 255).astype(np.uint8)  # SaveImage's float -> byte conversion
    assert np.abs(image.astype(int) - expected.astype(int)).max() <= 1


def test_same_workflow_and_seed_give_the_same_bytes(tmp_path: Path, nodes: DiffusionNodes) -> None:
    for folder, seed in (("a", 11), ("b", 11), ("c", 12)):
        (done,), _ = run_jobs(tmp_path / folder, nodes, txt2img(seed=seed))
        assert isinstance(done, JobFinished)
    a = (tmp_path / "a/output/gen_00001_.png").read_bytes()
    assert a == (tmp_path / "b/output/gen_00001_.png").read_bytes()
    assert a != (tmp_path / "c/output/gen_00001_.png").read_bytes()


def test_progress_every_step_with_previews_written(tmp_path: Path, nodes: DiffusionNodes) -> None:
    (done,), events = run_jobs(tmp_path, nodes, txt2img(steps=4))
    assert isinstance(done, JobFinished)
    steps = [e for e in events.seen if isinstance(e, JobProgress) and e.node_id == "5"]
    assert [(e.node_value, e.node_max) for e in steps] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    previews = [e.preview for e in steps]
    assert previews[0] is None and previews[2] is None  # every 2nd step
    for preview in (previews[1], previews[3]):
        assert preview is not None
        with Image.open(tmp_path / "temp" / preview) as picture:
            assert picture.format == "JPEG" and picture.size == (SIZE // 8, SIZE // 8)


def test_cancel_lands_within_a_step_and_the_next_job_runs(
    tmp_path: Path, nodes: DiffusionNodes
) -> None:
    async def scenario(jobs: Subject[Any], events: Recorder, runner: NodeRunner) -> None:
        jobs.on_next(SubmitJob(job_id="long", prompt=txt2img(steps=200)))
        await events.next(lambda e: isinstance(e, JobProgress) and e.node_id == "5")
        jobs.on_next(CancelJob(job_id="long"))
        assert isinstance(await events.outcome("long"), JobCancelled)
        reported = [e for e in events.seen if isinstance(e, JobProgress) and e.node_id == "5"]
        # A step may finish while the cancel travels; never more than that one.
        assert len(reported) <= 2
        jobs.on_next(SubmitJob(job_id="next", prompt=txt2img(steps=2, prefix="next")))
        assert isinstance(await events.outcome("next"), JobFinished)

    engine(tmp_path, scenario, extra=nodes.implementations())
    assert not list((tmp_path / "output").glob("gen_*"))


def test_unknown_checkpoint_fails_naming_the_models_there(
    tmp_path: Path, nodes: DiffusionNodes
) -> None:
    prompt = txt2img()
    prompt["1"]["inputs"]["ckpt_name"] = "nope"
    (done,), _ = run_jobs(tmp_path, nodes, prompt)
    assert isinstance(done, JobFailed)
    assert "nope" in done.errors["1"] and "tiny" in done.errors["1"]


def test_an_unsupported_sampler_pair_is_rejected_before_anything_runs(
    tmp_path: Path, nodes: DiffusionNodes, manager: ModelManager
) -> None:
    (done,), _ = run_jobs(tmp_path, nodes, txt2img(sampler_name="ddim", scheduler="karras"))
    assert isinstance(done, JobRejected), done
    assert "sampler 'ddim'" in done.text and "'karras'" in done.text
    assert manager.loads == 0


def test_out_of_memory_fails_the_job_frees_models_and_the_next_job_runs(
    tmp_path: Path, nodes: DiffusionNodes, manager: ModelManager
) -> None:
    unet = manager.load("tiny").unet
    real_forward = unet.forward
    calls = {"n": 0}

    def exhausted(*args: Any, **kwargs: Any) -> Any:
        # Fault injection: the allocator's own error type, raised where a real one would be.
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_forward(*args, **kwargs)

    unet.forward = exhausted
    loads = manager.loads
    (failed, after), _ = run_jobs(tmp_path, nodes, txt2img(), txt2img(seed=8, prefix="after"))
    assert isinstance(failed, JobFailed)
    message = failed.errors["5"]
    assert "out of memory" in message and "lower the size or batch" in message
    assert isinstance(after, JobFinished)
    assert manager.loads == loads + 1, "the unleased model was dropped and loaded again"


def _ctx(tmp_path: Path) -> NodeContext:
    return NodeContext(job_id="t", node_id="n", temp_dir=tmp_path)


def test_img2img_and_inpainting_keep_what_the_mask_keeps(
    tmp_path: Path, nodes: DiffusionNodes
) -> None:
    model, clip, vae = nodes.checkpoint_loader({"ckpt_name": "tiny"})
    (positive,) = nodes.clip_text_encode({"text": "a fox", "clip": clip})
    (negative,) = nodes.clip_text_encode({"text": "", "clip": clip})
    gradient = torch.linspace(0, 1, SIZE)
    pixels = torch.stack([gradient[None].expand(SIZE, SIZE)] * 3, dim=-1)[None]

    (encoded,) = nodes.vae_encode({"pixels": pixels, "vae": vae})
    assert encoded["samples"].shape == (1, 4, SIZE // 8, SIZE // 8)
    common = {
        "model": model,
        "positive": positive,
        "negative": negative,
        "seed": 3,
        "steps": 4,
        "cfg": 5.0,
        "sampler_name": "euler",
        "scheduler": "normal",
    }
    (light,) = nodes.ksampler({**common, "latent_image": encoded, "denoise": 0.25}, _ctx(tmp_path))
    (heavy,) = nodes.ksampler({**common, "latent_image": encoded, "denoise": 1.0}, _ctx(tmp_path))
    drift = (light["samples"] - encoded["samples"]).abs().mean()
    assert drift < (heavy["samples"] - encoded["samples"]).abs().mean()

    mask = torch.zeros(1, SIZE, SIZE)
    mask[:, :, SIZE // 2 :] = 1.0  # regenerate the right half only
    (masked,) = nodes.vae_encode_for_inpaint(
        {"pixels": pixels, "vae": vae, "mask": mask, "grow_mask_by": 0}
    )
    (inpainted,) = nodes.ksampler(
        {**common, "latent_image": masked, "denoise": 1.0}, _ctx(tmp_path)
    )
    half = SIZE // 16
    kept, redone = inpainted["samples"][..., :half], inpainted["samples"][..., half:]
    assert torch.equal(kept, masked["samples"][..., :half])
    assert not torch.equal(redone, masked["samples"][..., half:])


def test_latent_upscale_and_clip_skip(tmp_path: Path, nodes: DiffusionNodes) -> None:
    from drivers.diffusion.latent_ops import latent_upscale, latent_upscale_by
    from drivers.diffusion.nodes import clip_set_last_layer

    latent = {"samples": torch.randn(2, 4, 8, 12)}
    (up,) = latent_upscale(
        {
            "samples": latent,
            "upscale_method": "bilinear",
            "width": 192,
            "height": 0,
            "crop": "disabled",
        }
    )
    assert up["samples"].shape == (2, 4, 16, 24)
    (by,) = latent_upscale_by({"samples": latent, "upscale_method": "area", "scale_by": 0.5})
    assert by["samples"].shape == (2, 4, 4, 6)

    _, clip, _ = nodes.checkpoint_loader({"ckpt_name": "tiny"})
    (skipped,) = clip_set_last_layer({"clip": clip, "stop_at_clip_layer": -2})
    (last,) = clip_set_last_layer({"clip": clip, "stop_at_clip_layer": -1})
    assert skipped.clip_skip == 1 and last.clip_skip is None
    (a,) = nodes.clip_text_encode({"text": "a fox", "clip": skipped})
    (b,) = nodes.clip_text_encode({"text": "a fox", "clip": copy.copy(last)})
    assert not torch.equal(a.embeds, b.embeds)
