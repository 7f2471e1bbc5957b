"""Third-party nodes, discovered through the ``rxgen.nodes`` entry-point group.

A distribution declares, in its packaging metadata::

    [project.entry-points."rxgen.nodes"]
    my_nodes = "my_package.nodes:provider"

where ``provider`` (or a zero-argument callable returning it, such as a class) offers
``node_definitions() -> Iterable[NodeDef]`` and ``node_implementations() -> Mapping[str,
NodeImplementation]``. A broken plugin is reported, naming its distribution, and skipped; the other
plugins still load.
"""

from __future__ import annotations

import importlib.metadata as metadata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from pydantic import ValidationError

from components.nodes.catalog import Catalog, DuplicateNodeTypeError
from components.nodes.schema import NodeDef
from drivers.nodes.context import NodeImplementation

ENTRY_POINT_GROUP: Final = "rxgen.nodes"
_DEFAULT_MODULE: Final = NodeDef.model_fields["python_module"].default


@dataclass(frozen=True)
class PluginError:
    """Why one plugin was not loaded."""

    distribution: str
    entry_point: str
    message: str

    def __str__(self) -> str:
        return f"plugin {self.entry_point!r} of distribution {self.distribution!r}: {self.message}"


class PluginLoadError(Exception):
    def __init__(self, error: PluginError) -> None:
        self.error = error
        super().__init__(str(error))


@dataclass(frozen=True)
class NodePack:
    """The nodes one entry point provides."""

    distribution: str
    entry_point: str
    definitions: tuple[NodeDef, ...]
    implementations: Mapping[str, NodeImplementation]

    @property
    def name(self) -> str:
        return f"{self.distribution}:{self.entry_point}"


@dataclass(frozen=True)
class PluginScan:
    """The packs that loaded and the errors of those that did not."""

    packs: tuple[NodePack, ...] = ()
    errors: tuple[PluginError, ...] = ()


@dataclass(frozen=True)
class NodeRegistry:
    """A catalog with the implementations that run its nodes, and the plugins left out."""

    catalog: Catalog
    implementations: Mapping[str, NodeImplementation] = field(default_factory=dict)
    errors: tuple[PluginError, ...] = ()


def discover_plugins(
    entry_points: Iterable[metadata.EntryPoint] | None = None,
    group: str = ENTRY_POINT_GROUP,
) -> PluginScan:
    """Load every entry point of ``group`` (installed ones unless ``entry_points`` is given)."""
    if entry_points is None:
        entry_points = metadata.entry_points(group=group)
    ordered = sorted(entry_points, key=lambda ep: (_distribution(ep), ep.name))
    packs: list[NodePack] = []
    errors: list[PluginError] = []
    for entry_point in ordered:
        try:
            packs.append(load_pack(entry_point))
        except PluginLoadError as failure:
            errors.append(failure.error)
    return PluginScan(tuple(packs), tuple(errors))


def load_pack(entry_point: metadata.EntryPoint) -> NodePack:
    """Load and check one entry point; raises PluginLoadError saying what is wrong."""
    dist = _distribution(entry_point)

    def fail(message: str) -> PluginLoadError:
        return PluginLoadError(PluginError(dist, entry_point.name, message))

    try:
        provider = entry_point.load()
    except Exception as error:
        raise fail(
            f"importing {entry_point.value!r} failed with {type(error).__name__}: {error}"
        ) from error
    # A class is instantiated even though its functions look like a provider's methods.
    if isinstance(provider, type) or (not _is_provider(provider) and callable(provider)):
        try:
            provider = provider()
        except Exception as error:
            raise fail(
                f"calling {entry_point.value!r} to get the provider failed with "
                f"{type(error).__name__}: {error}"
            ) from error
    if not _is_provider(provider):
        raise fail(
            f"{entry_point.value!r} is a {type(provider).__name__} without node_definitions() "
            "and node_implementations(); point the entry point at an object that has both"
        )
    try:
        raw_definitions = list(provider.node_definitions())
        raw_implementations = provider.node_implementations()
    except Exception as error:
        raise fail(f"the provider raised {type(error).__name__}: {error}") from error

    definitions = []
    for index, raw in enumerate(raw_definitions):
        try:
            definition = raw if isinstance(raw, NodeDef) else NodeDef.model_validate(raw)
        except ValidationError as error:
            raise fail(f"node definition #{index} is invalid: {error}") from error
        if definition.python_module == _DEFAULT_MODULE:
            # ComfyUI's editor groups nodes by module; name the distribution there.
            definition = definition.model_copy(update={"python_module": f"custom_nodes.{dist}"})
        definitions.append(definition)
    names = [definition.name for definition in definitions]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise fail(f"defines node type(s) {', '.join(duplicates)} more than once")
    implementations = _check_implementations(raw_implementations, set(names), fail)
    return NodePack(dist, entry_point.name, tuple(definitions), implementations)


def build_registry(
    base: Catalog,
    implementations: Mapping[str, NodeImplementation],
    scan: PluginScan,
) -> NodeRegistry:
    """Add each loaded pack to ``base``; a pack whose names clash is left out whole."""
    catalog = base
    merged = dict(implementations)
    errors = list(scan.errors)
    for pack in scan.packs:
        try:
            catalog = catalog.merged(pack.definitions, source=pack.name)
        except DuplicateNodeTypeError as error:
            errors.append(
                PluginError(pack.distribution, pack.entry_point, f"{error}; plugin not loaded")
            )
            continue
        merged.update(pack.implementations)
    return NodeRegistry(catalog, MappingProxyType(merged), tuple(errors))


def _check_implementations(
    raw: Any, names: set[str], fail: Callable[[str], PluginLoadError]
) -> Mapping[str, NodeImplementation]:
    if not isinstance(raw, Mapping):
        raise fail(
            f"node_implementations() returned {type(raw).__name__}; it must return a mapping "
            "of node type name to function"
        )
    not_callable = sorted(str(name) for name, fn in raw.items() if not callable(fn))
    if not_callable:
        raise fail(f"implementations of {', '.join(not_callable)} are not callable")
    missing = sorted(names - set(raw))
    if missing:
        raise fail(f"node type(s) {', '.join(missing)} are defined but have no implementation")
    undefined = sorted(set(raw) - names)
    if undefined:
        raise fail(f"implementations given for undefined node type(s) {', '.join(undefined)}")
    return MappingProxyType(dict(raw))


def _is_provider(candidate: Any) -> bool:
    return callable(getattr(candidate, "node_definitions", None)) and callable(
        getattr(candidate, "node_implementations", None)
    )


def _distribution(entry_point: metadata.EntryPoint) -> str:
    dist = entry_point.dist
    return dist.name if dist is not None else "<unknown distribution>"
