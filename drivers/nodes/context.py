"""What a node implementation may use beyond its inputs, and what it may return.

A node implementation is ``fn(inputs) -> outputs``; one that needs more declares a second
parameter and receives a :class:`NodeContext`: progress reporting, cancellation, where to write
files, and the prompt it runs in. It returns the tuple of its outputs, or a :class:`NodeResult`
when it also shows something in the UI (the images a SaveImage wrote); ComfyUI's
``{"ui": ..., "result": (...)}`` dict is accepted too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.workflow.protocol import NodeProgress
from rxcore.driver import Context, RequestCancelled


@dataclass(frozen=True)
class NodeResult:
    """Outputs plus ``ui``: plain data the UI shows, as ComfyUI's history does
    (``{"images": [{"filename", "subfolder", "type"}]}``)."""

    outputs: tuple[Any, ...] = ()
    ui: Mapping[str, Any] = field(default_factory=dict)


# The dict is ComfyUI's ``{"ui": ..., "result": (...)}``, accepted so ported nodes run unchanged.
NodeOutput = tuple[Any, ...] | NodeResult | dict[str, Any]
# Either ``fn(inputs)`` or ``fn(inputs, ctx: NodeContext)``; the runner tells them apart once,
# by signature (see accepts_context).
NodeImplementation = Callable[..., NodeOutput]


@dataclass(frozen=True, kw_only=True)
class NodeContext:
    """The running node's view of its request.

    Built by the node runner for each run; tests and scripts may build one directly, without
    ``channel``: progress then goes nowhere and the node is never cancelled.
    """

    job_id: str
    node_id: str
    node_type: str = ""
    request_id: str = ""
    output_dir: Path | None = None
    temp_dir: Path | None = None
    input_dir: Path | None = None  # where LoadImage reads uploaded images
    prompt: Mapping[str, Any] | None = None  # the job's API prompt, when the runner knows it
    # More PNG text chunks for saved images, e.g. the editor ``workflow`` the job came from.
    extra_pnginfo: Mapping[str, Any] | None = None
    channel: Context[Any] | None = field(default=None, repr=False, compare=False)

    def progress(self, value: int, max: int, preview: str | None = None) -> None:
        """Report ``value`` of ``max`` steps done (safe from the worker thread)."""
        if self.channel is None:
            return
        self.channel.emit(
            NodeProgress(
                request_id=self.request_id,
                job_id=self.job_id,
                node_id=self.node_id,
                value=int(value),
                max=int(max),
                preview=preview,
            )
        )

    @property
    def cancelled(self) -> bool:
        """True once the request was cancelled; long loops check it between steps."""
        return self.channel is not None and self.channel.cancelled

    def raise_if_cancelled(self) -> None:
        """Raise :class:`rxcore.RequestCancelled` if the request was cancelled."""
        if self.channel is not None:
            self.channel.raise_if_cancelled()


def accepts_context(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` can be called as ``fn(inputs, ctx)`` (else it is called as ``fn(inputs)``).

    A callable whose signature cannot be read (some builtins and C extensions) is taken to
    want inputs only, the form every implementation must support.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    try:
        signature.bind(None, None)
    except TypeError:
        return False
    return True


__all__ = [
    "NodeContext",
    "NodeImplementation",
    "NodeOutput",
    "NodeResult",
    "RequestCancelled",
    "accepts_context",
]
