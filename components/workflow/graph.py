"""The workflow graph: nodes whose inputs are literals or links to other nodes' outputs.

This is the model behind ComfyUI's API format. It is immutable: edits return new graphs. The
graph itself accepts anything (links to missing nodes, cycles); ``validate`` says what is wrong,
and the traversal helpers skip links that lead nowhere.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from pydantic import JsonValue


@dataclass(frozen=True, slots=True)
class Link:
    """A reference to output ``output_index`` of node ``node_id``."""

    node_id: str
    output_index: int

    def to_api(self) -> list[JsonValue]:
        return [self.node_id, self.output_index]


InputValue: TypeAlias = Link | JsonValue


@dataclass(frozen=True, slots=True)
class Node:
    """One node: its id, its type (ComfyUI ``class_type``), its inputs and an optional title."""

    id: str
    type: str
    inputs: Mapping[str, InputValue] = field(default_factory=dict)
    title: str | None = None

    def __post_init__(self) -> None:
        # Frozen dataclass: a private copy behind a read-only view keeps the node immutable.
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))

    def links(self) -> Iterator[tuple[str, Link]]:
        """The linked inputs as (input name, link)."""
        for name, value in self.inputs.items():
            if isinstance(value, Link):
                yield name, value

    def with_input(self, name: str, value: InputValue) -> Node:
        return Node(self.id, self.type, {**self.inputs, name: value}, self.title)

    def without_input(self, name: str) -> Node:
        inputs = {key: value for key, value in self.inputs.items() if key != name}
        return Node(self.id, self.type, inputs, self.title)


class CycleError(ValueError):
    """The graph has at least one cycle, so it has no topological order."""

    def __init__(self, cycles: Iterable[tuple[str, ...]]) -> None:
        self.cycles = tuple(cycles)
        shown = "; ".join(" -> ".join((*cycle, cycle[0])) for cycle in self.cycles)
        super().__init__(f"the graph has a dependency cycle: {shown}; remove one of its links")


def node_sort_key(node_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order first ("2" before "10"), then the others alphabetically."""
    if _NUMERIC.fullmatch(node_id):
        return (0, int(node_id), node_id)
    return (1, 0, node_id)


_NUMERIC = re.compile(r"\d{1,18}")


