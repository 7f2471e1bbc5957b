"""The log's message encoding, byte for byte: the compiled per-class encoders and the writer's
shortcut past msgpack's ``default`` hook must write exactly the bytes logs have always held."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import msgpack

from rxcore import message
from rxcore.log import Kind, LogWriter
from rxcore.segments import SegmentReader

HERE = __name__


@dataclasses.dataclass(frozen=True, kw_only=True)
class Inner(message.Message):
    x: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outer(message.Message):
    name: str
    inner: Inner
    tags: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Login(message.Message):
    user: str
    password: str = message.sensitive()
    attempt: int = 1


@dataclasses.dataclass(frozen=True, slots=True)
class Slotted:
    a: int
    b: str


@dataclasses.dataclass(frozen=True)
class Cached:
    a: int

    @functools.cached_property
    def double(self) -> int:
        return self.a * 2


@dataclasses.dataclass(frozen=True)
class LateField:
    """A field only __post_init__ sets: it sits last in the instance dict."""

    total: int = dataclasses.field(init=False)
    a: int
    b: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", self.a + self.b)


@dataclasses.dataclass(frozen=True)
class Defaulted:
    items: tuple[int, ...] = dataclasses.field(init=False, default_factory=tuple)
    a: int = 0


def typed(cls: type, fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "$t": f"{HERE}:{cls.__qualname__}"}


def expected(value: Any) -> bytes:
    return msgpack.packb(value)


def test_dataclasses_encode_as_maps_in_field_order_with_the_type_key_last() -> None:
    inner = typed(Inner, {"scope": [], "x": 3})
    value = Outer(name="n", inner=Inner(x=3), tags=frozenset({"b", "a"}))
    want = typed(Outer, {"scope": [], "name": "n", "inner": inner, "tags": ["a", "b"]})
    assert message.pack(value) == expected(want)
    assert message.pack(Slotted(1, "s")) == expected(typed(Slotted, {"a": 1, "b": "s"}))
    assert message.pack(Defaulted(a=2)) == expected(typed(Defaulted, {"items": [], "a": 2}))


def test_sensitive_fields_are_redacted_and_kept_by_the_plain_encoder() -> None:
    login = Login(user="u", password="hunter2")
    redacted = {"scope": [], "user": "u", "password": message.REDACTED, "attempt": 1}
    plain = {**redacted, "password": "hunter2"}
    assert message.pack(login) == expected(typed(Login, redacted))
    assert message.pack(login, redact=False) == expected(typed(Login, plain))
    assert b"hunter2" not in message.pack((("d", login),))


def test_a_field_set_late_keeps_the_instance_dict_order() -> None:
    # The instance dict holds a, b, total: logs of such classes were always written so.
    assert message.pack(LateField(a=1, b=2)) == expected(
        typed(LateField, {"a": 1, "b": 2, "total": 3})
    )


def test_a_cached_property_is_not_written() -> None:
    value = Cached(4)
    assert value.double == 8
    assert message.pack(value) == expected(typed(Cached, {"a": 4}))


def test_the_writer_records_the_bytes_of_pack(tmp_path: Path) -> None:
    values: list[Any] = [
        Outer(name="n", inner=Inner(x=1)),
        Login(user="u", password="p"),
        LateField(a=1, b=2),
        Cached(2),
        7,
        "text",
        (1, Inner(x=2)),
    ]
    writer = LogWriter(tmp_path / "log")
    writer.begin(None, {})
    for seq, value in enumerate(values * 2, start=1):  # the second round takes the shortcut
        writer.event(seq, "src", value)
        writer.sink(seq, "out", value)
    writer.close()
    records = [r for r in SegmentReader(tmp_path / "log").records() if r.kind != Kind.HEADER]
    want = [message.pack((name, v)) for v in values * 2 for name in ("src", "out")]
    assert [r.payload for r in records] == want
