"""The response every app may answer with: ``ErrorResponse``, when a command could not be
carried out."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from clubhouse.contracts.base import Response


class ErrorResponse(Response):
    """A command could not be carried out."""

    message_type: str = "response.error"
    error_type: str = Field(description="Machine-readable error class, e.g. agent_not_found.")
    error_message: str = Field(description="Human-readable explanation and what to do next.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="Structured details of the failure."
    )