class Graph:
    """An immutable mapping of node id to Node, with traversal helpers."""

    __slots__ = ("_downstream", "_nodes", "_upstream")

    def __init__(self, nodes: Iterable[Node] = ()) -> None:
        by_id: dict[str, Node] = {}
        for node in nodes:
            if node.id in by_id:
                raise ValueError(f"node id {node.id!r} appears twice; node ids must be unique")
            by_id[node.id] = node
        self._nodes: Mapping[str, Node] = MappingProxyType(by_id)
        self._upstream: Mapping[str, frozenset[str]] | None = None
        self._downstream: Mapping[str, frozenset[str]] | None = None

    # --- access -------------------------------------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, Node]:
        return self._nodes

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise KeyError(
                f"no node with id {node_id!r} in the graph; its ids are: "
                f"{', '.join(sorted(self._nodes, key=node_sort_key)) or 'none'}"
            ) from None

    def ids(self) -> tuple[str, ...]:
        """Node ids in a stable order (numeric ids numerically)."""
        return tuple(sorted(self._nodes, key=node_sort_key))

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Graph):
            return NotImplemented
        return dict(self._nodes) == dict(other._nodes)

    def __hash__(self) -> int:
        raise TypeError("Graph is not hashable; hash a canonical JSON dump of it instead")

    def __repr__(self) -> str:
        return f"Graph({len(self)} nodes)"

    def links(self) -> Iterator[tuple[str, str, Link]]:
        """Every link as (target node id, target input name, link)."""
        for node in self._nodes.values():
            for name, link in node.links():
                yield node.id, name, link

    # --- edits --------------------------------------------------------------------------------

    def with_node(self, node: Node) -> Graph:
        """A graph where ``node`` replaces the node with the same id, or is added."""
        return Graph((*(n for n in self._nodes.values() if n.id != node.id), node))

    def without_nodes(self, node_ids: Iterable[str]) -> Graph:
        drop = set(node_ids)
        return Graph(node for node in self._nodes.values() if node.id not in drop)

    def with_input(self, node_id: str, name: str, value: InputValue) -> Graph:
        return self.with_node(self.node(node_id).with_input(name, value))

    # --- structure ----------------------------------------------------------------------------

    def upstream(self, node_id: str) -> frozenset[str]:
        """Ids of the existing nodes that ``node_id`` reads from directly."""
        return self._upstream_map().get(node_id, frozenset())

    def downstream(self, node_id: str) -> frozenset[str]:
        """Ids of the nodes that read ``node_id``'s outputs directly."""
        return self._downstream_map().get(node_id, frozenset())

    def descendants(self, node_ids: Iterable[str], include_roots: bool = False) -> frozenset[str]:
        """Every node that depends, directly or not, on any of ``node_ids``."""
        return self._reach(node_ids, self._downstream_map(), include_roots)

    def ancestors(self, node_ids: Iterable[str], include_roots: bool = False) -> frozenset[str]:
        """Every node that any of ``node_ids`` depends on, directly or not."""
        return self._reach(node_ids, self._upstream_map(), include_roots)

    def topological_order(self) -> tuple[str, ...]:
        """Node ids with every node after all the nodes it reads from; raises CycleError.

        Ties are broken by ``node_sort_key`` so the order is deterministic.
        """
        upstream = self._upstream_map()
        downstream = self._downstream_map()
        waiting = {node_id: len(upstream[node_id]) for node_id in self._nodes}
        ready = sorted((n for n, count in waiting.items() if count == 0), key=node_sort_key)
        queue = deque(ready)
        order: list[str] = []
        while queue:
            node_id = queue.popleft()
            order.append(node_id)
            freed = []
            for child in downstream[node_id]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    freed.append(child)
            queue.extend(sorted(freed, key=node_sort_key))
        if len(order) != len(self._nodes):
            raise CycleError(self.cycles())
        return tuple(order)

    def cycles(self) -> list[tuple[str, ...]]:
        """Each group of nodes that depend on each other, as one cycle through them.

        A self-link gives a one-node cycle. Returns [] for a DAG.
        """
        cycles = []
        for component in _strongly_connected(self._nodes, self._downstream_map()):
            if len(component) > 1:
                cycles.append(self._cycle_through(component))
            else:
                (only,) = component
                if only in self._upstream_map()[only]:
                    cycles.append((only,))
        return sorted(cycles, key=lambda cycle: node_sort_key(cycle[0]))

    # --- internals ----------------------------------------------------------------------------

    def _upstream_map(self) -> Mapping[str, frozenset[str]]:
        if self._upstream is None:
            self._upstream = {
                node.id: frozenset(
                    link.node_id for _, link in node.links() if link.node_id in self._nodes
                )
                for node in self._nodes.values()
            }
        return self._upstream

    def _downstream_map(self) -> Mapping[str, frozenset[str]]:
        if self._downstream is None:
            children: dict[str, set[str]] = {node_id: set() for node_id in self._nodes}
            for node_id, parents in self._upstream_map().items():
                for parent in parents:
                    children[parent].add(node_id)
            self._downstream = {node_id: frozenset(kids) for node_id, kids in children.items()}
        return self._downstream

    def _reach(
        self,
        roots: Iterable[str],
        edges: Mapping[str, frozenset[str]],
        include_roots: bool,
    ) -> frozenset[str]:
        start = [root for root in roots if root in self._nodes]
        seen: set[str] = set(start) if include_roots else set()
        stack = list(start)
        while stack:
            for nxt in edges[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)

    def _cycle_through(self, component: frozenset[str]) -> tuple[str, ...]:
        """One simple cycle inside a strongly connected component, starting at its lowest id."""
        start = min(component, key=node_sort_key)
        downstream = self._downstream_map()
        # Breadth-first search from start back to start within the component: shortest cycle.
        previous: dict[str, str] = {}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for child in sorted(downstream[current] & component, key=node_sort_key):
                if child == start:
                    path = [current]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return tuple(reversed(path))
                if child not in previous:
                    previous[child] = current
                    queue.append(child)
        return tuple(sorted(component, key=node_sort_key))  # unreachable for a real component


def _strongly_connected(
    nodes: Iterable[str], edges: Mapping[str, frozenset[str]]
) -> list[frozenset[str]]:
    """Tarjan's algorithm, iterative so that long chains do not hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[frozenset[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                components.append(frozenset(members))
    return components
