"""examples/embed_counter.py runs as a script, records a log, and the log verifies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def rxgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webapp.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_counter_example_prints_counts_and_its_log_replays(tmp_path: Path) -> None:
    log = tmp_path / "counter.log"
    done = subprocess.run(
        [sys.executable, "examples/embed_counter.py", str(log)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"count = {n}" for n in range(1, 6)]

    verified = rxgen("log", "verify", str(log))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert (
        "OK: replay matches the recording (5 events, 6 sink emissions, 6 states)" in verified.stdout
    )

    state = rxgen("log", "state", str(log), "--at", "3", "--json")
    assert state.returncode == 0, state.stderr
    assert json.loads(state.stdout) == 3

    shown = rxgen("log", "show", str(log))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "main=" in lines[0] and "embed_counter.py:main" in lines[0]
    assert any("event" in line and "Tick(" in line for line in lines)
    assert any("sink" in line and "Print(text='count = 5')" in line for line in lines)
    assert any("state" in line and "increment" in line for line in lines)
