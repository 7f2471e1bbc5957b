"""`rxgen serve --log-max-mb --log-max-days`: older session logs pruned at start-up."""

from __future__ import annotations

from pathlib import Path

from tests.rxcore.test_log_retention import session, size
from tests.webapp.server_process import Server


def test_serve_prunes_old_sessions_at_start_up(tmp_path: Path) -> None:
    logs = tmp_path / "data" / "logs"
    logs.mkdir(parents=True)
    session(logs, "20250101-000000", 10, age_days=30)  # past the age
    session(logs, "20260101-000000", 9000, age_days=3)  # over the size, with the newer one
    kept = session(logs, "20260102-000000", 50, age_days=2)
    assert size(logs / "20260101-000000") > 1 << 20
    server = Server(tmp_path / "data", tmp_path / "models", extra=(
        "--log-max-mb", "1", "--log-max-days", "7",
    )).start()  # fmt: skip
    try:
        listing = server.login().get("/api/logs").json()
    finally:
        server.stop()
    names = [item["name"] for item in listing["items"]]
    assert names == [kept.name, listing["live"]] and listing["live"] != kept.name
    assert sorted(p.name for p in logs.iterdir()) == sorted(names)
