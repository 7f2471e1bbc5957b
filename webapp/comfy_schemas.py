"""The shapes of ComfyUI's HTTP API as rxgen serves it, for the OpenAPI document.

These describe what ComfyUI clients send and receive; the handlers keep ComfyUI's own error
shapes (``{"error": ..., "node_errors": ...}``), so the models allow extra fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel


class PromptBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompt: dict[str, Any] = Field(description="the workflow in ComfyUI's API format")
    client_id: str | None = None
    prompt_id: str | None = None
    front: bool = False


class PromptQueued(BaseModel):
    prompt_id: str
    number: int
    node_errors: dict[str, Any]


class ComfyError(BaseModel):
    model_config = ConfigDict(extra="allow")

    error: dict[str, Any]
    node_errors: dict[str, Any]


class History(RootModel[dict[str, dict[str, Any]]]):
    """Finished prompts by id: prompt, outputs and status."""


class HistoryQuery(BaseModel):
    max_items: int | None = Field(default=None, ge=1, le=10_000)


class ObjectInfo(RootModel[dict[str, dict[str, Any]]]):
    """Every node type by class name: inputs, outputs, category."""


class ViewQuery(BaseModel):
    filename: str = Field(max_length=1024)
    subfolder: str = Field(default="", max_length=1024)
    type: Literal["output", "temp", "input"] = "output"


class QueueListing(BaseModel):
    queue_running: list[list[Any]]
    queue_pending: list[list[Any]]


class QueueBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    clear: bool = False
    delete: list[str] = Field(default_factory=list)


class Empty(BaseModel):
    """An empty object, as ComfyUI answers."""

    model_config = ConfigDict(extra="allow")


class UploadImageForm(BaseModel):
    image: bytes
    subfolder: str = ""
    overwrite: bool = False


class UploadedImage(BaseModel):
    name: str
    subfolder: str
    type: Literal["input"]


class SystemStats(BaseModel):
    system: dict[str, Any]
    devices: list[dict[str, Any]]
