"""Model instances to Confluent-framed Avro bytes and back, with schema ids from the registry.

``prepare()`` looks up the id of every catalog model once, at start-up; it never registers
(that is the server's job) and fails clearly when a schema is missing. Decoding finds the
writer schema by the id in the frame, resolves it into the local model (so older producers
keep working), and caches it: the registry is asked at most once per unseen id.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from clubhouse.avro import AvroCodec, DecodeError, FramingError, frame, unframe
from clubhouse.contracts import BaseMessage, MessageCatalog
from clubhouse.contracts.catalog import MessageModel
from clubhouse.errors import ClubhouseError
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.kafka_protocol import RegisteredSchema, SchemaRegistryProtocol
from clubhouse.services.registry_errors import NotFoundError

log = logging.getLogger(__name__)

# Called with every outgoing message and its subject before it is serialized; raising refuses it.
BeforeSend = Callable[[BaseModel, str], None]


class SchemaNotRegisteredError(ClubhouseError):
    """A model's schema is not in the registry; the message says how to register it."""


class UndecodableMessageError(ClubhouseError):
    """Bytes that cannot become a catalog message; ``reason`` is a short machine-readable tag."""

    def __init__(self, reason: str, message: str, *, schema_id: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.schema_id = schema_id


class InvalidMessageError(UndecodableMessageError):
    """Avro read the bytes, but they break the model's rules (a field's constraint, say)."""

    def __init__(self, message: str, *, model: MessageModel, message_id: UUID | None) -> None:
        super().__init__("invalid_message", message)
        self.model = model
        self.message_id = message_id


@dataclass(frozen=True, slots=True)
class _Writer:
    model: MessageModel
    schema: str | None  # None: the local model's own schema, no resolution needed


class MessageSerde:
    """Serializes and deserializes catalog messages in Confluent's wire format."""

    def __init__(
        self,
        registry: SchemaRegistryProtocol,
        catalog: MessageCatalog,
        topic_prefix: str,
        *,
        before_send: BeforeSend | None = None,
    ) -> None:
        self._registry = registry
        self._catalog = catalog
        self._prefix = topic_prefix
        self._before_send = before_send
        self._codecs: dict[MessageModel, AvroCodec[Any]] = {m: AvroCodec(m) for m in catalog}
        self._by_fullname = {_fullname(c.schema): m for m, c in self._codecs.items()}
        self._ids: dict[MessageModel, int] = {}
        self._writers: dict[int, _Writer] = {}
        self._lock = threading.Lock()

    def prepare(self) -> dict[str, int]:
        """Look up every catalog model's schema id; raise if any is not registered.

        The lookups run concurrently: one after another they are most of a short-lived
        client's start-up (14 round trips for the built-in catalog).
        """
        models = list(self._catalog)

        def lookup(model: MessageModel) -> RegisteredSchema | None:
            return self._registry.lookup(subject_name(self._prefix, model), model_schema(model))

        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="serde-prepare") as pool:
            results = list(pool.map(lookup, models))
        missing: list[str] = []
        for model, found in zip(models, results, strict=True):
            subject = subject_name(self._prefix, model)
            if found is None:
                missing.append(subject)
                continue
            self._ids[model] = found.schema_id
            self._writers[found.schema_id] = _Writer(model, None)
        if missing:
            raise SchemaNotRegisteredError(
                f"{len(missing)} schema(s) are not registered: {', '.join(missing)}. Run "
                "`clubhouse register` (or the service with --register-schemas-only) first; "
                "clients never register schemas themselves"
            )
        log.info("schema ids loaded", extra={"models": len(self._ids)})
        return {m.__name__: i for m, i in self._ids.items()}

    def schema_id(self, model: MessageModel) -> int:
        """The registered schema id of ``model``'s subject, looked up by ``prepare``."""
        try:
            return self._ids[model]
        except KeyError:
            raise SchemaNotRegisteredError(
                f"no schema id for {model.__name__}: is it in the catalog, and was prepare() "
                "called?"
            ) from None

    def add(self, model: MessageModel) -> int:
        """Take in ``model``, whose schema was registered after start-up; its schema id.

        Refused (``SchemaNotRegisteredError``) when another model already has its name, since
        one name is one subject, or when its schema is not in the registry.
        """
        known = self._ids.get(model)
        if known is not None:
            return known
        codec = AvroCodec(model)
        fullname = _fullname(codec.schema)
        other = self._by_fullname.get(fullname)
        if other is not None and other is not model:
            raise SchemaNotRegisteredError(
                f"another model is already named {fullname!r} ({other.__module__}."
                f"{other.__qualname__}); each name has one subject"
            )
        subject = subject_name(self._prefix, model)
        found = self._registry.lookup(subject, model_schema(model))
        if found is None:
            raise SchemaNotRegisteredError(f"{subject} is not registered")
        with self._lock:
            self._codecs[model] = codec
            self._by_fullname[fullname] = model
            self._ids[model] = found.schema_id
            self._writers.setdefault(found.schema_id, _Writer(model, None))
        return found.schema_id

    def serialize(self, message: BaseModel) -> bytes:
        """``message`` (or an app's state) in Confluent framing under its model's registered
        schema id."""
        model = type(message)
        if self._before_send is not None:
            self._before_send(message, subject_name(self._prefix, model))
        codec = self._codecs.get(model)
        if codec is None:
            raise SchemaNotRegisteredError(f"{model.__name__} is not in the message catalog")
        return frame(self.schema_id(model), codec.encode(message))

    def deserialize(self, data: bytes) -> BaseMessage:
        """The message in ``data``; ``UndecodableMessageError`` says why when it cannot be."""
        try:
            schema_id, body = unframe(data)
        except FramingError as exc:
            raise UndecodableMessageError("bad_framing", str(exc)) from exc
        writer = self._writers.get(schema_id) or self._load_writer(schema_id)
        codec = self._codecs[writer.model]
        try:
            message: BaseMessage = codec.decode(body, writer_schema=writer.schema)
        except DecodeError as exc:
            if exc.datum is not None:
                raise InvalidMessageError(
                    str(exc), model=writer.model, message_id=_uuid(exc.datum.get("message_id"))
                ) from exc
            raise UndecodableMessageError(
                "undecodable", f"schema id {schema_id}: {exc}", schema_id=schema_id
            ) from exc
        return message

    def _load_writer(self, schema_id: int) -> _Writer:
        # A schema id this process has not seen: another version of a known model, usually.
        try:
            text = self._registry.get_schema(schema_id)
        except NotFoundError as exc:
            raise UndecodableMessageError(
                "unknown_schema_id",
                f"schema id {schema_id} is not in the registry",
                schema_id=schema_id,
            ) from exc
        try:
            name = _fullname(json.loads(text))
        except (ValueError, TypeError, KeyError) as exc:
            raise UndecodableMessageError(
                "unknown_schema_id", f"schema id {schema_id} is not an Avro record schema",
                schema_id=schema_id,
            ) from exc  # fmt: skip
        model = self._by_fullname.get(name)
        if model is None:
            raise UndecodableMessageError(
                "unknown_message_type",
                f"schema id {schema_id} is record {name!r}, which is not in the message catalog",
                schema_id=schema_id,
            )
        writer = _Writer(model, text)
        with self._lock:
            self._writers[schema_id] = writer
        return writer


def _fullname(schema: Any) -> str:
    name = str(schema["name"])
    namespace = schema.get("namespace")
    return f"{namespace}.{name}" if namespace and "." not in name else name


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value)) if value is not None else None
    except ValueError:
        return None
