"""`rxgen debug LOGFILE`: open the web debugger on one recorded log, without its server.

LOGFILE is a log directory (``DATA_DIR/logs/<session>``, or one an embedded program wrote
with ``run(main, drivers, log=PATH)``) or a bundle made by ``rxgen log export``, which is
unpacked into a temporary folder for as long as the debugger runs.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from rxcore.log import LogError, LogReader
from rxcore.log_bundle import BundleError, import_bundle
from rxcore.log_sessions import is_log_dir
from rxcore.segments import LogCorrupted

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def add_parser(subparsers: Any) -> None:
    debug = subparsers.add_parser(
        "debug", help="open the web debugger on one log (read-only, loopback only)"
    )
    debug.add_argument("log", type=Path, metavar="LOGFILE", help="a log directory or a bundle")
    debug.add_argument("--port", type=int, default=8189, help="port (default 8189; 0: any free)")
    debug.add_argument(
        "--host", default="127.0.0.1", help="a loopback address (127.0.0.1, ::1 or localhost)"
    )
    debug.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.host not in LOOPBACK:
        print(
            f"rxgen debug: refusing to listen on {args.host}: the debugger has no login and "
            "shows every user's events, so it binds loopback only (127.0.0.1, ::1, localhost); "
            "to look from another machine, use an SSH tunnel",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="rxgen-debug-") as scratch:
        try:
            log_dir = _open(args.log, Path(scratch))
            with LogReader(log_dir) as reader:
                events, main = reader.last_seq or 0, reader.header.main
        except (OSError, LogError, LogCorrupted, BundleError) as error:
            print(f"rxgen debug: cannot open {args.log}: {error}", file=sys.stderr)
            return 1
        try:
            listener = _listen(args.host, args.port)
        except OSError as error:
            print(
                f"rxgen debug: cannot listen on {args.host}:{args.port}: {error}; "
                "pick another --port (0: any free one)",
                file=sys.stderr,
            )
            return 1
        port = listener.getsockname()[1]
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(
            f"rxgen debug: {log_dir.name} ({events} events, main {main or 'not recorded'}) at "
            f"http://{host}:{port}/  (read-only; Ctrl-C to stop)",
            flush=True,
        )
        return _serve(log_dir, listener)


def _open(path: Path, scratch: Path) -> Path:
    if path.is_dir():
        if not is_log_dir(path):
            raise LogError(f"{path} holds no log segments (*.seg); give one session's folder")
        return path
    if path.is_file():
        return import_bundle(path, scratch).log
    raise FileNotFoundError(f"{path} does not exist")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(128)
    return listener


def _serve(log_dir: Path, listener: socket.socket) -> int:
    import uvicorn

    from .debug_app import create_debug_app

    config = uvicorn.Config(create_debug_app(log_dir), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listener])
    return 0
