"""`rxgen log ...`: read, verify and inspect recorded session logs from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from rxcore.log import Entry, Kind, LogError, LogReader
from rxcore.message import TYPE_KEY
from rxcore.replay import verify
from rxcore.segments import LogCorrupted

_KIND_NAMES = {
    Kind.HEADER: "header",
    Kind.EVENT: "event",
    Kind.SINK: "sink",
    Kind.STATE: "state",
    Kind.SNAPSHOT: "snapshot",
}
_BY_NAME = {v: k for k, v in _KIND_NAMES.items()}


def add_parser(subparsers: Any) -> None:
    log = subparsers.add_parser("log", help="inspect, verify and query recorded session logs")
    verbs = log.add_subparsers(dest="log_command", required=True, metavar="COMMAND")

    show = verbs.add_parser("show", help="list a log's records, one per line")
    show.add_argument("log", help="the log directory")
    show.add_argument("--from", dest="start", type=int, help="first seq to show")
    show.add_argument("--to", dest="end", type=int, help="last seq to show")
    show.add_argument("--driver", help="only events and sinks of this driver")
    show.add_argument(
        "--kind", choices=sorted(_BY_NAME), action="append", help="only these record kinds"
    )
    show.add_argument("--limit", type=int, default=0, help="stop after N records (0: all)")
    show.add_argument("--json", action="store_true", help="one JSON object per line")
    show.set_defaults(handler=_show)

    check = verbs.add_parser("verify", help="replay a log and check it reproduces the recording")
    check.add_argument("log", help="the log directory")
    check.add_argument(
        "--main",
        help="main to replay (module:attr or file.py:attr); default: the one the log names",
    )
    check.set_defaults(handler=_verify)

    state = verbs.add_parser("state", help="the application state after a given event")
    state.add_argument("log", help="the log directory")
    state.add_argument("--at", type=int, required=True, metavar="SEQ", help="event seq")
    state.add_argument("--path", default="", help="a JSON pointer into the state, e.g. /jobs/0")
    state.set_defaults(handler=_state)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    try:
        handler: Any = args.handler
        code: int = handler(args, out)
        return code
    except (LogError, LogCorrupted, FileNotFoundError) as exc:
        print(f"rxgen log: {exc}", file=sys.stderr)
        return 2


def _show(args: argparse.Namespace, out: TextIO) -> int:
    kinds = {_BY_NAME[k] for k in args.kind} if args.kind else None
    with LogReader(args.log) as reader:
        if not args.json:
            header = reader.header
            out.write(
                f"log {reader.path}  main={header.main or '?'}  "
                f"drivers={', '.join(header.drivers) or '-'}  "
                f"seq {reader.first_seq}..{reader.last_seq}\n"
            )
        shown = 0
        for entry in reader.entries(args.start, args.end, decode=False):
            if kinds is not None and entry.kind not in kinds:
                continue
            if kinds is None and entry.kind == Kind.HEADER:
                continue
            if args.driver and (
                entry.kind not in (Kind.EVENT, Kind.SINK) or entry.name != args.driver
            ):
                continue
            out.write((_as_json(entry) if args.json else _as_line(entry)) + "\n")
            shown += 1
            if args.limit and shown >= args.limit:
                break
    return 0


def _as_json(entry: Entry) -> str:
    record = {"kind": _KIND_NAMES[entry.kind], "seq": entry.seq, "name": entry.name}
    record["value"] = entry.value
    if entry.change:
        record["change"] = entry.change
    return json.dumps(record, default=_json_default, sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"bytes": len(value)}
    raise TypeError(type(value).__name__)


def _as_line(entry: Entry) -> str:
    kind = _KIND_NAMES[entry.kind]
    if entry.kind == Kind.EVENT:
        text = f"#{entry.seq:<8} event     {entry.name:<12} {_pretty(entry.value)}"
    elif entry.kind == Kind.SINK:
        text = f" {'<- #' + str(entry.seq):<8} sink      {entry.name:<12} {_pretty(entry.value)}"
    elif entry.kind == Kind.STATE:
        ops = ", ".join(_pretty_op(op) for op in entry.value)
        text = f" {'<- #' + str(entry.seq):<8} state     {entry.name:<12} {ops}"
    else:
        text = f" {'@ #' + str(entry.seq):<8} {kind:<9} change {entry.change}"
    return text if len(text) <= 240 else text[:237] + "..."


def _pretty(value: Any) -> str:
    if isinstance(value, dict) and TYPE_KEY in value:
        name = str(value[TYPE_KEY]).rpartition(":")[2].rpartition(".")[2]
        fields = ", ".join(
            f"{k}={_pretty(v)}"
            for k, v in value.items()
            if k not in (TYPE_KEY, "scope") or (k == "scope" and v)
        )
        return f"{name}({fields})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_pretty(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_pretty(v) for v in value) + "]"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return repr(value)


def _pretty_op(op: dict[str, Any]) -> str:
    path = op.get("path") or "/"
    if op["op"] == "remove":
        return f"remove {path}"
    if op["op"] in ("move", "copy"):
        return f"{op['op']} {op.get('from')} -> {path}"
    return f"{path} = {_pretty(op.get('value'))}"


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    report = verify(args.log, args.main)
    out.write(str(report) + "\n")
    return 0 if report.ok else 1


def _state(args: argparse.Namespace, out: TextIO) -> int:
    with LogReader(args.log) as reader:
        last = reader.last_seq or 0
        if args.at < 0 or args.at > last:
            raise LogError(f"--at {args.at} is outside this log (seq 0..{last})")
        state = reader.plain_state_at(args.at)
    for part in [p for p in args.path.split("/")[1:]] if args.path else []:
        key = part.replace("~1", "/").replace("~0", "~")
        if isinstance(state, dict) and key in state:
            state = state[key]
        elif isinstance(state, list) and key.isdigit() and int(key) < len(state):
            state = state[int(key)]
        else:
            raise LogError(f"--path {args.path}: no {key!r} in the state at seq {args.at}")
    out.write(json.dumps(state, indent=2, sort_keys=True, default=_json_default) + "\n")
    return 0
