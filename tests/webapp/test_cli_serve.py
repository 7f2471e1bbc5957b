"""`rxgen --help` and `rxgen serve` answering /healthz from a real uvicorn process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def test_help_lists_the_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "webapp.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
        timeout=60,
    )
    assert done.returncode == 0
    assert "serve" in done.stdout and "log" in done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_answers_healthz() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start in 60 s"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
    finally:
        server.terminate()
        server.wait(timeout=30)
