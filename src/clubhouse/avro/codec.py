"""Avro binary encoding of model instances on fastavro, with schema resolution on decode."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any, Generic, TypeVar

import fastavro
from fastavro.read import SchemaResolutionError
from pydantic import BaseModel, ValidationError

from clubhouse.avro.canonical import canonical_json
from clubhouse.avro.converter import compile_model
from clubhouse.avro.errors import DecodeError, EncodeError, SchemaConversionError
from clubhouse.avro.writer import Unhandled, compile_writer

M = TypeVar("M", bound=BaseModel)

_READ_ERRORS = (EOFError, ValueError, TypeError, KeyError, IndexError, StopIteration, OverflowError)


class AvroCodec(Generic[M]):
    """Encodes instances of one model to Avro bodies and decodes bodies back into it.

    ``decode(data, writer_schema=...)`` reads a body written with another version of the schema
    and resolves it into this model by Avro's rules (defaults fill added fields, aliases map
    renamed ones), so consumers keep reading what older producers wrote.
    """

    def __init__(self, model: type[M], *, namespace: str | None = None) -> None:
        compiled = compile_model(model, namespace=namespace)
        self.model = model
        self.schema: dict[str, Any] = compiled.schema
        self.schema_json = canonical_json(compiled.schema)
        self._to_avro = compiled.to_avro
        self._from_avro = compiled.from_avro
        # The bytes of a uuid-typed string are those of a plain string; reading it as one skips
        # fastavro's slow Python UUID construction, and pydantic parses the text in Rust.
        plain = _plain_uuids(compiled.schema)
        self._parsed = fastavro.parse_schema(plain)
        # Flat records (every built-in message) are written by a compiled writer; fastavro
        # writes the rest, and any datum the compiled writer does not take exactly.
        self._fast_writer = compile_writer(plain)
        self._record_names = _has_record_union(compiled.schema)
        # Writer schemas seen on decode, parsed once each; keyed by their JSON text.
        self._writers: dict[str, Any] = {}

    def encode(self, instance: M) -> bytes:
        """The Avro binary body of ``instance`` (no framing)."""
        if not isinstance(instance, self.model):
            raise EncodeError(
                f"{self.model.__name__} codec cannot encode a {type(instance).__name__}"
            )
        out = BytesIO()
        try:
            datum = self._to_avro(instance)
            if self._fast_writer is not None:
                try:
                    return self._fast_writer(datum)
                except (Unhandled, KeyError, TypeError, ValueError):
                    pass  # fastavro writes it, or says why it cannot
            fastavro.schemaless_writer(out, self._parsed, datum)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise EncodeError(f"cannot encode {self.model.__name__}: {exc}") from exc
        return out.getvalue()

    def decode(self, data: bytes, writer_schema: dict[str, Any] | str | None = None) -> M:
        """Read a body written with ``writer_schema`` (default: this model's own schema)."""
        writer = self._parsed if writer_schema is None else self._writer(writer_schema)
        reader = None if writer_schema is None else self._parsed
        buf = BytesIO(data)
        try:
            datum = fastavro.schemaless_reader(
                buf,
                writer,
                reader,
                return_record_name=self._record_names,
                return_record_name_override=self._record_names,
            )
        except SchemaResolutionError as exc:
            # Registered under NONE, say: the writer's schema is not one this model can read.
            raise DecodeError(
                f"cannot read {len(data)} bytes as {self.model.__name__}: the writer schema "
                f"does not resolve into it: {exc}"
            ) from exc
        except _READ_ERRORS as exc:
            raise DecodeError(
                f"cannot read {len(data)} bytes as {self.model.__name__}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if buf.tell() != len(data):
            raise DecodeError(
                f"{len(data) - buf.tell()} trailing bytes after a {self.model.__name__} body; "
                "the writer schema does not match the data"
            )
        try:
            instance = self._from_avro(datum)  # type: ignore[arg-type]
        except (ValidationError, *_READ_ERRORS) as exc:
            raise DecodeError(
                f"decoded data is not a valid {self.model.__name__}: {exc}",
                datum=datum if isinstance(datum, dict) else None,
            ) from exc
        return instance  # type: ignore[return-value]

    def _writer(self, schema: dict[str, Any] | str) -> Any:
        key = schema if isinstance(schema, str) else canonical_json(schema)
        parsed = self._writers.get(key)
        if parsed is None:
            try:
                raw = json.loads(schema) if isinstance(schema, str) else schema
                parsed = fastavro.parse_schema(_plain_uuids(raw))
            except (ValueError, TypeError, KeyError) as exc:
                raise SchemaConversionError(
                    f"writer schema for {self.model.__name__}", f"not a valid Avro schema: {exc}"
                ) from exc
            self._writers[key] = parsed
        return parsed


def _plain_uuids(schema: Any) -> Any:
    """``schema`` with every uuid logical type replaced by its plain ``string``."""
    if isinstance(schema, list):
        return [_plain_uuids(s) for s in schema]
    if isinstance(schema, dict):
        if schema.get("logicalType") == "uuid" and schema.get("type") == "string":
            return "string"
        return {k: _plain_uuids(v) for k, v in schema.items()}
    return schema


_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def _has_record_union(schema: Any) -> bool:
    """True when some union holds two or more named types, so decoding must learn which one."""
    if isinstance(schema, list):
        named = [
            s
            for s in schema
            if (isinstance(s, str) and s not in _PRIMITIVES)
            or (isinstance(s, dict) and s.get("type") in ("record", "enum", "fixed"))
        ]
        return len(named) > 1 or any(_has_record_union(s) for s in schema)
    if isinstance(schema, dict):
        return any(_has_record_union(v) for k, v in schema.items() if k != "default")
    return False
