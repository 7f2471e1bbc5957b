"""Messages: the values that travel between main and drivers, and their log encoding.

Requests and events are frozen dataclasses (or pydantic models). They are encoded for the log by
their import path, so replay can rebuild the very same objects without a registry: a dataclass
becomes a msgpack map whose reserved key ``"$t"`` holds ``"module:QualName"``. Sequences decode
as tuples because messages are immutable values.

Fields marked with :func:`sensitive` (passwords, tokens) never reach the log: the redacting
encoder writes :data:`REDACTED` in their place. Verification compares redacted encodings, so a
replay never needs the secret itself.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Any, Final

import msgpack

TYPE_KEY: Final = "$t"
REDACTED: Final = "<redacted>"
SENSITIVE_KEY: Final = "rxgen.sensitive"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Message:
    """Base of requests and events.

    ``scope`` is the isolation path: :func:`rxcore.isolate.isolate` prefixes it on requests a
    child sends, and drivers copy it from a request onto the events that answer it, so only the
    child that asked sees the answer.
    """

    scope: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Request(Message):
    """A request that can be answered, failed or cancelled by id.

    Ids come from main (derived from source events), never from a random generator, so that a
    replay produces the same ids.
    """

    request_id: str


def sensitive(**kwargs: Any) -> Any:
    """A dataclass field whose value is redacted in the log (``password: str = sensitive()``)."""
    metadata = {**kwargs.pop("metadata", {}), SENSITIVE_KEY: True}
    return dataclasses.field(metadata=metadata, **kwargs)


class EncodeError(TypeError):
    """A value that cannot be written to the log."""


class DecodeError(ValueError):
    """A logged value whose type cannot be rebuilt (moved, renamed or not importable)."""


def type_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


_Encoder = Callable[[Any], dict[str, Any]]
_plain_encoders: dict[type, _Encoder] = {}
_redacting_encoders: dict[type, _Encoder] = {}


def _build_encoder(cls: type, redact: bool) -> _Encoder:
    path = type_path(cls)
    if dataclasses.is_dataclass(cls):
        fields = dataclasses.fields(cls)
        names = tuple(f.name for f in fields)
        secret = (
            frozenset(f.name for f in fields if f.metadata.get(SENSITIVE_KEY)) if redact else ()
        )
        if not secret:
            count = len(names)

            def encode(obj: Any) -> dict[str, Any]:
                # Copying the instance dict is several times faster than reading each field;
                # anything extra in it (a cached property) sends us the slow, exact way.
                out: dict[str, Any] | None = getattr(obj, "__dict__", None)
                if out is None or len(out) != count:
                    out = {name: getattr(obj, name) for name in names}
                else:
                    out = out.copy()
                out[TYPE_KEY] = path
                return out

            return encode

        def encode_redacted(obj: Any) -> dict[str, Any]:
            out = {n: (REDACTED if n in secret else getattr(obj, n)) for n in names}
            out[TYPE_KEY] = path
            return out

        return encode_redacted

    model_dump = getattr(cls, "model_dump", None)
    if model_dump is not None:
        secret_names = frozenset(
            name
            for name, info in getattr(cls, "model_fields", {}).items()
            if redact and (info.json_schema_extra or {}).get(SENSITIVE_KEY)
        )

        def encode_model(obj: Any) -> dict[str, Any]:
            out: dict[str, Any] = obj.model_dump(mode="python")
            for name in secret_names:
                out[name] = REDACTED
            out[TYPE_KEY] = path
            return out

        return encode_model

    raise EncodeError(
        f"cannot encode a value of type {path} for the log: messages and state must be frozen "
        "dataclasses, pydantic models, or msgpack primitives (None, bool, int, float, str, "
        "bytes, tuple, list, dict)"
    )


def _default(cache: dict[type, _Encoder], redact: bool) -> Callable[[Any], Any]:
    def default(obj: Any) -> Any:
        cls = type(obj)
        encoder = cache.get(cls)
        if encoder is None:
            if isinstance(obj, frozenset | set):
                return sorted(obj)
            if isinstance(obj, int):
                raise EncodeError(
                    f"cannot encode the integer {obj} for the log: it does not fit in 64 bits; "
                    "keep it as a string if it must be this large"
                )
            encoder = cache[cls] = _build_encoder(cls, redact)
        return encoder(obj)

    return default


_plain_default = _default(_plain_encoders, redact=False)
_redacting_default = _default(_redacting_encoders, redact=True)


def packer(*, redact: bool = True) -> msgpack.Packer:
    """A msgpack packer for messages; the log always uses the redacting one."""
    return msgpack.Packer(default=_redacting_default if redact else _plain_default)


def pack(value: Any, *, redact: bool = True) -> bytes:
    return msgpack.packb(value, default=_redacting_default if redact else _plain_default)


_classes: dict[str, type] = {}


def resolve_type(path: str) -> type:
    """Import the class named by ``module:QualName`` (cached)."""
    cls = _classes.get(path)
    if cls is not None:
        return cls
    module_name, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise DecodeError(
            f"the log names type {path!r}, which cannot be imported here ({exc}); run with the "
            "code that wrote the log, or keep the old class importable under that name"
        ) from exc
    if not isinstance(obj, type):
        raise DecodeError(f"the log names {path!r} as a type, but it is a {type(obj).__name__}")
    _classes[path] = obj
    return obj


def _object_hook(data: dict[str, Any]) -> Any:
    path = data.pop(TYPE_KEY, None)
    if path is None:
        return data
    cls = resolve_type(path)
    if hasattr(cls, "model_validate"):
        return cls.model_validate(data)
    return cls(**data)


def unpack(data: bytes) -> Any:
    """Decode bytes written by :func:`pack` back into messages."""
    return msgpack.unpackb(data, object_hook=_object_hook, use_list=False, strict_map_key=False)


def unpacker() -> msgpack.Unpacker:
    return msgpack.Unpacker(object_hook=_object_hook, use_list=False, strict_map_key=False)


def to_plain(value: Any, *, redact: bool = True) -> Any:
    """The value as plain maps and lists (what diffs and comparisons work on)."""
    return msgpack.unpackb(pack(value, redact=redact), use_list=True, strict_map_key=False)


def from_plain(value: Any) -> Any:
    """Rebuild messages from their plain form (inverse of :func:`to_plain`)."""
    return unpack(msgpack.packb(value))
