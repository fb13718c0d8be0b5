"""Contract models that exercise the docs: nesting, enums, aliases, recursion, hostile text."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field

from clubhouse.contracts import Command, Event, Response


class Priority(Enum):
    """How urgent a ticket is."""

    LOW = "low"
    HIGH = "high"


class Address(BaseModel):
    """A postal address."""

    street: str = Field(description="Street and number.")
    city: str


class LineItem(BaseModel):
    sku: str
    amount: Decimal = Field(max_digits=10, decimal_places=2)


class Node(BaseModel):
    """A tree node; it nests itself."""

    label: str
    children: list[Node] = Field(default_factory=list)
    parent: Node | None = None


class OpenTicketCommand(Command):
    """Open a support ticket.

    The second paragraph explains more.
    """

    message_type: str = "command.open_ticket"
    ticket_id: str = Field(description="Id of the new ticket.")
    priority: Priority = Priority.LOW
    shipping: Address
    billing: Address | None = None
    items: list[LineItem] = Field(default_factory=list)
    by_site: dict[str, Address] = Field(default_factory=dict)
    tags: list[Any] = Field(default_factory=list, description="Free-form JSON tags.")
    channel: Literal["web", "phone"] = "web"
    due: date | None = None
    opens_at: time | None = None
    sla: timedelta = timedelta(hours=4)
    tree: Node | None = None
    external_ref: str = Field(default="", serialization_alias="externalRef")


class TicketOpenedResponse(Response):
    message_type: str = "response.ticket_opened"
    ticket_id: str
    shipping: Address


class HostileEvent(Event):
    """<script>alert("docstring")</script> & <b>bold</b> | a pipe"""

    message_type: str = "event.hostile"
    note: str = Field(description='<img src=x onerror="alert(1)"> | cell | breaker')
    code: str = Field(default="AAA-0000", pattern=r"^[A-Z]{3}-\d{4}$")
    serial: str = Field(pattern=r"^SN\d{6}$", description="Made-up values cannot match this.")
