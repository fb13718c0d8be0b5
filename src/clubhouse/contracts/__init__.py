"""Clubhouse's message contracts: the bases every app's messages derive from, and the
catalog of an app's models. Pydantic models, independent of Avro and Kafka."""

from clubhouse.contracts.base import BaseMessage, Command, Event, Response
from clubhouse.contracts.catalog import CatalogError, MessageCatalog
from clubhouse.contracts.responses import ErrorResponse

__all__ = [
    "BaseMessage",
    "CatalogError",
    "Command",
    "ErrorResponse",
    "Event",
    "MessageCatalog",
    "Response",
]
