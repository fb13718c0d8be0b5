"""How annotations read in the docs, and which classes a model reaches."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from pydantic import Field

from clubhouse.docs.python_types import nested_classes, python_type_name
from tests.unit.docs.sample_models import Address, LineItem, Node, OpenTicketCommand, Priority


@pytest.mark.parametrize(
    ("annotation", "shown"),
    [
        (str, "str"),
        (str | None, "str | None"),
        (dict[str, Any], "dict[str, Any]"),
        (list[LineItem], "list[LineItem]"),
        (tuple[int, ...], "tuple[int, ...]"),
        (Literal["a", "b"], "Literal['a', 'b']"),
        (Annotated[UUID, Field(description="x")], "UUID"),
        (Priority | None, "Priority | None"),
    ],
)
def test_annotations_read_as_written(annotation: Any, shown: str) -> None:
    assert python_type_name(annotation) == shown


def test_nested_classes_reach_records_and_enums_through_containers_and_recursion() -> None:
    found = nested_classes(OpenTicketCommand)
    assert found["OpenTicketCommand"] is OpenTicketCommand
    assert found["Address"] is Address
    assert found["LineItem"] is LineItem
    assert found["Priority"] is Priority
    assert found["Node"] is Node
