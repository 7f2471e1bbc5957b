"""What validation reports: problems, each naming node, input and reason, and the report.

Problem types and the HTTP 400 body follow ComfyUI (``required_input_missing``,
``bad_linked_input``, ``return_type_mismatch``, ``value_not_in_list``, ``value_smaller_than_min``,
``value_bigger_than_max``, ``invalid_input_type``, ``invalid_prompt``, ``prompt_no_outputs``,
``prompt_outputs_failed_validation``), plus ``dependency_cycle`` for nodes on a cycle and
``unsupported_combination`` for inputs that are valid alone but not together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from pydantic import JsonValue

from components.workflow.graph import Graph, node_sort_key

REQUIRED_INPUT_MISSING: Final = "required_input_missing"
BAD_LINKED_INPUT: Final = "bad_linked_input"
RETURN_TYPE_MISMATCH: Final = "return_type_mismatch"
VALUE_NOT_IN_LIST: Final = "value_not_in_list"
VALUE_SMALLER_THAN_MIN: Final = "value_smaller_than_min"
VALUE_BIGGER_THAN_MAX: Final = "value_bigger_than_max"
INVALID_INPUT_TYPE: Final = "invalid_input_type"
EXCEPTION_DURING_VALIDATION: Final = "exception_during_validation"
INVALID_PROMPT: Final = "invalid_prompt"
DEPENDENCY_CYCLE: Final = "dependency_cycle"
PROMPT_NO_OUTPUTS: Final = "prompt_no_outputs"
PROMPT_OUTPUTS_FAILED_VALIDATION: Final = "prompt_outputs_failed_validation"
UNSUPPORTED_COMBINATION: Final = "unsupported_combination"
UNKNOWN_INPUT: Final = "unknown_input"  # a warning only: ComfyUI ignores such inputs


@dataclass(frozen=True)
class Problem:
    """One problem, placed as precisely as possible (node, class_type, input)."""

    type: str
    message: str
    details: str = ""
    node_id: str | None = None
    class_type: str | None = None
    input_name: str | None = None
    extra_info: Mapping[str, JsonValue] = field(default_factory=dict)
    hint: str = ""

    def describe(self) -> str:
        """A sentence saying what is wrong, where, and what to do."""
        where = []
        if self.node_id is not None:
            where.append(f"node {self.node_id} ({self.class_type})")
        if self.input_name is not None:
            where.append(f"input {self.input_name!r}")
        text = self.message if not self.details else f"{self.message}: {self.details}"
        sentence = f"{', '.join(where)}: {text}" if where else text
        return f"{sentence}. {self.hint}" if self.hint else sentence

    def to_comfy(self) -> dict[str, JsonValue]:
        """This problem as an entry of ComfyUI's ``node_errors[id].errors``."""
        extra: dict[str, JsonValue] = dict(self.extra_info)
        if self.input_name is not None:
            extra = {"input_name": self.input_name, **extra}
        return {
            "type": self.type,
            "message": self.message,
            "details": self.details,
            "extra_info": extra,
        }


@dataclass(frozen=True)
class ValidationReport:
    """Everything wrong with a graph, and which output nodes can still run."""

    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    output_nodes: tuple[str, ...]
    good_outputs: tuple[str, ...]
    dependent_outputs: Mapping[str, tuple[str, ...]]
    graph: Graph

    @property
    def ok(self) -> bool:
        """No problem at all."""
        return not self.problems

    @property
    def accepted(self) -> bool:
        """Whether ComfyUI would queue the prompt: no prompt-wide problem and a valid output."""
        return not self.global_problems and bool(self.good_outputs)

    @property
    def failed_outputs(self) -> tuple[str, ...]:
        good = set(self.good_outputs)
        return tuple(o for o in self.output_nodes if o not in good)

    @property
    def global_problems(self) -> tuple[Problem, ...]:
        """Problems that stop the whole prompt (unknown node types, no output node)."""
        return tuple(p for p in self.problems if p.type in (INVALID_PROMPT, PROMPT_NO_OUTPUTS))

    def problems_by_node(self) -> dict[str, list[Problem]]:
        grouped: dict[str, list[Problem]] = {}
        for problem in self.problems:
            if problem.node_id is not None:
                grouped.setdefault(problem.node_id, []).append(problem)
        return dict(sorted(grouped.items(), key=lambda item: node_sort_key(item[0])))

    def comfy_node_errors(self) -> dict[str, JsonValue]:
        """ComfyUI's ``node_errors``: every invalid node with its errors and affected outputs."""
        node_errors: dict[str, JsonValue] = {}
        for node_id, problems in self.problems_by_node().items():
            node_errors[node_id] = {
                "errors": [problem.to_comfy() for problem in problems],
                "dependent_outputs": list(self.dependent_outputs.get(node_id, ())),
                "class_type": problems[0].class_type,
            }
        return node_errors

    def comfy_error_response(self) -> dict[str, JsonValue] | None:
        """ComfyUI's HTTP 400 body, or None when ComfyUI would accept the prompt."""
        if self.accepted:
            return None
        top: dict[str, JsonValue]
        if self.global_problems:
            first = self.global_problems[0]
            top = {
                "type": first.type,
                "message": first.message,
                "details": first.details,
                "extra_info": {},
            }
        else:
            lines = [f"{p.message}: {p.details}" for p in self.problems if p.node_id is not None]
            top = {
                "type": PROMPT_OUTPUTS_FAILED_VALIDATION,
                "message": "Prompt outputs failed validation",
                "details": "\n".join(lines),
                "extra_info": {},
            }
        return {"error": top, "node_errors": self.comfy_node_errors()}

    def format_text(self) -> str:
        """A readable report for the command line."""
        if self.ok and not self.warnings:
            return (
                f"workflow is valid ({len(self.graph)} nodes, outputs: {_ids(self.good_outputs)})"
            )
        lines = []
        if self.problems:
            nodes = len(self.problems_by_node())
            lines.append(
                f"workflow is invalid: {len(self.problems)} problem(s) in {nodes} node(s); "
                f"outputs that cannot run: {_ids(self.failed_outputs)}"
            )
            lines.extend(f"  - {problem.describe()}" for problem in self.problems)
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s):")
            lines.extend(f"  - {warning.describe()}" for warning in self.warnings)
        return "\n".join(lines)


def _ids(node_ids: Iterable[str]) -> str:
    return ", ".join(node_ids) or "none"
