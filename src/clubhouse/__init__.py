"""Clubhouse: Kafka commands, responses and events on Pydantic contracts registered as Avro.

The names users build on are importable from here::

    from clubhouse import App, Command, Context, Event, Response, ClubhouseClient

They are loaded on first use, so ``import clubhouse`` (which every submodule import does)
stays cheap for the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "App": "clubhouse.application",
    "Context": "clubhouse.application",
    "CommandRejected": "clubhouse.application",
    "BaseMessage": "clubhouse.contracts",
    "Command": "clubhouse.contracts",
    "Response": "clubhouse.contracts",
    "Event": "clubhouse.contracts",
    "ErrorResponse": "clubhouse.contracts",
    "MessageCatalog": "clubhouse.contracts",
    "ClubhouseClient": "clubhouse.client",
    "RequestTimeoutError": "clubhouse.client",
    "ClubhouseError": "clubhouse.errors",
    "SchemaRegistrator": "clubhouse.messaging.schema_registrator",
    "SchemaRegistrationError": "clubhouse.messaging.schema_registrator",
    "ConfluentSchemaRegistry": "clubhouse.services.schema_registry",
    "KafkaSettings": "clubhouse.services.kafka_settings",
    "TestApp": "clubhouse.testing",
}

__all__ = [*_EXPORTS, "__version__"]  # noqa: PLE0604 - the mapping is the one list of names

if TYPE_CHECKING:  # for type checkers only; a unit test keeps it equal to _EXPORTS
    from clubhouse.application import App as App
    from clubhouse.application import CommandRejected as CommandRejected
    from clubhouse.application import Context as Context
    from clubhouse.client import ClubhouseClient as ClubhouseClient
    from clubhouse.client import RequestTimeoutError as RequestTimeoutError
    from clubhouse.contracts import BaseMessage as BaseMessage
    from clubhouse.contracts import Command as Command
    from clubhouse.contracts import ErrorResponse as ErrorResponse
    from clubhouse.contracts import Event as Event
    from clubhouse.contracts import MessageCatalog as MessageCatalog
    from clubhouse.contracts import Response as Response
    from clubhouse.errors import ClubhouseError as ClubhouseError
    from clubhouse.messaging.schema_registrator import (
        SchemaRegistrationError as SchemaRegistrationError,
    )
    from clubhouse.messaging.schema_registrator import SchemaRegistrator as SchemaRegistrator
    from clubhouse.services.kafka_settings import KafkaSettings as KafkaSettings
    from clubhouse.services.schema_registry import (
        ConfluentSchemaRegistry as ConfluentSchemaRegistry,
    )
    from clubhouse.testing import TestApp as TestApp


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'clubhouse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain lookup
    return value
