"""`rxgen log ...`: list, read, query, diff, verify, export and import recorded session logs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from rxcore.log import LogError
from rxcore.log_bundle import BundleError
from rxcore.log_diff import PointerError
from rxcore.log_query import KINDS_BY_NAME, QueryError
from rxcore.segments import LogCorrupted

from . import log_cli_bundle, log_cli_show, log_cli_state


def add_parser(subparsers: Any) -> None:
    log = subparsers.add_parser("log", help="inspect, verify and query recorded session logs")
    verbs = log.add_subparsers(dest="log_command", required=True, metavar="COMMAND")

    ls = verbs.add_parser("ls", help="the recorded sessions: size, span, event count")
    ls.add_argument(
        "root", nargs="?", type=Path, default=Path("data"),
        help="a data dir, its logs/ folder, or one log (default ./data)",
    )  # fmt: skip
    ls.add_argument("--json", action="store_true", help="one JSON object per session")
    ls.set_defaults(handler=log_cli_show.ls)

    show = verbs.add_parser("show", help="a log's records, one per line, filtered and paged")
    show.add_argument("log", help="the log directory")
    show.add_argument("--from", dest="start", type=int, metavar="SEQ", help="first seq to show")
    show.add_argument("--to", dest="end", type=int, metavar="SEQ", help="last seq to show")
    show.add_argument("--driver", action="append", help="only events and sinks of this driver")
    show.add_argument(
        "--kind", choices=sorted(KINDS_BY_NAME), action="append", help="only these record kinds"
    )
    show.add_argument("--job", action="append", help="only records of this job id")
    show.add_argument("--user", action="append", help="only records of this user's jobs")
    show.add_argument("--since", help="from this time (ISO 8601 or epoch seconds)")
    show.add_argument("--until", help="up to this time (ISO 8601 or epoch seconds)")
    show.add_argument("--limit", type=int, default=0, help="at most N records (0: all)")
    show.add_argument("--offset", type=int, default=0, help="skip the first N matches")
    show.add_argument("--cursor", help="continue from where a page stopped (SEQ.SKIP)")
    show.add_argument("--json", action="store_true", help="one JSON object per line")
    show.set_defaults(handler=log_cli_show.show)

    check = verbs.add_parser("verify", help="replay a log and check it reproduces the recording")
    check.add_argument("log", help="the log directory")
    check.add_argument(
        "--main",
        help="main to replay (module:attr or file.py:attr); default: the one the log names",
    )
    check.set_defaults(handler=log_cli_state.verify_log)

    state = verbs.add_parser("state", help="the application state after a given event")
    state.add_argument("log", help="the log directory")
    state.add_argument("--at", type=int, required=True, metavar="SEQ", help="event seq")
    state.add_argument("--path", default="", help="a JSON pointer into the state, e.g. /core")
    state.add_argument("--depth", type=int, help="tree levels to show (default all)")
    state.add_argument("--json", action="store_true", help="JSON instead of a tree")
    state.set_defaults(handler=log_cli_state.state)

    diff = verbs.add_parser("diff", help="what changed in the state between two seqs")
    diff.add_argument("log", help="the log directory")
    diff.add_argument("seq_a", type=int, metavar="SEQ_A")
    diff.add_argument("seq_b", type=int, metavar="SEQ_B")
    diff.add_argument("--path", default="", help="compare only the part at this JSON pointer")
    diff.add_argument("--json", action="store_true", help="one JSON object per change")
    diff.add_argument(
        "--color", choices=["auto", "always", "never"], default="auto",
        help="colour the changes (auto: only on a terminal)",
    )  # fmt: skip
    diff.set_defaults(handler=log_cli_state.diff)

    export = verbs.add_parser("export", help="one file with the log and the files it refers to")
    export.add_argument("log", type=Path, help="the log directory")
    export.add_argument("out", type=Path, metavar="OUT.rxlog", help="the bundle to write")
    export.add_argument(
        "--data-dir", type=Path,
        help="where the referenced files are (default: the data dir holding the log)",
    )  # fmt: skip
    export.set_defaults(handler=log_cli_bundle.export)

    imp = verbs.add_parser("import", help="restore an exported bundle into a data dir")
    imp.add_argument("bundle", type=Path, metavar="FILE", help="the .rxlog bundle")
    imp.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="the data dir to restore into")
    imp.set_defaults(handler=log_cli_bundle.import_)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    try:
        handler: Any = args.handler
        code: int = handler(args, out)
        return code
    except BrokenPipeError:
        # The reader went away (`| head`): not an error; keep Python from reporting one at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (
        LogError, LogCorrupted, FileNotFoundError, BundleError, QueryError, PointerError,
    ) as exc:  # fmt: skip
        print(f"rxgen log {args.log_command}: {exc}", file=sys.stderr)
        return 2
