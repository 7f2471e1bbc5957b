"""Running what-ifs in a child process, at a lower CPU priority than the server.

A replay is pure Python: on a thread it would hold the server's GIL for up to its time budget,
and every request and WebSocket frame would wait on it. In a child process it runs beside the
server (on another core where there is one, and behind it where there is not), and a replay
that crashes the interpreter takes only the child with it. The child is started on the first
what-if and kept for the next ones; ``shutdown()`` ends it with the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Final

from rxcore.log import LogReader
from rxcore.what_if import Bounds, Edit, what_if
from webapp.what_if_report import report_json
from webapp.what_if_server import resume_for

NICENESS: Final = 10

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


class WhatIfCrashed(RuntimeError):
    """The child process running the what-if died (killed, or out of memory)."""


def run_what_if(path: Path, edit: Edit, bounds: Bounds) -> dict[str, Any]:
    """The what-if's report as JSON-ready data; runs in the child."""
    with LogReader(path) as reader:
        report = what_if(reader, edit, resume=resume_for(reader.header.main), bounds=bounds)
    return report_json(report)


async def run_in_child(path: Path, edit: Edit, bounds: Bounds) -> dict[str, Any]:
    pool = _started()
    try:
        return await asyncio.get_running_loop().run_in_executor(
            pool, run_what_if, path, edit, bounds
        )
    except BrokenProcessPool:
        _forget(pool)
        raise WhatIfCrashed(
            "the process running the what-if died (out of memory?); the server is unaffected"
        ) from None


def shutdown() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _started() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # spawn, not fork: the server holds threads (and maybe CUDA) a fork would copy.
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(1, mp_context=context, initializer=_lower_priority)
        return _pool


def _forget(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def _lower_priority() -> None:
    with contextlib.suppress(OSError):  # not permitted here: run at the server's priority
        os.nice(NICENESS)
