"""`rxgen run` end to end, as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def rxgen(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "webapp.cli", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def inverted_red(width: int = 24, height: int = 16) -> dict[str, Any]:
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": width, "height": height, "batch_size": 2, "color": 0xFF0000},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "t"}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
    }


def write(path: Path, workflow: dict[str, Any]) -> Path:
    path.write_text(json.dumps(workflow))
    return path


def listed(stdout: str) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {}
    for line in stdout.splitlines():
        node, _, path = line.partition(": ")
        files.setdefault(node, []).append(Path(path))
    return files


def test_runs_a_workflow_and_writes_its_images(tmp_path: Path) -> None:
    flow = write(tmp_path / "flow.json", inverted_red())
    result = rxgen("run", str(flow), "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    files = listed(result.stdout)
    assert sorted(files) == ["3", "4"]
    assert len(files["3"]) == 2 and len(files["4"]) == 2
    for path in files["3"]:
        assert path.parent == Path("out")
        picture = Image.open(tmp_path / path)
        assert picture.size == (24, 16)
        assert np.asarray(picture.convert("RGB"))[0, 0].tolist() == [0, 255, 255]
        # The workflow travels inside the PNG, as ComfyUI's do, so the image can be reopened.
        assert json.loads(picture.info["prompt"])["2"]["class_type"] == "ImageInvert"
    for path in files["4"]:
        assert path.parent == Path("out/temp")
        assert np.asarray(Image.open(tmp_path / path).convert("RGB"))[0, 0].tolist() == [255, 0, 0]
    assert "job run finished" in result.stderr


def test_set_overrides_an_input_and_output_picks_nodes(tmp_path: Path) -> None:
    flow = write(tmp_path / "flow.json", inverted_red())
    result = rxgen(
        "run", str(flow), "--set", "1.width=8", "--set", "1.batch_size=1", "--output", "3",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = listed(result.stdout)
    assert list(files) == ["3"] and len(files["3"]) == 1
    assert Image.open(tmp_path / files["3"][0]).size == (8, 16)


def test_an_invalid_workflow_exits_2_naming_every_problem(tmp_path: Path) -> None:
    workflow = inverted_red(width=0)
    workflow["5"] = {"class_type": "NoSuchNode", "inputs": {}}
    flow = write(tmp_path / "flow.json", workflow)
    result = rxgen("run", str(flow), cwd=tmp_path)
    assert result.returncode == 2
    assert "2 problem(s) in 2 node(s)" in result.stderr
    assert "node 1 (EmptyImage), input 'width': Value 0 smaller than min of 1" in result.stderr
    assert "node 5 (NoSuchNode)" in result.stderr
    assert not (tmp_path / "output").exists() or not any((tmp_path / "output").iterdir())


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "cannot read"), ('{"1": {"inputs": {}}}', "class_type")],
)
def test_unreadable_files_exit_2_with_the_reason(tmp_path: Path, content: str, reason: str) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text(content)
    result = rxgen("run", str(flow), cwd=tmp_path)
    assert result.returncode == 2
    assert reason in result.stderr and "flow.json" in result.stderr


def test_a_bad_override_exits_2(tmp_path: Path) -> None:
    flow = write(tmp_path / "flow.json", inverted_red())
    result = rxgen("run", str(flow), "--set", "9.width=3", cwd=tmp_path)
    assert result.returncode == 2
    assert "9" in result.stderr


def test_a_failing_node_exits_1_and_says_why(tmp_path: Path) -> None:
    workflow = inverted_red()
    workflow["6"] = {"class_type": "IntMath", "inputs": {"a": 64, "b": 0, "operation": "div"}}
    workflow["1"]["inputs"]["width"] = ["6", 0]
    flow = write(tmp_path / "flow.json", workflow)
    result = rxgen("run", str(flow), cwd=tmp_path)
    assert result.returncode == 1
    assert "div by zero" in result.stderr and "node 6" in result.stderr


def test_a_recorded_run_replays_identically(tmp_path: Path) -> None:
    flow = write(tmp_path / "flow.json", inverted_red())
    result = rxgen("run", str(flow), "--log", "session", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    verified = rxgen("log", "verify", "session", cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = rxgen("log", "show", "session", "--kind", "event", "--json", cwd=tmp_path)
    kinds = [json.loads(line)["name"] for line in shown.stdout.splitlines()]
    assert kinds[0] == "jobs" and "nodes" in kinds


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The same path as tests/drivers/diffusion's fixture: built once per session.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from drivers.diffusion.tiny import ensure_tiny_sd

    return ensure_tiny_sd(tmp_path_factory.getbasetemp() / "rxgen-tiny-sd")


def test_generates_an_image_with_a_model_from_the_models_directory(
    tmp_path: Path, tiny_sd_dir: Path
) -> None:
    added = rxgen("models", "add", str(tiny_sd_dir), "--name", "tiny", "--link",
                  "--models-dir", "models", cwd=tmp_path)  # fmt: skip
    assert added.returncode == 0, added.stderr
    workflow = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "4": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 64, "height": 48, "batch_size": 1},
        },
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "seed": 5,
                "steps": 3,
                "cfg": 6.0,
                "sampler_name": "dpmpp_2m",
                "scheduler": "karras",
                "denoise": 1.0,
            },
        },
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "fox"}},
    }
    flow = write(tmp_path / "flow.json", workflow)
    env_models = ("--models-dir", "models", "--device", "cpu")
    result = rxgen("run", str(flow), *env_models, "--previews", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (path,) = listed(result.stdout)["7"]
    assert Image.open(tmp_path / path).size == (64, 48)
    assert list((tmp_path / "output/temp/previews").glob("*.jpeg"))
    again = rxgen("run", str(flow), *env_models, "--out", "again", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / path).read_bytes() == (tmp_path / "again" / path.name).read_bytes()
    missing = rxgen("run", str(flow), "--models-dir", "elsewhere", cwd=tmp_path)
    assert missing.returncode == 1 and "tiny" in missing.stderr
