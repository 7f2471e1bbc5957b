"""`rxgen log show|verify|state` on recorded logs: readable output, clear errors, exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.rxcore.replay_app import Input
from tests.rxcore.test_replay import record
from webapp.cli import build_parser
from webapp.log_cli import run


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run(build_parser().parse_args(["log", *argv]), out)
    return code, out.getvalue()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    events = [Input(key="a", n=3), Input(key="b", n=4, token="sekrit"), Input(key="a", n=6)]
    record(tmp_path / "s", events)
    return tmp_path / "s"


def test_show_lists_events_sinks_and_states(log: Path) -> None:
    code, out = cli("show", str(log))
    assert code == 0
    lines = out.splitlines()
    assert "main=tests.rxcore.replay_app:main" in lines[0]
    assert lines[1].split()[:3] == ["<-", "#0", "state"]
    assert any(line.startswith("#1") and "Input(key='a', n=3" in line for line in lines)
    assert "sekrit" not in out and "<redacted>" in out


def test_show_filters_and_json(log: Path) -> None:
    code, out = cli("show", str(log), "--kind", "event", "--from", "2", "--json")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["kind"], r["seq"]) for r in records] == [("event", 2), ("event", 3)]
    code, out = cli("show", str(log), "--driver", "output", "--limit", "1")
    assert len(out.splitlines()) == 2 and "sink" in out.splitlines()[1]


def test_verify_and_state(log: Path) -> None:
    assert cli("verify", str(log))[0] == 0
    code, out = cli("state", str(log), "--at", "2", "--path", "/by_key")
    assert code == 0 and json.loads(out) == {"a": 3, "b": 4}


def test_state_out_of_range_and_missing_log_are_clear(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("state", str(log), "--at", "99")[0] == 2
    assert "outside this log (seq 0..3)" in capsys.readouterr().err
    assert cli("show", str(tmp_path / "nowhere"))[0] == 2
    assert "nowhere" in capsys.readouterr().err
