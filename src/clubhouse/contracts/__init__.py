"""Clubhouse's message contracts: Pydantic models, independent of Avro and Kafka."""

from clubhouse.contracts.base import BaseMessage, Command, Event, Response
from clubhouse.contracts.catalog import CatalogError, MessageCatalog
from clubhouse.contracts.commands import (
    CreateAgentCommand,
    DeleteAgentCommand,
    ProcessMessageCommand,
)
from clubhouse.contracts.events import (
    AgentErrorEvent,
    AgentStateChangedEvent,
    AgentThinkingEvent,
)
from clubhouse.contracts.responses import (
    AgentCreatedResponse,
    AgentDeletedResponse,
    ErrorResponse,
    MessageProcessedResponse,
)

__all__ = [
    "AgentCreatedResponse",
    "AgentDeletedResponse",
    "AgentErrorEvent",
    "AgentStateChangedEvent",
    "AgentThinkingEvent",
    "BaseMessage",
    "CatalogError",
    "Command",
    "CreateAgentCommand",
    "DeleteAgentCommand",
    "ErrorResponse",
    "Event",
    "MessageCatalog",
    "MessageProcessedResponse",
    "ProcessMessageCommand",
    "Response",
]
