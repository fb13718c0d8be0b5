"""Enums and small models that the converter and codec tests both use."""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Literal, Optional

from pydantic import BaseModel


class Priority(IntEnum):
    LOW = 1
    HIGH = 2


class Kind(str, Enum):
    CREATE = "command.create_agent"
    DELETE = "command.delete-agent"


class Cat(BaseModel):
    pet: Literal["cat"] = "cat"
    name: str


class Dog(BaseModel):
    pet: Literal["dog"] = "dog"
    name: str


class ContainersOfOptionals(BaseModel):
    """Containers whose items may be null: each item is a ["null", T] union."""

    scores: list[Optional[int]]  # noqa: UP045 - the spelling under test
    ratings: list[int | None] = []
    labels: dict[str, Optional[str]] = {}  # noqa: UP045 - the spelling under test
    nested: list[list[float | None]] | None = None
