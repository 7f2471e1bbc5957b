"""`rxgen reproduce JOB_ID`: run one recorded job again, in this process, and compare its files.

The job's prompt, the seeds drawn for it and the identities of the models it loaded come from
the session log; the engine runs it as `rxgen run` does (no server), writing to a scratch
folder, and every output file is compared byte for byte with the one the job wrote. A model
whose content changed since (its identity differs) makes a comparison meaningless: that is
reported, and nothing is run. Same machine and same thread count are needed for equal bytes.

Exit status: 0 every output matches, 1 an output differs, 2 usage or job not found, 3 the
outputs cannot be compared (a model changed or is gone, a recorded file is missing, the job
did not finish).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from .reproduce_log import JobNotFound, JobRecord, find_job

MATCH, DIFFER, USAGE, CANNOT = 0, 1, 2, 3


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="re-run a recorded job and check its outputs are byte-identical",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("job_id", metavar="JOB_ID", help="the job (prompt) id")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="default ./data")
    parser.add_argument("--log", type=Path, help="the session log (default: search data/logs)")
    parser.add_argument("--models-dir", type=Path, help="default $RXGEN_MODELS_DIR or ./models")
    parser.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    parser.add_argument(
        "--threads", type=int, help="torch threads (the recording's, for equal bytes)"
    )
    parser.add_argument("--keep", type=Path, help="write the reproduced files here (kept)")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    try:
        job = find_job(args.data_dir, args.job_id, args.log)
    except (JobNotFound, FileNotFoundError) as exc:
        print(f"rxgen reproduce: {exc}", file=sys.stderr)
        return USAGE
    if job.outcome != "JobFinished":
        print(f"rxgen reproduce: job {job.job_id} ended {job.outcome}; only finished jobs "
              "are compared", file=sys.stderr)  # fmt: skip
        return CANNOT
    changed = changed_models(job, args.models_dir)
    if changed:
        for line in changed:
            out.write(line + "\n")
        out.write("not reproduced: the outputs would differ for that reason alone\n")
        return CANNOT
    missing = [p for p in recorded_files(job, args.data_dir).values() if not p.is_file()]
    if missing:
        out.write(f"cannot compare: the job's recorded output {missing[0]} is gone\n")
        return CANNOT
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return _reproduce(job, args, args.keep, out)
    with tempfile.TemporaryDirectory(prefix="rxgen-reproduce-") as scratch:
        return _reproduce(job, args, Path(scratch), out)


def used_models(job: JobRecord) -> dict[str, str]:
    """The recorded identities of the models this job's prompt names."""
    names = {
        value
        for node in job.prompt.values()
        for value in (node.get("inputs") or {}).values()
        if isinstance(value, str)
    }
    return {name: model_id for name, model_id in job.models.items() if name in names}


def changed_models(job: JobRecord, models_dir: Path | None) -> list[str]:
    """A line per model whose identity now differs from the recorded one (or that is gone)."""
    from drivers.diffusion.models import ModelStore, ModelStoreError, default_models_dir

    store = ModelStore(default_models_dir(models_dir))
    lines = []
    for name, recorded in sorted(used_models(job).items()):
        try:
            info = store.resolve(name)
            now = f"{info.name}@{store.content_id(info)}"
        except (ModelStoreError, OSError) as exc:
            lines.append(f"model {name!r} is no longer loadable from {store.root}: {exc}")
            continue
        if now != recorded:
            lines.append(
                f"model {name!r} changed since the job ran: recorded {recorded}, now {now}"
            )
    return lines


def recorded_files(job: JobRecord, data_dir: Path) -> dict[tuple[str, int], Path]:
    return _files(job.results, {"output": data_dir / "output", "temp": data_dir / "temp"})


def _files(
    results: dict[str, dict[str, Any]], roots: dict[str, Path]
) -> dict[tuple[str, int], Path]:
    """(node id, n) -> path of the n-th file a node's ui lists (images, videos, ...)."""
    files: dict[tuple[str, int], Path] = {}
    for node_id, ui in sorted(results.items()):
        n = 0
        for items in ui.values():
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict) and "filename" in item:
                    root = roots.get(str(item.get("type", "output")), roots["output"])
                    files[(node_id, n)] = root / str(item.get("subfolder") or "") / item["filename"]
                    n += 1
    return files


