"""`rxgen models ...`: list, inspect, add, remove and create models in the models directory.

The models directory is ``--models-dir``, else ``$RXGEN_MODELS_DIR``, else ``./models``. Exit
status: 0 on success, 1 when the operation failed (the reason is printed on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from drivers.diffusion.models import (
    ModelInfo,
    ModelStore,
    ModelStoreError,
    default_models_dir,
)

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Add the ``models`` command to the ``rxgen`` parser's subcommands."""
    models = subparsers.add_parser(
        "models",
        help="list, inspect, add and remove models",
        description="Manage the models directory (--models-dir, $RXGEN_MODELS_DIR or ./models).",
    )
    _models_dir_option(models, default=None)
    models.set_defaults(handler=run)
    verbs = models.add_subparsers(dest="models_command", required=True, metavar="COMMAND")

    listing = verbs.add_parser("list", help="list the models")
    listing.add_argument("--json", action="store_true", help="one JSON object per model")
    _models_dir_option(listing)

    info = verbs.add_parser("info", help="everything about one model (computes its sha256)")
    info.add_argument("name", help="the model's name, as `rxgen models list` shows it")
    info.add_argument("--json", action="store_true", help="print JSON")
    _models_dir_option(info)

    add = verbs.add_parser(
        "add",
        help="add a local diffusers directory or checkpoint file, or download a hub id",
        description=(
            "SOURCE is a diffusers directory (with model_index.json), a checkpoint file "
            "(.safetensors; pickle formats are added but refused at load time), a Hugging Face "
            "hub id org/name[@revision] (a diffusers pipeline) or org/name/file.safetensors."
        ),
    )
    add.add_argument("source", help="directory, file or hub id")
    add.add_argument("--name", help="name in the store (default: the source's own name)")
    add.add_argument("--link", action="store_true", help="symlink a local source, do not copy")
    add.add_argument(
        "--config",
        help="for a checkpoint file: the diffusers directory (or store name) with its config",
    )
    _models_dir_option(add)

    remove = verbs.add_parser("remove", help="delete a model (a linked one: only the link)")
    remove.add_argument("name", help="the model's name")
    _models_dir_option(remove)

    tiny = verbs.add_parser(
        "create-tiny",
        help="build a tiny random-weight model for tests and trying rxgen (produces noise)",
    )
    tiny.add_argument("name", help="name of the new model directory")
    tiny.add_argument(
        "--kind",
        choices=["sd", "t2v"],
        default="sd",
        help="sd: Stable Diffusion 1.x (default); t2v: ModelScope text-to-video",
    )
    tiny.add_argument("--seed", type=int, default=0, help="weight seed (default 0)")
    tiny.add_argument(
        "--single-file",
        action="store_true",
        help="also write checkpoints/NAME.safetensors in the original single-file layout",
    )
    _models_dir_option(tiny)


def _models_dir_option(parser: argparse.ArgumentParser, **kwargs: Any) -> None:
    # Accepted before and after the verb; SUPPRESS keeps a verb's unset option from hiding
    # the value given to `models` itself.
    parser.add_argument(
        "--models-dir",
        default=kwargs.get("default", argparse.SUPPRESS),
        metavar="DIR",
        help="the models directory (default: $RXGEN_MODELS_DIR or ./models)",
    )


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a parsed ``rxgen models ...`` command; returns the exit status."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    store = ModelStore(default_models_dir(getattr(args, "models_dir", None)))
    verbs = {
        "list": _list,
        "info": _info,
        "add": _add,
        "remove": _remove,
        "create-tiny": _create_tiny,
    }
    try:
        return verbs[args.models_command](store, args, out)
    except (ModelStoreError, FileExistsError, OSError) as exc:
        print(f"rxgen models {args.models_command}: {exc}", file=err)
        return 1


