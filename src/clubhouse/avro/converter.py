"""Pydantic v2 models to Avro schemas, plus the value converters the codec uses.

One walk over each model's ``model_fields`` yields both the schema and, for every field, how a
Python value becomes an Avro datum and back, so the schema and the codec cannot disagree. The
mapping policy is documented in docs/avro-mapping.md. ``model_json_schema()`` is deliberately not
used: it loses Decimal precision, timedelta, ``Any`` and enum names.
"""

from __future__ import annotations

import enum
import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping, MutableSequence, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args, get_origin
from uuid import UUID

import pydantic_core
from pydantic import AwareDatetime, BaseModel, NaiveDatetime
from pydantic.fields import FieldInfo

from clubhouse.avro.errors import SchemaConversionError
from clubhouse.avro.names import is_avro_name, split_fullname

Converter = Callable[[Any], Any]
Schema = Any  # an Avro schema fragment: a type name, a dict or a union list

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)
_MICRO = timedelta(microseconds=1)
_JSON_SCHEMA: dict[str, str] = {"type": "string", "logicalType": "json"}


@dataclass(slots=True)
class _Mapped:
    """One annotation's Avro form and its value converters (``None`` means identity)."""

    schema: Schema
    to_avro: Converter | None
    from_avro: Converter | None
    to_default: Converter
    # The Avro type a union may hold once: a primitive/complex type name, or a named type's name.
    union_key: str
    # Python types that select this branch when encoding a union / that fastavro hands back.
    py_types: tuple[type, ...]
    decoded_types: tuple[type, ...]
    named_class: type | None = None  # a model or enum class, for union tuple notation


@dataclass(slots=True)
class _RecordPlan:
    """A record's field converters, filled after its fields are walked.

    The empty plan exists first so that a recursive reference can point at it.
    """

    model: type[BaseModel]
    fullname: str
    plain: list[tuple[str, str]] = field(default_factory=list)
    to_conv: list[tuple[str, str, Converter]] = field(default_factory=list)
    from_conv: list[tuple[str, Converter]] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Converter] = field(default_factory=dict)

    def to_avro(self, obj: Any) -> dict[str, Any]:
        values = obj.__dict__
        out = {avro: values[py] for py, avro in self.plain}
        for py, avro, conv in self.to_conv:
            out[avro] = conv(values[py])
        return out

    def from_avro(self, datum: dict[str, Any]) -> BaseModel:
        for avro, conv in self.from_conv:
            if avro in datum:
                datum[avro] = conv(datum[avro])
        if self.renames:
            datum = {self.renames.get(k, k): v for k, v in datum.items()}
            return self.model.model_validate(datum, by_alias=False, by_name=True)
        return self.model.model_validate(datum)

    def to_default(self, obj: Any) -> dict[str, Any]:
        if not isinstance(obj, self.model):
            obj = self.model.model_validate(obj)
        values = obj.__dict__
        out: dict[str, Any] = {}
        for py, avro in self.plain:
            out[avro] = self.defaults[avro](values[py])
        for py, avro, _ in self.to_conv:
            out[avro] = self.defaults[avro](values[py])
        return out


@dataclass(frozen=True, slots=True)
class CompiledModel:
    """A model's Avro schema and the converters between its instances and Avro datums."""

    model: type[BaseModel]
    schema: dict[str, Any]
    to_avro: Callable[[BaseModel], dict[str, Any]]
    from_avro: Callable[[dict[str, Any]], BaseModel]


def model_to_avro(model: type[BaseModel], *, namespace: str | None = None) -> dict[str, Any]:
    """The Avro record schema of ``model``; raises ``SchemaConversionError`` naming the field."""
    return compile_model(model, namespace=namespace).schema


