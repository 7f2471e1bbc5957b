"""Reading a node's inputs, with errors that name the node, the input and what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch


class NodeInputError(ValueError):
    """A node got inputs it cannot work with; the message names the node and the input."""


# --- input access -------------------------------------------------------------------------------


def _arg(inputs: Mapping[str, Any], node: str, name: str) -> Any:
    try:
        return inputs[name]
    except KeyError:
        raise NodeInputError(
            f"{node}: required input {name!r} was not given; got {sorted(inputs) or 'nothing'}"
        ) from None


def _image(inputs: Mapping[str, Any], node: str, name: str) -> torch.Tensor:
    value = _arg(inputs, node, name)
    if not isinstance(value, torch.Tensor) or value.ndim != 4:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise NodeInputError(f"{node}: input {name!r} must be an IMAGE [B,H,W,C], got {shape}")
    return value


def _mask(value: Any, node: str, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.ndim not in (2, 3):
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise NodeInputError(f"{node}: input {name!r} must be a MASK [B,H,W], got {shape}")
    return value if value.ndim == 3 else value.unsqueeze(0)


def _pick(table: Mapping[str, Any], key: Any, node: str) -> Any:
    try:
        return table[key]
    except (KeyError, TypeError):
        raise NodeInputError(
            f"{node}: unknown operation {key!r}; use one of {', '.join(table)}"
        ) from None
