"""Text-to-video on the tiny random-weight ModelScope-architecture model, loaded the way users'
models are: from a diffusers directory in the models directory, through the model manager."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivers.diffusion.manager import ModelManager
from drivers.diffusion.models import ModelStore
from drivers.diffusion.sampling import SamplingCancelled
from drivers.diffusion.text_to_video import generate_video
from drivers.diffusion.tiny_t2v import ensure_tiny_t2v

pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning"),
    pytest.mark.usefixtures("one_torch_thread"),  # byte-equal images need it
]


@pytest.fixture(scope="session")
def tiny_t2v_dir(tmp_path_factory: pytest.TempPathFactory, offline_hub: None) -> Path:
    return ensure_tiny_t2v(tmp_path_factory.getbasetemp() / "rxgen-tiny-t2v")


@pytest.fixture
def manager(tmp_path: Path, tiny_t2v_dir: Path, tiny_sd_dir: Path) -> ModelManager:
    store = ModelStore(tmp_path / "models")
    store.add(str(tiny_t2v_dir), "video", link=True)
    store.add(str(tiny_sd_dir), "image", link=True)
    return ModelManager(store, device="cpu", allow_hub=False)


def test_frames_progress_and_determinism(manager: ModelManager) -> None:
    steps: list[tuple[int, int, tuple[int, ...]]] = []
    with manager.lease("video") as model:
        assert model.is_video and model.info.pipeline_class == "TextToVideoSDPipeline"
        first = generate_video(
            model, "a fox", "", frames=6, width=64, height=48, steps=3, guidance=7.0, seed=4,
            on_step=lambda i, n, latents: steps.append((i, n, tuple(latents.shape))),
        )  # fmt: skip
        again = generate_video(
            model, "a fox", "", frames=6, width=64, height=48, steps=3, guidance=7.0, seed=4
        )
        other = generate_video(
            model, "a fox", "", frames=6, width=64, height=48, steps=3, guidance=7.0, seed=5
        )
    assert first.shape == (6, 48, 64, 3) and first.dtype == np.uint8
    assert steps == [(1, 3, (1, 4, 6, 8)), (2, 3, (1, 4, 6, 8)), (3, 3, (1, 4, 6, 8))]
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_cancel_lands_within_one_step(manager: ModelManager) -> None:
    seen: list[int] = []
    with manager.lease("video") as model, pytest.raises(SamplingCancelled):
        generate_video(
            model, "a fox", "", frames=4, width=32, height=32, steps=50, guidance=7.0, seed=1,
            on_step=lambda i, n, latents: seen.append(i), cancelled=lambda: len(seen) >= 2,
        )  # fmt: skip
    assert seen == [1, 2]


def test_an_image_model_and_bad_sizes_are_refused_clearly(manager: ModelManager) -> None:
    with manager.lease("image") as model, pytest.raises(ValueError, match="is an image model"):
        generate_video(model, "x", "", frames=4, width=32, height=32, steps=1, guidance=1, seed=0)
    with manager.lease("video") as model:
        with pytest.raises(ValueError, match="multiples of 8"):
            generate_video(
                model, "x", "", frames=4, width=30, height=32, steps=1, guidance=1, seed=0
            )
        with pytest.raises(ValueError, match="frames must be between"):
            generate_video(
                model, "x", "", frames=0, width=32, height=32, steps=1, guidance=1, seed=0
            )


def test_a_text_to_video_workflow_saves_an_mp4(tmp_path: Path, manager: ModelManager) -> None:
    import av
    from reactivex.subject import Subject

    from components.workflow.protocol import JobFinished, JobProgress, SubmitJob
    from drivers.diffusion.nodes import DiffusionNodes
    from drivers.nodes.runner import NodeRunner
    from tests.engine_harness import Recorder, engine

    prompt = {
        "1": {
            "class_type": "TextToVideo",
            "inputs": {
                "model": "video", "prompt": "a fox running", "negative_prompt": "",
                "frames": 8, "fps": 8.0, "width": 64, "height": 64, "steps": 3,
                "guidance": 7.0, "seed": 3,
            },
        },
        "2": {
            "class_type": "SaveVideo",
            "inputs": {"video": ["1", 0], "filename_prefix": "clip", "format": "mp4",
                       "codec": "h264"},
        },
    }  # fmt: skip
    outcome: list[object] = []

    async def scenario(jobs: Subject[object], events: Recorder, runner: NodeRunner) -> None:
        jobs.on_next(SubmitJob(job_id="v", prompt=prompt))
        outcome.append(await events.outcome("v", timeout=120))
        steps = [e for e in events.seen if isinstance(e, JobProgress) and e.node_id == "1"]
        assert [(e.node_value, e.node_max) for e in steps] == [(1, 3), (2, 3), (3, 3)]

    engine(tmp_path, scenario, extra=DiffusionNodes(manager, preview_every=1).implementations())
    (done,) = outcome
    assert isinstance(done, JobFinished), done
    (video,) = next(iter(done.outputs["2"].values()))
    path = tmp_path / "output" / video["subfolder"] / video["filename"]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 64, 64)
    assert frames == 8