def compile_model(model: type[BaseModel], *, namespace: str | None = None) -> CompiledModel:
    """Walk ``model`` once, returning its schema and its instance <-> datum converters."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise SchemaConversionError(repr(model), "expected a pydantic BaseModel subclass")
    walker = _Walker(namespace if namespace is not None else model_namespace(model))
    mapped = walker.record(model, model.__name__, top=True)
    plan = walker.plans[mapped.union_key]
    schema = mapped.schema
    if not isinstance(schema, dict):  # pragma: no cover - the first use is always inline
        raise AssertionError("top-level record was not defined inline")
    return CompiledModel(model, schema, plan.to_avro, plan.from_avro)


def model_namespace(model: type[BaseModel]) -> str | None:
    """The namespace a model asks for with the class attribute ``__avro_namespace__``."""
    value = getattr(model, "__avro_namespace__", None)
    return value if isinstance(value, str) else None


def avro_field_name(name: str, info: FieldInfo) -> str:
    """The wire name of a field: its serialization alias when it has one."""
    return info.serialization_alias or info.alias or name


def canonical_json(schema: Schema) -> str:
    """Deterministic compact JSON: attributes in a fixed order, whatever order they came in."""
    return json.dumps(_ordered(schema), separators=(",", ":"), ensure_ascii=False)


_KEY_ORDER = (
    "name", "type", "namespace", "doc", "aliases", "fields", "symbols", "default",
    "items", "values", "size", "logicalType", "precision", "scale", "order",
)  # fmt: skip


def _ordered(schema: Schema) -> Schema:
    if isinstance(schema, list):
        return [_ordered(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    rank = {k: i for i, k in enumerate(_KEY_ORDER)}
    keys = sorted(schema, key=lambda k: (rank.get(k, len(rank)), k))
    out: dict[str, Any] = {}
    for key in keys:
        value = schema[key]
        # A default is data, not schema: its keys keep the order they were given.
        out[key] = value if key == "default" else _ordered(value)
    return out


def _fullname(namespace: str | None, cls: type) -> str:
    return f"{namespace}.{cls.__name__}" if namespace else cls.__name__


def _own_doc(cls: type) -> str | None:
    # Only the class's own docstring: never one inherited from pydantic's BaseModel or Enum.
    doc = cls.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else None


def _flatten_metadata(items: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, FieldInfo):
            out.extend(_flatten_metadata(item.metadata))
        elif item is not None:
            out.append(item)
    return out


def _identity_default(value: Any) -> Any:
    return value


class _Walker:
    """Maps annotations to ``_Mapped`` for one top-level model, tracking named types."""

    def __init__(self, namespace: str | None) -> None:
        self.namespace = namespace
        self.plans: dict[str, _RecordPlan] = {}
        self.named: dict[str, type] = {}

    # -- named types -------------------------------------------------------------------------
    def _claim_name(self, cls: type, path: str, *, top: bool = False) -> tuple[str, bool]:
        """Reserve ``cls``'s full name; returns (fullname, already_defined)."""
        own = model_namespace(cls) if issubclass(cls, BaseModel) else None
        ns = self.namespace if top or own is None else own
        if not is_avro_name(cls.__name__):
            raise SchemaConversionError(path, f"class name {cls.__name__!r} is not an Avro name")
        fullname = _fullname(ns, cls)
        existing = self.named.get(fullname)
        if existing is not None and existing is not cls:
            raise SchemaConversionError(
                path,
                f"two different classes are both named {fullname!r} "
                f"({existing.__module__}.{existing.__qualname__} and "
                f"{cls.__module__}.{cls.__qualname__}); rename one",
            )
        self.named[fullname] = cls
        return fullname, existing is not None

    def record(self, model: type[BaseModel], path: str, *, top: bool = False) -> _Mapped:
        fullname, defined = self._claim_name(model, path, top=top)
        if defined:
            plan = self.plans[fullname]
            schema: Schema = fullname
        else:
            plan = _RecordPlan(model, fullname)
            self.plans[fullname] = plan
            schema = self._record_schema(model, plan, fullname, path)
        return _Mapped(
            schema=schema,
            to_avro=plan.to_avro,
            from_avro=plan.from_avro,
            to_default=plan.to_default,
            union_key=fullname,
            py_types=(model,),
            decoded_types=(dict,),
            named_class=model,
        )

    def _record_schema(
        self, model: type[BaseModel], plan: _RecordPlan, fullname: str, path: str
    ) -> dict[str, Any]:
        name, ns = split_fullname(fullname)
        schema: dict[str, Any] = {"type": "record", "name": name}
        if ns:
            schema["namespace"] = ns
        doc = _own_doc(model)
        if doc:
            schema["doc"] = doc
        fields: list[dict[str, Any]] = []
        seen: set[str] = set()
        for py_name, info in model.model_fields.items():
            fpath = f"{path}.{py_name}"
            avro_name = avro_field_name(py_name, info)
            if not is_avro_name(avro_name):
                raise SchemaConversionError(fpath, f"field name {avro_name!r} is not an Avro name")
            if avro_name in seen:
                raise SchemaConversionError(fpath, f"duplicate Avro field name {avro_name!r}")
            seen.add(avro_name)
            fields.append(self._field(plan, py_name, avro_name, info, fpath))
        schema["fields"] = fields
        return schema

    def _field(
        self, plan: _RecordPlan, py_name: str, avro_name: str, info: FieldInfo, path: str
    ) -> dict[str, Any]:
        if info.annotation is None:
            raise SchemaConversionError(path, "the field has no type annotation")
        has_default = not info.is_required() and info.default_factory is None
        default = info.default if has_default else None
        mapped = self.annotation(
            info.annotation,
            _flatten_metadata(info.metadata),
            path,
            default_first=default if has_default and default is not None else _NO_DEFAULT,
        )
        out: dict[str, Any] = {"name": avro_name, "type": mapped.schema}
        doc = info.description or ""
        allowed = _literal_doc(info.annotation)
        if allowed:
            doc = f"{doc} {allowed}".strip()
        if doc:
            out["doc"] = doc
        if has_default:
            try:
                out["default"] = mapped.to_default(default)
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raise SchemaConversionError(
                    path, f"default {default!r} cannot be written as Avro: {exc}"
                ) from exc
        if py_name != avro_name:
            plan.renames[avro_name] = py_name
        plan.defaults[avro_name] = mapped.to_default
        if mapped.to_avro is None:
            plan.plain.append((py_name, avro_name))
        else:
            plan.to_conv.append((py_name, avro_name, mapped.to_avro))
        if mapped.from_avro is not None:
            plan.from_conv.append((avro_name, mapped.from_avro))
        return out

    # -- annotations ---------------------------------------------------------------------------
    def annotation(
        self, tp: Any, metadata: list[Any], path: str, default_first: Any = None
    ) -> _Mapped:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            inner, *extra = get_args(tp)
            return self.annotation(inner, metadata + _flatten_metadata(extra), path, default_first)
        supertype = getattr(tp, "__supertype__", None)  # typing.NewType
        if supertype is not None:
            return self.annotation(supertype, metadata, path, default_first)
        if tp is Any or tp is object:
            return _json_mapped()
        if origin in (typing.Union, types.UnionType):
            return self._union(tp, metadata, path, default_first)
        if origin is Literal:
            return _literal(tp, path)
        if origin is not None:
            return self._generic(tp, origin, metadata, path)
        if isinstance(tp, type):
            return self._plain_type(tp, metadata, path)
        raise SchemaConversionError(path, f"unsupported type {tp!r}")

    def _plain_type(self, tp: type, metadata: list[Any], path: str) -> _Mapped:
        if issubclass(tp, BaseModel):
            return self.record(tp, path)
        if issubclass(tp, enum.Enum):
            return self._enum(tp, path)
        simple = _SIMPLE.get(tp)
        if simple is not None:
            return simple()
        if issubclass(tp, datetime) or tp in (AwareDatetime, NaiveDatetime):
            return _datetime_mapped(naive=tp is NaiveDatetime)
        if tp is Decimal:
            return _decimal(metadata, path)
        if tp in (dict, list, set, frozenset, tuple):
            if tp in (dict, list):
                return _json_mapped()
            return self._generic(tp[Any], tp, metadata, path)
        raise SchemaConversionError(path, f"unsupported type {_type_name(tp)}")

    def _generic(self, tp: Any, origin: Any, metadata: list[Any], path: str) -> _Mapped:
        args = get_args(tp)
        if origin in (dict, Mapping, typing.Dict) or (  # noqa: UP006
            isinstance(origin, type) and issubclass(origin, Mapping)
        ):
            key, value = args if args else (Any, Any)
            if key is not str:
                raise SchemaConversionError(
                    path, f"map keys must be str, not {_type_name(key)} (in {tp!r})"
                )
            if value is Any:
                return _json_mapped()
            return _map(self.annotation(value, [], f"{path}[]"))
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                item_tp = args[0]
            else:
                raise SchemaConversionError(
                    path, f"fixed-length {tp!r} has no Avro form; use tuple[T, ...] or a model"
                )
        elif origin in (list, set, frozenset, Sequence, MutableSequence, AbstractSet):
            item_tp = args[0] if args else Any
        else:
            raise SchemaConversionError(path, f"unsupported type {tp!r}")
        if item_tp is Any:
            return _json_mapped()
        return _array(self.annotation(item_tp, [], f"{path}[]"))

    def _enum(self, cls: type[enum.Enum], path: str) -> _Mapped:
        fullname, defined = self._claim_name(cls, path)
        symbols = [m.name for m in cls]
        for sym in symbols:
            if not is_avro_name(sym):
                raise SchemaConversionError(
                    path, f"enum {cls.__name__} member {sym!r} is not an Avro symbol"
                )
        schema: Schema
        if defined:
            schema = fullname
        else:
            name, ns = split_fullname(fullname)
            schema = {"type": "enum", "name": name}
            if ns:
                schema["namespace"] = ns
            doc = _own_doc(cls)
            if doc:
                schema["doc"] = doc
            schema["symbols"] = symbols

        def to_avro(value: Any) -> str:
            return value.name if isinstance(value, cls) else cls(value).name

        def from_avro(symbol: str) -> enum.Enum:
            return cls[symbol]

        return _Mapped(schema, to_avro, from_avro, to_avro, fullname, (cls,), (str,), cls)

    def _union(self, tp: Any, metadata: list[Any], path: str, default_first: Any) -> _Mapped:
        args = get_args(tp)
        nullable = type(None) in args
        members = [a for a in args if a is not type(None)]
        if any(a is Any for a in members):
            inner = _json_mapped()
            return _nullable(inner, null_first=True) if nullable else inner
        branches = [self.annotation(a, metadata, path) for a in members]
        if len(branches) == 1 and not nullable:  # pragma: no cover - typing collapses these
            return branches[0]
        keys = [b.union_key for b in branches]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise SchemaConversionError(
                path,
                f"union {tp!r} holds more than one Avro {', '.join(dupes)}; Avro unions allow one "
                "of each unnamed type",
            )
        if "map" in keys and any(
            b.named_class and issubclass(b.named_class, BaseModel) for b in branches
        ):
            raise SchemaConversionError(
                path, f"union {tp!r} mixes a map and a record, which decode ambiguously"
            )
        if default_first is not _NO_DEFAULT:
            # Avro requires a union's default to match its first branch.
            idx = _branch_for(branches, default_first)
            if idx is None:
                raise SchemaConversionError(
                    path, f"default {default_first!r} matches no branch of {tp!r}"
                )
            branches.insert(0, branches.pop(idx))
        if len(branches) == 1:
            return _nullable(branches[0], null_first=default_first is _NO_DEFAULT)
        union = _general_union(branches)
        if nullable:
            return _nullable(union, null_first=default_first is _NO_DEFAULT)
        return union


