"""Enums and small models that the converter and codec tests both use."""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Literal

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
