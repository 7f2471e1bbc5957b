"""A user's view of a recorded server state leaves out what describes other users."""

from __future__ import annotations

from components.server_state_view import private_state


def test_other_users_lanes_turns_and_the_shared_cache_are_left_out() -> None:
    core = {
        "queue": {
            "lanes": {"1": {"j1": {}}, "2": {}},
            "heads": {"1": "j1", "2": "j9"},
            "served": {"1": 3, "2": 4},
            "running": {"j1": {}},
        },
        "executor": {"jobs": {"j1": {}}, "cache": {"abc": {"ui": {"images": ["x.png"]}}}},
        "prompts": {"j1": {}},
    }
    seen = private_state({"core": core})["core"]
    assert seen["queue"] == {"lanes": {"1": {"j1": {}}}, "running": {"j1": {}}}
    assert seen["executor"] == {"jobs": {"j1": {}}}
    assert seen["prompts"] == {"j1": {}}
    assert private_state(None) is None
