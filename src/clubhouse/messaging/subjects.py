"""Naming rules that tie a model to its schema subject and its topic."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel

from clubhouse.avro import canonical_json, model_to_avro
from clubhouse.contracts.base import Command, Event, Response


def subject_name(topic_prefix: str, model: type[BaseModel] | str) -> str:
    """``{topic_prefix}-{ModelName}-value``: one subject per model, shared by every topic."""
    name = model if isinstance(model, str) else model.__name__
    return f"{topic_prefix}-{name}-value"


@cache
def model_schema(model: type[BaseModel]) -> str:
    """The canonical Avro schema text of ``model``; computed once per model class."""
    return canonical_json(model_to_avro(model))


def topic_for(topic_prefix: str, model: type[BaseModel]) -> str:
    """The topic a message of ``model`` travels on."""
    if issubclass(model, Command):
        return f"{topic_prefix}-commands"
    if issubclass(model, Response):
        return f"{topic_prefix}-responses"
    if issubclass(model, Event):
        return f"{topic_prefix}-events"
    raise ValueError(f"{model.__name__} is not a Command, Response or Event")


def dead_letter_topic(topic_prefix: str) -> str:
    """Where messages that cannot be decoded or routed are parked."""
    return f"{topic_prefix}-dead-letters"


def all_topics(topic_prefix: str) -> list[str]:
    """Every topic the service uses."""
    return [f"{topic_prefix}-{t}" for t in ("commands", "responses", "events", "dead-letters")]