class _NoDefault:
    def __repr__(self) -> str:
        return "<no default>"


_NO_DEFAULT: Any = _NoDefault()


def _branch_for(branches: list[_Mapped], value: Any) -> int | None:
    for i, b in enumerate(branches):
        if isinstance(value, bool) != (bool in b.py_types):
            continue
        if isinstance(value, b.py_types):
            return i
    return None


def _general_union(branches: list[_Mapped]) -> _Mapped:
    schema = [b.schema for b in branches]

    def to_avro(value: Any) -> Any:
        idx = _branch_for(branches, value)
        if idx is None:
            return value  # let fastavro report the mismatch with its own message
        b = branches[idx]
        datum = b.to_avro(value) if b.to_avro else value
        # Tuple notation names the branch, so two records with the same field names never
        # get confused the way fastavro's best-match guess would.
        return (b.union_key, datum) if b.named_class is not None else datum

    def from_avro(datum: Any) -> Any:
        if isinstance(datum, tuple):
            name, inner = datum
            for b in branches:
                if b.union_key == name:
                    return b.from_avro(inner) if b.from_avro else inner
            return inner
        kind = type(datum)
        for b in branches:
            if kind in b.decoded_types:
                is_enum = b.named_class is not None and issubclass(b.named_class, enum.Enum)
                if is_enum and datum not in b.named_class.__members__:  # type: ignore[union-attr]
                    continue
                return b.from_avro(datum) if b.from_avro else datum
        return datum

    def to_default(value: Any) -> Any:
        return branches[0].to_default(value)

    py_types = tuple(t for b in branches for t in b.py_types)
    decoded = tuple(t for b in branches for t in b.decoded_types)
    return _Mapped(schema, to_avro, from_avro, to_default, "union", py_types, decoded)


