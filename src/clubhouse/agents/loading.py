"""Loading a user's agent factory from a ``module:callable`` reference."""

from __future__ import annotations

import importlib
from typing import cast

from clubhouse.agents.protocol import AgentFactory
from clubhouse.errors import ClubhouseError


class AgentFactoryError(ClubhouseError):
    """``--agent-factory`` does not name a callable that can be imported."""


def load_agent_factory(reference: str) -> AgentFactory:
    """Import ``module:callable``; the callable takes an AgentSpec and returns an Agent."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise AgentFactoryError(
            f"--agent-factory {reference!r} must look like 'package.module:callable'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AgentFactoryError(
            f"cannot import {module_name!r} for --agent-factory: {exc}"
        ) from exc
    target: object = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AgentFactoryError(f"{module_name!r} has no attribute {attr!r}") from None
    if not callable(target):
        raise AgentFactoryError(f"--agent-factory {reference!r} is not callable")
    return cast(AgentFactory, target)
