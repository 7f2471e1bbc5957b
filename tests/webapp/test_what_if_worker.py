"""What-ifs run in a child process at a lower priority: the same report as in the server's
own process, and a child that dies is reported and replaced."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from rxcore.what_if import Bounds, Edit
from tests.webapp.test_debug_cli import make_log
from webapp import what_if_worker
from webapp.what_if_worker import WhatIfCrashed, run_in_child, run_what_if


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return make_log(tmp_path / "20260101-000000")


@pytest.fixture(autouse=True)
def fresh_worker() -> Iterator[None]:
    what_if_worker.shutdown()
    yield None
    what_if_worker.shutdown()


def child_pids() -> list[int]:
    pool = what_if_worker._pool
    assert pool is not None
    return list(pool._processes)  # the executor's own record of its workers


def test_the_child_answers_what_the_server_process_would(log: Path) -> None:
    edit, bounds = Edit(12, "drop"), Bounds(max_seqs=100)
    here = run_what_if(log, edit, bounds)
    there = asyncio.run(run_in_child(log, edit, bounds))
    for report in (here, there):
        report.pop("elapsed_s")
    assert there == here and there["differences"]
    (pid,) = child_pids()
    assert pid != os.getpid()
    if hasattr(os, "getpriority"):
        assert os.getpriority(os.PRIO_PROCESS, pid) >= os.getpriority(os.PRIO_PROCESS, 0)


def test_a_child_that_dies_is_reported_and_the_next_what_if_gets_a_new_one(log: Path) -> None:
    edit, bounds = Edit(3, "drop"), Bounds()
    first = asyncio.run(run_in_child(log, edit, bounds))
    (pid,) = child_pids()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WhatIfCrashed, match="the server is unaffected"):
        asyncio.run(run_in_child(log, edit, bounds))
    again = asyncio.run(run_in_child(log, edit, bounds))
    assert again["differences"] == first["differences"]
    assert child_pids() != [pid]


def test_errors_in_the_child_come_back_as_they_are(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        asyncio.run(run_in_child(tmp_path / "missing", Edit(1, "drop"), Bounds()))