def _nullable(inner: _Mapped, *, null_first: bool) -> _Mapped:
    inner_schema = inner.schema if isinstance(inner.schema, list) else [inner.schema]
    schema = ["null", *inner_schema] if null_first else [*inner_schema, "null"]
    to_inner, from_inner = inner.to_avro, inner.from_avro
    to_avro = None if to_inner is None else (lambda v: None if v is None else to_inner(v))
    from_avro = None if from_inner is None else (lambda v: None if v is None else from_inner(v))
    if inner.named_class is not None and to_inner is not None:
        key = inner.union_key
        # A lone named branch beside null still gets tuple notation: cheap and unambiguous.
        to_avro = lambda v: None if v is None else (key, to_inner(v))  # noqa: E731
    inner_default = inner.to_default

    def to_default(value: Any) -> Any:
        return None if value is None else inner_default(value)

    return _Mapped(
        schema, to_avro, from_avro, to_default, "union",
        (*inner.py_types, type(None)), (*inner.decoded_types, type(None)),
    )  # fmt: skip


def _array(item: _Mapped) -> _Mapped:
    conv, back, item_default = item.to_avro, item.from_avro, item.to_default
    if conv is None:
        to_avro: Converter = lambda v: v if type(v) is list else list(v)  # noqa: E731
    else:
        to_avro = lambda v: [conv(x) for x in v]  # noqa: E731
    from_avro = None if back is None else (lambda v: [back(x) for x in v])
    return _Mapped(
        {"type": "array", "items": item.schema}, to_avro, from_avro,
        lambda v: [item_default(x) for x in v], "array",
        (list, tuple, set, frozenset), (list,),
    )  # fmt: skip


