"""Declarative node definitions: inputs, outputs and their ComfyUI ``/object_info`` form.

A definition says what a node accepts and produces; it never says how the node runs (that is a
driver's business). Definitions are frozen pydantic models so that they can be shared freely,
exported as JSON for the browser editor, and compared in tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PrivateAttr, model_validator

from components.nodes.types import WIDGET_TYPES, SocketType

# Dynamic lists (checkpoint files, uploaded images, ...) by name; filled by drivers at run time.
DynamicChoices = Mapping[str, Sequence[str]]

ComboChoice = str | int | float


class InputSpec(BaseModel):
    """One input of a node: a socket, a widget, or a combo (a choice from a list)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    type: str = Field(min_length=1, description="socket type; COMBO for choice lists")
    choices: tuple[ComboChoice, ...] | None = None
    choices_from: str | None = Field(
        default=None, description="name of a dynamic list filled at run time, e.g. 'checkpoints'"
    )
    default: JsonValue = None
    min: int | float | None = None
    max: int | float | None = None
    step: int | float | None = None
    round: float | None = None
    multiline: bool = False
    dynamic_prompts: bool = False
    tooltip: str | None = None
    force_input: bool = Field(default=False, description="only a link may feed this input")
    control_after_generate: bool = Field(
        default=False, description="the editor shows a fixed/randomize/... widget after this one"
    )
    image_upload: bool = Field(default=False, description="the editor shows an upload button")
    display: str | None = None

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        where = f"input {self.name!r}"
        is_combo = self.type == SocketType.COMBO
        has_list = self.choices is not None or self.choices_from is not None
        if is_combo and not has_list:
            raise ValueError(f"{where} is a COMBO but has neither 'choices' nor 'choices_from'")
        if has_list and not is_combo:
            raise ValueError(
                f"{where} has choices but type {self.type!r}; set type to 'COMBO' for a choice list"
            )
        if self.choices is not None and self.choices_from is not None:
            raise ValueError(f"{where} has both 'choices' and 'choices_from'; keep one of them")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{where} has min {self.min} above max {self.max}")
        if (
            self.choices is not None
            and self.default is not None
            and self.default not in self.choices
        ):
            raise ValueError(
                f"{where} default {self.default!r} is not among its choices {self.choices}"
            )
        return self

    @property
    def is_combo(self) -> bool:
        return self.type == SocketType.COMBO

    @property
    def is_widget(self) -> bool:
        """Whether the editor shows this input as a widget (and stores it in widgets_values)."""
        return self.type in WIDGET_TYPES and not self.force_input

    def resolved_choices(self, dynamic_choices: DynamicChoices | None = None) -> tuple[Any, ...]:
        """The choice list, reading ``choices_from`` from ``dynamic_choices`` (empty if absent)."""
        if self.choices is not None:
            return self.choices
        if self.choices_from is not None and dynamic_choices is not None:
            return tuple(dynamic_choices.get(self.choices_from, ()))
        return ()

    def effective_default(self, dynamic_choices: DynamicChoices | None = None) -> JsonValue:
        """The declared default, or for a combo without one its first choice (as ComfyUI)."""
        if self.default is not None or not self.is_combo:
            return self.default
        choices = self.resolved_choices(dynamic_choices)
        return choices[0] if choices else None

    def to_object_info(self, dynamic_choices: DynamicChoices | None = None) -> list[JsonValue]:
        """ComfyUI's ``[type_or_choices, {options}]`` entry for this input."""
        head: JsonValue = (
            list(self.resolved_choices(dynamic_choices)) if self.is_combo else self.type
        )
        options: dict[str, JsonValue] = {}
        if self.default is not None:
            options["default"] = self.default
        for key, value in (
            ("min", self.min),
            ("max", self.max),
            ("step", self.step),
            ("round", self.round),
            ("tooltip", self.tooltip),
            ("display", self.display),
        ):
            if value is not None:
                options[key] = value
        for key, flag in (
            ("multiline", self.multiline),
            ("dynamicPrompts", self.dynamic_prompts),
            ("forceInput", self.force_input),
            ("control_after_generate", self.control_after_generate),
            ("image_upload", self.image_upload),
        ):
            if flag:
                options[key] = True
        return [head, options] if options else [head]


