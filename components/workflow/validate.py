"""Validation of a workflow graph against the node catalog, reporting every problem at once.

Problem types and the HTTP 400 body follow ComfyUI (``required_input_missing``,
``bad_linked_input``, ``return_type_mismatch``, ``value_not_in_list``, ``value_smaller_than_min``,
``value_bigger_than_max``, ``invalid_input_type``, ``invalid_prompt``, ``prompt_no_outputs``,
``prompt_outputs_failed_validation``), plus ``dependency_cycle`` for nodes on a cycle. Unlike
ComfyUI every node is checked, not only the first failing branch of each output.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from pydantic import JsonValue

from components.nodes.catalog import Catalog
from components.nodes.schema import DynamicChoices, InputSpec, NodeDef
from components.nodes.types import SocketType, is_compatible, split_union
from components.workflow.graph import Graph, InputValue, Link, Node, node_sort_key
from components.workflow.problems import (
    BAD_LINKED_INPUT,
    DEPENDENCY_CYCLE,
    EXCEPTION_DURING_VALIDATION,
    INVALID_INPUT_TYPE,
    INVALID_PROMPT,
    PROMPT_NO_OUTPUTS,
    REQUIRED_INPUT_MISSING,
    RETURN_TYPE_MISMATCH,
    UNKNOWN_INPUT,
    UNSUPPORTED_COMBINATION,
    VALUE_BIGGER_THAN_MAX,
    VALUE_NOT_IN_LIST,
    VALUE_SMALLER_THAN_MIN,
    Problem,
    ValidationReport,
)

# ComfyUI leaves long choice lists (scanned model files) out of its error bodies.
_MAX_LISTED_CHOICES: Final = 20
_MAX_CYCLE_SHOWN: Final = 12


def validate(
    graph: Graph, catalog: Catalog, dynamic_choices: DynamicChoices | None = None
) -> ValidationReport:
    """Check every node of ``graph`` against ``catalog`` and report all problems at once.

    ``dynamic_choices`` fills combo lists declared with ``choices_from`` (e.g. "checkpoints");
    a list that is absent from the mapping is not checked. The report's ``graph`` holds literal
    values converted as ComfyUI converts them ("20" -> 20 for an INT, 8 -> 8.0 for a FLOAT).
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    normalized: dict[str, Node] = {}

    for node_id in graph.ids():
        node = graph.node(node_id)
        definition = catalog.find(node.type)
        if definition is None:
            problems.append(_unknown_type(node, catalog))
            continue
        try:
            checked = _NodeCheck(graph, catalog, dynamic_choices, node, definition)
            checked.run()
        except Exception as error:  # a bug here must not hide the other nodes' problems
            problems.append(
                Problem(
                    EXCEPTION_DURING_VALIDATION,
                    "Exception when validating node",
                    str(error),
                    node.id,
                    node.type,
                    extra_info={"exception_type": type(error).__name__},
                    hint="this is a bug in rxgen or in the node's definition; please report it",
                )
            )
            continue
        problems.extend(checked.problems)
        warnings.extend(checked.warnings)
        if checked.coerced:
            normalized[node_id] = Node(
                node.id, node.type, {**node.inputs, **checked.coerced}, node.title
            )

    problems.extend(_cycle_problems(graph))
    outputs = tuple(
        node_id
        for node_id in graph.ids()
        if (definition := catalog.find(graph.node(node_id).type)) is not None
        and definition.output_node
    )
    if not outputs:
        problems.append(
            Problem(
                PROMPT_NO_OUTPUTS,
                "Prompt has no outputs",
                hint="add an output node such as SaveImage or PreviewImage",
            )
        )

    bad_nodes = {p.node_id for p in problems if p.node_id is not None}
    dependent: dict[str, list[str]] = {node_id: [] for node_id in bad_nodes}
    good_outputs = []
    for output_id in outputs:
        needed = graph.ancestors([output_id], include_roots=True)
        failing = needed & bad_nodes
        for node_id in failing:
            dependent[node_id].append(output_id)
        if not failing:
            good_outputs.append(output_id)

    if normalized:
        graph = Graph(normalized.get(node.id, node) for node in graph)
    return ValidationReport(
        problems=tuple(_ordered(problems)),
        warnings=tuple(warnings),
        output_nodes=outputs,
        good_outputs=tuple(good_outputs),
        dependent_outputs=MappingProxyType({k: tuple(v) for k, v in dependent.items()}),
        graph=graph,
    )


