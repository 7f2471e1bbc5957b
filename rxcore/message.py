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
from collections.abc import Callable, Collection
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


def _build_encoder(cls: type, redact: bool, sample: Any) -> _Encoder:
    path = type_path(cls)
    if dataclasses.is_dataclass(cls):
        fields = dataclasses.fields(cls)
        names = tuple(f.name for f in fields)
        secret = (
            frozenset(f.name for f in fields if f.metadata.get(SENSITIVE_KEY)) if redact else ()
        )
        if secret or _fields_in_order(fields, sample):
            return _compile_encoder(names, secret, path)
        count = len(names)

        def encode(obj: Any) -> dict[str, Any]:
            # The instance dict's order (a __post_init__ set a field late): copying it keeps
            # the bytes this class has always been written with.
            out: dict[str, Any] | None = getattr(obj, "__dict__", None)
            if out is None or len(out) != count:
                out = {name: getattr(obj, name) for name in names}
            else:
                out = out.copy()
            out[TYPE_KEY] = path
            return out

        return encode

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


def _fields_in_order(fields: tuple[dataclasses.Field[Any], ...], sample: Any) -> bool:
    """Whether instances hold their fields in declaration order, as the generated __init__
    sets them: then reading the fields in that order gives the instance dict's own order."""
    missing = dataclasses.MISSING
    if not all(
        f.init or f.default is not missing or f.default_factory is not missing for f in fields
    ):
        return False  # a field only __post_init__ sets
    held = getattr(sample, "__dict__", None)
    if held is None or len(held) != len(fields):
        return True  # these were always encoded field by field
    return list(held) == [f.name for f in fields]


def _compile_encoder(names: tuple[str, ...], secret: Collection[str], path: str) -> _Encoder:
    # One dict display that reads each field: no instance dict is materialised and copied
    # (Python 3.11 keeps attributes inline until __dict__ is asked for), a third faster.
    # Field names are identifiers (dataclasses checks them), so the source is well formed.
    items = "".join(
        f"{name!r}: REDACTED, " if name in secret else f"{name!r}: obj.{name}, " for name in names
    )
    source = f"def encode(obj):\n    return {{{items}TYPE_KEY: PATH}}\n"
    namespace: dict[str, Any] = {"REDACTED": REDACTED, "TYPE_KEY": TYPE_KEY, "PATH": path}
    exec(source, namespace)
    encode: _Encoder = namespace["encode"]
    return encode


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
            encoder = cache[cls] = _build_encoder(cls, redact, obj)
        return encoder(obj)

    return default


_plain_default = _default(_plain_encoders, redact=False)
_redacting_default = _default(_redacting_encoders, redact=True)


def packer(*, redact: bool = True) -> msgpack.Packer:
    """A msgpack packer for messages; the log always uses the redacting one."""
    return msgpack.Packer(default=_redacting_default if redact else _plain_default)


def encoder_lookup(*, redact: bool = True) -> Callable[[type], _Encoder | None]:
    """``lookup(type(value))``: the map maker msgpack's ``default`` hook uses for that class, or
    None while no value of the class has been packed (or it is not a message class).

    ``pack((name, lookup(cls)(value)))`` gives the very bytes of ``pack((name, value))``: the
    hook would return that same map. The log writes every event and sink emission this way,
    sparing msgpack its failed tries of every built-in type and the call back into Python
    (about a third of the cost of packing a small message).
    """
    return (_redacting_encoders if redact else _plain_encoders).get


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
