"""Pydantic v2 models to Avro schemas, plus the value converters the codec uses.

One walk over each model's ``model_fields`` yields both the schema and, for every field, how a
Python value becomes an Avro datum and back, so the schema and the codec cannot disagree. The
mapping policy is documented in docs/avro-mapping.md. ``model_json_schema()`` is deliberately not
used: it loses Decimal precision, timedelta, ``Any`` and enum names.
"""

from __future__ import annotations

import enum
import inspect
import types
import typing
from collections.abc import Callable, Mapping, MutableSequence, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, NaiveDatetime
from pydantic.fields import FieldInfo

from clubhouse.avro.errors import SchemaConversionError
from clubhouse.avro.forms import (
    NO_DEFAULT,
    SIMPLE_FORMS,
    Converter,
    Schema,
    TypeForm,
    array_form,
    branch_for,
    datetime_form,
    decimal_form,
    json_form,
    literal_doc,
    literal_form,
    map_form,
    nullable_form,
    type_name,
    union_form,
)
from clubhouse.avro.names import is_avro_name, split_fullname


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


class _Walker:
    """Maps annotations to ``TypeForm`` for one top-level model, tracking named types."""

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

    def record(self, model: type[BaseModel], path: str, *, top: bool = False) -> TypeForm:
        fullname, defined = self._claim_name(model, path, top=top)
        if defined:
            plan = self.plans[fullname]
            schema: Schema = fullname
        else:
            plan = _RecordPlan(model, fullname)
            self.plans[fullname] = plan
            schema = self._record_schema(model, plan, fullname, path)
        return TypeForm(
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
            default_first=default if has_default and default is not None else NO_DEFAULT,
        )
        out: dict[str, Any] = {"name": avro_name, "type": mapped.schema}
        doc = info.description or ""
        allowed = literal_doc(info.annotation)
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
        self, tp: Any, metadata: list[Any], path: str, default_first: Any = NO_DEFAULT
    ) -> TypeForm:
        # NO_DEFAULT, not None: an item type inside a container has no default of its own,
        # and None would be read as "the default is null" and refused by a non-null branch.
        origin = get_origin(tp)
        if origin is typing.Annotated:
            inner, *extra = get_args(tp)
            return self.annotation(inner, metadata + _flatten_metadata(extra), path, default_first)
        supertype = getattr(tp, "__supertype__", None)  # typing.NewType
        if supertype is not None:
            return self.annotation(supertype, metadata, path, default_first)
        if tp is Any or tp is object:
            return json_form()
        if origin in (typing.Union, types.UnionType):
            return self._union(tp, metadata, path, default_first)
        if origin is Literal:
            return literal_form(tp, path)
        if origin is not None:
            return self._generic(tp, origin, metadata, path)
        if isinstance(tp, type):
            return self._plain_type(tp, metadata, path)
        raise SchemaConversionError(path, f"unsupported type {tp!r}")

    def _plain_type(self, tp: type, metadata: list[Any], path: str) -> TypeForm:
        if issubclass(tp, BaseModel):
            return self.record(tp, path)
        if issubclass(tp, enum.Enum):
            return self._enum(tp, path)
        simple = SIMPLE_FORMS.get(tp)
        if simple is not None:
            return simple()
        if issubclass(tp, datetime) or tp in (AwareDatetime, NaiveDatetime):
            return datetime_form(naive=tp is NaiveDatetime)
        if tp is Decimal:
            return decimal_form(metadata, path)
        if tp in (dict, list, set, frozenset, tuple):
            if tp in (dict, list):
                return json_form()
            return self._generic(tp[Any], tp, metadata, path)
        raise SchemaConversionError(path, f"unsupported type {type_name(tp)}")

    def _generic(self, tp: Any, origin: Any, metadata: list[Any], path: str) -> TypeForm:
        args = get_args(tp)
        if origin in (dict, Mapping, typing.Dict) or (  # noqa: UP006
            isinstance(origin, type) and issubclass(origin, Mapping)
        ):
            key, value = args if args else (Any, Any)
            if key is not str:
                raise SchemaConversionError(
                    path, f"map keys must be str, not {type_name(key)} (in {tp!r})"
                )
            if value is Any:
                return json_form()
            return map_form(self.annotation(value, [], f"{path}[]"))
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
            return json_form()
        return array_form(self.annotation(item_tp, [], f"{path}[]"))

    def _enum(self, cls: type[enum.Enum], path: str) -> TypeForm:
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

        return TypeForm(schema, to_avro, from_avro, to_avro, fullname, (cls,), (str,), cls)

    def _union(self, tp: Any, metadata: list[Any], path: str, default_first: Any) -> TypeForm:
        args = get_args(tp)
        nullable = type(None) in args
        members = [a for a in args if a is not type(None)]
        if any(a is Any for a in members):
            inner = json_form()
            return nullable_form(inner, null_first=True) if nullable else inner
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
        if default_first is not NO_DEFAULT:
            # Avro requires a union's default to match its first branch.
            idx = branch_for(branches, default_first)
            if idx is None:
                raise SchemaConversionError(
                    path, f"default {default_first!r} matches no branch of {tp!r}"
                )
            branches.insert(0, branches.pop(idx))
        if len(branches) == 1:
            return nullable_form(branches[0], null_first=default_first is NO_DEFAULT)
        union = union_form(branches)
        if nullable:
            return nullable_form(union, null_first=default_first is NO_DEFAULT)
        return union
