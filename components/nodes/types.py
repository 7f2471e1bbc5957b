"""Socket types of node inputs and outputs, and the rule that says which links are allowed.

Types are plain strings so that third-party nodes can bring their own (``CONTROL_NET``, ...).
Like ComfyUI, a type string may be a comma-separated union (``"INT,FLOAT"``) and ``"*"`` matches
anything.
"""

from __future__ import annotations

from enum import StrEnum


class SocketType(StrEnum):
    """The types rxgen itself knows; any other string is a valid custom type."""

    MODEL = "MODEL"
    CLIP = "CLIP"
    VAE = "VAE"
    CONDITIONING = "CONDITIONING"
    LATENT = "LATENT"
    IMAGE = "IMAGE"
    MASK = "MASK"
    VIDEO = "VIDEO"
    INT = "INT"
    FLOAT = "FLOAT"
    STRING = "STRING"
    BOOLEAN = "BOOLEAN"
    COMBO = "COMBO"
    ANY = "*"


# Inputs of these types are edited in place (a widget) unless the definition forces a socket.
WIDGET_TYPES: frozenset[str] = frozenset(
    {SocketType.INT, SocketType.FLOAT, SocketType.STRING, SocketType.BOOLEAN, SocketType.COMBO}
)

# A combo holds a string chosen from a list, so string-producing outputs may feed it.
_COMBO_SOURCES: frozenset[str] = frozenset({SocketType.COMBO, SocketType.STRING})


def split_union(type_name: str) -> frozenset[str]:
    """The member types of ``type_name`` (``"INT, FLOAT"`` -> ``{"INT", "FLOAT"}``)."""
    return frozenset(part.strip() for part in type_name.split(",") if part.strip())


def is_compatible(output_type: str, input_type: str) -> bool:
    """Whether an output of ``output_type`` may be linked into an input of ``input_type``.

    Equal types match, ``"*"`` on either side matches anything, unions match when they share a
    member, and a combo input also accepts a STRING output (its value is checked at run time).
    """
    if output_type == input_type:
        return True
    outputs = split_union(output_type)
    inputs = split_union(input_type)
    if SocketType.ANY in outputs or SocketType.ANY in inputs:
        return True
    if SocketType.COMBO in inputs and outputs & _COMBO_SOURCES:
        return True
    return bool(outputs & inputs)
