"""Per-role bounds on what one job may ask for (image size, steps, batch, frames), so one user
cannot tie up the server with a 16384x16384, 10000-step request the node catalog allows.

Pure: the server passes the caller's role limits; the answer lists every literal input over
its bound, naming node, input, value and bound, in ComfyUI's ``node_errors`` shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from components.workflow.graph import Graph, Link

# Inputs that scale the work of a job, by name, whatever the node.
LIMITED_INPUTS: Final = ("width", "height", "steps", "batch_size", "frames")

DEFAULT_USER_LIMITS: Final[Mapping[str, int]] = {
    "width": 2048,
    "height": 2048,
    "steps": 150,
    "batch_size": 16,
    "frames": 256,
}


@dataclass(frozen=True)
class OverLimit:
    node_id: str
    class_type: str
    input_name: str
    value: float
    limit: int

    def to_comfy(self) -> dict[str, Any]:
        return {
            "type": "value_bigger_than_max",
            "message": f"Value {self.value} bigger than your limit of {self.limit}",
            "details": f"{self.input_name}: at most {self.limit} for your account",
            "extra_info": {"input_name": self.input_name, "received_value": self.value},
        }


def over_limits(graph: Graph, limits: Mapping[str, int] | None) -> list[OverLimit]:
    """Every literal input of ``graph`` above its bound in ``limits`` (None: no limits)."""
    if not limits:
        return []
    found: list[OverLimit] = []
    for node in graph:
        for name, value in node.inputs.items():
            bound = limits.get(name)
            if bound is None or isinstance(value, Link | bool):
                continue
            if isinstance(value, int | float) and value > bound:
                found.append(OverLimit(node.id, node.type, name, value, bound))
    return found


def comfy_limits_error(problems: list[OverLimit]) -> dict[str, Any]:
    """The HTTP 400 body for a prompt over the caller's limits."""
    node_errors: dict[str, Any] = {}
    for problem in problems:
        entry = node_errors.setdefault(
            problem.node_id,
            {"errors": [], "dependent_outputs": [], "class_type": problem.class_type},
        )
        entry["errors"].append(problem.to_comfy())
    first = problems[0]
    return {
        "error": {
            "type": "limits_exceeded",
            "message": "The prompt asks for more than your account may",
            "details": f"node {first.node_id} input {first.input_name}: {first.value} > "
            f"{first.limit}",
            "extra_info": {},
        },
        "node_errors": node_errors,
    }
