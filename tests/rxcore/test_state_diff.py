"""state_patch: applied to the plain old state it must give exactly the plain new state."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rxcore.log import apply_patch
from rxcore.message import REDACTED, sensitive, to_plain
from rxcore.state_diff import state_patch


@dataclasses.dataclass(frozen=True)
class Item:
    name: str
    tags: tuple[str, ...] = ()
    extra: Any = None


@dataclasses.dataclass(frozen=True)
class Login:
    user: str
    password: str = sensitive()


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=5),
)
keys = st.text(alphabet="ab/~0", max_size=3)


def values(depth: int = 3) -> st.SearchStrategy[Any]:
    if depth == 0:
        return leaves
    inner = values(depth - 1)
    return st.one_of(
        leaves,
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
        st.dictionaries(st.integers(0, 3), inner, max_size=2),
        st.builds(Item, st.text(max_size=3), st.lists(st.text(max_size=2)).map(tuple), inner),
        st.frozensets(st.integers(0, 5), max_size=3),
    )


def edit(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    """A new state sharing every part of ``value`` the edit did not touch, as reducers do."""
    choice = data.draw(st.integers(0, 3 if depth < 4 else 0))
    if choice == 0:
        return data.draw(values(2))
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value, key=repr)))
        changed = {**value, key: edit(value[key], data, depth + 1)}
        if choice == 2:
            del changed[key]
        return changed
    if isinstance(value, tuple | list) and value:
        index = data.draw(st.integers(0, len(value) - 1))
        items = list(value)
        items[index] = edit(items[index], data, depth + 1)
        if choice == 2:
            items.append(data.draw(values(1)))
        if choice == 3:
            items = items[: data.draw(st.integers(0, len(items)))]
        return type(value)(items)
    if isinstance(value, Item):
        return dataclasses.replace(value, extra=edit(value.extra, data, depth + 1))
    return data.draw(values(1))


@settings(max_examples=400, deadline=None)
@given(values(), st.data())
def test_patch_turns_the_plain_old_state_into_the_plain_new_one(before: Any, data: Any) -> None:
    after = edit(before, data)
    plain_before = to_plain(before)
    patched = apply_patch(copy.deepcopy(plain_before), state_patch(before, after))
    assert patched == to_plain(after)


def test_identical_parts_cost_nothing_and_changes_are_targeted() -> None:
    jobs = {str(i): Item(name=f"n{i}") for i in range(1000)}
    before = {"jobs": jobs, "count": 1}
    after = {"jobs": {**jobs, "7": dataclasses.replace(jobs["7"], tags=("x",))}, "count": 2}
    assert state_patch(before, after) == [
        {"op": "add", "path": "/jobs/7/tags/0", "value": "x"},
        {"op": "replace", "path": "/count", "value": 2},
    ]
    assert state_patch(before, before) == []


def test_sensitive_fields_never_appear_in_patches() -> None:
    before = {"login": Login(user="ann", password="old-secret")}
    after = {"login": Login(user="ann", password="new-secret"), "other": Login("bo", "s3cret")}
    ops = state_patch(before, after)
    assert "secret" not in repr(ops)
    assert ops == [
        {"op": "add", "path": "/other", "value": to_plain(Login("bo", "s3cret"))},
    ]
    assert ops[0]["value"]["password"] == REDACTED
