"""The `rxgen` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import debug_cli, log_cli, models_cli, reproduce_cli, run_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rxgen",
        description="rxgen: a reactive dataflow engine for generative image and video workflows",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8188, help="port (default 8188)")
    serve.add_argument("--data-dir", type=Path, default=Path("data"), help="default ./data")
    serve.add_argument(
        "--database-url", help="e.g. postgresql+asyncpg://user@host/db (default SQLite)"
    )
    serve.add_argument("--models-dir", type=Path, help="default $RXGEN_MODELS_DIR or ./models")
    serve.add_argument(
        "--allowed-host",
        dest="allowed_hosts",
        action="append",
        default=[],
        help="a host name clients use to reach the server (repeatable)",
    )
    serve.add_argument("--no-auth", action="store_true", help="no login (loopback binds only)")
    serve.add_argument("--no-log", action="store_true", help="do not record the session log")
    serve.add_argument(
        "--log-max-mb", type=_positive(int), default=1024, metavar="MB",
        help="session logs, all sessions together: the oldest are deleted at start-up and as "
        "the live one grows, which also drops its own oldest segments past it (default 1024)",
    )  # fmt: skip
    serve.add_argument(
        "--log-max-days", type=_positive(float), default=14.0, metavar="DAYS",
        help="session logs older than this are deleted (default 14)",
    )  # fmt: skip
    serve.add_argument(
        "--recovery",
        choices=["requeue", "fail"],
        default="requeue",
        help="after a crash, re-queue or fail the jobs that were running (default requeue)",
    )
    serve.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    serve.add_argument(
        "--log-format", choices=["json", "text"], default="json", help="server log lines"
    )
    serve.set_defaults(handler=_serve)

    log_cli.add_parser(commands)
    run_cli.add_parser(commands)
    models_cli.add_parser(commands)
    reproduce_cli.add_parser(commands)
    debug_cli.add_parser(commands)
    return parser


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
        return value

    parse.__name__ = getattr(kind, "__name__", "number")  # argparse names it in its errors
    return parse


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .server import create_app
    from .services import ServerConfig

    loopback = args.host in ("127.0.0.1", "localhost", "::1")
    if args.no_auth and not loopback:
        print(
            f"rxgen serve: --no-auth is refused when binding {args.host}: anyone who can reach "
            "it could run jobs; bind 127.0.0.1 or drop --no-auth",
            file=sys.stderr,
        )
        return 2
    config = ServerConfig(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        database_url=args.database_url,
        models_dir=args.models_dir,
        no_auth=args.no_auth,
        allowed_hosts=tuple(args.allowed_hosts),
        recovery=args.recovery,
        log=not args.no_log,
        log_max_mb=args.log_max_mb,
        log_max_days=args.log_max_days,
        device=args.device,
    )
    from .request_log import configure

    configure(json_lines=args.log_format == "json")
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        log_config=None,  # our handlers (configure) stay in place
        access_log=False,  # rxgen writes its own access lines, with request ids
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "log":
        return log_cli.run(args)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
