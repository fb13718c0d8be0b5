"""Shared helpers: load a version of the Order contract, register it under a test prefix."""

from __future__ import annotations

import importlib

from clubhouse.contracts import BaseMessage
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.kafka_protocol import SchemaRegistryProtocol

MODELS = "tests.integration.evolution.models"


def order(version: str) -> type[BaseMessage]:
    """The ``Order`` class of ``models/{version}.py``."""
    model: type[BaseMessage] = importlib.import_module(f"{MODELS}.{version}").Order
    return model


def register(registry: SchemaRegistryProtocol, prefix: str, *versions: str) -> str:
    """Register each version of Order in turn; returns the subject."""
    subject = ""
    for version in versions:
        model = order(version)
        subject = subject_name(prefix, model)
        registry.register(subject, model_schema(model))
    return subject