def _list(store: ModelStore, args: argparse.Namespace, out: TextIO) -> int:
    infos = store.list()
    if args.json:
        for info in infos:
            out.write(json.dumps(info.to_dict()) + "\n")
        return 0
    if not infos:
        out.write(
            f"no models in {store.root}\n"
            "add one with `rxgen models add SOURCE`, or try rxgen without a download: "
            "`rxgen models create-tiny tiny-sd` (random weights, produces noise)\n"
        )
        return 0
    rows = [("NAME", "KIND", "SIZE", "STATUS")]
    rows += [(i.name, i.kind, _size(i.size), _status(i)) for i in infos]
    widths = [max(len(row[c]) for row in rows) for c in range(3)]
    out.write(f"models in {store.root}\n")
    for row in rows:
        cells = [row[c].ljust(widths[c]) for c in range(3)]
        out.write("  ".join([*cells, row[3]]).rstrip() + "\n")
    return 0


def _info(store: ModelStore, args: argparse.Namespace, out: TextIO) -> int:
    info = store.info(args.name)
    if args.json:
        out.write(json.dumps(info.to_dict(), indent=2) + "\n")
        return 0
    fields: list[tuple[str, object]] = [
        ("name", info.name),
        ("kind", info.kind),
        ("path", info.path),
        ("linked to", info.linked_to),
        ("size", f"{_size(info.size)} ({info.size} bytes)"),
        ("pipeline", info.pipeline_class),
        ("components", ", ".join(info.components) or None),
        ("labels", ", ".join(info.labels) or None),
        ("warning", info.warning),
        ("status", "loadable" if info.loadable else f"refused: {info.refused}"),
        ("sha256", info.sha256),
        ("config", info.config),
    ]
    for label, value in fields:
        if value is not None:
            out.write(f"{label + ':':12} {value}\n")
    shown = info.files[:40]
    out.write(f"{'files:':12} {len(info.files)}\n")
    for name in shown:
        out.write(f"  {name}\n")
    if len(info.files) > len(shown):
        out.write(f"  ... and {len(info.files) - len(shown)} more\n")
    return 0


def _add(store: ModelStore, args: argparse.Namespace, out: TextIO) -> int:
    info = store.add(args.source, args.name, link=args.link, config=args.config)
    how = "linked" if args.link else "added"
    out.write(f"{how} {info.name} ({info.kind}, {_size(info.size)}) at {info.path}\n")
    if info.refused:
        out.write(f"warning: it will not be loaded: {info.refused}\n")
    if info.warning:
        out.write(f"warning: {info.warning}\n")
    return 0


def _remove(store: ModelStore, args: argparse.Namespace, out: TextIO) -> int:
    info = store.remove(args.name)
    what = f"the link to {info.linked_to}" if info.linked_to else _size(info.size)
    out.write(f"removed {info.name} ({what}) from {info.path.parent}\n")
    return 0


def _create_tiny(store: ModelStore, args: argparse.Namespace, out: TextIO) -> int:
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    from drivers.diffusion.tiny import TINY_WARNING, create_tiny_sd, save_single_file

    # Progress bars for saving a 7 MB model are noise in a command's output.
    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    target = store.new_model_path(args.name)
    checkpoint_name = args.name.rsplit("/", 1)[-1] + ".safetensors"
    checkpoint = (
        store.new_model_path(checkpoint_name, checkpoint=True) if args.single_file else None
    )
    if args.kind == "t2v" and args.single_file:
        raise ModelStoreError("--single-file is for --kind sd; text-to-video models are folders")
    started = time.perf_counter()
    if args.kind == "t2v":
        from drivers.diffusion.tiny_t2v import create_tiny_t2v

        path = create_tiny_t2v(target, seed=args.seed)
    else:
        path = create_tiny_sd(target, seed=args.seed)
    out.write(f"created {args.name} at {path} ({time.perf_counter() - started:.1f} s)\n")
    if checkpoint is not None:
        save_single_file(path, checkpoint)
        store.set_config(checkpoint_name, args.name)
        out.write(f"created {checkpoint_name} at {checkpoint} (its config: {args.name})\n")
    out.write(f"WARNING: {TINY_WARNING}. Use it to test rxgen, not to make pictures.\n")
    return 0


def _status(info: ModelInfo) -> str:
    if info.refused:
        return f"refused: {info.refused.split(':')[0]}"
    return ", ".join(info.labels) or "ok"


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
