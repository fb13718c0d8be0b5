"""Loading a user's agent factory from a ``module:callable`` reference."""

from __future__ import annotations

from typing import cast

from clubhouse.agents.protocol import AgentFactory
from clubhouse.loading import ModuleReferenceError, import_reference


class AgentFactoryError(ModuleReferenceError):
    """``--agent-factory`` does not name a callable that can be imported."""


def load_agent_factory(reference: str) -> AgentFactory:
    """Import ``module:callable``; the callable takes an AgentSpec and returns an Agent."""
    target = import_reference(
        reference, option="--agent-factory", kind="callable", error=AgentFactoryError
    )
    if not callable(target):
        raise AgentFactoryError(f"--agent-factory {reference!r} is not callable")
    return cast(AgentFactory, target)