def _reproduce(job: JobRecord, args: argparse.Namespace, scratch: Path, out: TextIO) -> int:
    outcome = asyncio.run(_run(job, args, scratch))
    if type(outcome).__name__ != "JobFinished":
        out.write(f"the reproduction ended {type(outcome).__name__}: {outcome}\n")
        return DIFFER
    recorded = recorded_files(job, args.data_dir)
    again = _files(outcome.outputs, {"output": scratch / "output", "temp": scratch / "temp"})
    threads = _threads()
    out.write(
        f"job {job.job_id} from {job.log.name} (seq {job.submitted_seq}), {threads} thread(s)\n"
    )
    for name, model_id in sorted(used_models(job).items()):
        out.write(f"model {name}: {model_id} (unchanged)\n")
    if not used_models(job) and job.models == {} and _names_models(job):
        out.write("note: the log records no model identity for this job (an older log)\n")
    worst = MATCH
    for key in sorted(set(recorded) | set(again)):
        a, b = recorded.get(key), again.get(key)
        if a is None or b is None:
            side = "reproduction" if a is None else "recording"
            out.write(f"node {key[0]} file {key[1]}: only in the {side}\n")
            worst = DIFFER
        elif a.read_bytes() == b.read_bytes():
            out.write(f"node {key[0]}: {a.name} matches ({a.stat().st_size} bytes)\n")
        else:
            out.write(f"node {key[0]}: {a.name} DIFFERS from the reproduction ({b})\n")
            worst = DIFFER
    out.write("reproduced: every output matches\n" if worst == MATCH else "NOT reproduced\n")
    return worst


def _names_models(job: JobRecord) -> bool:
    return any(node.get("class_type") == "CheckpointLoaderSimple" for node in job.prompt.values())


def png_text(paths: Iterable[Path]) -> tuple[bool, dict[str, Any]]:
    """Whether the recorded PNGs carry the prompt, and their other JSON text chunks.

    The extra chunks (ComfyUI's ``extra_pnginfo``: the editor workflow) are not in the log,
    so they are taken from the recorded file itself; the pixels are still recomputed.
    """
    from PIL import Image

    for path in paths:
        if path.suffix.lower() == ".png":
            with Image.open(path) as image:
                info = {str(k): v for k, v in image.info.items() if isinstance(v, str)}
            extra = {}
            for key, text in info.items():
                if key != "prompt":
                    try:
                        extra[key] = json.loads(text)
                    except ValueError:
                        continue  # not one rxgen wrote: the comparison will show it
            return "prompt" in info, extra
    return True, {}


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())


async def _run(job: JobRecord, args: argparse.Namespace, scratch: Path) -> Any:
    from components.app import main
    from components.workflow.protocol import SubmitJob
    from drivers.diffusion.manager import ModelManager
    from drivers.diffusion.models import ModelStore, default_models_dir
    from drivers.diffusion.nodes import DiffusionNodes
    from drivers.nodes.registry import registry
    from drivers.nodes.runner import NodeRunner
    from drivers.nodes.store import OutputStore
    from drivers.terminal import JobReporter
    from rxcore import run
    from rxcore.driver import AsyncDriver, Context
    from rxcore.effects import Draw, Drawn

    from .run_cli import JobSource

    async def draw(request: Draw, ctx: Context[Draw]) -> Drawn:
        if request.request_id not in job.seeds:
            raise LookupError(f"the log has no seed drawn for {request.request_id}")
        return Drawn(request_id=request.request_id, value=job.seeds[request.request_id])

    embeds_prompt, extra = png_text(recorded_files(job, args.data_dir).values())
    manager = ModelManager(ModelStore(default_models_dir(args.models_dir)), device=args.device)
    runner = NodeRunner(
        registry(DiffusionNodes(manager).implementations()),
        OutputStore(max_bytes=2048 << 20),
        output_dir=scratch / "output",
        temp_dir=scratch / "temp",
        input_dir=args.data_dir / "input",
        # The files must be written as the recording's were: with the prompt inside only if
        # the server that ran the job put it there.
        prompts=(lambda job_id: job.prompt if job_id == job.job_id else None)
        if embeds_prompt
        else None,
        extra_pnginfo=(lambda job_id: extra if job_id == job.job_id else None) if extra else None,
    )
    (scratch / "output").mkdir(parents=True, exist_ok=True)
    submit = SubmitJob(job_id=job.job_id, prompt=job.prompt, outputs=job.outputs)
    reporter = JobReporter(sys.stderr, job_id=job.job_id)
    drivers = {
        "jobs": JobSource(submit),
        "nodes": runner,
        "entropy": AsyncDriver(draw, name="entropy"),
        "events": reporter,
    }
    runtime = run(main, drivers)
    try:
        assert reporter.outcome is not None
        return await reporter.outcome
    finally:
        runtime.dispose()
