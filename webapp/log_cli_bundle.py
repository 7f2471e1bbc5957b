"""`rxgen log export` and `rxgen log import`: a session and the files it refers to, as one file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rxcore.log import LogReader
from rxcore.log_bundle import export_bundle, import_bundle

from .log_cli_format import size
from .log_refs import referenced_files


def data_dir_of(log: Path) -> Path | None:
    """The data dir a server log lives in (``DATA_DIR/logs/<session>``), if it is one."""
    parent = log.resolve().parent
    return parent.parent if parent.name == "logs" else None


def export(args: argparse.Namespace, out: TextIO) -> int:
    data_dir = args.data_dir or data_dir_of(args.log)
    with LogReader(args.log) as reader:
        files = referenced_files(reader, data_dir) if data_dir is not None else {}
        created = reader.header.created
    manifest = export_bundle(args.log, args.out, files, created=created)
    total = sum(int(m["size"]) for m in manifest.members.values())
    where = f" from {data_dir}" if data_dir is not None else " (no data dir: log only)"
    out.write(
        f"exported {args.log.name} to {args.out}: {len(manifest.members) - len(files)} log "
        f"file(s) and {len(files)} referenced file(s){where}, {size(total)}\n"
    )
    return 0


def import_(args: argparse.Namespace, out: TextIO) -> int:
    done = import_bundle(args.bundle, args.data_dir)
    out.write(
        f"imported {done.log.name} into {done.log}: {len(done.written)} file(s) written, "
        f"{len(done.already_there)} already there\n"
    )
    return 0