def _map(value: _Mapped) -> _Mapped:
    conv, back, value_default = value.to_avro, value.from_avro, value.to_default
    to_avro = None if conv is None else (lambda v: {k: conv(x) for k, x in v.items()})
    from_avro = None if back is None else (lambda v: {k: back(x) for k, x in v.items()})
    return _Mapped(
        {"type": "map", "values": value.schema}, to_avro, from_avro,
        lambda v: {k: value_default(x) for k, x in v.items()}, "map", (dict,), (dict,),
    )  # fmt: skip


def _json_dumps(value: Any) -> str:
    return pydantic_core.to_json(value).decode()


def _json_mapped() -> _Mapped:
    return _Mapped(
        dict(_JSON_SCHEMA), _json_dumps, json.loads, _json_dumps, "string",
        (object,), (str,),
    )  # fmt: skip


def _primitive(
    name: str, py: tuple[type, ...], to_default: Converter = _identity_default
) -> Callable[[], _Mapped]:
    def make() -> _Mapped:
        return _Mapped(name, None, None, to_default, name, py, py)

    return make


def _micros(delta: timedelta) -> int:
    return delta // _MICRO


def _datetime_mapped(*, naive: bool) -> _Mapped:
    def to_default(value: datetime) -> int:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return _micros(aware - _EPOCH)

    # fastavro writes naive values as UTC and reads back aware UTC values; a field declared
    # naive gets its naive UTC value back so that the round trip is exact.
    from_avro = (lambda v: v.astimezone(UTC).replace(tzinfo=None)) if naive else None
    return _Mapped(
        {"type": "long", "logicalType": "timestamp-micros"}, None, from_avro, to_default,
        "long", (datetime,), (datetime,),
    )  # fmt: skip


