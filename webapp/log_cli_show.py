"""`rxgen log ls` and `rxgen log show`: the sessions; a session's records, filtered and paged."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TextIO

from rxcore.log import Kind, LogReader
from rxcore.log_attribution import Row
from rxcore.log_query import KINDS_BY_NAME, Cursor, Query, QueryError, page, rows
from rxcore.log_sessions import list_sessions
from rxcore.log_view import row_json

from .log_cli_format import entry_line, json_default, size, when


def ls(args: argparse.Namespace, out: TextIO) -> int:
    sessions = list_sessions(args.root)
    if args.json:
        for s in sessions:
            record = {**s.__dict__, "path": str(s.path)}
            out.write(json.dumps(record, sort_keys=True) + "\n")
        return 0
    if not sessions:
        out.write(f"no recorded sessions under {args.root}\n")
        return 0
    out.write(f"{'SESSION':<24} {'SIZE':>10} {'EVENTS':>9} {'SEQ':>15}  FIRST -> LAST\n")
    for s in sessions:
        if s.error is not None:
            out.write(f"{s.name:<24} {size(s.size_bytes):>10}  unreadable: {s.error}\n")
            continue
        seqs = f"{s.first_seq}..{s.last_seq}"
        out.write(
            f"{s.name:<24} {size(s.size_bytes):>10} {s.events:>9} {seqs:>15}  "
            f"{when(s.first_time)} -> {when(s.last_time)}\n"
        )
    return 0


def parse_time(text: str | None, flag: str) -> float | None:
    """Epoch seconds, or ISO 8601 (local time when it names no zone)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise QueryError(
            f"{flag} {text!r} is not a time: give ISO 8601 (2026-12-01T09:30:00) or epoch seconds"
        ) from None


def query_from(args: argparse.Namespace) -> Query:
    kinds = (
        frozenset(KINDS_BY_NAME[k] for k in args.kind)
        if args.kind
        else frozenset({Kind.EVENT, Kind.SINK, Kind.STATE})
    )
    return Query(
        kinds=kinds,
        drivers=frozenset(args.driver) if args.driver else None,
        jobs=frozenset(args.job) if args.job else None,
        users=frozenset(args.user) if args.user else None,
        start=args.start,
        end=args.end,
        since=parse_time(args.since, "--since"),
        until=parse_time(args.until, "--until"),
    )


def show(args: argparse.Namespace, out: TextIO) -> int:
    query = query_from(args)
    with LogReader(args.log) as reader:
        if not args.json:
            header = reader.header
            out.write(
                f"log {reader.path.name}  main={header.main or '?'}  "
                f"drivers={', '.join(header.drivers) or '-'}  "
                f"seq {reader.first_seq}..{reader.last_seq}\n"
            )
        if args.limit or args.cursor or args.offset:
            cursor = Cursor.parse(args.cursor) if args.cursor else None
            limit = args.limit or sys.maxsize
            found = page(reader, query, cursor=cursor, offset=args.offset, limit=limit)
            selected: Iterable[Row] = found.rows
            if found.next is not None:
                print(f"more records: add --cursor {found.next} for the next page", file=sys.stderr)
        else:
            selected = rows(reader, query)
        for row in selected:
            if args.json:
                out.write(json.dumps(row_json(row), default=json_default, sort_keys=True) + "\n")
            else:
                out.write(entry_line(row.entry) + "\n")
    return 0
