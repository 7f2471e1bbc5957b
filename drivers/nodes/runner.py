"""The node runner driver: runs nodes for the executor and keeps their outputs in a store.

For each :class:`RunNode` it looks up the node type's implementation, resolves the inputs (an
:class:`OutputRef` becomes the stored output it names), runs the implementation on a worker
thread, stores the outputs under the request's cache key pinned to its job, and answers
:class:`NodeDone` (then :class:`Evicted`, if storing pushed other entries out). If an input is no
longer stored it answers :class:`InputsMissing` instead, so the executor recomputes it. Errors
answer rxcore's ``Failed``, naming the node type; a ``Cancel`` reaches the implementation
through its :class:`NodeContext`. :class:`ReleaseJob` unpins what a job pinned.
"""

from __future__ import annotations

import difflib
import logging
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.workflow.protocol import (
    Evicted,
    InputsMissing,
    NodeDone,
    OutputRef,
    ReleaseJob,
    RunNode,
)
from drivers.nodes.context import NodeContext, NodeImplementation, NodeResult, accepts_context
from drivers.nodes.light_ops import SCALAR_OPS, NodeInputError
from drivers.nodes.store import OutputStore
from rxcore.driver import Context, Failed, RequestCancelled, ThreadDriver, with_scope
from rxcore.message import pack

logger = logging.getLogger("drivers.nodes.runner")

PromptLookup = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True)
class _Answer:
    """A node's answer plus the keys storing its outputs evicted, emitted after it."""

    done: NodeDone
    evicted: tuple[str, ...]


