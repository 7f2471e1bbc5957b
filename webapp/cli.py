"""The `rxgen` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import log_cli, models_cli, run_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rxgen",
        description="rxgen: a reactive dataflow engine for generative image and video workflows",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8188, help="port (default 8188)")
    serve.set_defaults(handler=_serve)

    log_cli.add_parser(commands)
    run_cli.add_parser(commands)
    models_cli.add_parser(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .server import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "log":
        return log_cli.run(args)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
