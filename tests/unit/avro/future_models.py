"""Models declared under postponed annotations, as many user modules are."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field


class Level(Enum):
    LOW = "low-level"
    HIGH = "high-level"


class Leaf(BaseModel):
    """A leaf."""

    value: int


class Tree(BaseModel):
    """A recursive tree with postponed annotations."""

    name: str
    when: datetime
    level: Level = Level.LOW
    left: Tree | None = None
    right: Tree | None = None
    leaves: list[Leaf] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
