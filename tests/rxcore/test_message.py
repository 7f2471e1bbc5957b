"""Message encoding for the log: round trips by import path, redaction of sensitive fields."""

from __future__ import annotations

from dataclasses import dataclass

import pydantic
import pytest

from rxcore import Message, Request, sensitive
from rxcore.message import (
    REDACTED,
    DecodeError,
    EncodeError,
    from_plain,
    pack,
    to_plain,
    unpack,
)


@dataclass(frozen=True, kw_only=True)
class Login(Request):
    user: str
    password: str = sensitive()


@dataclass(frozen=True, kw_only=True)
class Nested(Message):
    items: tuple[Login, ...]
    meta: dict[str, int]
    blob: bytes = b""


class Model(pydantic.BaseModel):
    name: str
    steps: int


def test_dataclasses_round_trip_with_tuples() -> None:
    value = Nested(
        items=(Login(request_id="r", user="u", password="p"),),
        meta={"a": 1},
        blob=b"\x00\x01",
        scope=("x",),
    )
    assert unpack(pack(value, redact=False)) == value


def test_sensitive_fields_never_reach_the_encoding() -> None:
    data = pack(Login(request_id="r", user="ann", password="hunter2-secret"))
    assert b"hunter2-secret" not in data
    assert unpack(data).password == REDACTED


def test_pydantic_models_round_trip() -> None:
    assert unpack(pack(Model(name="m", steps=3))) == Model(name="m", steps=3)


def test_plain_form_round_trips() -> None:
    value = Nested(items=(), meta={"k": 2})
    plain = to_plain(value)
    assert plain["meta"] == {"k": 2} and plain["$t"].endswith(":Nested")
    assert from_plain(plain) == value


def test_unencodable_values_say_what_to_use() -> None:
    with pytest.raises(EncodeError, match="frozen dataclasses, pydantic models"):
        pack(object())


def test_unknown_type_in_a_log_names_the_type() -> None:
    with pytest.raises(DecodeError, match=r"gone\.module:Thing"):
        from_plain({"$t": "gone.module:Thing"})
