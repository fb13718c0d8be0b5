"""``App``: the typed command handlers of one service, the keys their state lives under, and
the models they use, which the service registers on start."""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from clubhouse.contracts import BaseMessage, Command, ErrorResponse, Event, MessageCatalog, Response
from clubhouse.contracts.catalog import CatalogError, messages_defined_in

C = TypeVar("C", bound=Command)
HandlerFunc = Callable[..., Any]  # (command, Context) -> Response | None, or a coroutine


@dataclass(frozen=True, slots=True)
class CommandHandler:
    """One registered handler: what it handles, the field it is keyed by, and the models
    its signature and ``emits`` name."""

    command: type[Command]
    key_field: str
    func: HandlerFunc
    is_async: bool
    models: tuple[type[BaseMessage], ...]


class App:
    """Command handlers by command class, plus the models the app publishes.

    >>> app = App(prefix="shop")
    >>> @app.command(PlaceOrderCommand, key="order_id", emits=[OrderPlacedEvent])
    ... def place(cmd: PlaceOrderCommand, ctx: Context) -> OrderAcceptedResponse:
    ...     ctx.state["status"] = "placed"
    ...     ctx.emit(OrderPlacedEvent(order_id=cmd.order_id))
    ...     return OrderAcceptedResponse(order_id=cmd.order_id)
    """

    def __init__(self, prefix: str = "clubhouse") -> None:
        self.prefix = prefix
        # The module that made the app: its message classes are the app's, declared or not.
        caller = inspect.currentframe()
        caller = caller.f_back if caller is not None else None
        self._module: str | None = caller.f_globals.get("__name__") if caller else None
        self._handlers: dict[type[Command], CommandHandler] = {}
        self._extra: list[type[BaseMessage]] = []

    def command(
        self,
        model: type[C],
        *,
        key: str,
        emits: Iterable[type[BaseMessage]] = (),
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Register the decorated function as the handler of ``model`` commands.

        ``key`` names the field whose value is both the Kafka message key and the state
        key: every command with the same value sees the same ``ctx.state``, in order.
        ``emits`` lists the models the handler may ``ctx.emit``, so they are registered.
        """
        if not (inspect.isclass(model) and issubclass(model, Command)):
            raise CatalogError(f"{model!r} is not a subclass of clubhouse Command")
        if key not in model.model_fields:
            raise CatalogError(
                f"{model.__name__} has no field {key!r} to key its state by; "
                f"its fields are {', '.join(model.model_fields)}"
            )
        if model in self._handlers:
            raise CatalogError(f"{model.__name__} already has a handler in this app")
        declared = tuple(emits)

        def register(func: HandlerFunc) -> HandlerFunc:
            self._handlers[model] = CommandHandler(
                command=model,
                key_field=key,
                func=func,
                is_async=inspect.iscoroutinefunction(func),
                models=(model, *_returned_models(func), *declared),
            )
            return func

        return register

    def models(self, *models: type[BaseMessage]) -> None:
        """Register ``models`` too, beyond those the handlers name."""
        for model in models:
            if not (inspect.isclass(model) and issubclass(model, BaseMessage)):
                raise CatalogError(f"{model!r} is not a subclass of clubhouse BaseMessage")
        self._extra.extend(models)

    @property
    def handlers(self) -> list[CommandHandler]:
        """Every registered handler, in registration order."""
        return list(self._handlers.values())

    def handler_for(self, command_type: type[Command]) -> CommandHandler | None:
        """The handler of ``command_type``, or of its nearest registered ancestor."""
        for klass in command_type.__mro__:
            handler = self._handlers.get(klass)
            if handler is not None:
                return handler
        return None

    def key_for(self, command: Command) -> str | None:
        """The state (and Kafka message) key of ``command``; None when no handler takes it."""
        handler = self.handler_for(type(command))
        if handler is None:
            return None
        value = getattr(command, handler.key_field)
        return None if value is None else str(value)

    def catalog(self) -> MessageCatalog:
        """The bases, every model the handlers name, ErrorResponse, ``models(...)``, and every
        Command, Response and Event defined in the app's module or a handler's module.

        Models are found, not only declared: a plain ``def place(cmd, ctx):`` handler that
        returns a Response named nowhere else still has that Response registered at start.
        """
        catalog = MessageCatalog([BaseMessage, Command, Response, Event, ErrorResponse])
        for handler in self._handlers.values():
            catalog.add_models(handler.models)
        catalog.add_models(self._extra)
        for module in self._modules():
            catalog.add_models(messages_defined_in(module, (Command, Response, Event)))
        return catalog

    def _modules(self) -> list[str]:
        names = [self._module] if self._module else []
        names += [getattr(h.func, "__module__", None) or "" for h in self._handlers.values()]
        return [n for n in dict.fromkeys(names) if n and n in sys.modules]


def _returned_models(func: HandlerFunc) -> list[type[BaseMessage]]:
    """The message classes a handler's return annotation names (``A | B | None``)."""
    try:
        hints = typing.get_type_hints(func)
    except (NameError, TypeError):
        return []  # an annotation that does not resolve names no models; ``models()`` can
    returned = hints.get("return")
    members = (
        typing.get_args(returned)
        if typing.get_origin(returned) in (typing.Union, types.UnionType)
        else (returned,)
    )
    return [m for m in members if inspect.isclass(m) and issubclass(m, BaseMessage)]
