"""The message catalog: built-ins, ordering, user modules and duplicate names."""

from __future__ import annotations

import pytest

from clubhouse.agents.messages import CreateAgentCommand, agents_catalog
from clubhouse.contracts import BaseMessage, CatalogError, Command, Event, MessageCatalog, Response

BUILTIN_CONCRETE = [
    "CreateAgentCommand", "DeleteAgentCommand", "ProcessMessageCommand",
    "AgentCreatedResponse", "AgentDeletedResponse", "MessageProcessedResponse", "ErrorResponse",
    "AgentThinkingEvent", "AgentErrorEvent", "AgentStateChangedEvent",
]  # fmt: skip


def test_default_catalog_lists_bases_first_then_concrete() -> None:
    catalog = agents_catalog()
    names = [m.__name__ for m in catalog]
    assert names == ["BaseMessage", "Command", "Response", "Event", *BUILTIN_CONCRETE]
    assert catalog.bases == [BaseMessage, Command, Response, Event]
    assert len(catalog) == 14


def test_concrete_message_types_are_distinct_and_dotted() -> None:
    types = [m.model_fields["message_type"].default for m in agents_catalog().concrete]
    assert len(set(types)) == len(types)
    assert all(t.split(".")[0] in {"command", "response", "event"} for t in types)


def test_add_module_adds_user_models_after_their_bases() -> None:
    catalog = agents_catalog()
    added = catalog.add_module("tests.unit.contracts.usermods.orders")
    assert [m.__name__ for m in added] == ["PlaceOrderCommand", "OrderPlacedEvent"]
    names = [m.__name__ for m in catalog]
    assert names.index("Command") < names.index("PlaceOrderCommand")
    assert names[-2:] == ["PlaceOrderCommand", "OrderPlacedEvent"]
    assert catalog.get("PlaceOrderCommand") in catalog


def test_duplicate_name_is_refused_clearly() -> None:
    catalog = agents_catalog()
    with pytest.raises(CatalogError, match=r"duplicate model name 'CreateAgentCommand'.*clash"):
        catalog.add_module("tests.unit.contracts.usermods.clash")


def test_adding_the_same_model_twice_is_harmless() -> None:
    catalog = agents_catalog()
    catalog.add(CreateAgentCommand)
    assert len(catalog) == 14


def test_missing_and_empty_modules_are_errors() -> None:
    catalog = MessageCatalog()
    with pytest.raises(CatalogError, match="cannot import contract module 'no.such.module'"):
        catalog.add_module("no.such.module")
    with pytest.raises(CatalogError, match="defines no subclass"):
        catalog.add_module("tests.unit.contracts.usermods.empty")


def test_non_message_models_are_refused() -> None:
    with pytest.raises(CatalogError, match="not a subclass of clubhouse BaseMessage"):
        MessageCatalog([int])  # type: ignore[list-item]


def test_get_unknown_name_lists_known_ones() -> None:
    with pytest.raises(KeyError, match="no model 'Nope'.*BaseMessage"):
        agents_catalog().get("Nope")
