"""Shared catalogs and documentation models for the docs unit tests."""

from __future__ import annotations

import pytest

from clubhouse.agents.messages import agents_catalog
from clubhouse.contracts import MessageCatalog
from clubhouse.docs import DocsModel, build_docs_model

SAMPLE_MODULE = "tests.unit.docs.sample_models"


@pytest.fixture
def catalog() -> MessageCatalog:
    """The built-in contracts plus the sample module."""
    cat = agents_catalog()
    cat.add_module(SAMPLE_MODULE)
    return cat


@pytest.fixture
def docs(catalog: MessageCatalog) -> DocsModel:
    return build_docs_model(catalog, topic_prefix="shop")