class NodeRunner(ThreadDriver[RunNode]):
    """Runs :class:`RunNode` requests with ``implementations`` (node type -> function).

    ``output_dir`` is where SaveImage writes (it fails without one); ``temp_dir`` where
    PreviewImage writes (default: ``temp`` beside ``output_dir``); ``input_dir`` where LoadImage
    reads. ``prompts`` maps a job id to its API prompt, which output nodes embed in their
    files; it is called on worker threads.
    ``max_workers`` nodes run at once. Node types in ``inline`` (default: the built-in scalar
    nodes) run on the event loop: their work is cheaper than the hop to a worker thread.
    """

    def __init__(
        self,
        implementations: Mapping[str, NodeImplementation],
        store: OutputStore,
        *,
        max_workers: int = 1,
        output_dir: str | Path | None = None,
        temp_dir: str | Path | None = None,
        input_dir: str | Path | None = None,
        prompts: PromptLookup | None = None,
        extra_pnginfo: PromptLookup | None = None,
        inline: Collection[str] | None = None,
        name: str = "nodes",
    ) -> None:
        inline_types = frozenset(SCALAR_OPS if inline is None else inline)
        super().__init__(
            self._run,
            name=name,
            max_workers=max_workers,
            inline=lambda request: getattr(request, "node_type", None) in inline_types,
        )
        self.store = store
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.temp_dir = Path(temp_dir) if temp_dir is not None else None
        self.input_dir = Path(input_dir) if input_dir is not None else None
        self._prompts = prompts
        self._extra_pnginfo = extra_pnginfo
        # Signatures are read once here: inspecting on every call would cost more than many
        # light nodes take to run.
        self._calls: dict[str, tuple[NodeImplementation, bool]] = {
            node_type: (fn, accepts_context(fn)) for node_type, fn in implementations.items()
        }
        # Jobs released while some of their nodes still ran. Their late outputs are stored
        # unpinned: no further ReleaseJob would ever come to unpin them.
        self._jobs_lock = threading.Lock()
        self._released: set[str] = set()

    # -- messages in -------------------------------------------------------------------------
    def _on_request(self, request: Any) -> None:
        # ReleaseJob is a plain message, not a Request: the base class would refuse it.
        if isinstance(request, ReleaseJob):
            self._release(request)
            return
        if isinstance(request, RunNode):
            with self._jobs_lock:
                # A job id seen again after its release is a new job with the same id.
                self._released.discard(request.job_id)
        super()._on_request(request)

    def _release(self, message: ReleaseJob) -> None:
        with self._jobs_lock:
            evicted = self.store.release(message.job_id)
            if self._in_flight(message.job_id):
                self._released.add(message.job_id)
        self._emit_evicted(evicted, message.scope)

    # -- answers out (on the loop) -----------------------------------------------------------
    def _finish(self, ctx: Context[RunNode], event: Any) -> None:
        evicted: tuple[str, ...] = ()
        if isinstance(event, _Answer):
            event, evicted = event.done, event.evicted
        super()._finish(ctx, event)
        job_id = getattr(ctx.request, "job_id", None)
        if job_id is not None:
            with self._jobs_lock:
                if job_id in self._released and not self._in_flight(job_id):
                    self._released.discard(job_id)
        self._emit_evicted(evicted, ctx.request.scope)

    def _emit_evicted(self, keys: list[str] | tuple[str, ...], scope: tuple[str, ...]) -> None:
        if keys:
            self._emit(with_scope(Evicted(keys=tuple(keys)), scope))

    def _pin(self, job_id: str) -> str | None:
        """The job to pin stored entries to: none once the job was released (hold the lock
        until the store call, so a release cannot slip in between)."""
        return None if job_id in self._released else job_id

    def _in_flight(self, job_id: str) -> bool:
        return any(
            getattr(ctx.request, "job_id", None) == job_id for ctx in self._contexts.values()
        )

    # -- the work (on a worker thread) -------------------------------------------------------
    def _run(self, request: RunNode, ctx: Context[RunNode]) -> Any:
        if not isinstance(request, RunNode):
            return Failed(
                request_id=request.request_id,
                error="TypeError",
                message=f"the node runner takes RunNode requests, got {type(request).__name__}",
            )
        found = self._calls.get(request.node_type)
        if found is None:
            return Failed(
                request_id=request.request_id,
                error="UnknownNodeType",
                message=self._unknown_type(request),
            )
        fn, wants_context = found
        try:
            inputs = self._resolve(request)
            if isinstance(inputs, InputsMissing):
                return inputs
            raw = fn(inputs, self._context(request, ctx)) if wants_context else fn(inputs)
            outputs, ui = _normalize(raw)
            with self._jobs_lock:
                evicted = self.store.put(request.key, outputs, self._pin(request.job_id))
        except RequestCancelled:
            raise
        except Exception as error:
            if ctx.cancelled:
                # Work interrupted by its cancel often fails on the way out; that is a cancel.
                raise RequestCancelled(request.request_id) from error
            return self._failure(request, error)
        done = NodeDone(
            request_id=request.request_id,
            job_id=request.job_id,
            node_id=request.node_id,
            key=request.key,
            outputs=len(outputs),
            ui=ui,
        )
        return _Answer(done, tuple(evicted))

    def _resolve(self, request: RunNode) -> dict[str, Any] | InputsMissing:
        inputs: dict[str, Any] = {}
        missing: list[str] = []
        for name, value in request.inputs.items():
            if not isinstance(value, OutputRef):
                inputs[name] = value
                continue
            with self._jobs_lock:
                stored = self.store.get(value.key, self._pin(request.job_id))
            if stored is None:
                if value.key not in missing:
                    missing.append(value.key)
                continue
            if not 0 <= value.index < len(stored):
                raise NodeInputError(
                    f"input {name!r} links output {value.index} of the node whose key is "
                    f"{value.key}, which has {len(stored)} output(s); relink it to an "
                    "existing output"
                )
            inputs[name] = stored[value.index]
        if missing:
            return InputsMissing(
                request_id=request.request_id,
                job_id=request.job_id,
                node_id=request.node_id,
                keys=tuple(missing),
            )
        return inputs

    def _context(self, request: RunNode, ctx: Context[RunNode]) -> NodeContext:
        temp_dir = self.temp_dir
        if temp_dir is None and self.output_dir is not None:
            temp_dir = self.output_dir.resolve().parent / "temp"
        return NodeContext(
            job_id=request.job_id,
            node_id=request.node_id,
            node_type=request.node_type,
            request_id=request.request_id,
            output_dir=self.output_dir,
            temp_dir=temp_dir,
            input_dir=self.input_dir,
            prompt=self._prompts(request.job_id) if self._prompts is not None else None,
            extra_pnginfo=(
                self._extra_pnginfo(request.job_id) if self._extra_pnginfo is not None else None
            ),
            channel=ctx,
        )

    def _unknown_type(self, request: RunNode) -> str:
        close = difflib.get_close_matches(request.node_type, list(self._calls), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return (
            f"node {request.node_id}: no implementation is registered for node type "
            f"{request.node_type!r}{hint}; install the plugin that provides it, or fix the "
            "workflow"
        )

    def _failure(self, request: RunNode, error: Exception) -> Failed:
        text = str(error) or type(error).__name__
        # Light ops already start their messages with the node type; do not say it twice.
        text = text.removeprefix(f"{request.node_type}: ")
        logger.warning(
            "node %s (%s) of job %s failed",
            request.node_id,
            request.node_type,
            request.job_id,
            exc_info=error,
        )
        return Failed(
            request_id=request.request_id,
            error=type(error).__name__,
            message=f"{request.node_type} (node {request.node_id}) failed: {text}",
        )


def _normalize(raw: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """(outputs, ui) from what an implementation returned."""
    if isinstance(raw, NodeResult):
        outputs, ui = raw.outputs, dict(raw.ui)
    elif isinstance(raw, tuple):
        outputs, ui = raw, {}
    elif isinstance(raw, dict) and set(raw) <= {"ui", "result"} and raw:
        # ComfyUI's own form, so nodes ported from it work unchanged.
        outputs, ui = tuple(raw.get("result") or ()), dict(raw.get("ui") or {})
    else:
        raise TypeError(
            f"the implementation returned {type(raw).__name__}; it must return a tuple of "
            "outputs, or a NodeResult(outputs, ui)"
        )
    if not isinstance(outputs, tuple):
        raise TypeError(f"NodeResult.outputs must be a tuple, got {type(outputs).__name__}")
    if ui:
        try:
            pack(ui)
        except Exception as error:
            # NodeDone carries ui into the event log; refuse it here, where the node is known.
            raise TypeError(
                f"its ui cannot be recorded ({error}); ui must be plain data: dicts, lists, "
                "strings, numbers, booleans, None"
            ) from error
    return outputs, ui