def _date() -> _Mapped:
    return _Mapped(
        {"type": "int", "logicalType": "date"}, None, None,
        lambda v: (v - _EPOCH_DATE).days, "int", (date,), (date,),
    )  # fmt: skip


def _time() -> _Mapped:
    def to_default(value: time) -> int:
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + (
            value.microsecond
        )

    return _Mapped(
        {"type": "long", "logicalType": "time-micros"}, None, None, to_default,
        "long", (time,), (time,),
    )  # fmt: skip


def _timedelta() -> _Mapped:
    def from_avro(value: int) -> timedelta:
        return timedelta(microseconds=value)

    return _Mapped(
        {"type": "long", "logicalType": "duration-micros"}, _micros, from_avro, _micros,
        "long", (timedelta,), (int,),
    )  # fmt: skip


def _uuid() -> _Mapped:
    return _Mapped(
        {"type": "string", "logicalType": "uuid"}, str, None, str, "string", (UUID,), (UUID, str)
    )


def _decimal(metadata: list[Any], path: str) -> _Mapped:
    precision = next((m.max_digits for m in metadata if getattr(m, "max_digits", None)), None)
    scale = next(
        (m.decimal_places for m in metadata if getattr(m, "decimal_places", None) is not None),
        None,
    )
    if precision is None or scale is None:
        raise SchemaConversionError(
            path,
            "Decimal needs both max_digits and decimal_places, e.g. "
            "Field(max_digits=12, decimal_places=2), to become Avro decimal(precision, scale)",
        )

    def to_default(value: Decimal) -> str:
        unscaled = int(Decimal(value).scaleb(scale).to_integral_value())
        size = max(1, (unscaled.bit_length() + 8) // 8)
        return unscaled.to_bytes(size, "big", signed=True).decode("latin-1")

    schema = {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}
    return _Mapped(schema, None, None, to_default, "bytes", (Decimal,), (Decimal,))


def _literal(tp: Any, path: str) -> _Mapped:
    values = get_args(tp)
    kinds = {type(v) for v in values}
    if kinds == {str}:
        return _primitive("string", (str,))()
    if kinds == {bool}:
        return _primitive("boolean", (bool,))()
    if kinds == {int}:
        return _primitive("long", (int,))()
    raise SchemaConversionError(path, f"{tp!r} mixes value types; Avro needs one type")


def _literal_doc(tp: Any) -> str | None:
    for arg in [tp, *get_args(tp)]:
        if get_origin(arg) is Literal:
            return "Allowed values: " + ", ".join(repr(v) for v in get_args(arg)) + "."
    return None


def _type_name(tp: Any) -> str:
    return getattr(tp, "__qualname__", None) or repr(tp)


_SIMPLE: dict[type, Callable[[], _Mapped]] = {
    bool: _primitive("boolean", (bool,)),
    int: _primitive("long", (int,)),
    float: _primitive("double", (float, int), float),
    str: _primitive("string", (str,)),
    bytes: _primitive("bytes", (bytes,), lambda v: bytes(v).decode("latin-1")),
    date: _date,
    time: _time,
    timedelta: _timedelta,
    UUID: _uuid,
}