class OutputSpec(BaseModel):
    """One output of a node; ``name`` defaults to the type, as in ComfyUI."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = Field(min_length=1)
    name: str = ""
    is_list: bool = False
    tooltip: str | None = None

    @model_validator(mode="after")
    def _default_name(self) -> Self:
        if not self.name:
            # Frozen: the only moment the name can be filled is during validation.
            object.__setattr__(self, "name", self.type)
        return self


class NodeDef(BaseModel):
    """The definition of a node type. ``name`` is the ComfyUI ``class_type``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    display_name: str = ""
    category: str = "rxgen"
    description: str = ""
    version: int = Field(default=1, ge=1, description="bump when outputs change for same inputs")
    required: tuple[InputSpec, ...] = ()
    optional: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    output_node: bool = False
    python_module: str = "rxgen"
    deprecated: bool = False
    experimental: bool = False

    _by_name: dict[str, InputSpec] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_inputs(self) -> Self:
        if not self.display_name:
            object.__setattr__(self, "display_name", self.name)
        seen: set[str] = set()
        for spec in (*self.required, *self.optional):
            if spec.name in seen:
                raise ValueError(
                    f"node {self.name!r} declares input {spec.name!r} twice; input names must be "
                    "unique across required and optional"
                )
            seen.add(spec.name)
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._by_name = {spec.name: spec for spec in (*self.required, *self.optional)}

    @property
    def inputs(self) -> tuple[InputSpec, ...]:
        """All inputs in ComfyUI order: required first, then optional."""
        return (*self.required, *self.optional)

    @property
    def widget_inputs(self) -> tuple[InputSpec, ...]:
        """The inputs the editor shows as widgets, in the order of ``widgets_values``."""
        return tuple(spec for spec in self.inputs if spec.is_widget)

    def has_input(self, name: str) -> bool:
        return name in self._by_name

    def input(self, name: str) -> InputSpec:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name) or "none"
            raise KeyError(
                f"node type {self.name!r} has no input {name!r}; its inputs are: {known}"
            ) from None

    def is_required(self, name: str) -> bool:
        return any(spec.name == name for spec in self.required)

    def to_object_info(self, dynamic_choices: DynamicChoices | None = None) -> dict[str, JsonValue]:
        """This node exactly as ComfyUI's ``GET /object_info`` describes a node."""
        required = {spec.name: spec.to_object_info(dynamic_choices) for spec in self.required}
        optional = {spec.name: spec.to_object_info(dynamic_choices) for spec in self.optional}
        input_info: dict[str, JsonValue] = {"required": dict(required)}
        input_order: dict[str, JsonValue] = {"required": list(required)}
        if optional:
            input_info["optional"] = dict(optional)
            input_order["optional"] = list(optional)
        info: dict[str, JsonValue] = {
            "input": input_info,
            "input_order": input_order,
            "output": [out.type for out in self.outputs],
            "output_is_list": [out.is_list for out in self.outputs],
            "output_name": [out.name for out in self.outputs],
            "name": self.name,
            "display_name": self.display_name,
            "description": self.description,
            "python_module": self.python_module,
            "category": self.category,
            "output_node": self.output_node,
        }
        if any(out.tooltip for out in self.outputs):
            info["output_tooltips"] = [out.tooltip or "" for out in self.outputs]
        if self.deprecated:
            info["deprecated"] = True
        if self.experimental:
            info["experimental"] = True
        return info


# Builders: short, typed spellings for the definitions in core.py, light.py and plugins.


def socket(name: str, type: str, **options: Any) -> InputSpec:
    """An input fed only by a link (MODEL, IMAGE, ...)."""
    return InputSpec(name=name, type=type, **options)


def int_input(
    name: str,
    default: int = 0,
    *,
    min: int | None = None,
    max: int | None = None,
    step: int | None = None,
    **options: Any,
) -> InputSpec:
    return InputSpec(
        name=name, type=SocketType.INT, default=default, min=min, max=max, step=step, **options
    )


def float_input(
    name: str,
    default: float = 0.0,
    *,
    min: float | None = None,
    max: float | None = None,
    step: float | None = None,
    **options: Any,
) -> InputSpec:
    return InputSpec(
        name=name, type=SocketType.FLOAT, default=default, min=min, max=max, step=step, **options
    )


def string_input(name: str, default: str = "", **options: Any) -> InputSpec:
    return InputSpec(name=name, type=SocketType.STRING, default=default, **options)


def bool_input(name: str, default: bool = False, **options: Any) -> InputSpec:
    return InputSpec(name=name, type=SocketType.BOOLEAN, default=default, **options)


def combo(
    name: str,
    choices: Sequence[ComboChoice] | None = None,
    *,
    choices_from: str | None = None,
    **options: Any,
) -> InputSpec:
    """A choice list, fixed (``choices``) or filled at run time (``choices_from``)."""
    return InputSpec(
        name=name,
        type=SocketType.COMBO,
        choices=tuple(choices) if choices is not None else None,
        choices_from=choices_from,
        **options,
    )


def output(type: str, name: str = "", **options: Any) -> OutputSpec:
    return OutputSpec(type=type, name=name, **options)
