"""An immutable catalog of node definitions gathered from several sources."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from pydantic import JsonValue

from components.nodes.schema import DynamicChoices, NodeDef

CATALOG_FORMAT = "rxgen.catalog"
CATALOG_FORMAT_VERSION = 1


class UnknownNodeTypeError(KeyError):
    """A node type name that the catalog does not hold."""

    def __init__(self, name: str, close_matches: Iterable[str]) -> None:
        self.name = name
        self.close_matches = tuple(close_matches)
        hint = (
            f"did you mean {', '.join(repr(m) for m in self.close_matches)}?"
            if self.close_matches
            else "check the spelling, or install the plugin that provides it"
        )
        super().__init__(f"unknown node type {name!r}: {hint}")

    def __str__(self) -> str:
        # KeyError quotes its argument; keep the sentence readable.
        return str(self.args[0])


class DuplicateNodeTypeError(ValueError):
    """Two sources define the same node type name."""

    def __init__(self, name: str, first_source: str, second_source: str) -> None:
        self.name = name
        self.first_source = first_source
        self.second_source = second_source
        super().__init__(
            f"node type {name!r} is defined by both {first_source!r} and {second_source!r}; "
            "rename one of them or leave one source out"
        )


# A check across a node's literal inputs that a single input's spec cannot express (a sampler
# that has no counterpart for a scheduler): given the inputs, (input name, reason) pairs.
InputRule = Callable[[Mapping[str, Any]], Iterable[tuple[str, str]]]


class Catalog:
    """Node definitions by name, each remembering the source it came from, plus the rules that
    check combinations of a node type's inputs."""

    __slots__ = ("_defs", "_rules", "_sources")

    def __init__(self, definitions: Iterable[NodeDef] = (), source: str = "rxgen") -> None:
        defs: dict[str, NodeDef] = {}
        sources: dict[str, str] = {}
        _add_all(defs, sources, definitions, source)
        self._defs: Mapping[str, NodeDef] = MappingProxyType(defs)
        self._sources: Mapping[str, str] = MappingProxyType(sources)
        self._rules: Mapping[str, tuple[InputRule, ...]] = MappingProxyType({})

    @classmethod
    def from_sources(cls, sources: Mapping[str, Iterable[NodeDef] | Catalog]) -> Catalog:
        """Merge named sources; a name defined twice raises DuplicateNodeTypeError."""
        catalog = cls()
        for source, definitions in sources.items():
            catalog = catalog.merged(definitions, source=source)
        return catalog

    def merged(self, other: Iterable[NodeDef] | Catalog, source: str = "rxgen") -> Catalog:
        """A new catalog holding this one's definitions and ``other``'s."""
        defs = dict(self._defs)
        sources = dict(self._sources)
        if isinstance(other, Catalog):
            for definition in other:
                _add(defs, sources, definition, other.source_of(definition.name))
        else:
            _add_all(defs, sources, other, source)
        merged = Catalog()
        merged._defs = MappingProxyType(defs)
        merged._sources = MappingProxyType(sources)
        rules = dict(self._rules)
        if isinstance(other, Catalog):
            for name, more in other._rules.items():
                rules[name] = (*rules.get(name, ()), *more)
        merged._rules = MappingProxyType(rules)
        return merged

    def with_rules(self, rules: Mapping[str, Iterable[InputRule]]) -> Catalog:
        """A copy whose node types named in ``rules`` also get those checks."""
        unknown = sorted(set(rules) - set(self._defs))
        if unknown:
            raise KeyError(f"rules given for node types not in the catalog: {', '.join(unknown)}")
        copy = self.merged(())
        merged = dict(copy._rules)
        for name, more in rules.items():
            merged[name] = (*merged.get(name, ()), *more)
        copy._rules = MappingProxyType(merged)
        return copy

    def rules_for(self, name: str) -> tuple[InputRule, ...]:
        return self._rules.get(name, ())

    def get(self, name: str) -> NodeDef:
        """The definition called ``name``; UnknownNodeTypeError names close matches if absent."""
        try:
            return self._defs[name]
        except KeyError:
            raise UnknownNodeTypeError(name, self.close_matches(name)) from None

    def find(self, name: str) -> NodeDef | None:
        return self._defs.get(name)

    def close_matches(self, name: str, limit: int = 3) -> list[str]:
        exact_case = [known for known in self._defs if known.lower() == name.lower()]
        fuzzy = difflib.get_close_matches(name, list(self._defs), n=limit, cutoff=0.6)
        return list(dict.fromkeys([*exact_case, *fuzzy]))[:limit]

    def source_of(self, name: str) -> str:
        self.get(name)
        return self._sources[name]

    def names(self) -> tuple[str, ...]:
        return tuple(self._defs)

    def __contains__(self, name: object) -> bool:
        return name in self._defs

    def __iter__(self) -> Iterator[NodeDef]:
        return iter(self._defs.values())

    def __len__(self) -> int:
        return len(self._defs)

    def __repr__(self) -> str:
        return f"Catalog({len(self)} node types)"

    def to_json(self) -> dict[str, JsonValue]:
        """The whole catalog as JSON data (rxgen's own format, used by the browser editor)."""
        nodes: list[JsonValue] = []
        for definition in self._defs.values():
            entry = definition.model_dump(mode="json")
            entry["source"] = self._sources[definition.name]
            nodes.append(entry)
        return {"format": CATALOG_FORMAT, "format_version": CATALOG_FORMAT_VERSION, "nodes": nodes}

    def to_object_info(
        self, dynamic_choices: DynamicChoices | None = None
    ) -> dict[str, dict[str, JsonValue]]:
        """The body of ComfyUI's ``GET /object_info``: every node by name."""
        return {
            name: definition.to_object_info(dynamic_choices)
            for name, definition in self._defs.items()
        }


def _add_all(
    defs: dict[str, NodeDef],
    sources: dict[str, str],
    definitions: Iterable[NodeDef],
    source: str,
) -> None:
    for definition in definitions:
        _add(defs, sources, definition, source)


def _add(
    defs: dict[str, NodeDef], sources: dict[str, str], definition: NodeDef, source: str
) -> None:
    if not isinstance(definition, NodeDef):
        raise TypeError(
            f"source {source!r} gave {type(definition).__name__} where a NodeDef was expected"
        )
    if definition.name in defs:
        raise DuplicateNodeTypeError(definition.name, sources[definition.name], source)
    defs[definition.name] = definition
    sources[definition.name] = source
