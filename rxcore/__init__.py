"""rxcore: a Cycle.js-style runtime on RxPY, with a recorded, replayable event/state log.

The application is a pure function ``main(sources) -> sinks``; drivers perform every effect.
"""

from .driver import (
    AsyncDriver,
    Cancel,
    Cancelled,
    Context,
    Driver,
    Failed,
    RequestCancelled,
    RequestDriver,
    ThreadDriver,
    async_driver,
    loop_scheduler,
    thread_driver,
)
from .isolate import isolate
from .message import Message, Request, sensitive
from .run import Runtime, RuntimeFault, run, run_until_done
from .source import Source
from .state import Lens, Reducer, StateSource, collection, prop_lens, reducer, with_state

__all__ = [
    "AsyncDriver",
    "Cancel",
    "Cancelled",
    "Context",
    "Driver",
    "Failed",
    "Lens",
    "Message",
    "Reducer",
    "Request",
    "RequestCancelled",
    "RequestDriver",
    "Runtime",
    "RuntimeFault",
    "Source",
    "StateSource",
    "ThreadDriver",
    "async_driver",
    "collection",
    "isolate",
    "loop_scheduler",
    "prop_lens",
    "reducer",
    "run",
    "run_until_done",
    "sensitive",
    "thread_driver",
    "with_state",
]
