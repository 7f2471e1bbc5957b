"""`rxgen log state`, `diff` and `verify`: states as trees, their differences, and replay."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from rxcore.log import Kind, LogReader
from rxcore.log_view import LogView, change_json
from rxcore.replay import verify

from .log_cli_format import change_line, entry_line, json_default, leaf, tree


def state(args: argparse.Namespace, out: TextIO) -> int:
    with LogView(args.log) as view:
        value = view.state_at(args.at, args.path)
    if args.json:
        out.write(json.dumps(value, indent=2, sort_keys=True, default=json_default) + "\n")
    else:
        name = args.path or f"state at #{args.at}"
        for line in tree(value, name, depth=args.depth):
            out.write(line + "\n")
    return 0


def diff(args: argparse.Namespace, out: TextIO) -> int:
    with LogView(args.log) as view:
        found = view.diff(args.seq_a, args.seq_b, args.path)
    if args.json:
        for change in found:
            out.write(json.dumps(change_json(change), sort_keys=True, default=json_default) + "\n")
        return 0
    colour = args.color == "always" or (args.color == "auto" and out.isatty())
    where = f" at {args.path}" if args.path else ""
    out.write(f"state{where} from #{args.seq_a} to #{args.seq_b}: {len(found)} change(s)\n")
    for change in found:
        out.write(change_line(change, colour=colour) + "\n")
    return 0


def verify_log(args: argparse.Namespace, out: TextIO) -> int:
    report = verify(args.log, args.main)
    out.write(str(report) + "\n")
    divergence = report.divergence
    if divergence is None:
        return 0
    with LogReader(args.log) as reader:
        event = next(
            (e for e in reader.entries(divergence.cause, divergence.cause, decode=False)
             if e.kind == Kind.EVENT),
            None,
        )  # fmt: skip
    if event is not None:
        out.write(f"the event:  {entry_line(event).strip()}\n")
    else:
        out.write("the event:  (start-up: no event yet)\n")
    out.write(f"the sink:   {divergence.what} {divergence.name!r} (record {divergence.index})\n")
    out.write(f"expected:   {leaf(divergence.recorded)}\n")
    out.write(f"actual:     {leaf(divergence.replayed)}\n")
    return 1
