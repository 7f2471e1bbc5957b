"""What-ifs on the server's own sessions: its main, started from a recorded state.

The server's main keeps its state in the core transition's fold (the state channel carries a
copy of it), so :func:`rxcore.what_if.state_resume` cannot restart it; this builds the same
main (``components.app.make_server_app``) with the core started from the recorded state.
"""

from __future__ import annotations

from typing import Any

from components.app import make_server_app
from components.nodes import default_catalog
from components.server_core import CoreState
from rxcore.run import Main
from rxcore.what_if import WhatIfError
from rxcore.what_if_resume import Resume

SERVER_MAIN = "components.app:server_main"


def resume_server(state: Any) -> Main:
    core_state = state.get("core") if isinstance(state, dict) else None
    if not isinstance(core_state, CoreState):
        raise WhatIfError(
            f"the recorded state has no server core (found {type(core_state).__name__} under "
            "'core'): this log was not recorded by `rxgen serve`"
        )
    return make_server_app(default_catalog(), initial=core_state)


def resume_for(main_ref: str | None) -> Resume | None:
    """How to start the log's main from a snapshot, when it is the server's."""
    return resume_server if main_ref == SERVER_MAIN else None
