"""The replay test app, declared resumable from a recorded state (for the what-if tests)."""

from __future__ import annotations

from rxcore.state import with_state
from rxcore.what_if import resumable, state_resume

from .replay_app import app

main = resumable(with_state(app), state_resume(app))
