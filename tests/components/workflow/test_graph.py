import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.workflow.graph import CycleError, Graph, Link, Node, node_sort_key


def chain(*ids: str) -> Graph:
    nodes = [Node(ids[0], "Source")]
    nodes += [Node(b, "Step", {"x": Link(a, 0)}) for a, b in itertools.pairwise(ids)]
    return Graph(nodes)


def test_nodes_are_immutable() -> None:
    node = Node("1", "A", {"x": 1})
    with pytest.raises(TypeError):
        node.inputs["x"] = 2  # type: ignore[index]
    assert node.with_input("x", 2).inputs["x"] == 2
    assert node.inputs["x"] == 1
    assert "x" not in node.without_input("x").inputs


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="node id '1' appears twice"):
        Graph([Node("1", "A"), Node("1", "B")])


def test_lookup_error_lists_ids() -> None:
    with pytest.raises(KeyError, match="its ids are: 1, 2"):
        chain("1", "2").node("9")


def test_ids_sort_numerically() -> None:
    graph = Graph([Node(i, "A") for i in ("10", "2", "b", "1", "a")])
    assert graph.ids() == ("1", "2", "10", "a", "b")
    assert node_sort_key("7") < node_sort_key("x")


def test_upstream_downstream_and_reach() -> None:
    graph = Graph(
        [
            Node("1", "A"),
            Node("2", "B", {"x": Link("1", 0)}),
            Node("3", "C", {"x": Link("1", 1), "y": Link("2", 0)}),
            Node("4", "D", {"x": Link("3", 0), "ghost": Link("99", 0)}),
            Node("5", "E"),
        ]
    )
    assert graph.upstream("3") == {"1", "2"}
    assert graph.upstream("4") == {"3"}  # the link to the missing node is skipped
    assert graph.downstream("1") == {"2", "3"}
    assert graph.descendants(["2"]) == {"3", "4"}
    assert graph.descendants(["2"], include_roots=True) == {"2", "3", "4"}
    assert graph.ancestors(["4"]) == {"1", "2", "3"}
    assert graph.descendants(["5", "missing"]) == frozenset()
    assert sorted(target for target, _, _ in graph.links()) == ["2", "3", "3", "4", "4"]


def test_edits_return_new_graphs() -> None:
    graph = chain("1", "2", "3")
    edited = graph.with_input("2", "strength", 0.5)
    assert edited.node("2").inputs["strength"] == 0.5
    assert "strength" not in graph.node("2").inputs
    assert graph.without_nodes(["3"]).ids() == ("1", "2")
    assert graph.with_node(Node("4", "New")).ids() == ("1", "2", "3", "4")
    assert graph == chain("1", "2", "3")
    assert graph != edited


def test_topological_order_is_deterministic() -> None:
    graph = Graph(
        [
            Node("3", "C", {"a": Link("1", 0), "b": Link("2", 0)}),
            Node("2", "B"),
            Node("1", "A"),
            Node("10", "D", {"a": Link("3", 0)}),
        ]
    )
    assert graph.topological_order() == ("1", "2", "3", "10")


def test_cycle_is_named() -> None:
    graph = Graph(
        [
            Node("1", "A"),
            Node("2", "B", {"x": Link("1", 0), "y": Link("4", 0)}),
            Node("3", "C", {"x": Link("2", 0)}),
            Node("4", "D", {"x": Link("3", 0)}),
            Node("5", "E", {"x": Link("5", 0)}),
        ]
    )
    assert graph.cycles() == [("2", "3", "4"), ("5",)]
    with pytest.raises(CycleError, match=r"2 -> 3 -> 4 -> 2; 5 -> 5"):
        graph.topological_order()


@st.composite
def dags(draw: st.DrawFn) -> Graph:
    """Random DAGs: node i may only read from nodes with a smaller index; ids are shuffled."""
    size = draw(st.integers(min_value=1, max_value=25))
    labels = draw(st.permutations([str(i) for i in range(size)]))
    nodes = []
    for index in range(size):
        parents = draw(st.lists(st.integers(0, index - 1), max_size=3)) if index else []
        inputs = {f"in{k}": Link(labels[p], k % 2) for k, p in enumerate(parents)}
        nodes.append(Node(labels[index], "Op", inputs))
    return Graph(draw(st.permutations(nodes)))


@given(dags())
def test_topological_order_respects_every_link(graph: Graph) -> None:
    order = graph.topological_order()
    assert sorted(order) == sorted(graph.ids())
    position = {node_id: i for i, node_id in enumerate(order)}
    for target, _, link in graph.links():
        assert position[link.node_id] < position[target]
    assert graph.cycles() == []


@given(dags(), st.data())
def test_a_back_link_makes_a_named_cycle(graph: Graph, data: st.DataObject) -> None:
    order = graph.topological_order()
    low = data.draw(st.integers(0, len(order) - 1))
    high = data.draw(st.integers(low, len(order) - 1))
    ancestor, descendant = order[low], order[high]
    # Make ancestor read from something that depends on it: a cycle iff descendant is reachable.
    cyclic = graph.with_input(ancestor, "back", Link(descendant, 0))
    reaches = descendant == ancestor or descendant in graph.descendants([ancestor])
    cycles = cyclic.cycles()
    if not reaches:
        assert cycles == []
        return
    assert cycles, "a cycle must be reported"
    members = {node_id for cycle in cycles for node_id in cycle}
    assert {ancestor, descendant} <= members
    for cycle in cycles:  # each reported cycle really is one: consecutive links exist
        for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            assert a in cyclic.upstream(b)
    with pytest.raises(CycleError):
        cyclic.topological_order()
