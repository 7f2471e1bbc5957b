"""`rxgen log ls|show|state|diff|verify` on recorded logs: readable output, clear errors, exit
codes (export/import and a real server's log: tests/webapp/test_reproduce.py)."""

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
    code, out = cli("state", str(log), "--at", "2", "--path", "/by_key", "--json")
    assert code == 0 and json.loads(out) == {"a": 3, "b": 4}


def test_state_out_of_range_and_missing_log_are_clear(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("state", str(log), "--at", "99")[0] == 2
    assert "outside this log (seq 0..3)" in capsys.readouterr().err
    assert cli("show", str(tmp_path / "nowhere"))[0] == 2
    assert "nowhere" in capsys.readouterr().err


def test_state_is_a_tree_by_default(log: Path) -> None:
    code, out = cli("state", str(log), "--at", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "state at #3"
    assert lines[1:] == ["├─ sum: 13", "├─ by_key", "│  ├─ a: 9", "│  └─ b: 4", "└─ last: 6"]
    code, out = cli("state", str(log), "--at", "3", "--depth", "1")
    assert "│  └─ ... (2 more; raise --depth)" in out.splitlines()
    code, _ = cli("state", str(log), "--at", "3", "--path", "/nope")
    assert code == 2


def test_diff_lists_changes_by_path_without_colour_off_a_terminal(log: Path) -> None:
    code, out = cli("diff", str(log), "1", "3")
    assert code == 0
    assert out.splitlines() == [
        "state from #1 to #3: 4 change(s)",
        "~ /sum: 3 -> 13",
        "~ /by_key/a: 3 -> 9",
        "+ /by_key/b = 4",
        "~ /last: 3 -> 6",
    ]
    assert "\033[" not in out
    code, out = cli("diff", str(log), "1", "3", "--color", "always", "--path", "/sum")
    assert out.splitlines()[1] == "\033[33m~ /sum: 3 -> 13\033[0m"
    code, out = cli("diff", str(log), "1", "3", "--json")
    assert json.loads(out.splitlines()[0]) == {
        "op": "changed",
        "path": "/sum",
        "before": 3,
        "after": 13,
    }


def test_ls_lists_sessions(log: Path) -> None:
    code, out = cli("ls", str(log.parent))
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:3] == ["SESSION", "SIZE", "EVENTS"]
    assert row.split()[0] == "s" and row.split()[3] == "3" and "0..3" in row
    code, out = cli("ls", str(log), "--json")
    assert json.loads(out)["events"] == 3


def test_show_pages_with_a_cursor(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, everything = cli("show", str(log))
    code, first = cli("show", str(log), "--limit", "4")
    assert code == 0 and first.splitlines() == everything.splitlines()[:5]
    hint = capsys.readouterr().err
    cursor = hint.split("--cursor ")[1].split()[0]
    _, rest = cli("show", str(log), "--cursor", cursor)
    assert first.splitlines() + rest.splitlines()[1:] == everything.splitlines()
    _, shifted = cli("show", str(log), "--offset", "2", "--limit", "1")
    assert shifted.splitlines()[1] == everything.splitlines()[3]


def test_verify_names_the_event_the_sink_and_both_values(log: Path) -> None:
    code, out = cli("verify", str(log), "--main", "tests.rxcore.replay_app:impure_app")
    assert code == 1
    assert out.startswith("DIVERGED")
    lines = {line.split(":")[0]: line for line in out.splitlines()}
    assert "the event" in lines and "expected" in lines and "actual" in lines
