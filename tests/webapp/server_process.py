"""A real `rxgen serve` process on a free port, for the web tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "admin-password-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    data_dir: Path
    models_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    extra: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> Server:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RXGEN_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
        }
        command = [
            sys.executable, "-m", "webapp.cli", "serve", "--port", str(self.port),
            "--data-dir", str(self.data_dir), "--models-dir", str(self.models_dir),
            "--device", "cpu", *self.extra,
        ]  # fmt: skip
        log = open(self.data_dir.parent / f"server-{self.port}.log", "a")  # noqa: SIM115
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.log_text()}")
            time.sleep(0.2)

    def log_text(self) -> str:
        path = self.data_dir.parent / f"server-{self.port}.log"
        return path.read_text() if path.exists() else ""

    def kill(self) -> None:
        """``kill -9``: no shutdown handlers run."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def login(self, name: str = "admin", password: str = ADMIN_PASSWORD) -> httpx.Client:
        client = self.client()
        answer = client.post("/api/auth/login", json={"username": name, "password": password})
        answer.raise_for_status()
        client.headers["X-CSRF-Token"] = client.get("/api/auth/me").json()["csrf_token"]
        return client

    def token_client(self, session: httpx.Client, scopes: list[str] | None = None) -> httpx.Client:
        made = session.post("/api/tokens", json={"name": "t", "scopes": scopes or ["write"]})
        made.raise_for_status()
        return self.client(headers={"Authorization": f"Bearer {made.json()['token']}"})


def ws_events(frame: str | bytes) -> list[dict[str, Any]]:
    """The event messages in one ``/api/ws`` JSON frame: one ``event``, a batch of them
    (``events``), or none (hello, heartbeat)."""
    import json

    message: dict[str, Any] = json.loads(frame)
    if message.get("type") == "events":
        items: list[dict[str, Any]] = message["items"]
        return items
    return [message] if message.get("type") == "event" else []