class _NodeCheck:
    """The checks of one node whose type is known."""

    def __init__(
        self,
        graph: Graph,
        catalog: Catalog,
        dynamic_choices: DynamicChoices | None,
        node: Node,
        definition: NodeDef,
    ) -> None:
        self.graph = graph
        self.catalog = catalog
        self.dynamic_choices = dynamic_choices
        self.node = node
        self.definition = definition
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.coerced: dict[str, InputValue] = {}

    def run(self) -> None:
        for spec in self.definition.inputs:
            if spec.name not in self.node.inputs:
                if self.definition.is_required(spec.name):
                    self._missing(spec)
                continue
            value = self.node.inputs[spec.name]
            if isinstance(value, Link):
                self._check_link(spec, value)
            elif isinstance(value, list):
                self._problem(
                    BAD_LINKED_INPUT,
                    "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                    spec,
                    spec.name,
                    hint='write a link as ["<node id>", <output index>]',
                    received_value=value,
                )
            else:
                self._check_literal(spec, value)
        self._check_rules()
        for name in self.node.inputs:
            if not self.definition.has_input(name):
                known = ", ".join(spec.name for spec in self.definition.inputs) or "none"
                self.warnings.append(
                    Problem(
                        UNKNOWN_INPUT,
                        "Input is not declared by the node type and will be ignored",
                        name,
                        self.node.id,
                        self.node.type,
                        name,
                        hint=f"check the spelling; {self.node.type} has inputs: {known}",
                    )
                )

    # --- links --------------------------------------------------------------------------------

    def _check_link(self, spec: InputSpec, link: Link) -> None:
        source = self.graph.nodes.get(link.node_id)
        received = link.to_api()
        if source is None:
            self._problem(
                BAD_LINKED_INPUT,
                "Bad linked input, the linked node does not exist",
                spec,
                f"{spec.name}: node '{link.node_id}' is not in the prompt",
                hint="link it to an existing node or remove the link",
                received_value=received,
            )
            return
        source_def = self.catalog.find(source.type)
        if source_def is None:
            return  # the unknown type is reported on the source node itself
        outputs = source_def.outputs
        if link.output_index >= len(outputs):
            self._problem(
                BAD_LINKED_INPUT,
                "Bad linked input, the output index is out of range",
                spec,
                f"{spec.name}: node '{link.node_id}' ({source.type}) has {len(outputs)} "
                f"output(s), index {link.output_index} was asked",
                hint=_index_hint(len(outputs)),
                received_value=received,
            )
            return
        received_type = outputs[link.output_index].type
        if not is_compatible(received_type, spec.type):
            self._problem(
                RETURN_TYPE_MISMATCH,
                "Return type mismatch between linked nodes",
                spec,
                f"{spec.name}, received_type({received_type}) mismatch input_type({spec.type})",
                hint=f"link an output of type {spec.type} instead",
                received_type=received_type,
                linked_node=received,
            )

    # --- literals -----------------------------------------------------------------------------

    def _check_literal(self, spec: InputSpec, value: JsonValue) -> None:
        if spec.is_combo:
            self._check_choice(spec, value)
            return
        members = split_union(spec.type)
        if SocketType.ANY in members:
            return
        convertible = [t for t in members if t in _CONVERTERS]
        if not convertible:
            self._problem(
                INVALID_INPUT_TYPE,
                "Input needs a link, not a literal value",
                spec,
                f"{spec.name}: expected a link from a {spec.type} output, got {value!r}",
                hint=f"connect an output of type {spec.type} to it",
                received_value=value,
            )
            return
        converted: Any = _NOT_CONVERTED
        reasons = []
        for type_name in convertible:
            try:
                converted = _CONVERTERS[type_name](value)
                break
            except (TypeError, ValueError) as error:
                reasons.append(str(error))
        if converted is _NOT_CONVERTED:
            self._problem(
                INVALID_INPUT_TYPE,
                f"Failed to convert an input value to a {spec.type} value",
                spec,
                f"{spec.name}, {value!r}, {'; '.join(reasons)}",
                hint=f"give it a {spec.type} value{_range_text(spec)}",
                received_value=value,
            )
            return
        if converted != value or type(converted) is not type(value):
            self.coerced[spec.name] = converted
        if isinstance(converted, int | float) and not isinstance(converted, bool):
            self._check_range(spec, converted)

    def _check_range(self, spec: InputSpec, value: float) -> None:
        if spec.min is not None and value < spec.min:
            self._problem(
                VALUE_SMALLER_THAN_MIN,
                f"Value {value} smaller than min of {spec.min}",
                spec,
                spec.name,
                hint=f"use a value{_range_text(spec)}",
                received_value=value,
            )
        elif spec.max is not None and value > spec.max:
            self._problem(
                VALUE_BIGGER_THAN_MAX,
                f"Value {value} bigger than max of {spec.max}",
                spec,
                spec.name,
                hint=f"use a value{_range_text(spec)}",
                received_value=value,
            )

    def _check_choice(self, spec: InputSpec, value: JsonValue) -> None:
        if spec.choices is None and (
            self.dynamic_choices is None or spec.choices_from not in self.dynamic_choices
        ):
            return  # the list is filled at run time and was not given: nothing to check against
        choices = spec.resolved_choices(self.dynamic_choices)
        if _is_choice(value, choices):
            return
        if len(choices) > _MAX_LISTED_CHOICES:
            list_info = f"(list of length {len(choices)})"
        else:
            list_info = str(list(choices))
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=3)
        hint = (
            f"did you mean {', '.join(repr(c) for c in close)}?"
            if close
            else "choose one of the listed values"
            if choices
            else f"the list {spec.choices_from!r} is empty; add files to it first"
        )
        self._problem(
            VALUE_NOT_IN_LIST,
            "Value not in list",
            spec,
            f"{spec.name}: '{value}' not in {list_info}",
            hint=hint,
            config=len(choices) <= _MAX_LISTED_CHOICES,
            received_value=value,
        )

    # --- helpers ------------------------------------------------------------------------------

    def _missing(self, spec: InputSpec) -> None:
        if spec.is_widget:
            hint = f"give it a value{_range_text(spec)} or link a {spec.type} output to it"
        else:
            hint = f"connect an output of type {spec.type} to it"
        self._problem(
            REQUIRED_INPUT_MISSING, "Required input is missing", spec, spec.name, hint=hint
        )

    def _check_rules(self) -> None:
        rules = self.catalog.rules_for(self.node.type)
        if not rules or self.problems:
            return  # a rule reads valid literals; broken inputs were reported already
        literals = {
            name: self.coerced.get(name, value)
            for name, value in self.node.inputs.items()
            if not isinstance(value, Link)
        }
        for rule in rules:
            for name, reason in rule(literals):
                spec = self.definition.input(name)
                self._problem(
                    UNSUPPORTED_COMBINATION,
                    reason,
                    spec,
                    name,
                    hint="change this input or the one it conflicts with",
                    config=False,
                    received_value=_json(literals.get(name)),
                )

    def _problem(
        self,
        kind: str,
        message: str,
        spec: InputSpec,
        details: str,
        *,
        hint: str,
        config: bool = True,
        **extra: JsonValue,
    ) -> None:
        input_config = spec.to_object_info(self.dynamic_choices) if config else None
        self.problems.append(
            Problem(
                kind,
                message,
                details,
                self.node.id,
                self.node.type,
                spec.name,
                extra_info={"input_config": input_config, **extra},
                hint=hint,
            )
        )


