"""`rxgen run WORKFLOW.json`: run one workflow without a server, with progress, and outputs."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

import reactivex
from reactivex.subject import Subject

from components.app import main as builtin_main
from components.app import make_app
from components.nodes import default_catalog
from components.workflow.formats import WorkflowFormatError, apply_overrides, to_api_prompt
from components.workflow.protocol import (
    CancelJob,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobRejected,
    SubmitJob,
)
from rxcore import run
from rxcore.source import Source

JOB_ID = "run"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a workflow file without a server",
        description="Run a workflow (ComfyUI API or editor format, or an rxgen document) and "
        "write its outputs. Exit status: 0 finished, 1 failed or cancelled, 2 invalid.",
    )
    parser.add_argument("workflow", type=Path, help="the workflow JSON file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NODE.INPUT=VALUE",
        help="override an input, e.g. --set 3.seed=42 (VALUE is JSON, or else a string)",
    )
    parser.add_argument("--out", type=Path, default=Path("output"), help="output directory")
    parser.add_argument(
        "--output",
        dest="outputs",
        action="append",
        default=[],
        metavar="NODE",
        help="compute this node (repeatable); default: every output node",
    )
    parser.add_argument("--log", type=Path, help="record the session log to this new directory")
    parser.add_argument(
        "--cache-mb", type=int, default=2048, help="node output cache budget (default 2048 MB)"
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="the models directory (default: $RXGEN_MODELS_DIR or ./models)",
    )
    parser.add_argument(
        "--input-dir", type=Path, default=Path("input"), help="where LoadImage reads images"
    )
    parser.add_argument(
        "--device", default=None, help="cuda, mps or cpu (default: the best one available)"
    )
    parser.add_argument(
        "--previews", type=int, default=0, metavar="N", help="write a preview every N steps"
    )
    parser.set_defaults(handler=run_command)


class JobSource:
    """A driver whose source emits the job to run (and a cancel on Ctrl-C)."""

    def __init__(self, job: SubmitJob) -> None:
        self.job = job
        self.control: Subject[Any] = Subject()

    def __call__(self, sink: reactivex.Observable[Any]) -> Source:
        return Source(reactivex.concat(reactivex.of(self.job), self.control))

    def dispose(self) -> None:
        self.control.on_completed()


def run_command(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    # Node implementations import torch: only when a workflow is actually run.
    from drivers.nodes.plugins import build_registry, discover_plugins
    from drivers.nodes.registry import registry

    try:
        data = json.loads(args.workflow.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        print(f"rxgen run: cannot read {args.workflow}: {exc}", file=sys.stderr)
        return 2
    scan = discover_plugins()
    plugins = build_registry(default_catalog(), registry(_model_nodes(args)), scan)
    for error in plugins.errors:
        print(f"rxgen run: plugin skipped: {error}", file=sys.stderr)
    try:
        prompt = apply_overrides(to_api_prompt(data, plugins.catalog), args.overrides)
    except (WorkflowFormatError, ValueError) as exc:
        print(f"rxgen run: {args.workflow}: {exc}", file=sys.stderr)
        return 2
    job = SubmitJob(job_id=JOB_ID, prompt=prompt, outputs=tuple(args.outputs))
    return asyncio.run(_run(job, plugins, args, out))


def _model_nodes(args: argparse.Namespace) -> Any:
    from drivers.diffusion.manager import ModelManager
    from drivers.diffusion.models import ModelStore, default_models_dir
    from drivers.diffusion.nodes import DiffusionNodes
    from drivers.diffusion.previews import PreviewRenderer, find_taesd

    store = ModelStore(default_models_dir(args.models_dir))
    # The manager only reads the disk when a model node runs.
    manager = ModelManager(store, device=args.device)
    previews = None
    if args.previews:
        taesd = find_taesd(store.root, manager.device)
        previews = PreviewRenderer(every_n=args.previews, taesd=taesd)
    nodes = DiffusionNodes(manager, preview_every=args.previews, previews=previews)
    return nodes.implementations()


async def _run(job: SubmitJob, plugins: Any, args: argparse.Namespace, out: TextIO) -> int:
    from drivers.entropy import entropy_driver
    from drivers.nodes.runner import NodeRunner
    from drivers.nodes.store import OutputStore
    from drivers.terminal import JobReporter

    args.out.mkdir(parents=True, exist_ok=True)
    reporter = JobReporter(job_id=job.job_id)
    jobs = JobSource(job)
    runner = NodeRunner(
        plugins.implementations,
        OutputStore(max_bytes=args.cache_mb << 20),
        output_dir=args.out,
        temp_dir=args.out / "temp",
        input_dir=args.input_dir,
        prompts=lambda job_id: job.prompt if job_id == job.job_id else None,
    )
    builtin = len(plugins.catalog) == len(default_catalog())
    main = builtin_main if builtin else make_app(plugins.catalog)
    drivers = {"jobs": jobs, "nodes": runner, "entropy": entropy_driver(), "events": reporter}
    runtime = run(main, drivers, log=args.log)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, jobs.control.on_next, CancelJob(job_id=job.job_id))
    try:
        assert reporter.outcome is not None
        outcome = await reporter.outcome
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        runtime.dispose()
    if isinstance(outcome, JobRejected):
        print(f"rxgen run: {args.workflow} was rejected; nothing ran", file=sys.stderr)
        return 2
    outputs = outcome.outputs if isinstance(outcome, JobFinished | JobFailed | JobCancelled) else {}
    for node_id, ui in sorted(outputs.items()):
        for image in ui.get("images", []):
            base = args.out / "temp" if image.get("type") == "temp" else args.out
            path = base / image.get("subfolder", "") / image["filename"]
            out.write(f"{node_id}: {path}\n")
    if isinstance(outcome, JobFailed):
        for node_id, message in outcome.errors.items():
            print(f"node {node_id}: {message}", file=sys.stderr)
    return 0 if isinstance(outcome, JobFinished) else 1