# --- conversions, as ComfyUI converts literals but without its silent truncations ------------


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value} is not a whole number")
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise TypeError(f"{type(value).__name__} is not a number")


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int | float | str):
        converted = float(value.strip() if isinstance(value, str) else value)
        if not math.isfinite(converted):
            raise ValueError(f"{value} is not a finite number")
        return converted
    raise TypeError(f"{type(value).__name__} is not a number")


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not text")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"{type(value).__name__} is not true or false")


_CONVERTERS: Final[Mapping[str, Any]] = {
    SocketType.INT: _to_int,
    SocketType.FLOAT: _to_float,
    SocketType.STRING: _to_string,
    SocketType.BOOLEAN: _to_bool,
}
_NOT_CONVERTED: Final = object()


def _is_choice(value: JsonValue, choices: Sequence[Any]) -> bool:
    # Compare with types: True must not match a choice 1, nor 1 match "1".
    return any(value == choice and type(value) is type(choice) for choice in choices)


def _range_text(spec: InputSpec) -> str:
    if spec.min is not None and spec.max is not None:
        return f" between {spec.min} and {spec.max}"
    if spec.min is not None:
        return f" of at least {spec.min}"
    if spec.max is not None:
        return f" of at most {spec.max}"
    return ""


def _index_hint(count: int) -> str:
    if count == 0:
        return "this node has no outputs to link from"
    return f"use an output index from 0 to {count - 1}"


def _unknown_type(node: Node, catalog: Catalog) -> Problem:
    close = catalog.close_matches(node.type)
    hint = (
        f"did you mean {', '.join(repr(m) for m in close)}?"
        if close
        else "install the plugin that provides it, or replace the node"
    )
    return Problem(
        INVALID_PROMPT,
        f"Cannot execute because node {node.type} does not exist.",
        f"Node ID '#{node.id}'",
        node.id,
        node.type,
        hint=hint,
    )


def _cycle_problems(graph: Graph) -> Iterable[Problem]:
    for cycle in graph.cycles():
        # Every node on the cycle gets a problem; a long cycle is named by its first nodes only,
        # or the report would grow with the square of its length.
        listed = cycle[:_MAX_CYCLE_SHOWN]
        more = len(cycle) - len(listed)
        shown = " -> ".join((*listed, cycle[0] if not more else f"... ({more} more)"))
        for node_id in cycle:
            yield Problem(
                DEPENDENCY_CYCLE,
                "Dependency cycle detected",
                f"nodes on the cycle: {shown}",
                node_id,
                graph.node(node_id).type,
                extra_info={"cycle": list(listed), "cycle_length": len(cycle)},
                hint="remove one of the links on the cycle",
            )


def _ordered(problems: list[Problem]) -> list[Problem]:
    # Prompt-wide problems first, then by node id; stable within a node (input order).
    return sorted(
        problems,
        key=lambda p: (p.node_id is not None, node_sort_key(p.node_id or "")),
    )


def _json(value: Any) -> JsonValue:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
